// Organisation (组织架构): the department tree (Element Plus el-tree; drag and drop moves
// and reorders, sent as POST /departments/{id}/move with the new parent and position),
// create / rename / delete departments, the selected department's members
// (pages/org/members.js) and importing from a file (pages/org/import.js).
//
// The server's tree is the truth: after every change the tree is loaded again (keeping
// what was expanded and selected), so a refused move simply snaps back.
import { computed, nextTick, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { route, setQuery } from "../router.js";
import { can } from "../session.js";
import { confirmed, quietly } from "./groups/ui.js";
import OrgImport from "./org/import.js";
import OrgMembers from "./org/members.js";
import messages from "./org/messages.js";

const STYLES = "/admin/pages/org/org.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}

/** The flat tree (in tree order, with parent ids) as nested nodes for el-tree. */
export function nest(flat) {
  const byId = new Map(flat.map((d) => [d.department_id, { ...d, children: [] }]));
  const roots = [];
  for (const d of flat) {
    const node = byId.get(d.department_id);
    const parent = d.parent_id ? byId.get(d.parent_id) : null;
    (parent ? parent.children : roots).push(node);
  }
  return roots;
}

const OrgPage = {
  name: "OrgPage",
  components: { OrgImport, OrgMembers },
  setup() {
    const tree = ref(null);
    const nodes = ref([]);
    const flat = ref([]);
    const loading = ref(false);
    const filter = ref("");
    const selectedId = ref(route.query.dept || "");
    const expanded = reactive(new Set());
    const importing = ref(false);
    const selected = computed(() => flat.value.find((d) => d.department_id === selectedId.value) || null);
    const writable = computed(() => can("org.write"));

    async function load() {
      loading.value = true;
      try {
        const got = await api.get("/departments");
        flat.value = got.departments;
        if (!expanded.size) got.departments.filter((d) => d.depth < 1).forEach((d) => expanded.add(d.department_id));
        nodes.value = nest(got.departments);
        await nextTick();
        if (selectedId.value && tree.value) tree.value.setCurrentKey(selected.value ? selectedId.value : null);
      } finally {
        loading.value = false;
      }
    }

    function select(data) {
      selectedId.value = data.department_id;
      setQuery({ dept: data.department_id });
    }

    async function ask(title, value = "") {
      try {
        const { value: name } = await ElMessageBox.prompt(t("org.nameRule"), title, {
          inputValue: value, inputPlaceholder: t("org.newName"), confirmButtonText: t("common.confirm"),
          cancelButtonText: t("common.cancel"), inputValidator: (v) => !!(v || "").trim() && v.trim().length <= 128 && !v.includes("/"),
          inputErrorMessage: t("org.nameRule"),
        });
        return name.trim();
      } catch {
        return null;
      }
    }

    async function create(parent) {
      const name = await ask(parent ? t("org.addChild") : t("org.addTop"));
      if (!name) return;
      const made = await api.post("/departments", { name, parent_id: parent ? parent.department_id : null });
      if (parent) expanded.add(parent.department_id);
      ElMessage.success(t("org.created"));
      selectedId.value = made.department_id;
      setQuery({ dept: made.department_id });
      await load();
    }

    async function rename(d) {
      const name = await ask(t("org.rename"), d.name);
      if (!name || name === d.name) return;
      await api.patch(`/departments/${encodeURIComponent(d.department_id)}`, { name });
      ElMessage.success(t("org.renamed"));
      await load();
    }

    async function remove(d) {
      if (!(await confirmed(t("org.deleteConfirm", { name: d.name }), t("org.delete"), t("org.delete")))) return;
      await api.del(`/departments/${encodeURIComponent(d.department_id)}`);
      ElMessage.success(t("org.deleted"));
      if (selectedId.value === d.department_id) {
        selectedId.value = "";
        setQuery({});
      }
      await load();
    }

    /** After el-tree moved the node: its new parent, and its index among the new siblings. */
    async function dropped(dragging, drop, type) {
      const id = dragging.data.department_id;
      const parentNode = type === "inner" ? drop : drop.parent;
      const parentId = parentNode && parentNode.level > 0 ? parentNode.data.department_id : null;
      const siblings = (parentNode ? parentNode.childNodes : []).map((n) => n.data.department_id);
      const position = Math.max(0, siblings.indexOf(id));
      if (parentId) expanded.add(parentId);
      try {
        await api.post(`/departments/${encodeURIComponent(id)}/move`, { parent_id: parentId, position });
        ElMessage.success(t("org.moved", { name: dragging.data.name }));
      } finally {
        await load(); // the server's order, or back where it was when refused
      }
    }

    const q = (fn) => (...args) => quietly(() => fn(...args));
    quietly(load);
    return {
      t, tree, nodes, flat, loading, filter, selected, selectedId, expanded, importing, writable,
      load: q(load), select, create: q(create), rename: q(rename), remove: q(remove), dropped: q(dropped),
      filterNode: (value, data) => !value || data.name.toLowerCase().includes(value.toLowerCase()),
      onExpand: (data) => expanded.add(data.department_id),
      onCollapse: (data) => expanded.delete(data.department_id),
      expandedKeys: computed(() => [...expanded]),
    };
  },
  template: `
    <div class="adm-page org-page" data-testid="org-page">
      <div class="org-layout">
        <el-card class="org-tree-card" shadow="never">
          <template #header>
            <div class="adm-toolbar">
              <span class="org-section">{{ t('org.tree') }}</span>
              <span class="adm-spacer" />
              <el-button v-if="writable" size="small" type="primary" data-testid="org-add-top" @click="create(null)"><icon-plus class="org-icon" />{{ t('org.addTop') }}</el-button>
              <el-button v-if="writable" size="small" data-testid="org-import" @click="importing = true"><icon-upload class="org-icon" />{{ t('org.import') }}</el-button>
              <el-button size="small" circle :title="t('org.refresh')" :aria-label="t('org.refresh')" data-testid="org-refresh" @click="load"><el-icon><icon-refresh /></el-icon></el-button>
            </div>
          </template>
          <el-input v-model="filter" clearable size="small" :placeholder="t('org.filter')" class="org-filter" @input="(v) => tree && tree.filter(v)" />
          <div v-if="writable" class="adm-muted org-hint">{{ t('org.dragHint') }}</div>
          <el-tree ref="tree" v-loading="loading" :data="nodes" node-key="department_id" :props="{ label: 'name', children: 'children' }"
            :draggable="writable" :expand-on-click-node="false" highlight-current :default-expanded-keys="expandedKeys"
            :filter-node-method="filterNode" :empty-text="t('org.emptyTree')" data-testid="org-tree"
            @node-click="select" @node-drop="dropped" @node-expand="onExpand" @node-collapse="onCollapse">
            <template #default="{ data }">
              <div class="org-node" :data-dept="data.department_id" :data-name="data.name" data-testid="org-node">
                <span class="org-node-name">{{ data.name }}</span>
                <span class="org-node-count">{{ data.total_count }}</span>
                <span v-if="writable" class="org-node-actions" @click.stop>
                  <el-dropdown trigger="click" @command="(c) => c === 'add' ? create(data) : c === 'rename' ? rename(data) : remove(data)">
                    <el-button link size="small" :aria-label="t('org.actions')" data-testid="org-node-menu"><icon-more-filled /></el-button>
                    <template #dropdown><el-dropdown-menu>
                      <el-dropdown-item command="add" data-testid="org-node-add">{{ t('org.addChild') }}</el-dropdown-item>
                      <el-dropdown-item command="rename" data-testid="org-node-rename">{{ t('org.rename') }}</el-dropdown-item>
                      <el-dropdown-item command="delete" divided data-testid="org-node-delete">{{ t('org.delete') }}</el-dropdown-item>
                    </el-dropdown-menu></template>
                  </el-dropdown>
                </span>
              </div>
            </template>
          </el-tree>
        </el-card>
        <el-card class="org-detail-card" shadow="never">
          <org-members :dept="selected" @changed="load" />
        </el-card>
      </div>
      <org-import v-model="importing" @imported="load" />
    </div>`,
};

export default {
  name: "org",
  perm: "org.view",
  icon: "OfficeBuilding",
  order: 50,
  title: "menu.org",
  component: OrgPage,
  messages,
};
