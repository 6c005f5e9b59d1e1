// A person's card, in an Element Plus popover around whatever shows them (a sender's
// avatar or name in chat, a group member, a directory, contacts or search row): picture,
// name, username, departments and titles (the org directory), presence and status text,
// and what one can do: message, add friend (not yet friends), call (later).
//
// Everything is fetched when the card opens, not when the row renders: a chat shows
// hundreds of avatars and few are ever clicked. The public profile (GET /api/v1/users/ID),
// the directory entry (GET /api/v1/directory/search?q=<username>, matched by user id:
// the directory has no per-person endpoint) and presence (GET /api/v1/presence, which
// leaves out whom I may not see) are each best effort. For the same reason the popover
// itself is mounted on the first click: an el-popover per avatar and name (a tooltip,
// popper, trigger and teleported content each) made rendering rows while scrolling a long
// chat slower (issue 11); until then a plain span stands in for it.
import { computed, nextTick, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../i18n.js";
import { client, describeError, displayName, me, requestFriend, startDirect, state } from "../store.js";
import { rememberAvatars } from "../stores/profile.js";
import UserAvatar from "./avatar.js";
import "./people-styles.js";

const cards = reactive({}); // user_id -> {username, departments, presence, loaded} (this session)

async function loadCard(userId) {
  if (!cards[userId]) cards[userId] = { username: "", departments: null, presence: null, loaded: false };
  const card = cards[userId]; // the reactive proxy (the object assigned is not)
  try {
    const users = await client.users([userId]);
    rememberAvatars(users);
    if (users[0]) card.username = users[0].username || "";
  } catch {
    /* shown with what we have */
  }
  const jobs = [];
  if (card.username) {
    jobs.push(client.searchPeople(card.username, 10).then((found) => {
      const hit = found.find((p) => p.user_id === userId);
      card.departments = hit ? hit.departments || [] : [];
    }).catch(() => { card.departments = []; }));
  }
  jobs.push(client.http("GET", `/api/v1/presence?users=${encodeURIComponent(userId)}`).then((r) => {
    const p = ((r && r.users) || []).find((x) => x.user === userId);
    card.presence = p ? { status: p.status, text: p.text || "" } : null;
  }).catch(() => {}));
  await Promise.all(jobs);
  card.loaded = true;
}

// The card's content: mounted only while the popover shows (persistent false).
const CardBody = {
  name: "ProfileCardBody",
  components: { UserAvatar },
  props: { userId: { type: String, required: true }, sent: { type: Boolean, default: false } },
  emits: ["close", "sent"],
  setup(props, { emit }) {
    const busy = ref(false);
    const card = computed(() => cards[props.userId] || null);
    const isMe = computed(() => props.userId === me());
    const friend = computed(() => state.contacts.friends.some((f) => f.user_id === props.userId));
    const pendingOut = computed(() => props.sent || state.contacts.requests.outgoing.some((r) => r.to === props.userId));
    const blocked = computed(() => state.contacts.blacklist.some((b) => b.user_id === props.userId));
    const canAdd = computed(() => !isMe.value && !friend.value && !blocked.value);
    const presence = computed(() => {
      const live = state.presence[props.userId];
      if (live && live.status) return live;
      return card.value && card.value.presence;
    });
    const status = computed(() => (presence.value && presence.value.status) || "offline");
    const statusText = computed(() => (presence.value && presence.value.text) || "");

    function message() {
      emit("close");
      state.tab = "chats";
      startDirect(props.userId);
    }
    async function addFriend() {
      busy.value = true;
      try {
        const r = await requestFriend(props.userId, "");
        emit("sent");
        ElMessage.success(r && r.status === "friends" ? t("contacts.nowFriends") : t("contacts.requestSent"));
      } catch (error) {
        ElMessage.error(describeError(error));
      } finally {
        busy.value = false;
      }
    }
    return { busy, card, isMe, pendingOut, canAdd, status, statusText, message, addFriend, t, displayName };
  },
  template: `
    <div class="profile-card" data-testid="profile-card" :data-user="userId">
      <div class="pc-top">
        <span class="ct-avatar">
          <user-avatar :id="userId" :name="displayName(userId)" :size="52" />
          <span class="presence-dot" :class="'p-' + status" data-testid="pc-presence" :data-status="status"></span>
        </span>
        <div class="pc-names">
          <div class="pc-name" data-testid="pc-name">{{ displayName(userId) }}<span v-if="isMe" class="pc-me"> {{ t('people.you') }}</span></div>
          <div v-if="card && card.username" class="pc-username">@{{ card.username }}</div>
          <div class="pc-status" data-testid="pc-status">{{ t('presence.' + status) }}<template v-if="statusText"> · {{ statusText }}</template></div>
        </div>
      </div>
      <ul v-if="card && card.departments && card.departments.length" class="pc-depts" data-testid="pc-depts">
        <li v-for="d in card.departments" :key="d.department_id" data-testid="pc-dept">
          <span class="pc-dept">{{ d.name }}</span><span v-if="d.title" class="pc-title"> · {{ d.title }}</span>
        </li>
      </ul>
      <div v-else-if="!card || !card.loaded" class="pc-loading">{{ t('people.loading') }}</div>
      <div v-if="!isMe" class="pc-actions">
        <el-button type="primary" size="small" @click="message" data-testid="pc-message">{{ t('people.message') }}</el-button>
        <el-button v-if="canAdd" size="small" :loading="busy" :disabled="pendingOut" @click="addFriend" data-testid="pc-add">
          {{ pendingOut ? t('people.requested') : t('people.addFriend') }}</el-button>
        <el-button size="small" disabled :title="t('people.comingSoon')" data-testid="pc-call">{{ t('people.call') }} · {{ t('people.comingSoon') }}</el-button>
      </div>
    </div>`,
};

export default {
  name: "ProfileCard",
  components: { CardBody },
  props: {
    userId: { type: String, required: true },
    placement: { type: String, default: "right-start" },
    disabled: { type: Boolean, default: false },
  },
  setup(props) {
    const armed = ref(false); // the el-popover is mounted (first click on this trigger)
    const open = ref(false);
    const sent = ref(false); // a request sent from this card (kept while the card is closed)
    const trigger = ref(null);

    // loaded each time the card opens (presence and titles change; a card is opened rarely)
    function setOpen(v) {
      open.value = v;
      if (v) loadCard(props.userId);
    }
    async function arm() {
      if (props.disabled || armed.value) return;
      const focused = typeof document !== "undefined" && trigger.value && document.activeElement === trigger.value;
      armed.value = true;
      await nextTick();
      setOpen(true);
      if (focused && trigger.value) trigger.value.focus(); // the reference is a new element now
    }
    return { armed, open, sent, trigger, setOpen, arm, t, displayName };
  },
  template: `
    <span v-if="!armed" ref="trigger" class="pc-ref" role="button" tabindex="0" :aria-label="t('people.cardOf', { name: displayName(userId) })"
      @click.stop="arm" @keydown.enter.stop="arm" data-testid="profile-trigger" :data-user="userId"><slot /></span>
    <el-popover v-else :visible="open" @update:visible="setOpen" trigger="click" :placement="placement" :width="280" :disabled="disabled"
                popper-class="profile-card-pop" :persistent="false">
      <template #reference><span ref="trigger" class="pc-ref" role="button" tabindex="0" :aria-label="t('people.cardOf', { name: displayName(userId) })"
        @click.stop @keydown.enter.stop="setOpen(true)" data-testid="profile-trigger" :data-user="userId"><slot /></span></template>
      <card-body :user-id="userId" :sent="sent" @sent="sent = true" @close="setOpen(false)" />
    </el-popover>`,
};
