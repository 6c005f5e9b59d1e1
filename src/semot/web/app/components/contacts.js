// The contacts tab: friends (presence dot, remark), friend requests in and out with
// accept / decline, "add friend" with a verification message, and the blacklist.
// The data is state.contacts (the GET /api/v1/contacts snapshot kept current by
// `evt contacts`) and state.presence (`evt presence`).
import { computed, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t } from "../i18n.js";
import {
  answerRequest, blockUser, client, describeError, displayName, loadMySettings, me, removeFriend, requestFriend, setFriendApproval, setRemark, startDirect, state, unblockUser,
} from "../store.js";
import { USERNAME_RE } from "../util.js";
import UserAvatar from "./avatar.js";
import PeoplePicker from "./people-picker.js";
import ProfileCard from "./profile-card.js";

export default {
  name: "ContactsView",
  components: { UserAvatar, PeoplePicker, ProfileCard },
  setup() {
    const c = computed(() => state.contacts);
    const filter = ref("");
    const addOpen = ref(false);
    const addUser = ref(""); // what is typed in the search box (an exact username still works)
    const addPicked = ref([]); // the person picked from the search results
    const addMsg = ref("");
    const addError = ref("");
    const busy = ref(false);
    const tagFilter = ref("");
    const tagOpen = ref(false);
    const tagEditing = ref(null);
    const tagName = ref("");
    const tagMembers = ref([]);
    const tagError = ref("");

    function status(u) {
      const p = state.presence[u];
      return (p && p.status) || "offline";
    }
    function presenceLabel(u) {
      const p = state.presence[u];
      const s = t(`presence.${status(u)}`);
      return p && p.text ? `${s} · ${p.text}` : s;
    }
    const friends = computed(() => {
      const q = filter.value.trim().toLowerCase();
      const rank = { online: 0, busy: 1, away: 2, offline: 3 };
      const tag = c.value.tags.find((x) => x.tag_id === tagFilter.value);
      return c.value.friends
        .filter((f) => !tag || tag.members.includes(f.user_id))
        .filter((f) => !q || [f.user_id, f.remark, f.display_name].some((x) => x && x.toLowerCase().includes(q)))
        .slice()
        .sort((a, b) => rank[status(a.user_id)] - rank[status(b.user_id)] || displayName(a.user_id).localeCompare(displayName(b.user_id)));
    });

    async function run(fn, ok) {
      try {
        await fn();
        if (ok) ElMessage.success(ok);
        return true;
      } catch (error) {
        ElMessage.error(describeError(error));
        return false;
      }
    }

    function openAdd() {
      addUser.value = "";
      addPicked.value = [];
      addMsg.value = "";
      addError.value = "";
      addOpen.value = true;
    }
    async function submitAdd() {
      const u = addPicked.value[0] || addUser.value.trim().replace(/^@/, "");
      if (!USERNAME_RE.test(u)) {
        addError.value = t("newChat.invalid");
        return;
      }
      if (u === me()) {
        addError.value = t("contacts.self");
        return;
      }
      busy.value = true;
      try {
        const r = await requestFriend(u, addMsg.value.trim());
        ElMessage.success(r && r.status === "friends" ? t("contacts.nowFriends") : t("contacts.requestSent"));
        addOpen.value = false;
      } catch (error) {
        addError.value = describeError(error);
      } finally {
        busy.value = false;
      }
    }
    const accept = (r) => run(() => answerRequest(r.request_id, "accept"), t("contacts.nowFriends"));
    const decline = (r) => run(() => answerRequest(r.request_id, "decline"));
    const unblock = (u) => run(() => unblockUser(u));
    const approval = computed(() => !(c.value.settings && c.value.settings.friend_approval === false));
    const approvalBusy = ref(false);
    async function toggleApproval(v) {
      approvalBusy.value = true;
      await run(() => setFriendApproval(v));
      approvalBusy.value = false;
    }
    if (!c.value.settings || typeof c.value.settings.friend_approval !== "boolean") loadMySettings().catch(() => {});

    async function onFriendCmd(cmd, f) {
      if (cmd === "chat") {
        state.tab = "chats";
        startDirect(f.user_id);
      } else if (cmd === "remark") {
        try {
          const { value } = await ElMessageBox.prompt(t("contacts.remarkPrompt"), t("contacts.remark"), {
            inputValue: f.remark || "", confirmButtonText: t("common.ok"), cancelButtonText: t("common.cancel"),
          });
          await run(() => setRemark(f.user_id, (value || "").trim()));
        } catch {
          /* cancelled */
        }
      } else if (cmd === "block" || cmd === "delete") {
        try {
          await ElMessageBox.confirm(t(`contacts.${cmd}Confirm`, { name: displayName(f.user_id) }), t(`contacts.${cmd}`), {
            type: "warning", confirmButtonText: t("common.ok"), cancelButtonText: t("common.cancel"),
          });
        } catch {
          return;
        }
        await run(() => (cmd === "block" ? blockUser(f.user_id) : removeFriend(f.user_id)));
      }
    }
    async function blockById() {
      try {
        const { value } = await ElMessageBox.prompt(t("contacts.blockPrompt"), t("contacts.block"), {
          confirmButtonText: t("common.ok"), cancelButtonText: t("common.cancel"),
          inputPattern: USERNAME_RE, inputErrorMessage: t("newChat.invalid"),
        });
        await run(() => blockUser(value.trim()));
      } catch {
        /* cancelled */
      }
    }
    const currentTag = computed(() => c.value.tags.find((x) => x.tag_id === tagFilter.value) || null);
    function openTag(tag) {
      tagEditing.value = tag;
      tagName.value = tag ? tag.name : "";
      tagMembers.value = tag ? [...tag.members] : [];
      tagError.value = "";
      tagOpen.value = true;
    }
    async function saveTag() {
      const name = tagName.value.trim();
      if (!name) {
        tagError.value = t("tags.nameRequired");
        return;
      }
      busy.value = true;
      try {
        const body = { name, members: tagMembers.value };
        if (tagEditing.value) await client.http("PATCH", `/api/v1/contacts/tags/${encodeURIComponent(tagEditing.value.tag_id)}`, body);
        else {
          const tag = await client.http("POST", "/api/v1/contacts/tags", body);
          if (tag && tag.tag_id) tagFilter.value = tag.tag_id;
        }
        tagOpen.value = false;
      } catch (error) {
        tagError.value = describeError(error);
      } finally {
        busy.value = false;
      }
    }
    async function deleteTag(tag) {
      try {
        await ElMessageBox.confirm(t("tags.deleteConfirm", { name: tag.name }), t("tags.delete"), {
          type: "warning", confirmButtonText: t("common.ok"), cancelButtonText: t("common.cancel"),
        });
      } catch {
        return;
      }
      if (await run(() => client.http("DELETE", `/api/v1/contacts/tags/${encodeURIComponent(tag.tag_id)}`))) {
        tagFilter.value = "";
        tagOpen.value = false;
      }
    }
    return {
      tagFilter, tagOpen, tagEditing, tagName, tagMembers, tagError, currentTag, openTag, saveTag, deleteTag,
      state, t, c, filter, friends, status, presenceLabel, displayName, addOpen, addUser, addPicked, addMsg, addError, busy,
      openAdd, submitAdd, accept, decline, unblock, onFriendCmd, blockById, approval, approvalBusy, toggleApproval,
    };
  },
  template: `
    <div class="contacts" data-testid="contacts">
      <div class="sidebar-head">
        <h1 v-if="state.narrow" class="sidebar-title">{{ t('nav.contacts') }}</h1>
        <el-input v-model="filter" :placeholder="t('contacts.search')" :aria-label="t('contacts.search')" clearable class="conv-search" data-testid="contacts-search">
          <template #prefix><el-icon><icon-search /></el-icon></template>
        </el-input>
        <el-button class="new-btn" :aria-label="t('contacts.add')" :title="t('contacts.add')" @click="openAdd" data-testid="add-friend"><el-icon><icon-plus /></el-icon></el-button>
      </div>
      <div class="contacts-body">
        <section v-if="c.requests.incoming.length || c.requests.outgoing.length" class="ct-section" data-testid="requests">
          <h2 class="ct-title">{{ t('contacts.requests') }}</h2>
          <div v-for="r in c.requests.incoming" :key="r.request_id" class="ct-row" data-testid="req-in" :data-user="r.from">
            <user-avatar :id="r.from" :name="displayName(r.from)" :size="36" />
            <div class="ct-body">
              <div class="ct-name">{{ displayName(r.from) }}</div>
              <div class="ct-sub">{{ r.message || t('contacts.wantsToAdd') }}</div>
            </div>
            <el-button size="small" type="primary" @click="accept(r)" data-testid="req-accept">{{ t('contacts.accept') }}</el-button>
            <el-button size="small" @click="decline(r)" data-testid="req-decline">{{ t('contacts.decline') }}</el-button>
          </div>
          <div v-for="r in c.requests.outgoing" :key="r.request_id" class="ct-row" data-testid="req-out" :data-user="r.to">
            <user-avatar :id="r.to" :name="displayName(r.to)" :size="36" />
            <div class="ct-body">
              <div class="ct-name">{{ displayName(r.to) }}</div>
              <div class="ct-sub">{{ t('contacts.waiting') }}<template v-if="r.message"> · {{ r.message }}</template></div>
            </div>
            <el-button size="small" @click="decline(r)" data-testid="req-cancel">{{ t('contacts.cancel') }}</el-button>
          </div>
        </section>
        <div class="ct-tags" role="group" :aria-label="t('tags.filter')" data-testid="tags">
          <button type="button" class="ct-tag" :class="{ active: !tagFilter }" @click="tagFilter = ''" data-testid="tag-all">{{ t('tags.all') }}</button>
          <button v-for="tg in c.tags" :key="tg.tag_id" type="button" class="ct-tag" :class="{ active: tagFilter === tg.tag_id }"
                  @click="tagFilter = tg.tag_id" data-testid="tag" :data-tag="tg.tag_id">{{ tg.name }} <span class="ct-count">{{ tg.members.length }}</span></button>
          <button type="button" class="ct-tag ct-tag-new" @click="openTag(null)" data-testid="tag-new">+ {{ t('tags.new') }}</button>
          <button v-if="currentTag" type="button" class="ct-tag ct-tag-new" @click="openTag(currentTag)" data-testid="tag-edit">{{ t('tags.edit') }}</button>
        </div>
        <section class="ct-section">
          <h2 class="ct-title">{{ currentTag ? currentTag.name : t('contacts.friends') }} <span class="ct-count">{{ friends.length }}</span></h2>
          <ul class="ct-list" role="list" data-testid="friends">
            <li v-for="f in friends" :key="f.user_id" class="ct-row ct-friend" data-testid="friend" :data-user="f.user_id"
                role="button" tabindex="0" @click="onFriendCmd('chat', f)" @keydown.enter="onFriendCmd('chat', f)">
              <profile-card :user-id="f.user_id"><span class="ct-avatar">
                <user-avatar :id="f.user_id" :name="displayName(f.user_id)" :size="36" />
                <span class="presence-dot" :class="'p-' + status(f.user_id)" :title="presenceLabel(f.user_id)" data-testid="presence" :data-status="status(f.user_id)"></span>
              </span></profile-card>
              <div class="ct-body">
                <div class="ct-name" data-testid="friend-name">{{ displayName(f.user_id) }}<span v-if="f.remark && f.display_name" class="ct-real"> ({{ f.display_name }})</span></div>
                <div class="ct-sub">{{ presenceLabel(f.user_id) }}</div>
              </div>
              <el-dropdown trigger="click" @command="(cmd) => onFriendCmd(cmd, f)" @click.stop>
                <el-button text size="small" :aria-label="t('contacts.more')" @click.stop data-testid="friend-more"><el-icon><icon-more-filled /></el-icon></el-button>
                <template #dropdown>
                  <el-dropdown-menu>
                    <el-dropdown-item command="chat">{{ t('contacts.chat') }}</el-dropdown-item>
                    <el-dropdown-item command="remark" data-testid="friend-remark">{{ t('contacts.remark') }}</el-dropdown-item>
                    <el-dropdown-item command="block" data-testid="friend-block">{{ t('contacts.block') }}</el-dropdown-item>
                    <el-dropdown-item command="delete" data-testid="friend-delete">{{ t('contacts.delete') }}</el-dropdown-item>
                  </el-dropdown-menu>
                </template>
              </el-dropdown>
            </li>
          </ul>
          <p v-if="!friends.length" class="conv-empty-hint ct-empty">{{ filter ? t('list.noResults') : t('contacts.noFriends') }}</p>
        </section>
        <section class="ct-section ct-setting" data-testid="friend-approval-row">
          <label class="ct-setting-label" for="ct-friend-approval">{{ t('contacts.approval') }}</label>
          <el-switch id="ct-friend-approval" :model-value="approval" :loading="approvalBusy" @change="toggleApproval"
                     :aria-label="t('contacts.approval')" data-testid="friend-approval" />
        </section>
        <section class="ct-section" data-testid="blacklist">
          <h2 class="ct-title">{{ t('contacts.blacklist') }} <span class="ct-count">{{ c.blacklist.length }}</span>
            <el-button text size="small" class="ct-title-btn" @click="blockById" data-testid="block-user">{{ t('contacts.blockSomeone') }}</el-button>
          </h2>
          <div v-for="b in c.blacklist" :key="b.user_id" class="ct-row" data-testid="blocked" :data-user="b.user_id">
            <user-avatar :id="b.user_id" :name="displayName(b.user_id)" :size="36" />
            <div class="ct-body"><div class="ct-name">{{ displayName(b.user_id) }}</div></div>
            <el-button size="small" @click="unblock(b.user_id)" data-testid="unblock">{{ t('contacts.unblock') }}</el-button>
          </div>
        </section>
      </div>
      <el-dialog v-model="tagOpen" :title="tagEditing ? t('tags.edit') : t('tags.new')" append-to-body :width="state.narrow ? '92%' : '440px'" align-center>
        <el-form label-position="top" @submit.prevent="saveTag">
          <el-form-item :label="t('tags.name')" :error="tagError">
            <el-input v-model="tagName" maxlength="64" data-testid="tag-name" />
          </el-form-item>
          <el-form-item :label="t('tags.members')">
            <el-checkbox-group v-model="tagMembers" class="tag-pick" data-testid="tag-members">
              <el-checkbox v-for="f in c.friends" :key="f.user_id" :value="f.user_id" :data-user="f.user_id">{{ displayName(f.user_id) }}</el-checkbox>
            </el-checkbox-group>
            <span v-if="!c.friends.length" class="ct-sub">{{ t('contacts.noFriends') }}</span>
          </el-form-item>
        </el-form>
        <template #footer>
          <el-button v-if="tagEditing" type="danger" plain @click="deleteTag(tagEditing)" data-testid="tag-delete" style="float: left">{{ t('tags.delete') }}</el-button>
          <el-button @click="tagOpen = false">{{ t('common.cancel') }}</el-button>
          <el-button type="primary" :loading="busy" @click="saveTag" data-testid="tag-save">{{ t('group.save') }}</el-button>
        </template>
      </el-dialog>
      <el-dialog v-model="addOpen" :title="t('contacts.add')" append-to-body :width="state.narrow ? '92%' : '440px'" align-center>
        <el-form label-position="top" @submit.prevent="submitAdd">
          <el-form-item :label="t('people.search')" :error="addError">
            <people-picker v-if="addOpen" v-model="addPicked" :multiple="false" :exclude="c.friends.map((f) => f.user_id)"
                           input-testid="add-friend-user" testid="add-friend-people" @query="(q) => { addUser = q; addError = ''; addPicked = []; }" />
            <div v-if="addPicked.length" class="ct-picked" data-testid="add-friend-picked" :data-user="addPicked[0]">
              <user-avatar :id="addPicked[0]" :name="displayName(addPicked[0])" :size="24" /> {{ displayName(addPicked[0]) }}
              <el-button link size="small" @click="addPicked = []">{{ t('common.cancel') }}</el-button>
            </div>
          </el-form-item>
          <el-form-item :label="t('contacts.message')">
            <el-input v-model="addMsg" maxlength="200" data-testid="add-friend-msg" :placeholder="t('contacts.messageHint')" />
          </el-form-item>
        </el-form>
        <template #footer>
          <el-button @click="addOpen = false">{{ t('common.cancel') }}</el-button>
          <el-button type="primary" :loading="busy" @click="submitAdd" data-testid="add-friend-send">{{ t('contacts.send') }}</el-button>
        </template>
      </el-dialog>
    </div>`,
};
