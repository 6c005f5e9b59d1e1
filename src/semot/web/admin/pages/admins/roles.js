// The roles tab: the built-in roles (read-only: their permissions are shown, not
// editable) and custom roles built from permissions per menu and action. A role can only
// carry permissions the caller holds (the server refuses the rest; the boxes say so),
// and administrators limited to departments cannot define roles at all.
import { computed, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { can, session } from "../../session.js";
import { confirmed, explained, label, loadRoles, mayGive, quietly, store } from "./common.js";

export default {
  name: "RolesTab",
  emits: ["changed"],
  setup(_props, { emit }) {
    const dialog = reactive({ open: false, role: null, name: "", description: "", perms: [], saving: false });
    const formRef = ref(null);
    const editable = computed(() => can("admins.write") && session.departments === null);
    const readOnly = computed(() => !!(dialog.role && dialog.role.built_in) || !editable.value);
    const rules = {
      name: [{ required: true, whitespace: true, message: () => t("admins.roleNameRequired"), trigger: "blur" }],
    };

    function open(role) {
      dialog.role = role;
      dialog.name = role ? label(role.labels, role.name) : "";
      dialog.description = role ? describe(role) : "";
      dialog.perms = role ? (role.perms === null ? store.menus.flatMap((m) => m.perms.map((p) => p.perm)) : [...role.perms]) : [];
      dialog.open = true;
    }

    function menuState(menu) {
      const names = menu.perms.map((p) => p.perm);
      const on = names.filter((p) => dialog.perms.includes(p)).length;
      return { all: on === names.length, some: on > 0 && on < names.length };
    }

    function toggleMenu(menu, value) {
      const names = menu.perms.map((p) => p.perm).filter((p) => mayGive([p]));
      dialog.perms = value ? [...new Set([...dialog.perms, ...names])] : dialog.perms.filter((p) => !names.includes(p));
    }

    async function save() {
      if (!(await formRef.value.validate().catch(() => false))) return;
      if (!dialog.perms.length) {
        ElMessage.warning(t("admins.rolePermsRequired"));
        return;
      }
      dialog.saving = true;
      try {
        const body = { name: dialog.name.trim(), description: dialog.description.trim(), perms: dialog.perms };
        const done = await quietly(() => (dialog.role ? api.patch(`/roles/${encodeURIComponent(dialog.role.role_id)}`, body) : api.post("/roles", body)));
        if (!done) return;
        ElMessage.success(t(dialog.role ? "admins.roleSaved" : "admins.roleCreated"));
        dialog.open = false;
        await loadRoles();
        emit("changed");
      } finally {
        dialog.saving = false;
      }
    }

    async function remove(role) {
      const name = label(role.labels, role.name);
      if (!(await confirmed(t("admins.roleDeleteConfirm", { name }), t("admins.roleDelete"), t("admins.roleDelete")))) return;
      if ((await explained(() => api.del(`/roles/${encodeURIComponent(role.role_id)}`, { quiet: true }))) === undefined) return;
      ElMessage.success(t("admins.roleDeleted"));
      await loadRoles();
      emit("changed");
    }

    const describe = (role) => (role.built_in && t(`admins.desc.${role.role_id}`) !== `admins.desc.${role.role_id}` ? t(`admins.desc.${role.role_id}`) : role.description);
    const permCount = (role) => (role.perms === null ? t("admins.allPerms") : t("admins.permCount", { n: role.perms.length }));
    return { t, describe, store, dialog, formRef, rules, editable, readOnly, open, save, remove, menuState, toggleMenu, label, mayGive, permCount };
  },
  template: `
<div data-testid="roles-tab">
  <div class="adm-toolbar">
    <span class="adm-muted">{{ t('admins.rolesHint') }}</span>
    <span class="adm-spacer"></span>
    <el-button v-if="editable" type="primary" data-testid="role-new" @click="open(null)"><el-icon><icon-plus/></el-icon>{{ t('admins.roleNew') }}</el-button>
  </div>
  <el-table :data="store.roles" row-key="role_id" data-testid="roles-table" :empty-text="t('admins.noRoles')">
    <el-table-column :label="t('admins.roleName')" min-width="180">
      <template #default="{ row }">
        <span :data-testid="'role-' + row.role_id">{{ label(row.labels, row.name) }}</span>
        <el-tag v-if="row.built_in" size="small" type="info" class="adm-role-tag">{{ t('admins.builtIn') }}</el-tag>
      </template>
    </el-table-column>
    <el-table-column :label="t('admins.roleDescription')" min-width="220">
      <template #default="{ row }"><span class="adm-muted">{{ describe(row) }}</span></template>
    </el-table-column>
    <el-table-column :label="t('admins.perms')" width="140">
      <template #default="{ row }">{{ permCount(row) }}</template>
    </el-table-column>
    <el-table-column :label="t('admins.holders')" width="110" prop="admin_count" />
    <el-table-column :label="t('admins.actions')" width="180" fixed="right">
      <template #default="{ row }">
        <el-button link type="primary" :data-testid="'role-open-' + row.role_id" @click="open(row)">{{ row.built_in || !editable ? t('admins.view') : t('admins.edit') }}</el-button>
        <el-button v-if="!row.built_in && editable" link type="danger" :data-testid="'role-delete-' + row.role_id" @click="remove(row)">{{ t('admins.roleDelete') }}</el-button>
      </template>
    </el-table-column>
  </el-table>

  <el-dialog v-model="dialog.open" :title="dialog.role ? (readOnly ? t('admins.roleView') : t('admins.roleEdit')) : t('admins.roleNew')" width="720px" data-testid="role-dialog" destroy-on-close>
    <el-alert v-if="dialog.role && dialog.role.built_in" type="info" :closable="false" :title="t('admins.builtInReadOnly')" class="adm-role-alert" />
    <el-form ref="formRef" :model="dialog" :rules="rules" label-position="top" :disabled="readOnly">
      <el-form-item :label="t('admins.roleName')" prop="name">
        <el-input v-model="dialog.name" maxlength="64" show-word-limit data-testid="role-name" />
      </el-form-item>
      <el-form-item :label="t('admins.roleDescription')">
        <el-input v-model="dialog.description" type="textarea" maxlength="500" :rows="2" data-testid="role-description" />
      </el-form-item>
      <el-form-item :label="t('admins.perms')">
        <div class="adm-perm-matrix" data-testid="perm-matrix">
          <div v-for="menu in store.menus" :key="menu.menu" class="adm-perm-row" :data-testid="'perm-menu-' + menu.menu">
            <el-checkbox class="adm-perm-menu" :model-value="menuState(menu).all" :indeterminate="menuState(menu).some" :disabled="readOnly"
              @change="(v) => toggleMenu(menu, v)">
              {{ label(menu.labels) }}<el-tag v-if="menu.reserved" size="small" type="info" class="adm-role-tag">{{ t('admins.reserved') }}</el-tag>
            </el-checkbox>
            <el-checkbox-group v-model="dialog.perms" class="adm-perm-actions">
              <el-checkbox v-for="p in menu.perms" :key="p.perm" :value="p.perm" :disabled="readOnly || !mayGive([p.perm])" :data-testid="'perm-' + p.perm">
                {{ label(p.labels) }}
              </el-checkbox>
            </el-checkbox-group>
          </div>
        </div>
      </el-form-item>
    </el-form>
    <template #footer>
      <el-button @click="dialog.open = false">{{ readOnly ? t('admins.close') : t('common.cancel') }}</el-button>
      <el-button v-if="!readOnly" type="primary" :loading="dialog.saving" data-testid="role-save" @click="save">{{ t('admins.save') }}</el-button>
    </template>
  </el-dialog>
</div>`,
};
