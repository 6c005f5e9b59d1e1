// The selected department: its path and counts, and its direct members with titles and
// primary departments (GET /departments/{id}/roster); with org.write, add people (found
// through the users API), edit titles, set the primary department, remove.
import { reactive, ref, watch } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { can } from "../../session.js";
import { confirmed, quietly } from "../groups/ui.js";

export default {
  name: "OrgMembers",
  props: { dept: { type: Object, default: null } },
  emits: ["changed"],
  setup(props, { emit }) {
    const page = reactive({ rows: [], total: 0, page: 1, size: 20, loading: false });
    const adding = reactive({ open: false, user: "", title: "", options: [], busy: false });
    const detail = ref(null);
    const base = () => `/departments/${encodeURIComponent(props.dept.department_id)}`;

    async function load() {
      if (!props.dept) return;
      page.loading = true;
      try {
        const [info, roster] = await Promise.all([
          api.get(base()),
          api.get(`${base()}/roster`, { offset: (page.page - 1) * page.size, limit: page.size }),
        ]);
        detail.value = info;
        page.rows = roster.members;
        page.total = roster.total;
      } finally {
        page.loading = false;
      }
    }

    async function findUsers(q) {
      const text = (q || "").trim();
      if (!text) {
        adding.options = [];
        return;
      }
      const found = await api.get("/users", { q: text, limit: 20 }, { quiet: true });
      adding.options = found.users;
    }

    async function add() {
      const user = adding.options.find((u) => u.user_id === adding.user);
      adding.busy = true;
      try {
        await api.put(`${base()}/members/${encodeURIComponent(adding.user)}`, adding.title.trim() ? { title: adding.title.trim() } : {});
        ElMessage.success(t("org.added", { user: user ? user.display_name : adding.user }));
        Object.assign(adding, { open: false, user: "", title: "", options: [] });
        await load();
        emit("changed");
      } finally {
        adding.busy = false;
      }
    }

    async function editTitle(m) {
      let value;
      try {
        ({ value } = await ElMessageBox.prompt(m.display_name, t("org.editTitle"), {
          inputValue: m.title, inputPlaceholder: t("org.title"), confirmButtonText: t("org.save"), cancelButtonText: t("common.cancel"),
          inputValidator: (v) => (v || "").length <= 128,
        }));
      } catch {
        return;
      }
      await api.put(`${base()}/members/${encodeURIComponent(m.user_id)}`, { title: (value || "").trim() });
      ElMessage.success(t("org.titleSaved"));
      await load();
    }

    async function primary(m, on) {
      const departmentId = on ? props.dept.department_id : null;
      await api.put(`/directory/users/${encodeURIComponent(m.user_id)}/primary`, { department_id: departmentId });
      ElMessage.success(t(on ? "org.primarySet" : "org.primaryUnset", { user: m.display_name }));
      await load();
    }

    async function remove(m) {
      if (!(await confirmed(t("org.removeConfirm", { user: m.display_name, name: props.dept.name }), t("org.remove"), t("org.remove")))) return;
      await api.del(`${base()}/members/${encodeURIComponent(m.user_id)}`);
      ElMessage.success(t("org.removed", { user: m.display_name }));
      await load();
      emit("changed");
    }

    watch(() => props.dept && props.dept.department_id, () => {
      page.page = 1;
      detail.value = null;
      quietly(load);
    }, { immediate: true });

    const q = (fn) => (...args) => quietly(() => fn(...args));
    return {
      t, can, page, adding, detail,
      load: q(load), findUsers: q(findUsers), add: q(add), editTitle: q(editTitle), primary: q(primary), remove: q(remove),
    };
  },
  template: `
    <div class="org-members" data-testid="org-members">
      <el-empty v-if="!dept" :description="t('org.pick')" />
      <template v-else>
        <div class="org-head">
          <div>
            <h3 class="org-name" data-testid="org-dept-name">{{ dept.name }}</h3>
            <el-breadcrumb v-if="detail" separator="/" class="org-path">
              <el-breadcrumb-item v-for="p in detail.path" :key="p.department_id">{{ p.name }}</el-breadcrumb-item>
            </el-breadcrumb>
          </div>
          <div class="org-counts" v-if="detail">
            <el-tag effect="plain">{{ t('org.direct') }} {{ detail.member_count }}</el-tag>
            <el-tag effect="plain" type="info">{{ t('org.total', { n: detail.total_count }) }}</el-tag>
            <el-tag effect="plain" type="info">{{ t('org.children') }} {{ detail.child_count }}</el-tag>
          </div>
        </div>
        <div class="adm-toolbar org-toolbar">
          <span class="org-section">{{ t('org.members') }}</span>
          <span class="adm-spacer" />
          <el-button v-if="can('org.write')" type="primary" data-testid="org-add-member" @click="adding.open = true"><icon-plus class="org-icon" />{{ t('org.addMember') }}</el-button>
        </div>
        <el-table :data="page.rows" v-loading="page.loading" row-key="user_id" size="small" :empty-text="t('org.noMembers')" data-testid="org-member-table">
          <el-table-column :label="t('org.member')" min-width="150">
            <template #default="{ row }"><span data-testid="org-member-name">{{ row.display_name }}</span> <span class="adm-muted">{{ row.username }}</span></template>
          </el-table-column>
          <el-table-column :label="t('org.title')" min-width="120"><template #default="{ row }"><span data-testid="org-member-title">{{ row.title }}</span></template></el-table-column>
          <el-table-column :label="t('org.primary')" width="130">
            <template #default="{ row }">
              <el-tag v-if="row.primary_department_id === dept.department_id" size="small" type="success" data-testid="org-primary">{{ t('org.primary') }}</el-tag>
              <span v-else-if="row.primary_department_id" class="adm-muted">{{ t('org.primaryElsewhere') }}</span>
            </template>
          </el-table-column>
          <el-table-column v-if="can('org.write')" :label="t('org.actions')" width="240" fixed="right">
            <template #default="{ row }">
              <el-button link type="primary" size="small" data-testid="org-edit-title" @click="editTitle(row)">{{ t('org.editTitle') }}</el-button>
              <el-button v-if="row.primary_department_id !== dept.department_id" link type="primary" size="small" data-testid="org-set-primary" @click="primary(row, true)">{{ t('org.setPrimary') }}</el-button>
              <el-button v-else link size="small" data-testid="org-unset-primary" @click="primary(row, false)">{{ t('org.unsetPrimary') }}</el-button>
              <el-button link type="danger" size="small" data-testid="org-remove-member" @click="remove(row)">{{ t('org.remove') }}</el-button>
            </template>
          </el-table-column>
        </el-table>
        <el-pagination v-if="page.total > page.size" v-model:current-page="page.page" :page-size="page.size" :total="page.total" layout="total, prev, pager, next" small class="adm-pager" @current-change="load" />
      </template>
      <el-dialog v-model="adding.open" :title="t('org.addMember')" width="min(480px, 95vw)" append-to-body data-testid="org-add-dialog">
        <el-form label-position="top" @submit.prevent>
          <el-form-item :label="t('org.member')">
            <el-select v-model="adding.user" filterable remote :remote-method="findUsers" :placeholder="t('org.pickUser')" style="width: 100%" data-testid="org-user-pick">
              <el-option v-for="u in adding.options" :key="u.user_id" :value="u.user_id" :label="u.display_name + ' (' + u.username + ')'" />
            </el-select>
          </el-form-item>
          <el-form-item :label="t('org.title')"><el-input v-model="adding.title" maxlength="128" data-testid="org-add-title" /></el-form-item>
        </el-form>
        <template #footer>
          <el-button @click="adding.open = false">{{ t('common.cancel') }}</el-button>
          <el-button type="primary" :disabled="!adding.user" :loading="adding.busy" data-testid="org-add-confirm" @click="add">{{ t('org.addMember') }}</el-button>
        </template>
      </el-dialog>
    </div>`,
};
