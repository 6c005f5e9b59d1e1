// What a group chat shows above its messages (issue 11): the join requests waiting for
// owner and admins ("2 join requests waiting · Review", opening the list to approve or
// reject), and the group's announcement as a banner until this user closes it (per
// announcement: a new one shows again; see stores/groups.js). Both follow `evt group`
// live. User text (announcement, request messages) is shown as text only.
import { computed, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../i18n.js";
import { describeError, displayName, state } from "../store.js";
import UserAvatar from "./avatar.js";
import {
  bannerAnnouncement, decideRequest, dismissAnnouncement, groups, listRequests, loadGroupInfo, openRequests, pendingRequests,
} from "../stores/groups.js";

const BAR = "display:flex;align-items:flex-start;gap:8px;padding:8px 14px;font-size:13px;line-height:1.5;border-bottom:1px solid var(--el-border-color-lighter, #ebeef5)";
const ANN = `${BAR};background:#fdf6ec;color:#6b4f1d`;
const REQ = `${BAR};background:#ecf5ff;color:#1d4f7b;align-items:center`;
const ANN_TEXT = "flex:1;min-width:0;white-space:pre-wrap;overflow-wrap:anywhere;max-height:6.2em;overflow:auto";

export default {
  name: "GroupBanner",
  components: { UserAvatar },
  props: { conv: { type: Object, required: true } },
  setup(props) {
    const pending = computed(() => pendingRequests(props.conv.id));
    const announcement = computed(() => bannerAnnouncement(props.conv.id));
    // the chat is open: its group's info (announcement, my role, requests waiting) is wanted
    watch(() => props.conv.id, (id) => loadGroupInfo(id), { immediate: true });

    const dialog = computed({
      get: () => groups.requestsFor === props.conv.id,
      set: (v) => {
        groups.requestsFor = v ? props.conv.id : null;
      },
    });
    const requests = ref([]);
    const loading = ref(false);
    const busy = ref({}); // request_id -> true while deciding
    async function reload() {
      loading.value = true;
      try {
        requests.value = await listRequests(props.conv.id);
      } catch (error) {
        ElMessage.error(describeError(error));
      } finally {
        loading.value = false;
      }
    }
    watch(dialog, (v) => v && reload(), { immediate: true });
    // another admin decided, or a new request came: the open list follows
    watch(pending, () => dialog.value && reload());
    async function decide(r, accept) {
      busy.value = { ...busy.value, [r.request_id]: true };
      try {
        await decideRequest(props.conv.id, r.request_id, accept);
        if (accept) ElMessage.success(t("group.requestAccepted"));
      } catch (error) {
        ElMessage.error(describeError(error)); // e.g. settled by another admin meanwhile
      } finally {
        busy.value = { ...busy.value, [r.request_id]: false };
        reload();
      }
    }
    return {
      pending, announcement, dialog, requests, loading, busy, decide, reload, t, state, displayName, BAR, ANN, REQ, ANN_TEXT,
      review: () => openRequests(props.conv.id),
      close: () => dismissAnnouncement(props.conv.id),
    };
  },
  template: `
    <div class="group-banner">
      <div v-if="pending" :style="REQ" role="status" data-testid="gb-requests">
        <el-icon :size="16"><icon-user-filled /></el-icon>
        <span style="flex:1">{{ t('groupNotice.requestsWaiting', { n: pending }) }}</span>
        <el-button size="small" type="primary" @click="review" data-testid="gb-requests-open">{{ t('groupNotice.review') }}</el-button>
      </div>
      <div v-if="announcement" :style="ANN" role="note" :aria-label="t('group.announcement')" data-testid="gb-ann">
        <svg viewBox="0 0 24 24" width="16" height="16" fill="currentColor" aria-hidden="true" style="flex-shrink:0;margin-top:2px"><path d="M3 10v4c0 .6.4 1 1 1h2l4 4V5L6 9H4c-.6 0-1 .4-1 1zm13.5 2A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z"/></svg>
        <div :style="ANN_TEXT"><strong>{{ t('group.announcement') }}</strong>{{ t('groupNotice.colon') }}<span data-testid="gb-ann-text">{{ announcement }}</span></div>
        <el-button text circle size="small" :aria-label="t('groupNotice.dismiss')" :title="t('groupNotice.dismiss')" @click="close" data-testid="gb-ann-close">
          <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>
        </el-button>
      </div>
      <el-dialog v-model="dialog" :title="t('group.requests')" append-to-body :width="state.narrow ? '92%' : '480px'" align-center data-testid="gr-dialog">
        <div v-if="loading && !requests.length" style="text-align:center"><el-icon class="is-loading"><icon-loading /></el-icon></div>
        <p v-else-if="!requests.length" class="form-hint" data-testid="gr-empty">{{ t('groupNotice.noRequests') }}</p>
        <ul v-else class="gp-members" role="list">
          <li v-for="r in requests" :key="r.request_id" class="gp-member" data-testid="gr-request" :data-user="r.user_id" :data-request="r.request_id">
            <user-avatar :id="r.user_id" :name="displayName(r.user_id)" :size="32" />
            <div class="ct-body">
              <div class="ct-name">{{ displayName(r.user_id) }}</div>
              <div class="ct-sub">{{ r.inviter ? t('group.invitedBy', { name: displayName(r.inviter) }) : t('group.askedToJoin') }}<template v-if="r.message"> · {{ r.message }}</template></div>
            </div>
            <el-button size="small" type="primary" :loading="busy[r.request_id]" @click="decide(r, true)" data-testid="gr-accept">{{ t('contacts.accept') }}</el-button>
            <el-button size="small" :disabled="busy[r.request_id]" @click="decide(r, false)" data-testid="gr-decline">{{ t('contacts.decline') }}</el-button>
          </li>
        </ul>
      </el-dialog>
    </div>`,
};
