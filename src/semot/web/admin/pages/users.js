// Users (用户管理): search (username, name, pinyin), filters (status, role, department
// with its sub-departments), a paged table with online state; create and edit, disable
// and enable, reset a password (set one or make a one-time link), a devices drawer with
// "sign out", bulk disable / enable / move to department, and the way to the bulk
// import page. The filters, page and open drawer live in the address
// (#/users?q=...&dept=...&page=2&user=...), so a link reopens the same view.
import { computed, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { navigate, route, setQuery } from "../router.js";
import { can, session } from "../session.js";
import { formatTime, useDepartments } from "./users/common.js";
import DevicesDrawer from "./users/devices.js";
import { MoveDialog, PasswordDialog, UserDialog } from "./users/dialogs.js";
import messages from "./users/messages.js";

const STYLES = "/admin/pages/users/users.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}

const SIZES = [20, 50, 100, 200];
const FLAGS = ["all", "true", "false"]; // "all": the parameter is left out

const UsersPage = {
  name: "UsersPage",
  components: { DevicesDrawer, MoveDialog, PasswordDialog, UserDialog },
  setup() {
    const q = route.query;
    const filters = reactive({
      q: q.q || "",
      disabled: FLAGS.includes(q.disabled) ? q.disabled : "all",
      admin: FLAGS.includes(q.admin) ? q.admin : "all",
      dept: q.dept || "",
    });
    const paging = reactive({ page: Math.max(1, Number(q.page) || 1), size: SIZES.includes(Number(q.size)) ? Number(q.size) : 20 });
    const rows = ref([]);
    const total = ref(0);
    const loading = ref(false);
    const selected = ref([]);
    const { tree } = useDepartments();
    const dialogs = reactive({ user: false, editing: null, password: false, pwUser: null, autoLink: false, move: false });
    const devicesOf = ref(null);
    const writable = computed(() => can("users.write"));

    const flag = (v) => (v === "all" ? "" : v);

    function remember() {
      setQuery({
        q: filters.q.trim(), disabled: flag(filters.disabled), admin: flag(filters.admin), dept: filters.dept,
        page: paging.page > 1 ? paging.page : "", size: paging.size === 20 ? "" : paging.size,
        user: devicesOf.value ? devicesOf.value.user_id : "",
      });
    }

    async function load() {
      loading.value = true;
      remember();
      try {
        const page = await api.get("/users", {
          q: filters.q.trim(), disabled: flag(filters.disabled), admin: flag(filters.admin), department_id: filters.dept,
          offset: (paging.page - 1) * paging.size, limit: paging.size,
        });
        rows.value = page.users;
        total.value = page.total;
      } catch {
        /* shown */
      } finally {
        loading.value = false;
      }
    }

    function search() {
      paging.page = 1;
      load();
    }
    function reset() {
      Object.assign(filters, { q: "", disabled: "all", admin: "all", dept: "" });
      search();
    }

    const mayChange = (row) => writable.value && (!row.is_admin || can("admins.write"));
    const deptNames = (row) => row.departments.map((d) => (d.title ? `${d.name} · ${d.title}` : d.name)).join(t("common.listSep"));

    function create() {
      dialogs.editing = null;
      dialogs.user = true;
    }
    function edit(row) {
      dialogs.editing = row;
      dialogs.user = true;
    }
    function created(made) {
      load();
      if (made.withoutPassword) openPassword(made, true); // the link is how they get in
    }
    function openPassword(row, autoLink = false) {
      dialogs.pwUser = row;
      dialogs.autoLink = autoLink;
      dialogs.password = true;
    }
    function showDevices(row) {
      devicesOf.value = row;
      remember();
    }
    function closeDevices() {
      devicesOf.value = null;
      remember();
    }

    async function setDisabled(row, disabled) {
      if (disabled) {
        try {
          await ElMessageBox.confirm(t("users.confirmDisable", { name: row.display_name }), t("users.confirmTitle"), { type: "warning" });
        } catch {
          return;
        }
      }
      try {
        await api.patch(`/users/${encodeURIComponent(row.user_id)}`, { disabled });
        ElMessage({ type: "success", message: t(disabled ? "users.disabledOk" : "users.enabledOk", { name: row.display_name }) });
      } catch {
        /* shown */
      }
      load();
    }

    async function bulk(action, extra = {}) {
      const ids = selected.value.map((r) => r.user_id);
      if (!ids.length) return;
      if (action === "disable") {
        try {
          await ElMessageBox.confirm(t("users.confirmBulkDisable", { n: ids.length }), t("users.confirmTitle"), { type: "warning" });
        } catch {
          return;
        }
      }
      try {
        const out = await api.post("/users/bulk", { user_ids: ids, action, ...extra });
        const failed = out.results.filter((r) => !r.ok);
        ElMessage({
          type: failed.length ? "warning" : "success", duration: failed.length ? 8000 : 3000, showClose: true,
          message: t("users.bulkDone", { ok: out.succeeded, failed: out.failed })
            + (failed.length ? ` ${t("users.bulkFailed")} ${failed.slice(0, 10).map((r) => r.user_id).join(t("common.listSep"))}` : ""),
        });
      } catch {
        /* shown */
      }
      dialogs.move = false;
      load();
    }

    if (q.user) api.get(`/users/${encodeURIComponent(q.user)}`, null, { quiet: true }).then((u) => (devicesOf.value = u)).catch(() => {});
    load();
    return {
      t, can, session, filters, paging, rows, total, loading, selected, tree, dialogs, devicesOf, writable, SIZES,
      load, search, reset, mayChange, deptNames, create, edit, created, openPassword, showDevices, closeDevices,
      setDisabled, bulk, formatTime, toImport: () => navigate("user-import"),
    };
  },
  template: `
    <div class="adm-page users-page" data-testid="users-page">
      <div class="adm-card">
        <el-form :inline="true" class="users-filters" @submit.prevent="search">
          <el-form-item>
            <el-input v-model="filters.q" clearable :placeholder="t('users.search')" maxlength="64" style="width: 240px" data-testid="users-search" @clear="search">
              <template #prefix><icon-search style="width: 1em; height: 1em" /></template>
            </el-input>
          </el-form-item>
          <el-form-item>
            <el-select v-model="filters.disabled" style="width: 130px" data-testid="users-status" @change="search">
              <el-option value="all" :label="t('users.statusAll')" />
              <el-option value="false" :label="t('users.enabled')" />
              <el-option value="true" :label="t('users.disabledState')" />
            </el-select>
          </el-form-item>
          <el-form-item>
            <el-select v-model="filters.admin" style="width: 130px" data-testid="users-role" @change="search">
              <el-option value="all" :label="t('users.roleAll')" />
              <el-option value="true" :label="t('users.admins')" />
              <el-option value="false" :label="t('users.nonAdmins')" />
            </el-select>
          </el-form-item>
          <el-form-item>
            <el-tree-select v-model="filters.dept" :data="tree" check-strictly clearable filterable :render-after-expand="false"
              :placeholder="t('users.departmentAll')" style="width: 240px" data-testid="users-dept" @change="search" />
          </el-form-item>
          <el-form-item>
            <el-button type="primary" native-type="submit" data-testid="users-query">{{ t('users.query') }}</el-button>
            <el-button data-testid="users-reset" @click="reset">{{ t('users.reset') }}</el-button>
          </el-form-item>
        </el-form>
        <div class="adm-toolbar">
          <template v-if="writable && selected.length">
            <span data-testid="users-selected">{{ t('users.selected', { n: selected.length }) }}</span>
            <el-button size="small" data-testid="bulk-disable" @click="bulk('disable')">{{ t('users.bulkDisable') }}</el-button>
            <el-button size="small" data-testid="bulk-enable" @click="bulk('enable')">{{ t('users.bulkEnable') }}</el-button>
            <el-button size="small" data-testid="bulk-move" @click="dialogs.move = true">{{ t('users.bulkMove') }}</el-button>
          </template>
          <span class="adm-spacer"></span>
          <el-button v-if="can('users.import')" data-testid="users-import" @click="toImport"><icon-upload style="width: 1em; height: 1em" />&nbsp;{{ t('users.import') }}</el-button>
          <el-button v-if="writable" type="primary" data-testid="users-create" @click="create"><icon-plus style="width: 1em; height: 1em" />&nbsp;{{ t('users.create') }}</el-button>
        </div>
        <el-table :data="rows" v-loading="loading" row-key="user_id" stripe :empty-text="t('users.empty')" data-testid="users-table"
          @selection-change="(rs) => (selected = rs)">
          <el-table-column v-if="writable" type="selection" width="42" />
          <el-table-column :label="t('users.user')" min-width="200">
            <template #default="{ row }">
              <div class="users-who">
                <el-avatar :size="32" :src="row.avatar_url || undefined">{{ row.display_name.slice(0, 1) }}</el-avatar>
                <div class="users-names">
                  <div class="users-name" data-testid="user-name">{{ row.display_name }}</div>
                  <div class="adm-muted users-sub" data-testid="user-username">{{ row.username }}</div>
                </div>
              </div>
            </template>
          </el-table-column>
          <el-table-column :label="t('users.departments')" min-width="160">
            <template #default="{ row }"><span class="users-depts" data-testid="user-depts">{{ deptNames(row) }}</span></template>
          </el-table-column>
          <el-table-column :label="t('users.flags')" width="190">
            <template #default="{ row }">
              <div class="users-tags">
                <el-tag v-if="row.disabled" size="small" type="danger" data-testid="user-disabled">{{ t('users.disabledState') }}</el-tag>
                <el-tag v-else size="small" type="success" effect="plain">{{ t('users.enabled') }}</el-tag>
                <el-tag v-if="row.is_admin" size="small" type="warning" data-testid="user-admin">{{ t('users.admin') }}</el-tag>
                <el-tag v-if="!row.has_password" size="small" type="info" data-testid="user-nopw">{{ t('users.noPassword') }}</el-tag>
                <el-tag v-if="row.external" size="small" type="info" effect="plain" data-testid="user-external">{{ t('users.external') }}</el-tag>
              </div>
            </template>
          </el-table-column>
          <el-table-column :label="t('users.online')" width="170">
            <template #default="{ row }">
              <div class="users-presence" :data-online="row.online" data-testid="user-online">
                <span class="users-dot" :class="{ on: row.online }" aria-hidden="true"></span>
                <span>{{ row.online ? t('users.online') : t('users.offline') }}</span>
              </div>
              <div v-if="!row.online" class="adm-muted users-sub">{{ row.last_seen ? t('users.lastSeen', { time: formatTime(row.last_seen) }) : t('users.neverSeen') }}</div>
            </template>
          </el-table-column>
          <el-table-column :label="t('users.created')" width="170"><template #default="{ row }">{{ formatTime(row.created_at) }}</template></el-table-column>
          <el-table-column :label="t('users.actions')" width="300" fixed="right">
            <template #default="{ row }">
              <template v-if="mayChange(row)">
                <el-button link type="primary" size="small" data-testid="user-edit" @click="edit(row)">{{ t('users.edit') }}</el-button>
                <el-button link type="primary" size="small" data-testid="user-password" @click="openPassword(row)">{{ t('users.password') }}</el-button>
              </template>
              <el-button link type="primary" size="small" data-testid="user-devices" @click="showDevices(row)">{{ t('users.devices') }}</el-button>
              <template v-if="mayChange(row) && row.user_id !== session.user?.user_id">
                <el-button v-if="row.disabled" link type="success" size="small" data-testid="user-enable" @click="setDisabled(row, false)">{{ t('users.enable') }}</el-button>
                <el-button v-else link type="danger" size="small" data-testid="user-disable" @click="setDisabled(row, true)">{{ t('users.disable') }}</el-button>
              </template>
            </template>
          </el-table-column>
        </el-table>
        <div class="adm-pager">
          <el-pagination v-model:current-page="paging.page" v-model:page-size="paging.size" :total="total" :page-sizes="SIZES"
            layout="total, sizes, prev, pager, next, jumper" background data-testid="users-pager" @current-change="load" @size-change="search" />
        </div>
      </div>
      <user-dialog v-model="dialogs.user" :user="dialogs.editing" :tree="tree" @created="created" @saved="load" />
      <password-dialog v-model="dialogs.password" :user="dialogs.pwUser" :auto-link="dialogs.autoLink" />
      <move-dialog v-model="dialogs.move" :count="selected.length" :tree="tree" @move="(id) => bulk('move_department', { department_id: id })" />
      <devices-drawer :user="devicesOf" @close="closeDevices" @changed="load" />
    </div>`,
};

export default {
  name: "users",
  perm: "users.view",
  icon: "User",
  order: 20,
  title: "menu.users",
  component: UsersPage,
  messages,
};
