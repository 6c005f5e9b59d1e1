// The group info panel (a drawer opened from a group chat's header): members with their
// roles and mutes, the announcement, and what the viewer's role allows: invite, remove,
// mute / unmute, appoint admins, mute all, leave, transfer, dismiss. Reloads on every
// `evt group` of the group (state.groupVersion).
import { computed, ref, watch } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t } from "../i18n.js";
import { closeConv, describeError, displayName, groupApi, me, state } from "../store.js";
import { USERNAME_RE } from "../util.js";
import UserAvatar from "./avatar.js";

const RANK = { owner: 3, admin: 2, member: 1 };
const MUTES = [["m10", 10 * 60e3], ["h1", 3600e3], ["d1", 86400e3]];

export default {
  name: "GroupPanel",
  components: { UserAvatar },
  props: { conv: { type: Object, required: true }, modelValue: { type: Boolean, default: false } },
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const visible = computed({ get: () => props.modelValue, set: (v) => emit("update:modelValue", v) });
    const group = ref(null);
    const members = ref([]);
    const loading = ref(false);
    const editing = ref(false);
    const annDraft = ref("");
    const invite = ref("");
    const requests = ref([]);

    async function load() {
      loading.value = true;
      try {
        group.value = await groupApi(props.conv, "GET");
        const all = [];
        let after = "";
        for (let i = 0; i < 50; i++) {
          const page = await groupApi(props.conv, "GET", `/members?limit=200${after ? `&after=${encodeURIComponent(after)}` : ""}`);
          all.push(...page.members);
          if (!page.more || !page.next) break;
          after = page.next;
        }
        members.value = all.sort((a, b) => RANK[b.role] - RANK[a.role] || a.user_id.localeCompare(b.user_id));
        const role = group.value && group.value.my_role;
        if ((role === "owner" || role === "admin") && !group.value.dismissed) {
          const r = await groupApi(props.conv, "GET", "/requests");
          requests.value = ((r && r.requests) || []).filter((x) => !x.status || x.status === "pending");
        } else requests.value = [];
      } catch (error) {
        ElMessage.error(describeError(error));
      } finally {
        loading.value = false;
      }
    }
    watch(visible, (v) => v && load(), { immediate: true });
    watch(() => state.groupVersion[props.conv.id], () => visible.value && load());

    const myRole = computed(() => (group.value && group.value.my_role) || "member");
    const isManager = computed(() => myRole.value === "owner" || myRole.value === "admin");
    const muteAll = computed(() => !!(group.value && group.value.settings && group.value.settings.mute_all));
    const dismissed = computed(() => !!(group.value && group.value.dismissed));
    const canInvite = computed(() => {
      const p = group.value && group.value.settings && group.value.settings.invite;
      return !dismissed.value && (isManager.value || p !== "admin");
    });
    const canLeave = computed(() => myRole.value !== "owner" && !dismissed.value && !(group.value && group.value.settings && group.value.settings.member_leave === false));
    function isMuted(m) {
      return m.muted_until && m.muted_until > state.now;
    }
    function canManage(m) {
      return !dismissed.value && m.user_id !== me() && RANK[myRole.value] > RANK[m.role] && isManager.value;
    }

    async function act(fn, ok) {
      try {
        await fn();
        if (ok) ElMessage.success(ok);
        await load();
        return true;
      } catch (error) {
        ElMessage.error(describeError(error));
        return false;
      }
    }
    async function confirm(msg, title) {
      try {
        await ElMessageBox.confirm(msg, title, { type: "warning", confirmButtonText: t("common.ok"), cancelButtonText: t("common.cancel") });
        return true;
      } catch {
        return false;
      }
    }
    const path = (u) => `/members/${encodeURIComponent(u)}`;

    async function onMember(cmd, m) {
      const name = displayName(m.user_id);
      if (cmd.startsWith("mute:")) {
        const ms = Number(cmd.slice(5));
        await act(() => groupApi(props.conv, "PUT", `${path(m.user_id)}/mute`, { until: Date.now() + ms }));
      } else if (cmd === "unmute") {
        await act(() => groupApi(props.conv, "PUT", `${path(m.user_id)}/mute`, { until: null }));
      } else if (cmd === "admin" || cmd === "member") {
        await act(() => groupApi(props.conv, "PUT", `${path(m.user_id)}/role`, { role: cmd }));
      } else if (cmd === "remove") {
        if (await confirm(t("group.removeConfirm", { name }), t("group.remove"))) await act(() => groupApi(props.conv, "DELETE", path(m.user_id)));
      } else if (cmd === "transfer") {
        if (await confirm(t("group.transferConfirm", { name }), t("group.transfer"))) await act(() => groupApi(props.conv, "POST", "/transfer", { user_id: m.user_id }));
      }
    }
    function startEdit() {
      annDraft.value = (group.value && group.value.announcement) || "";
      editing.value = true;
    }
    async function saveAnn() {
      if (await act(() => groupApi(props.conv, "PATCH", "", { announcement: annDraft.value.trim() }))) editing.value = false;
    }
    async function toggleMuteAll(v) {
      await act(() => groupApi(props.conv, "PATCH", "", { settings: { mute_all: v } }));
    }
    async function doInvite() {
      const users = invite.value.split(/[\s,，、]+/).map((u) => u.trim().replace(/^@/, "")).filter(Boolean);
      if (!users.length) return;
      if (users.some((u) => !USERNAME_RE.test(u))) {
        ElMessage.error(t("newChat.invalid"));
        return;
      }
      let res = null;
      const ok = await act(async () => {
        res = await groupApi(props.conv, "POST", "/members", { user_ids: users });
      });
      if (ok) {
        invite.value = "";
        ElMessage.success(res && res.pending && res.pending.length ? t("group.invitePending") : t("group.invited"));
      }
    }
    async function decide(r, action) {
      await act(() => groupApi(props.conv, "POST", `/requests/${encodeURIComponent(r.request_id)}`, { action }),
        action === "accept" ? t("group.requestAccepted") : "");
    }
    async function leave() {
      if (!(await confirm(t("group.leaveConfirm"), t("group.leave")))) return;
      try {
        await groupApi(props.conv, "POST", "/leave");
        visible.value = false;
        closeConv();
      } catch (error) {
        ElMessage.error(describeError(error));
      }
    }
    async function dismiss() {
      if (!(await confirm(t("group.dismissConfirm"), t("group.dismiss")))) return;
      await act(() => groupApi(props.conv, "DELETE"));
    }
    function roleLabel(r) {
      return t(`group.role.${r}`);
    }
    function muteLeft(m) {
      return t("group.mutedUntil", { time: new Date(m.muted_until).toLocaleString() });
    }
    return {
      state, t, visible, group, members, loading, editing, annDraft, invite, myRole, isManager, muteAll, dismissed, canInvite, canLeave,
      requests, decide, isMuted, canManage, onMember, startEdit, saveAnn, toggleMuteAll, doInvite, leave, dismiss, roleLabel, muteLeft, displayName, me, MUTES,
    };
  },
  template: `
    <el-drawer v-model="visible" :title="t('group.info')" :size="state.narrow ? '100%' : '380px'" append-to-body class="group-panel" data-testid="group-panel">
      <div v-if="group" class="gp" data-testid="gp-body">
        <div class="gp-head">
          <div class="gp-name" data-testid="gp-name">{{ group.name }}</div>
          <div class="gp-sub">{{ t('chat.members', { n: members.length }) }} · {{ roleLabel(myRole) }}<template v-if="dismissed"> · {{ t('group.dismissed') }}</template></div>
        </div>
        <section class="gp-section">
          <div class="gp-title">{{ t('group.announcement') }}
            <el-button v-if="isManager && !editing && !dismissed" text size="small" @click="startEdit" data-testid="gp-ann-edit">{{ t('group.edit') }}</el-button>
          </div>
          <template v-if="editing">
            <el-input v-model="annDraft" type="textarea" :rows="3" maxlength="2000" show-word-limit data-testid="gp-ann-input" />
            <div class="gp-actions">
              <el-button size="small" @click="editing = false">{{ t('common.cancel') }}</el-button>
              <el-button size="small" type="primary" @click="saveAnn" data-testid="gp-ann-save">{{ t('group.save') }}</el-button>
            </div>
          </template>
          <p v-else class="gp-ann" data-testid="gp-ann">{{ group.announcement || t('group.noAnnouncement') }}</p>
        </section>
        <section v-if="isManager && !dismissed" class="gp-section gp-row">
          <span>{{ t('group.muteAll') }}</span>
          <el-switch :model-value="muteAll" @change="toggleMuteAll" data-testid="gp-mute-all" />
        </section>
        <section v-if="canInvite" class="gp-section">
          <div class="gp-title">{{ t('group.invite') }}</div>
          <div class="gp-invite">
            <el-input v-model="invite" size="small" :placeholder="t('group.invitePlaceholder')" data-testid="gp-invite-input" @keydown.enter="doInvite" />
            <el-button size="small" type="primary" @click="doInvite" data-testid="gp-invite">{{ t('group.inviteBtn') }}</el-button>
          </div>
        </section>
        <section v-if="isManager && !dismissed && requests.length" class="gp-section" data-testid="gp-requests">
          <div class="gp-title">{{ t('group.requests') }} <span class="ct-count">{{ requests.length }}</span></div>
          <div v-for="r in requests" :key="r.request_id" class="gp-member" data-testid="gp-request" :data-user="r.user_id" :data-request="r.request_id">
            <user-avatar :id="r.user_id" :name="displayName(r.user_id)" :size="32" />
            <div class="ct-body">
              <div class="ct-name">{{ displayName(r.user_id) }}</div>
              <div class="ct-sub" data-testid="gp-request-sub">{{ r.inviter ? t('group.invitedBy', { name: displayName(r.inviter) }) : t('group.askedToJoin') }}<template v-if="r.message"> · {{ r.message }}</template></div>
            </div>
            <el-button size="small" type="primary" @click="decide(r, 'accept')" data-testid="gp-request-accept">{{ t('contacts.accept') }}</el-button>
            <el-button size="small" @click="decide(r, 'decline')" data-testid="gp-request-decline">{{ t('contacts.decline') }}</el-button>
          </div>
        </section>
        <section class="gp-section">
          <div class="gp-title">{{ t('group.memberList') }}</div>
          <ul class="gp-members" role="list">
            <li v-for="m in members" :key="m.user_id" class="gp-member" data-testid="gp-member" :data-user="m.user_id" :data-role="m.role" :data-muted="isMuted(m) ? 'true' : 'false'">
              <user-avatar :id="m.user_id" :name="displayName(m.user_id)" :size="32" />
              <div class="ct-body">
                <div class="ct-name">{{ displayName(m.user_id) }}<template v-if="m.user_id === me()"> ({{ t('common.me') }})</template></div>
                <div class="ct-sub">
                  <span v-if="m.role !== 'member'" class="gp-role" :class="'r-' + m.role">{{ roleLabel(m.role) }}</span>
                  <span v-if="isMuted(m)" class="gp-muted" :title="muteLeft(m)">{{ t('group.muted') }}</span>
                </div>
              </div>
              <el-dropdown v-if="canManage(m)" trigger="click" @command="(cmd) => onMember(cmd, m)">
                <el-button text size="small" :aria-label="t('contacts.more')" data-testid="gp-member-more"><el-icon><icon-more-filled /></el-icon></el-button>
                <template #dropdown>
                  <el-dropdown-menu>
                    <template v-if="!isMuted(m)">
                      <el-dropdown-item v-for="[k, ms] in MUTES" :key="k" :command="'mute:' + ms" :data-testid="'gp-mute-' + k">{{ t('group.mute.' + k) }}</el-dropdown-item>
                    </template>
                    <el-dropdown-item v-else command="unmute" data-testid="gp-unmute">{{ t('group.unmute') }}</el-dropdown-item>
                    <el-dropdown-item v-if="myRole === 'owner' && m.role === 'member'" command="admin" data-testid="gp-make-admin">{{ t('group.makeAdmin') }}</el-dropdown-item>
                    <el-dropdown-item v-if="myRole === 'owner' && m.role === 'admin'" command="member" data-testid="gp-revoke-admin">{{ t('group.revokeAdmin') }}</el-dropdown-item>
                    <el-dropdown-item v-if="myRole === 'owner'" command="transfer" data-testid="gp-transfer">{{ t('group.transfer') }}</el-dropdown-item>
                    <el-dropdown-item command="remove" divided data-testid="gp-remove">{{ t('group.remove') }}</el-dropdown-item>
                  </el-dropdown-menu>
                </template>
              </el-dropdown>
            </li>
          </ul>
        </section>
        <section class="gp-section gp-danger">
          <el-button v-if="canLeave" type="danger" plain @click="leave" data-testid="gp-leave">{{ t('group.leave') }}</el-button>
          <el-button v-if="myRole === 'owner' && !dismissed" type="danger" @click="dismiss" data-testid="gp-dismiss">{{ t('group.dismiss') }}</el-button>
        </section>
      </div>
      <div v-else-if="loading" class="gp-loading"><el-icon class="is-loading"><icon-loading /></el-icon></div>
    </el-drawer>`,
};
