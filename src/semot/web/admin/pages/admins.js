// Administrators and roles (管理员与角色): who administers (their roles and the departments
// they are limited to), granting and revoking, and the roles tab (built-in roles
// read-only, custom roles built from permissions per menu and action). The server
// enforces every rule (nobody grants more than they hold; the last super administrator
// stays); this page hides what would be refused and says why when something is.
import { onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { can, loadCaller, session } from "../session.js";
import { confirmed, explained, formatTime, loadRoles, quietly, roleName, store } from "./admins/common.js";
import GrantDialog from "./admins/grant.js";
import RolesTab from "./admins/roles.js";
import { messages } from "./admins/messages.js";

const STYLES = "/admin/pages/admins/admins.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}

const AdminsPage = {
  name: "AdminsPage",
  components: { GrantDialog, RolesTab },
  setup() {
    const tab = ref("admins");
    const list = reactive({ rows: [], total: 0, page: 1, size: 20, loading: false });
    const grantDialog = ref(null);

    async function load() {
      list.loading = true;
      try {
        const offset = (list.page - 1) * list.size;
        const page = await quietly(() => api.get("/admins", { offset, limit: list.size }));
        if (page) {
          list.rows = page.admins;
          list.total = page.total;
        }
      } finally {
        list.loading = false;
      }
    }

    async function refresh() {
      await quietly(loadRoles);
      await load();
    }

    async function afterChange(userId) {
      await refresh();
      if (session.user && userId === session.user.user_id) await quietly(loadCaller); // my own rights changed
    }

    async function revoke(row) {
      const name = row.display_name || row.username;
      if (!(await confirmed(t("admins.revokeConfirm", { name }), t("admins.revoke"), t("admins.revoke")))) return;
      if ((await explained(() => api.del(`/admins/${encodeURIComponent(row.user_id)}`, { quiet: true }))) === undefined) return;
      ElMessage.success(t("admins.revoked"));
      await afterChange(row.user_id);
    }

    const pageChange = (p) => {
      list.page = p;
      load();
    };
    const sizeChange = (s) => {
      list.size = s;
      list.page = 1;
      load();
    };
    onMounted(refresh);
    return {
      t, tab, list, store, grantDialog, can, revoke, afterChange, refresh, roleName, formatTime, pageChange, sizeChange,
      openGrant: (row) => grantDialog.value.open(row || null),
    };
  },
  template: `
<div class="adm-page" data-testid="admins-page">
  <div class="adm-card">
    <el-tabs v-model="tab">
      <el-tab-pane :label="t('admins.tabAdmins')" name="admins">
        <div class="adm-toolbar">
          <span class="adm-muted">{{ t('admins.adminsHint') }}</span>
          <span class="adm-spacer"></span>
          <el-button v-if="can('admins.write')" type="primary" data-testid="admin-add" @click="openGrant(null)"><el-icon><icon-plus/></el-icon>{{ t('admins.addAdmin') }}</el-button>
        </div>
        <el-table :data="list.rows" v-loading="list.loading" row-key="user_id" data-testid="admins-table" :empty-text="t('admins.noAdmins')">
          <el-table-column :label="t('admins.person')" min-width="180">
            <template #default="{ row }">
              <div :data-testid="'admin-row-' + row.username">
                <div>{{ row.display_name || row.username }}</div>
                <div class="adm-muted">{{ row.username }}</div>
              </div>
            </template>
          </el-table-column>
          <el-table-column :label="t('admins.roles')" min-width="200">
            <template #default="{ row }">
              <el-tag v-for="r in row.roles" :key="r" :type="r === 'super_admin' ? 'danger' : ''" class="adm-role-tag" :data-testid="'admin-role-' + r">{{ roleName(r) }}</el-tag>
            </template>
          </el-table-column>
          <el-table-column :label="t('admins.scope')" min-width="180">
            <template #default="{ row }">
              <span v-if="!row.departments" class="adm-muted">{{ t('admins.wholeOrg') }}</span>
              <el-tag v-for="d in row.departments || []" :key="d.department_id" type="info" class="adm-role-tag">{{ d.name || d.department_id }}</el-tag>
            </template>
          </el-table-column>
          <el-table-column :label="t('admins.status')" width="100">
            <template #default="{ row }">
              <el-tag v-if="row.disabled" type="warning">{{ t('admins.disabled') }}</el-tag>
              <span v-else class="adm-muted">{{ t('admins.active') }}</span>
            </template>
          </el-table-column>
          <el-table-column :label="t('admins.updated')" width="170">
            <template #default="{ row }"><span class="adm-muted">{{ formatTime(row.updated_at) }}</span></template>
          </el-table-column>
          <el-table-column v-if="can('admins.write')" :label="t('admins.actions')" width="150" fixed="right">
            <template #default="{ row }">
              <el-button link type="primary" :data-testid="'admin-edit-' + row.username" @click="openGrant(row)">{{ t('admins.edit') }}</el-button>
              <el-button link type="danger" :data-testid="'admin-revoke-' + row.username" @click="revoke(row)">{{ t('admins.revoke') }}</el-button>
            </template>
          </el-table-column>
        </el-table>
        <div class="adm-pager">
          <el-pagination background layout="total, sizes, prev, pager, next" :total="list.total" :current-page="list.page"
            :page-size="list.size" :page-sizes="[20, 50, 100, 200]" @current-change="pageChange" @size-change="sizeChange" />
        </div>
      </el-tab-pane>
      <el-tab-pane :label="t('admins.tabRoles')" name="roles">
        <roles-tab @changed="refresh" />
      </el-tab-pane>
    </el-tabs>
  </div>
  <grant-dialog ref="grantDialog" @saved="afterChange" />
</div>`,
};

export default {
  name: "admins",
  perm: "admins.view",
  icon: "Avatar",
  order: 80,
  title: "menu.admins",
  component: AdminsPage,
  messages,
};
