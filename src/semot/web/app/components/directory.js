// The organisation directory tab: the department tree, the members of the chosen
// department, and people search (name, username, pinyin, initials). Choosing a person
// starts a direct chat. APIs: docs/org-directory.md, "Directory API".
import { computed, onMounted, ref, watch } from "vue";
import { t } from "../i18n.js";
import { client, describeError, displayName, me, rememberName, startDirect, state } from "../store.js";
import UserAvatar from "./avatar.js";

export default {
  name: "DirectoryView",
  components: { UserAvatar },
  setup() {
    const tree = ref([]);
    const treeError = ref("");
    const dept = ref(null); // the chosen department node
    const members = ref([]);
    const membersMore = ref(false);
    const q = ref("");
    const results = ref([]);
    const searching = ref(false);
    const searchError = ref("");

    async function loadTree() {
      try {
        const r = await client.http("GET", "/api/v1/directory/departments");
        tree.value = r.departments || [];
        treeError.value = "";
      } catch (error) {
        treeError.value = describeError(error);
      }
    }
    onMounted(loadTree);

    async function choose(node) {
      dept.value = node;
      members.value = [];
      try {
        const r = await client.http("GET", `/api/v1/directory/departments/${encodeURIComponent(node.department_id)}/members?offset=0&limit=200`);
        if (dept.value !== node) return;
        members.value = r.members || [];
        membersMore.value = !!r.more;
        for (const m of members.value) rememberName(m.user_id, m.display_name);
      } catch (error) {
        treeError.value = describeError(error);
      }
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
          const r = await client.http("GET", `/api/v1/directory/search?q=${encodeURIComponent(query.slice(0, 64))}&limit=30`);
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
    const treeProps = { label: "name", children: "children" };
    const searchingNow = computed(() => q.value.trim().length > 0);
    return {
      state, t, tree, treeError, dept, members, membersMore, q, results, searching, searchError, searchingNow, treeProps,
      choose, chat, deptLine, displayName, me,
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
            <user-avatar :id="p.user_id" :name="p.display_name || p.username" :size="36" />
            <div class="ct-body">
              <div class="ct-name">{{ p.display_name || p.username }} <span class="ct-real">@{{ p.username }}</span></div>
              <div class="ct-sub">{{ deptLine(p) }}</div>
            </div>
          </div>
        </template>
        <template v-else>
          <p v-if="treeError" class="ct-empty">{{ treeError }}</p>
          <p v-else-if="!tree.length" class="ct-empty">{{ t('dir.empty') }}</p>
          <el-tree v-else :data="tree" :props="treeProps" node-key="department_id" highlight-current :expand-on-click-node="false"
                   class="dir-tree" data-testid="dir-tree" @node-click="choose">
            <template #default="{ data }">
              <span class="dir-node" :data-dept="data.department_id" data-testid="dir-dept">{{ data.name }}<span class="ct-count"> {{ data.member_count }}</span></span>
            </template>
          </el-tree>
          <section v-if="dept" class="ct-section" data-testid="dir-members">
            <h2 class="ct-title">{{ dept.name }} <span class="ct-count">{{ members.length }}</span></h2>
            <div v-for="p in members" :key="p.user_id" class="ct-row ct-friend" role="button" tabindex="0" data-testid="dir-member" :data-user="p.user_id"
                 @click="chat(p)" @keydown.enter="chat(p)">
              <user-avatar :id="p.user_id" :name="p.display_name || p.username" :size="36" />
              <div class="ct-body">
                <div class="ct-name">{{ p.display_name || p.username }}<template v-if="p.user_id === me()"> ({{ t('common.me') }})</template></div>
                <div class="ct-sub">{{ p.title || '@' + p.username }}</div>
              </div>
            </div>
            <p v-if="membersMore" class="ct-empty">{{ t('dir.more') }}</p>
          </section>
        </template>
      </div>
    </div>`,
};
