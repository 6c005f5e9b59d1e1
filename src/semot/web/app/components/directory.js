// The organisation directory tab: the department tree, the members of the chosen
// department, and people search (name, username, pinyin, initials). Choosing a person
// starts a direct chat. APIs: docs/org-directory.md, "Directory API".
//
// The tree may be of any depth and size, so it is loaded lazily, one level per expanded
// department (`?parent=`), never as a whole; members come a page at a time. Past a few
// levels the view moves down instead of indenting further: the expanded department
// becomes the top of the tree, with its path above it as breadcrumbs to go back up.
//
// The people shown (search results, the chosen department's members) have a presence
// dot: the tab follows their presence (`presence_sub`, through followPresence in the
// store) while it is open, the ones on screen first, and follows no one once it closes.
import { computed, onUnmounted, ref, watch } from "vue";
import { t } from "../i18n.js";
import { client, describeError, displayName, followPresence, me, rememberName, startDirect, state } from "../store.js";
import UserAvatar from "./avatar.js";
import ProfileCard from "./profile-card.js"; // W6: a person's card on avatar click

const MEMBERS_PAGE = 50;
const FOCUS_LEVEL = 6; // expanding a department this many levels down moves the view to it
const CRUMBS_SHOWN = 3; // the last few of a long path; "…" goes one further up
const enc = encodeURIComponent;

export default {
  name: "DirectoryView",
  components: { UserAvatar, ProfileCard },
  setup() {
    const treeKey = ref(0); // bumped to load the tree afresh (retry, or another top)
    const rootState = ref("loading"); // "loading" | "ready" | "empty" | "error"
    const focus = ref(null); // the department id shown as the top of the tree (null: the real top)
    const crumbs = ref([]); // the path down to `focus`: [{department_id, name}]
    const treeError = ref("");
    const dept = ref(null); // the chosen department node
    const members = ref([]);
    const membersTotal = ref(0);
    const membersMore = ref(false);
    const membersLoading = ref(false);
    const membersError = ref("");
    const q = ref("");
    const results = ref([]);
    const searching = ref(false);
    const searchError = ref("");

    /** el-tree's lazy loader: the top level first, then each department when expanded. */
    async function loadLevel(node, resolve, reject) {
      const top = node.level === 0;
      if (!top && node.level >= FOCUS_LEVEL) {
        reject(); // not expanded here: the view moves down to it instead
        setFocus(node.data.department_id);
        return;
      }
      const parent = top ? focus.value || "root" : node.data.department_id;
      try {
        const r = await client.http("GET", `/api/v1/directory/departments?parent=${enc(parent)}`);
        const list = r.departments || [];
        if (top) {
          rootState.value = list.length ? "ready" : "empty";
          crumbs.value = (r.parent && r.parent.path) || [];
        }
        treeError.value = "";
        resolve(list);
      } catch (error) {
        treeError.value = describeError(error);
        if (top) rootState.value = "error";
        reject(); // not loaded: expanding again retries
      }
    }
    function reloadTree() {
      rootState.value = "loading";
      treeError.value = "";
      treeKey.value += 1;
    }
    /** Show the tree from this department down (null: from the top). */
    function setFocus(deptId) {
      focus.value = deptId;
      if (!deptId) crumbs.value = [];
      reloadTree();
    }
    const shownCrumbs = computed(() => crumbs.value.slice(-CRUMBS_SHOWN));
    const hiddenCrumb = computed(() => {
      const n = crumbs.value.length - CRUMBS_SHOWN;
      return n > 0 ? crumbs.value[n - 1] : null; // "…": the level just above those shown
    });

    /** The next page of the chosen department's members (the first when `fresh`). */
    async function loadMembers(node, fresh) {
      if (membersLoading.value && !fresh) return;
      membersLoading.value = true;
      membersError.value = "";
      const offset = fresh ? 0 : members.value.length;
      try {
        const r = await client.http(
          "GET", `/api/v1/directory/departments/${enc(node.department_id)}/members?offset=${offset}&limit=${MEMBERS_PAGE}`,
        );
        if (dept.value !== node) return; // another department was chosen meanwhile
        const known = new Set(fresh ? [] : members.value.map((m) => m.user_id));
        const page = (r.members || []).filter((m) => !known.has(m.user_id));
        members.value = fresh ? page : [...members.value, ...page];
        membersTotal.value = typeof r.total === "number" ? r.total : members.value.length;
        membersMore.value = !!r.more;
        for (const m of page) rememberName(m.user_id, m.display_name);
      } catch (error) {
        if (dept.value === node) membersError.value = describeError(error);
      } finally {
        if (dept.value === node) membersLoading.value = false;
      }
    }

    /** A click on a department's name: show its members and open it (never close it:
     * the arrow beside it toggles), as people expect from a directory. */
    function clickNode(data, node) {
      choose(data);
      if (node && !node.isLeaf && !node.expanded) node.expand();
    }
    /** The count beside a name: everyone in the subtree (servers before `total_count`
     * was added only give the direct members). */
    function deptCount(data) {
      return typeof data.total_count === "number" ? data.total_count : data.member_count;
    }
    function choose(node) {
      dept.value = node;
      members.value = [];
      membersTotal.value = node.member_count || 0;
      membersMore.value = false;
      loadMembers(node, true);
    }
    function loadMore() {
      if (dept.value && membersMore.value) loadMembers(dept.value, false);
    }

    let timer = null;
    let seq = 0;
    watch(q, (v) => {
      clearTimeout(timer);
      const query = v.trim();
      if (!query) {
        results.value = [];
        searching.value = false;
        return;
      }
      searching.value = true;
      timer = setTimeout(async () => {
        const mine = ++seq;
        try {
          const r = await client.http("GET", `/api/v1/directory/search?q=${enc(query.slice(0, 64))}&limit=30`);
          if (mine !== seq) return;
          results.value = r.results || [];
          searchError.value = "";
          for (const p of results.value) rememberName(p.user_id, p.display_name);
        } catch (error) {
          if (mine === seq) searchError.value = describeError(error);
        } finally {
          if (mine === seq) searching.value = false;
        }
      }, 250);
    });

    function chat(p) {
      if (p.user_id === me()) return;
      rememberName(p.user_id, p.display_name);
      state.tab = "chats";
      startDirect(p.user_id);
    }
    function deptLine(p) {
      return (p.departments || []).map((d) => (d.title ? `${d.name} · ${d.title}` : d.name)).join(t("common.listSep"));
    }
    const treeProps = { label: "name", isLeaf: (data) => !data.child_count };
    const searchingNow = computed(() => q.value.trim().length > 0);

    // Presence: the search results when searching (the members are hidden then), then
    // the members, the page loaded last first (the store keeps the first 500).
    const shownPeople = computed(() => {
      const recent = members.value.map((m) => m.user_id).reverse();
      return searchingNow.value ? [...results.value.map((p) => p.user_id), ...recent] : recent;
    });
    watch(() => shownPeople.value.join(","), () => followPresence(shownPeople.value));
    onUnmounted(() => followPresence([]));
    /** The user's presence, or null when it is not known (not visible to me, or not yet). */
    function presence(u) {
      if (u === me() && state.connection !== "open") return { status: "offline", text: "" }; // not green while disconnected
      const p = state.presence[u];
      return p && p.status ? p : null;
    }
    function presenceLabel(u) {
      const p = presence(u);
      if (!p) return "";
      const s = t(`presence.${p.status}`);
      return p.text ? `${s} · ${p.text}` : s;
    }
    const remaining = computed(() => Math.max(0, membersTotal.value - members.value.length));
    return {
      state, t, treeKey, rootState, treeError, focus, shownCrumbs, hiddenCrumb, setFocus, dept, members, membersTotal, membersMore, membersLoading, membersError, remaining,
      q, results, searching, searchError, searchingNow, treeProps, loadLevel, reloadTree, choose, clickNode, deptCount, loadMore, chat, deptLine, displayName, me, presence, presenceLabel,
    };
  },
  template: `
    <div class="directory" data-testid="directory">
      <div class="sidebar-head">
        <h1 v-if="state.narrow" class="sidebar-title">{{ t('nav.directory') }}</h1>
        <el-input v-model="q" :placeholder="t('dir.search')" :aria-label="t('dir.search')" clearable class="conv-search" data-testid="dir-search">
          <template #prefix><el-icon><icon-search /></el-icon></template>
        </el-input>
      </div>
      <div class="contacts-body">
        <template v-if="searchingNow">
          <p v-if="searchError" class="ct-empty">{{ searchError }}</p>
          <p v-else-if="!searching && !results.length" class="ct-empty">{{ t('list.noResults') }}</p>
          <div v-for="p in results" :key="p.user_id" class="ct-row ct-friend" role="button" tabindex="0" data-testid="dir-result" :data-user="p.user_id"
               @click="chat(p)" @keydown.enter="chat(p)">
            <span class="ct-avatar">
              <profile-card :user-id="p.user_id"><user-avatar :id="p.user_id" :name="p.display_name || p.username" :size="36" /></profile-card>
              <span v-if="presence(p.user_id)" class="presence-dot" :class="'p-' + presence(p.user_id).status" :title="presenceLabel(p.user_id)"
                    data-testid="presence" :data-status="presence(p.user_id).status"></span>
            </span>
            <div class="ct-body">
              <div class="ct-name">{{ p.display_name || p.username }} <span class="ct-real">@{{ p.username }}</span></div>
              <div class="ct-sub">{{ deptLine(p) }}<span v-if="presence(p.user_id)" data-testid="presence-text"> · {{ presenceLabel(p.user_id) }}</span></div>
            </div>
          </div>
        </template>
        <div v-show="!searchingNow">
          <nav v-if="focus" class="ct-empty dir-crumbs" :aria-label="t('dir.path')" data-testid="dir-crumbs">
            <el-button link type="primary" @click="setFocus(null)" data-testid="dir-crumb-top">{{ t('dir.top') }}</el-button>
            <template v-if="hiddenCrumb"> / <el-button link type="primary" :aria-label="t('dir.up')" :title="t('dir.up')" @click="setFocus(hiddenCrumb.department_id)" data-testid="dir-crumb-up">…</el-button></template>
            <template v-for="(c, i) in shownCrumbs" :key="c.department_id"> /
              <el-button v-if="i < shownCrumbs.length - 1" link type="primary" @click="setFocus(c.department_id)" data-testid="dir-crumb" :data-dept="c.department_id">{{ c.name }}</el-button>
              <el-button v-else link @click="choose(c)" data-testid="dir-crumb" :data-dept="c.department_id"><strong>{{ c.name }}</strong></el-button>
            </template>
          </nav>
          <p v-if="rootState === 'error'" class="ct-empty" data-testid="dir-error">
            {{ treeError }} <el-button link type="primary" @click="reloadTree" data-testid="dir-retry">{{ t('dir.retry') }}</el-button>
          </p>
          <p v-else-if="rootState === 'empty'" class="ct-empty">{{ t('dir.empty') }}</p>
          <p v-else-if="treeError" class="ct-empty" role="alert">{{ treeError }}</p>
          <el-tree v-show="rootState === 'ready' || rootState === 'loading'" :key="treeKey" lazy :load="loadLevel" :props="treeProps"
                   node-key="department_id" highlight-current :expand-on-click-node="false" empty-text=" "
                   class="dir-tree" data-testid="dir-tree" @node-click="clickNode">
            <template #default="{ data }">
              <span class="dir-node" :data-dept="data.department_id" :data-depth="data.depth" data-testid="dir-dept">{{ data.name }}<span class="ct-count" data-testid="dir-count" :title="t('dir.countHint')"> {{ deptCount(data) }}</span></span>
            </template>
          </el-tree>
          <section v-if="dept" class="ct-section" data-testid="dir-members">
            <h2 class="ct-title">{{ dept.name }} <span class="ct-count" data-testid="dir-total">{{ membersTotal }}</span></h2>
            <div v-for="p in members" :key="p.user_id" class="ct-row ct-friend" role="button" tabindex="0" data-testid="dir-member" :data-user="p.user_id"
                 @click="chat(p)" @keydown.enter="chat(p)">
              <span class="ct-avatar">
                <profile-card :user-id="p.user_id"><user-avatar :id="p.user_id" :name="p.display_name || p.username" :size="36" /></profile-card>
                <span v-if="presence(p.user_id)" class="presence-dot" :class="'p-' + presence(p.user_id).status" :title="presenceLabel(p.user_id)"
                      data-testid="presence" :data-status="presence(p.user_id).status"></span>
              </span>
              <div class="ct-body">
                <div class="ct-name">{{ p.display_name || p.username }}<template v-if="p.user_id === me()"> ({{ t('common.me') }})</template></div>
                <div class="ct-sub">{{ p.title || '@' + p.username }}<span v-if="presence(p.user_id)" data-testid="presence-text"> · {{ presenceLabel(p.user_id) }}</span></div>
              </div>
            </div>
            <p v-if="membersError" class="ct-empty" role="alert">{{ membersError }}</p>
            <div v-if="membersMore" class="ct-empty">
              <el-button :loading="membersLoading" @click="loadMore" data-testid="dir-more">{{ t('dir.loadMore', { n: remaining }) }}</el-button>
            </div>
            <p v-else-if="membersLoading && !members.length" class="ct-empty">{{ t('chat.loading') }}</p>
          </section>
        </div>
      </div>
    </div>`,
};
