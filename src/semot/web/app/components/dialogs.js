// Dialogs: new direct chat, new group, find a group to join, send a location, send a contact card, about.
import { computed, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { SemotAPIError } from "semot";
import { t } from "../i18n.js";
import { active, client, createGroup, describeError, joinGroup, me, openConv, searchGroups, sendMessage, startDirect, state, ui } from "../store.js";
import { USERNAME_RE } from "../util.js";
import { groups as groupNotices, requestSent } from "../stores/groups.js";
import PeoplePicker from "./people-picker.js"; // W6: find people by name / pinyin

function useDialog(name) {
  const visible = computed({
    get: () => ui.dialog === name,
    set: (v) => {
      if (!v && ui.dialog === name) ui.dialog = null;
    },
  });
  return visible;
}

const dialogProps = "append-to-body :width=\"state.narrow ? '92%' : '440px'\" align-center destroy-on-close";

export const NewChatDialog = {
  name: "NewChatDialog",
  setup() {
    const visible = useDialog("newChat");
    const username = ref("");
    const error = ref("");
    watch(visible, (v) => {
      if (v) {
        username.value = "";
        error.value = "";
      }
    });
    async function submit() {
      const u = username.value.trim().replace(/^@/, "");
      if (!USERNAME_RE.test(u)) {
        error.value = t("newChat.invalid");
        return;
      }
      if (u === me()) {
        error.value = t("newChat.self");
        return;
      }
      ui.dialog = null;
      await startDirect(u);
    }
    return { visible, username, error, submit, t, state };
  },
  template: `
    <el-dialog v-model="visible" :title="t('newChat.title')" ${dialogProps} data-testid="dlg-new-chat">
      <el-form label-position="top" @submit.prevent="submit">
        <el-form-item :label="t('newChat.username')" :error="error" for="newchat-user">
          <el-input id="newchat-user" v-model="username" autofocus autocapitalize="off" spellcheck="false" :placeholder="t('newChat.hint')" data-testid="new-chat-user" />
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="visible = false">{{ t('common.cancel') }}</el-button>
        <el-button type="primary" @click="submit" data-testid="new-chat-start">{{ t('newChat.start') }}</el-button>
      </template>
    </el-dialog>`,
};

export const NewGroupDialog = {
  name: "NewGroupDialog",
  components: { PeoplePicker },
  setup() {
    const visible = useDialog("newGroup");
    const form = reactive({ name: "", members: [] });
    const errors = reactive({ name: "", members: "" });
    const busy = ref(false);
    const known = computed(() => {
      const s = new Set();
      for (const c of Object.values(state.convs)) {
        if (c.peer) s.add(c.peer);
        for (const m of c.members) s.add(m);
      }
      s.delete(me());
      return [...s].sort();
    });
    watch(visible, (v) => {
      if (v) {
        form.name = "";
        form.members = [];
        errors.name = errors.members = "";
      }
    });
    async function submit() {
      errors.name = errors.members = "";
      if (!form.name.trim()) {
        errors.name = t("newGroup.nameRequired");
        return;
      }
      const members = [...new Set(form.members.map((m) => String(m).trim().replace(/^@/, "")).filter(Boolean))];
      const bad = members.find((m) => !USERNAME_RE.test(m));
      if (bad) {
        errors.members = t("newGroup.unknownUser", { msg: bad });
        return;
      }
      busy.value = true;
      try {
        await createGroup(form.name.trim(), members);
        ui.dialog = null;
      } catch (error) {
        if (error instanceof SemotAPIError && error.code === "not_found") errors.members = t("newGroup.unknownUser", { msg: error.serverMessage });
        else errors.members = describeError(error);
      } finally {
        busy.value = false;
      }
    }
    const suggestions = computed(() => known.value.filter((u) => !form.members.includes(u)).slice(0, 12));
    function add(u) {
      if (!form.members.includes(u)) form.members.push(u);
    }
    return { visible, form, errors, busy, suggestions, add, submit, t, state, DELIM: /[\s,，;；]+/ };
  },
  template: `
    <el-dialog v-model="visible" :title="t('newGroup.title')" ${dialogProps} data-testid="dlg-new-group">
      <el-form label-position="top" @submit.prevent="submit">
        <el-form-item :label="t('newGroup.name')" :error="errors.name" for="newgroup-name">
          <el-input id="newgroup-name" v-model="form.name" maxlength="128" :placeholder="t('newGroup.namePlaceholder')" data-testid="new-group-name" />
        </el-form-item>
        <el-form-item :label="t('newGroup.members')" :error="errors.members">
          <el-input-tag v-model="form.members" :delimiter="DELIM" :placeholder="t('newGroup.membersPlaceholder')" :aria-label="t('newGroup.members')"
                        tag-type="primary" clearable data-testid="new-group-members" />
          <people-picker v-model="form.members" :chips="false" testid="new-group-people" style="margin-top: 6px" />
          <div v-if="suggestions.length" class="suggest">
            <span class="suggest-label">{{ t('newGroup.recent') }}</span>
            <button v-for="u in suggestions" :key="u" type="button" class="suggest-chip" @click="add(u)">+ {{ u }}</button>
          </div>
          <div class="form-hint">{{ t('newGroup.membersHint') }}</div>
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="visible = false">{{ t('common.cancel') }}</el-button>
        <el-button type="primary" :loading="busy" @click="submit" data-testid="new-group-create">{{ t('newGroup.create') }}</el-button>
      </template>
    </el-dialog>`,
};

export const FindGroupDialog = {
  name: "FindGroupDialog",
  setup() {
    const visible = useDialog("findGroup");
    const query = ref("");
    const results = ref(null); // null: not searched yet
    const error = ref("");
    const busy = ref(false);
    const asking = ref(null); // the group whose request message is being written
    const message = ref("");
    const done = reactive({}); // group_id -> "sent"
    watch(visible, (v) => {
      if (v) {
        query.value = message.value = error.value = "";
        results.value = asking.value = null;
        for (const k of Object.keys(done)) delete done[k];
      }
    });
    async function search() {
      const q = query.value.trim();
      if (!q) return;
      busy.value = true;
      error.value = "";
      try {
        results.value = await searchGroups(q);
      } catch (e) {
        error.value = describeError(e);
      } finally {
        busy.value = false;
      }
    }
    async function join(g) {
      if (g.join === "approval" && asking.value !== g.group_id) {
        asking.value = g.group_id; // first click: let them say why
        message.value = "";
        return;
      }
      error.value = "";
      try {
        const r = await joinGroup(g, g.join === "approval" ? message.value.trim().slice(0, 500) : "");
        if (r.joined) {
          ui.dialog = null;
          ElMessage.success(t("findGroup.joined"));
        } else {
          done[g.group_id] = "sent";
          requestSent(g.group_id); // the decision is pushed (evt group request_decided): see outcome()
          asking.value = null;
        }
      } catch (e) {
        error.value = describeError(e);
      }
    }
    function enter(g) {
      ui.dialog = null;
      openConv(g.conv);
    }
    // what an admin decided about a request sent from this dialog, pushed while it is open
    const outcome = (g) => (done[g.group_id] ? groupNotices.outcomes[g.group_id] || "" : "");
    return { visible, query, results, error, busy, asking, message, done, outcome, search, join, enter, t, state };
  },
  template: `
    <el-dialog v-model="visible" :title="t('findGroup.title')" ${dialogProps} data-testid="dlg-find-group">
      <el-form label-position="top" @submit.prevent="search">
        <el-form-item :label="t('findGroup.query')" :error="error" for="findgroup-q">
          <div class="form-row search-row">
            <el-input id="findgroup-q" v-model="query" maxlength="128" clearable autofocus :placeholder="t('findGroup.hint')" data-testid="find-group-q" @keyup.enter="search" />
            <el-button type="primary" :loading="busy" @click="search" data-testid="find-group-search">{{ t('findGroup.search') }}</el-button>
          </div>
        </el-form-item>
      </el-form>
      <p v-if="results && !results.length" class="form-hint" data-testid="find-group-none">{{ t('findGroup.none') }}</p>
      <ul v-if="results && results.length" class="found-groups">
        <li v-for="g in results" :key="g.group_id" class="found-group" data-testid="found-group" :data-group="g.group_id">
          <div class="found-main">
            <div class="found-name">{{ g.name }}</div>
            <div class="form-hint">{{ t('findGroup.type.' + g.type) }} · {{ t('findGroup.members', { n: g.member_count }) }} · {{ g.join === 'open' ? t('findGroup.open') : t('findGroup.approval') }}</div>
            <el-input v-if="asking === g.group_id" v-model="message" maxlength="500" :placeholder="t('findGroup.message')" data-testid="find-group-message" @keyup.enter="join(g)" />
            <div v-if="outcome(g) === 'accepted'" class="form-hint" style="color:var(--el-color-success)" role="status" data-testid="find-group-accepted">{{ t('groupNotice.accepted') }}</div>
            <div v-else-if="outcome(g) === 'declined'" class="form-hint" style="color:var(--el-color-danger)" role="status" data-testid="find-group-declined">{{ t('groupNotice.declined') }}</div>
            <div v-else-if="done[g.group_id]" class="form-hint" data-testid="find-group-sent">{{ t('findGroup.sent') }}</div>
          </div>
          <el-button v-if="g.my_role || outcome(g) === 'accepted'" size="small" @click="enter(g)" data-testid="find-group-enter">{{ t('findGroup.enter') }}</el-button>
          <el-button v-else-if="!done[g.group_id] || outcome(g) === 'declined'" size="small" type="primary" @click="join(g)" data-testid="find-group-join">
            {{ g.join === 'open' ? t('findGroup.join') : t('findGroup.ask') }}
          </el-button>
        </li>
      </ul>
      <template #footer>
        <el-button @click="visible = false">{{ t('common.cancel') }}</el-button>
      </template>
    </el-dialog>`,
};

// The location dialog moved to location/location-dialog.js (issue 11: geolocation, no typing).
export { default as LocationDialog } from "./location/location-dialog.js";

export const CardDialog = {
  name: "CardDialog",
  components: { PeoplePicker },
  setup() {
    const visible = useDialog("card");
    const user = ref("");
    const picked = ref([]); // W6: chosen in the people picker (else the typed username)
    const error = ref("");
    watch(visible, (v) => {
      if (v) {
        user.value = "";
        picked.value = [];
        error.value = "";
      }
    });
    function submit() {
      const u = picked.value[0] || user.value.trim().replace(/^@/, "");
      if (!USERNAME_RE.test(u)) {
        error.value = t("newChat.invalid");
        return;
      }
      const c = active();
      if (!c) return;
      sendMessage(c, "card", { user_id: u });
      ui.dialog = null;
    }
    return { visible, user, picked, error, submit, t, state };
  },
  template: `
    <el-dialog v-model="visible" :title="t('card.title')" ${dialogProps} data-testid="dlg-card">
      <el-form label-position="top" @submit.prevent="submit">
        <el-form-item :label="t('card.user')" :error="error">
          <people-picker v-model="picked" :multiple="false" input-testid="card-user" testid="card-people"
                         @query="(q) => { user = q; error = ''; picked = []; }" />
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="visible = false">{{ t('common.cancel') }}</el-button>
        <el-button type="primary" @click="submit" data-testid="card-send">{{ t('card.send') }}</el-button>
      </template>
    </el-dialog>`,
};

export const AboutDialog = {
  name: "AboutDialog",
  setup() {
    const visible = useDialog("about");
    const version = computed(() => (client.serverConfig && client.serverConfig.server_version) || "?");
    return { visible, version, t, state };
  },
  template: `
    <el-dialog v-model="visible" :title="t('menu.about')" ${dialogProps}>
      <div class="about">
        <img src="/web/icons/icon.svg" alt="" width="56" height="56">
        <div>
          <p class="about-name">{{ t('appName') }} · {{ t('about.client') }}</p>
          <p class="about-tag">{{ t('tagline') }}</p>
          <p>{{ t('about.version', { v: version }) }}</p>
          <p><a href="/docs" target="_blank" rel="noopener">{{ t('menu.apiDocs') }}</a></p>
        </div>
      </div>
    </el-dialog>`,
};
