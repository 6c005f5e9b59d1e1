// The grant dialog: pick a person (user search when the caller may list users, else the
// organisation directory), tick roles, and choose the whole organisation or some
// departments (a tree; a department covers its subtree). An administrator limited to
// departments can only give departments inside their own, and only roles within what
// they hold: the rest is disabled here and refused by the server anyway.
import { computed, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { can, session } from "../../session.js";
import { explained, label, mayGive, nestTree, quietly, store, subtree } from "./common.js";

export default {
  name: "GrantDialog",
  emits: ["saved"],
  setup(_props, { emit, expose }) {
    const state = reactive({
      open: false, editing: null, user: "", roles: [], scope: "all", departments: [], saving: false,
      people: [], searching: false, tree: [], flat: [],
    });
    const limited = computed(() => session.departments !== null);

    async function loadTree() {
      const flat = (await api.get("/api/v1/directory/departments")).departments;
      const allowed = limited.value ? subtree(flat, session.departments) : null;
      state.flat = flat;
      state.tree = nestTree(flat, allowed);
    }

    async function open(admin) {
      state.editing = admin;
      state.user = admin ? admin.user_id : "";
      state.people = admin ? [{ user_id: admin.user_id, username: admin.username, display_name: admin.display_name }] : [];
      state.roles = admin ? [...admin.roles] : [];
      const depts = admin && admin.departments ? admin.departments.map((d) => d.department_id) : null;
      state.scope = depts || limited.value ? "departments" : "all";
      state.departments = depts || [];
      state.open = true;
      await quietly(loadTree);
    }
    expose({ open });

    async function search(q) {
      const text = String(q || "").trim();
      if (!text) return;
      state.searching = true;
      try {
        if (can("users.view")) {
          const page = await api.get("/users", { q: text, limit: 20 }, { quiet: true });
          state.people = page.users;
        } else {
          const found = await api.get("/api/v1/directory/search", { q: text, limit: 20 }, { quiet: true });
          state.people = found.results;
        }
      } catch {
        state.people = [];
      } finally {
        state.searching = false;
      }
    }

    async function save() {
      if (!state.user) return ElMessage.warning(t("admins.pickPerson"));
      if (!state.roles.length) return ElMessage.warning(t("admins.pickRoles"));
      if (state.scope === "departments" && !state.departments.length) return ElMessage.warning(t("admins.pickDepartments"));
      state.saving = true;
      try {
        const body = { roles: state.roles, departments: state.scope === "all" ? null : state.departments };
        const done = await explained(() => api.put(`/admins/${encodeURIComponent(state.user)}`, body, { quiet: true }));
        if (!done) return;
        ElMessage.success(t("admins.granted"));
        state.open = false;
        emit("saved", state.user);
      } finally {
        state.saving = false;
      }
    }

    const personLabel = (p) => (p.display_name && p.display_name !== p.username ? `${p.display_name} (${p.username})` : p.username);
    return { t, state, store, limited, search, save, label, mayGive, personLabel };
  },
  template: `
<el-dialog v-model="state.open" :title="state.editing ? t('admins.editGrant') : t('admins.addAdmin')" width="600px" data-testid="grant-dialog" destroy-on-close>
  <el-form label-position="top">
    <el-form-item :label="t('admins.person')">
      <el-select v-model="state.user" filterable remote :remote-method="search" :loading="state.searching" :disabled="!!state.editing"
        :placeholder="t('admins.personPlaceholder')" class="adm-wide" data-testid="grant-person">
        <el-option v-for="p in state.people" :key="p.user_id" :value="p.user_id" :label="personLabel(p)" />
      </el-select>
    </el-form-item>
    <el-form-item :label="t('admins.roles')">
      <el-checkbox-group v-model="state.roles" class="adm-grant-roles" data-testid="grant-roles">
        <el-checkbox v-for="r in store.roles" :key="r.role_id" :value="r.role_id" :disabled="!mayGive(r.perms)" :data-testid="'grant-role-' + r.role_id">
          {{ label(r.labels, r.name) }}
        </el-checkbox>
      </el-checkbox-group>
    </el-form-item>
    <el-form-item :label="t('admins.scope')">
      <el-radio-group v-model="state.scope" data-testid="grant-scope">
        <el-radio value="all" :disabled="limited" data-testid="grant-scope-all">{{ t('admins.wholeOrg') }}</el-radio>
        <el-radio value="departments" data-testid="grant-scope-departments">{{ t('admins.someDepartments') }}</el-radio>
      </el-radio-group>
      <el-tree-select v-if="state.scope === 'departments'" v-model="state.departments" :data="state.tree" multiple show-checkbox
        check-strictly filterable node-key="value" default-expand-all class="adm-wide adm-grant-tree"
        :placeholder="t('admins.departmentsPlaceholder')" data-testid="grant-departments" />
      <div class="adm-muted adm-grant-hint">{{ t('admins.scopeHint') }}</div>
    </el-form-item>
  </el-form>
  <template #footer>
    <el-button @click="state.open = false">{{ t('common.cancel') }}</el-button>
    <el-button type="primary" :loading="state.saving" data-testid="grant-save" @click="save">{{ t('admins.save') }}</el-button>
  </template>
</el-dialog>`,
};
