// The group info panel (a drawer opened from a group chat's header): members with their
// roles and mutes, the announcement, and what the viewer's role allows: rename (owner and
// admins), the policies invite / join / member_leave (owner), mute all (owner and admins),
// invite, remove, mute / unmute, appoint admins, leave, transfer, dismiss. Reloads on
// every `evt group` of the group (state.groupVersion), so changes made elsewhere (another
// device, another admin) show at once; the store renames the conversation itself.
import { computed, reactive, ref, watch } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t } from "../i18n.js";
import { closeConv, describeError, displayName, groupApi, me, state } from "../store.js";
import { USERNAME_RE } from "../util.js";
import UserAvatar from "./avatar.js";
import ProfileCard from "./profile-card.js"; // W6: member cards
import InvitePicker from "./invite-picker.js"; // W6: invite by name/pinyin search
import { setGroupAvatar, updateGroupAvatar, uploadPicture } from "../stores/profile.js";

const RANK = { owner: 3, admin: 2, member: 1 };
const MUTES = [["m10", 10 * 60e3], ["h1", 3600e3], ["d1", 86400e3]];
// the owner's policies (protocol.md, Groups: types and policies), in the order shown
const POLICIES = { invite: ["member", "admin", "approval"], join: ["open", "approval", "closed"] };
const MAX_NAME = 128;
// a column of radios whose labels may wrap (Element Plus keeps a radio on one 32px line)
const RADIO_COL = "display:flex;flex-direction:column;align-items:flex-start;gap:2px";
const RADIO_ROW = "height:auto;min-height:28px;white-space:normal;margin-right:0;line-height:1.4;padding:3px 0";
const HINT = "font-size:12px;color:var(--s-muted);margin:4px 0 0;line-height:1.45";

export default {
  name: "GroupPanel",
  components: { UserAvatar, ProfileCard, InvitePicker },
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
    const memberQuery = ref(""); // W6: the member list's search box (name or username)
    const memberMatch = (m) => { const q = memberQuery.value.trim().toLowerCase(); return !q || [m.user_id, displayName(m.user_id)].some((x) => x && x.toLowerCase().includes(q)); };
    const requests = ref([]);
    const renaming = ref(false);
    const nameDraft = ref("");
    const nameError = ref("");
    const nameSaving = ref(false);
    const policy = reactive({ invite: "member", join: "approval", member_leave: true, searchable: false, review: false });
    const policyBusy = ref(false);

    // Loads may overlap (an action's own reload and the `evt group` it caused): only the
    // latest one writes, so an older reply never overwrites a newer state.
    let loadSeq = 0;
    async function load() {
      const mine = ++loadSeq;
      const stale = () => mine !== loadSeq;
      loading.value = true;
      try {
        const g = await groupApi(props.conv, "GET");
        if (stale()) return;
        let all = [];
        let reqs = [];
        if (g && g.my_role) {
          let after = "";
          for (let i = 0; i < 50; i++) {
            const page = await groupApi(props.conv, "GET", `/members?limit=200${after ? `&after=${encodeURIComponent(after)}` : ""}`);
            if (stale()) return;
            all.push(...page.members);
            if (!page.more || !page.next) break;
            after = page.next;
          }
          all = all.sort((a, b) => RANK[b.role] - RANK[a.role] || a.user_id.localeCompare(b.user_id));
          if ((g.my_role === "owner" || g.my_role === "admin") && !g.dismissed) {
            const r = await groupApi(props.conv, "GET", "/requests");
            if (stale()) return;
            reqs = ((r && r.requests) || []).filter((x) => !x.status || x.status === "pending");
          }
        }
        group.value = g;
        members.value = all;
        requests.value = reqs;
        syncPolicy();
      } catch (error) {
        if (!stale()) ElMessage.error(describeError(error));
      } finally {
        if (!stale()) loading.value = false;
      }
    }
    function syncPolicy() {
      const s = (group.value && group.value.settings) || {};
      if (s.invite) policy.invite = s.invite;
      if (s.join) policy.join = s.join;
      if (typeof s.member_leave === "boolean") policy.member_leave = s.member_leave;
      if (typeof s.searchable === "boolean") policy.searchable = s.searchable;
      policy.review = !!s.review; // pre-moderation (stores/moderation.js)
    }
    // the group id is how people find a group that is not searchable: make it easy to share
    async function copyId() {
      try {
        await navigator.clipboard.writeText(group.value.group_id);
        ElMessage.success(t("group.idCopied"));
      } catch {
        ElMessage.error(t("err.generic", { msg: "clipboard" }));
      }
    }
    watch(visible, (v) => v && load(), { immediate: true });
    watch(() => state.groupVersion[props.conv.id], () => visible.value && load());

    // null: not (or no longer) a member of this group
    const myRole = computed(() => (group.value && group.value.my_role) || null);
    const isMember = computed(() => !!myRole.value);
    const isOwner = computed(() => myRole.value === "owner");
    const isManager = computed(() => myRole.value === "owner" || myRole.value === "admin");
    const settings = computed(() => (group.value && group.value.settings) || {});
    const muteAll = computed(() => !!settings.value.mute_all);
    const dismissed = computed(() => !!(group.value && group.value.dismissed));
    const canRename = computed(() => isManager.value && !dismissed.value);
    const canInvite = computed(() => isMember.value && !dismissed.value && (isManager.value || settings.value.invite !== "admin"));
    const inviteNeedsApproval = computed(() => !isManager.value && settings.value.invite === "approval");
    // the owner never leaves (transfer or dismiss); member_leave binds plain members only
    const canLeave = computed(
      () => isMember.value && !isOwner.value && !dismissed.value && !(myRole.value === "member" && settings.value.member_leave === false),
    );
    function isMuted(m) {
      return m.muted_until && m.muted_until > state.now;
    }
    function canManage(m) {
      return !dismissed.value && isManager.value && m.user_id !== me() && RANK[myRole.value] > RANK[m.role];
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
    function startRename() {
      nameDraft.value = (group.value && group.value.name) || "";
      nameError.value = "";
      renaming.value = true;
    }
    function cancelRename() {
      renaming.value = false;
      nameError.value = "";
    }
    async function saveName() {
      if (nameSaving.value) return;
      const name = nameDraft.value.trim();
      const n = [...name].length; // characters, as the server counts them
      if (!n) {
        nameError.value = t("group.nameRequired");
        return;
      }
      if (n > MAX_NAME) {
        nameError.value = t("group.nameTooLong", { n: MAX_NAME });
        return;
      }
      nameError.value = "";
      if (group.value && name === group.value.name) {
        renaming.value = false;
        return;
      }
      nameSaving.value = true;
      try {
        const g = await groupApi(props.conv, "PATCH", "", { name });
        if (g && group.value && g.name) group.value = { ...group.value, name: g.name };
        renaming.value = false;
        ElMessage.success(t("group.renamed"));
        // the conversation's title follows the `evt group` (renamed) every member's devices get
        load();
      } catch (error) {
        nameError.value = describeError(error);
      } finally {
        nameSaving.value = false;
      }
    }
    async function setPolicy(key, value) {
      if (settings.value[key] === value) return;
      policyBusy.value = true;
      try {
        const ok = await act(() => groupApi(props.conv, "PATCH", "", { settings: { [key]: value } }), t("group.policySaved"));
        if (!ok) syncPolicy(); // refused: show the group's real setting again
      } finally {
        policyBusy.value = false;
      }
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
    // the group's picture (owner and admins): picked, scaled down, uploaded, set
    const avatarPicker = ref(null);
    const avatarBusy = ref(false);
    watch(group, (g) => g && "avatar_url" in g && setGroupAvatar(g.group_id, g.avatar_url));
    async function onAvatarPicked(e) {
      const file = e.target.files && e.target.files[0];
      e.target.value = "";
      if (!file) return;
      avatarBusy.value = true;
      try {
        group.value = { ...group.value, ...(await updateGroupAvatar(group.value.group_id, await uploadPicture(file))) };
      } catch (error) {
        ElMessage.error(describeError(error));
      } finally {
        avatarBusy.value = false;
      }
    }
    async function removeGroupAvatar() {
      try {
        group.value = { ...group.value, ...(await updateGroupAvatar(group.value.group_id, null)) };
      } catch (error) {
        ElMessage.error(describeError(error));
      }
    }
    return {
      avatarPicker, avatarBusy, onAvatarPicked, removeGroupAvatar,
      memberQuery, memberMatch, state, t, visible, group, members, loading, editing, annDraft, invite, myRole, isMember, isOwner, isManager, muteAll, dismissed,
      canInvite, inviteNeedsApproval, canLeave, canRename, renaming, nameDraft, nameError, nameSaving, startRename, cancelRename, saveName,
      policy, policyBusy, setPolicy, copyId, POLICIES, MAX_NAME, RADIO_COL, RADIO_ROW, HINT,
      requests, decide, isMuted, canManage, onMember, startEdit, saveAnn, toggleMuteAll, doInvite, leave, dismiss, roleLabel, muteLeft, displayName, me, MUTES,
    };
  },
  template: `
    <el-drawer v-model="visible" :title="t('group.info')" :size="state.narrow ? '100%' : '380px'" append-to-body class="group-panel" data-testid="group-panel">
      <div v-if="group" class="gp" data-testid="gp-body">
        <div v-if="isMember" class="gp-avatar" style="display:flex;align-items:center;gap:12px;margin-bottom:12px" data-testid="gp-avatar">
          <user-avatar :id="conv.id" :name="group.name || ''" group :size="56" />
          <template v-if="isManager && !dismissed">
            <input ref="avatarPicker" type="file" accept="image/png,image/jpeg,image/webp,image/gif" style="display:none" @change="onAvatarPicked" data-testid="gp-avatar-input" />
            <el-button size="small" :loading="avatarBusy" @click="avatarPicker && avatarPicker.click()" data-testid="gp-avatar-pick">{{ t('group.changeAvatar') }}</el-button>
            <el-button v-if="group.avatar_url" size="small" text @click="removeGroupAvatar" data-testid="gp-avatar-remove">{{ t('group.removeAvatar') }}</el-button>
          </template>
        </div>
        <div class="gp-head">
          <template v-if="renaming">
            <el-input v-model="nameDraft" :maxlength="MAX_NAME" show-word-limit :placeholder="t('group.namePlaceholder')" :aria-label="t('group.rename')"
                      :disabled="nameSaving" @keydown.enter.prevent="saveName" @input="nameError = ''" data-testid="gp-name-input" />
            <div v-if="nameError" role="alert" style="color:var(--el-color-danger);font-size:12px;margin-top:4px" data-testid="gp-name-error">{{ nameError }}</div>
            <div class="gp-actions">
              <el-button size="small" @click="cancelRename" data-testid="gp-name-cancel">{{ t('common.cancel') }}</el-button>
              <el-button size="small" type="primary" :loading="nameSaving" @click="saveName" data-testid="gp-name-save">{{ t('group.save') }}</el-button>
            </div>
          </template>
          <div v-else class="gp-title" style="margin-bottom:0;color:inherit">
            <div class="gp-name" style="min-width:0" data-testid="gp-name">{{ group.name }}</div>
            <el-button v-if="canRename" text size="small" style="flex-shrink:0" @click="startRename" data-testid="gp-rename">{{ t('group.rename') }}</el-button>
          </div>
          <div class="gp-sub">
            <template v-if="isMember">{{ t('chat.members', { n: members.length }) }} · {{ roleLabel(myRole) }}</template>
            <span v-else data-testid="gp-not-member">{{ t('group.notMember') }}</span>
            <template v-if="dismissed"> · <span data-testid="gp-dismissed">{{ t('group.dismissed') }}</span></template>
          </div>
          <div v-if="isMember && !dismissed" class="gp-sub">
            {{ t('group.id') }} <span style="user-select:all;font-family:var(--el-font-family-mono, monospace)" data-testid="gp-id">{{ group.group_id }}</span>
            <el-button text size="small" @click="copyId" data-testid="gp-copy-id">{{ t('group.copyId') }}</el-button>
          </div>
        </div>
        <section v-if="isMember" class="gp-section">
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
        <section v-if="isManager && !dismissed" class="gp-section">
          <div class="gp-row">
            <label for="gp-mute-all">{{ t('group.muteAll') }}</label>
            <el-switch id="gp-mute-all" :model-value="muteAll" @change="toggleMuteAll" :aria-label="t('group.muteAll')" data-testid="gp-mute-all" />
          </div>
          <p :style="HINT">{{ t('group.muteAllHint') }}</p>
        </section>
        <section v-if="isOwner && !dismissed" class="gp-section" data-testid="gp-policies">
          <div class="gp-title">{{ t('group.policies') }}</div>
          <div v-for="(values, key) in POLICIES" :key="key" style="margin-bottom:10px" :data-testid="'gp-policy-' + key">
            <div :id="'gp-policy-label-' + key" style="font-size:14px;margin-bottom:2px">{{ t('group.policy.' + key) }}</div>
            <el-radio-group v-model="policy[key]" :disabled="policyBusy" @change="(v) => setPolicy(key, v)" :aria-labelledby="'gp-policy-label-' + key" :style="RADIO_COL">
              <el-radio v-for="v in values" :key="v" :value="v" :style="RADIO_ROW" :data-testid="'gp-policy-' + key + '-' + v">{{ t('group.policy.' + key + '.' + v) }}</el-radio>
            </el-radio-group>
          </div>
          <div class="gp-row">
            <label for="gp-policy-leave">{{ t('group.policy.leave') }}</label>
            <el-switch id="gp-policy-leave" v-model="policy.member_leave" :disabled="policyBusy" @change="(v) => setPolicy('member_leave', v)"
                       :aria-label="t('group.policy.leave')" data-testid="gp-policy-leave" />
          </div>
          <p :style="HINT">{{ t('group.policy.leaveHint') }}</p>
          <div class="gp-row">
            <label for="gp-policy-searchable">{{ t('group.policy.searchable') }}</label>
            <el-switch id="gp-policy-searchable" v-model="policy.searchable" :disabled="policyBusy" @change="(v) => setPolicy('searchable', v)"
                       :aria-label="t('group.policy.searchable')" data-testid="gp-policy-searchable" />
          </div>
          <p :style="HINT">{{ t('group.policy.searchableHint') }}</p>
          <div class="gp-row">
            <label for="gp-policy-review">{{ t('group.policy.review') }}</label>
            <el-switch id="gp-policy-review" v-model="policy.review" :disabled="policyBusy" @change="(v) => setPolicy('review', v)"
                       :aria-label="t('group.policy.review')" data-testid="gp-policy-review" />
          </div>
          <p :style="HINT">{{ t('group.policy.reviewHint') }}</p>
        </section>
        <section v-if="canInvite" class="gp-section">
          <div class="gp-title">{{ t('group.invite') }}</div>
          <invite-picker :conv="conv" :exclude="members.map((m) => m.user_id)" />
          <div class="gp-invite">
            <el-input v-model="invite" size="small" :placeholder="t('group.invitePlaceholder')" data-testid="gp-invite-input" @keydown.enter="doInvite" />
            <el-button size="small" type="primary" @click="doInvite" data-testid="gp-invite">{{ t('group.inviteBtn') }}</el-button>
          </div>
          <p v-if="inviteNeedsApproval" :style="HINT" data-testid="gp-invite-hint">{{ t('group.inviteApprovalHint') }}</p>
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
        <section v-if="isMember" class="gp-section">
          <div class="gp-title">{{ t('group.memberList') }}</div>
          <el-input v-model="memberQuery" size="small" clearable class="member-search" :placeholder="t('people.memberSearch')" :aria-label="t('people.memberSearch')" data-testid="gp-member-search" />
          <p v-if="memberQuery && !members.some(memberMatch)" class="ct-sub" data-testid="gp-member-none">{{ t('people.noMembers') }}</p>
          <ul class="gp-members" role="list">
            <li v-for="m in members.filter(memberMatch)" :key="m.user_id" class="gp-member" data-testid="gp-member" :data-user="m.user_id" :data-role="m.role" :data-muted="isMuted(m) ? 'true' : 'false'">
              <profile-card :user-id="m.user_id" placement="left-start"><user-avatar :id="m.user_id" :name="displayName(m.user_id)" :size="32" /></profile-card>
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
          <el-button v-if="isOwner && !dismissed" type="danger" @click="dismiss" data-testid="gp-dismiss">{{ t('group.dismiss') }}</el-button>
        </section>
      </div>
      <div v-else-if="loading" class="gp-loading"><el-icon class="is-loading"><icon-loading /></el-icon></div>
    </el-drawer>`,
};
