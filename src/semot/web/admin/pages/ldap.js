// Directory sync (目录同步): LDAP / Active Directory (docs/sso.md). Shows the directory
// settings in use (set in the server's configuration, never the password), how many
// accounts the directory manages and how many the sync disabled, the newest sync runs
// (when, who started them, counts, errors), a "sync now" button (the run goes on in the
// background; the page follows it), and the mapping of directory groups to administrator
// roles (ldap.write). Everything from the server and the directory is shown as text.
import { computed, onBeforeUnmount, onMounted, reactive } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../api.js";
import { has, t } from "../i18n.js";
import { can } from "../session.js";

const BUILT_IN_ROLES = ["super_admin", "user_admin", "auditor", "org_admin"];
const COUNTS = ["users", "created", "unchanged", "disabled", "enabled", "departments", "departments_created", "errors"];

function pad(n) {
  return String(n).padStart(2, "0");
}

function formatTime(ms) {
  if (!ms) return "—";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const LdapPage = {
  name: "LdapPage",
  setup() {
    const writable = computed(() => can("ldap.write"));
    const state = reactive({ loading: false, status: null, syncing: false });
    const mapping = reactive({ rows: [], saving: false, dirty: false, roles: BUILT_IN_ROLES.slice() });
    let timer = null;

    const running = computed(() => !!(state.status && state.status.running));
    const runState = (run) => (run.finished_at === null ? "running" : run.ok ? "ok" : "failed");
    const RUN_TAG = { running: "warning", ok: "success", failed: "danger" };

    function setRows(map) {
      mapping.rows = Object.entries(map || {}).map(([group, role]) => ({ group, role }));
    }

    async function load() {
      state.loading = !state.status;
      try {
        state.status = await api.get("/ldap");
        if (!mapping.saving && !mapping.dirty) setRows(state.status.group_roles);
      } catch {
        /* shown by the API module */
      } finally {
        state.loading = false;
      }
      clearTimeout(timer);
      if (running.value) timer = setTimeout(load, 1000); // follow a run until it ends
    }

    async function loadRoles() {
      if (!can("admins.view")) return;
      try {
        const page = await api.get("/roles", undefined, { quiet: true });
        const custom = (page.roles || []).filter((r) => !r.built_in).map((r) => r.role_id);
        mapping.roles = [...BUILT_IN_ROLES, ...custom];
      } catch {
        /* the built-in roles stay offered */
      }
    }

    async function syncNow() {
      state.syncing = true;
      try {
        await api.post("/ldap/sync");
        ElMessage.success(t("ldap.syncStarted"));
        await load();
      } catch {
        /* shown (409: a sync is running) */
      } finally {
        state.syncing = false;
      }
    }

    function addRow() {
      mapping.rows.push({ group: "", role: "auditor" });
      mapping.dirty = true;
    }
    function removeRow(i) {
      mapping.rows.splice(i, 1);
      mapping.dirty = true;
    }

    async function saveMapping() {
      const out = {};
      for (const row of mapping.rows) {
        const group = row.group.trim();
        if (!group) continue;
        if (!group.includes("=")) {
          ElMessage.error(t("ldap.badGroup", { group }));
          return;
        }
        out[group] = row.role;
      }
      mapping.saving = true;
      try {
        const saved = await api.put("/ldap/group-roles", { group_roles: out });
        mapping.dirty = false;
        setRows(saved.group_roles);
        ElMessage.success(t("ldap.saved"));
      } catch {
        /* shown */
      } finally {
        mapping.saving = false;
      }
    }

    const roleLabel = (role) => {
      const key = `ldap.role.${role}`;
      return has(key) ? `${t(key)} (${role})` : role;
    };

    onMounted(() => {
      load();
      loadRoles();
    });
    onBeforeUnmount(() => clearTimeout(timer));
    return {
      t, state, mapping, writable, running, COUNTS, RUN_TAG, runState, formatTime, syncNow, addRow, removeRow,
      saveMapping, roleLabel, load,
    };
  },
  template: `
<div class="adm-page" data-testid="ldap-page">
  <div class="adm-card" v-loading="state.loading">
    <el-alert v-if="state.status && !state.status.enabled" type="info" :closable="false" show-icon
      :title="t('ldap.off')" data-testid="ldap-off" />
    <template v-if="state.status && state.status.enabled">
      <div class="adm-toolbar">
        <span class="adm-muted">{{ t('ldap.intro') }}</span>
        <span class="adm-spacer"></span>
        <el-button data-testid="ldap-refresh" @click="load">{{ t('ldap.refresh') }}</el-button>
        <el-button v-if="writable" type="primary" :loading="state.syncing || running" data-testid="ldap-sync"
          @click="syncNow">{{ running ? t('ldap.running') : t('ldap.syncNow') }}</el-button>
      </div>
      <el-descriptions :column="2" border data-testid="ldap-settings">
        <el-descriptions-item :label="t('ldap.url')"><span data-testid="ldap-url">{{ state.status.url }}</span></el-descriptions-item>
        <el-descriptions-item :label="t('ldap.startTls')">{{ state.status.start_tls ? t('ldap.yes') : t('ldap.no') }}</el-descriptions-item>
        <el-descriptions-item :label="t('ldap.userBase')">{{ state.status.user_base }}</el-descriptions-item>
        <el-descriptions-item :label="t('ldap.userFilter')">{{ state.status.user_filter }}</el-descriptions-item>
        <el-descriptions-item :label="t('ldap.interval')">
          {{ state.status.interval_s > 0 ? t('ldap.every', { s: state.status.interval_s }) : t('ldap.manualOnly') }}
        </el-descriptions-item>
        <el-descriptions-item :label="t('ldap.managed')">
          <span data-testid="ldap-managed">{{ state.status.managed_users }}</span>
          <span class="adm-muted"> · {{ t('ldap.disabledBySync') }} <span data-testid="ldap-disabled">{{ state.status.disabled_by_sync }}</span></span>
        </el-descriptions-item>
      </el-descriptions>
    </template>
  </div>

  <div v-if="state.status && state.status.enabled" class="adm-card">
    <h3>{{ t('ldap.runs') }}</h3>
    <el-table :data="state.status.runs" row-key="run_id" data-testid="ldap-runs" :empty-text="t('ldap.noRuns')">
      <el-table-column :label="t('ldap.started')" width="170">
        <template #default="{ row }">{{ formatTime(row.started_at) }}</template>
      </el-table-column>
      <el-table-column :label="t('ldap.trigger')" width="150">
        <template #default="{ row }">{{ t('ldap.trigger.' + row.trigger) }}<span v-if="row.by" class="adm-muted"> · {{ row.by }}</span></template>
      </el-table-column>
      <el-table-column :label="t('ldap.result')" width="110">
        <template #default="{ row }">
          <el-tag :type="RUN_TAG[runState(row)]" size="small" data-testid="ldap-run-state" :data-state="runState(row)">{{ t('ldap.state.' + runState(row)) }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column :label="t('ldap.counts')" min-width="260">
        <template #default="{ row }">
          <span v-for="c in COUNTS" :key="c" v-show="row.counts[c] !== undefined" class="sm-ldap-count" :data-testid="'ldap-count-' + c">
            {{ t('ldap.count.' + c) }} {{ row.counts[c] }}&nbsp;&nbsp;
          </span>
        </template>
      </el-table-column>
      <el-table-column :label="t('ldap.errors')" min-width="260">
        <template #default="{ row }">
          <div v-for="(e, i) in row.errors" :key="i" class="adm-muted" data-testid="ldap-run-error">{{ e }}</div>
          <span v-if="!row.errors.length" class="adm-muted">—</span>
        </template>
      </el-table-column>
    </el-table>
  </div>

  <div v-if="state.status && state.status.enabled" class="adm-card">
    <h3>{{ t('ldap.groupRoles') }}</h3>
    <p class="adm-muted">{{ t('ldap.groupRolesHelp') }}</p>
    <div v-for="(row, i) in mapping.rows" :key="i" class="adm-toolbar" data-testid="ldap-map-row">
      <el-input v-model="row.group" :disabled="!writable" placeholder="cn=im-admins,ou=Groups,dc=example,dc=com"
        style="flex: 1" data-testid="ldap-map-group" @input="mapping.dirty = true" />
      <el-select v-model="row.role" :disabled="!writable" style="width: 260px" data-testid="ldap-map-role" @change="mapping.dirty = true">
        <el-option v-for="r in mapping.roles" :key="r" :value="r" :label="roleLabel(r)" />
      </el-select>
      <el-button v-if="writable" link type="danger" data-testid="ldap-map-remove" @click="removeRow(i)">{{ t('ldap.remove') }}</el-button>
    </div>
    <div v-if="!mapping.rows.length" class="adm-muted" data-testid="ldap-map-empty">{{ t('ldap.noMapping') }}</div>
    <div v-if="writable" class="adm-toolbar">
      <el-button data-testid="ldap-map-add" @click="addRow">{{ t('ldap.addMapping') }}</el-button>
      <el-button type="primary" :loading="mapping.saving" data-testid="ldap-map-save" @click="saveMapping">{{ t('ldap.save') }}</el-button>
    </div>
  </div>
</div>`,
};

const zh = {
  "ldap.off": "未启用 LDAP / Active Directory。在服务器配置中设置 ldap_enabled、ldap_url 与 ldap_user_base 后启用。",
  "ldap.intro": "目录用户用目录密码登录，首次登录自动创建账号；同步把组织单位（OU）导入为部门，目录中已删除的用户被停用。",
  "ldap.refresh": "刷新",
  "ldap.syncNow": "立即同步",
  "ldap.running": "同步中…",
  "ldap.syncStarted": "已开始同步",
  "ldap.url": "目录服务器",
  "ldap.startTls": "StartTLS",
  "ldap.yes": "是",
  "ldap.no": "否",
  "ldap.userBase": "用户搜索基准 DN",
  "ldap.userFilter": "用户过滤器",
  "ldap.interval": "定时同步",
  "ldap.every": "每 {s} 秒",
  "ldap.manualOnly": "关闭（仅手动同步）",
  "ldap.managed": "目录管理的账号",
  "ldap.disabledBySync": "因目录删除而停用",
  "ldap.runs": "同步记录",
  "ldap.noRuns": "还没有同步过",
  "ldap.started": "开始时间",
  "ldap.trigger": "触发方式",
  "ldap.trigger.manual": "手动",
  "ldap.trigger.schedule": "定时",
  "ldap.result": "结果",
  "ldap.state.running": "进行中",
  "ldap.state.ok": "成功",
  "ldap.state.failed": "失败",
  "ldap.counts": "统计",
  "ldap.count.users": "用户",
  "ldap.count.created": "新建",
  "ldap.count.unchanged": "无变化",
  "ldap.count.disabled": "停用",
  "ldap.count.enabled": "恢复",
  "ldap.count.departments": "部门",
  "ldap.count.departments_created": "新建部门",
  "ldap.count.errors": "错误",
  "ldap.errors": "错误",
  "ldap.groupRoles": "目录组 → 管理员角色",
  "ldap.groupRolesHelp": "目录组的成员在登录和同步时获得对应的管理员角色，离开该组后收回（手动授予的角色不受影响）。",
  "ldap.remove": "删除",
  "ldap.noMapping": "未配置目录组映射",
  "ldap.addMapping": "添加映射",
  "ldap.save": "保存",
  "ldap.saved": "已保存",
  "ldap.badGroup": "“{group}”不是目录组的 DN（例如 cn=im-admins,ou=Groups,dc=example,dc=com）",
  "ldap.role.super_admin": "超级管理员",
  "ldap.role.user_admin": "用户管理员",
  "ldap.role.auditor": "审计员",
  "ldap.role.org_admin": "组织管理员",
};

const en = {
  "ldap.off": "LDAP / Active Directory is off. Set ldap_enabled, ldap_url and ldap_user_base in the server's configuration to turn it on.",
  "ldap.intro": "Directory users sign in with their directory password (their account is made at the first login); a sync imports organisational units as departments and disables users removed from the directory.",
  "ldap.refresh": "Refresh",
  "ldap.syncNow": "Sync now",
  "ldap.running": "Syncing…",
  "ldap.syncStarted": "Sync started",
  "ldap.url": "Directory server",
  "ldap.startTls": "StartTLS",
  "ldap.yes": "Yes",
  "ldap.no": "No",
  "ldap.userBase": "User search base",
  "ldap.userFilter": "User filter",
  "ldap.interval": "Scheduled sync",
  "ldap.every": "every {s} s",
  "ldap.manualOnly": "Off (on demand only)",
  "ldap.managed": "Directory-managed accounts",
  "ldap.disabledBySync": "disabled as removed from the directory",
  "ldap.runs": "Sync runs",
  "ldap.noRuns": "No sync yet",
  "ldap.started": "Started",
  "ldap.trigger": "Trigger",
  "ldap.trigger.manual": "Manual",
  "ldap.trigger.schedule": "Scheduled",
  "ldap.result": "Result",
  "ldap.state.running": "Running",
  "ldap.state.ok": "Done",
  "ldap.state.failed": "Failed",
  "ldap.counts": "Counts",
  "ldap.count.users": "Users",
  "ldap.count.created": "Created",
  "ldap.count.unchanged": "Unchanged",
  "ldap.count.disabled": "Disabled",
  "ldap.count.enabled": "Enabled again",
  "ldap.count.departments": "Departments",
  "ldap.count.departments_created": "New departments",
  "ldap.count.errors": "Errors",
  "ldap.errors": "Errors",
  "ldap.groupRoles": "Directory groups → administrator roles",
  "ldap.groupRolesHelp": "Members of a directory group get its administrator role at login and at each sync, and lose it when they leave the group (roles granted by hand stay).",
  "ldap.remove": "Remove",
  "ldap.noMapping": "No group is mapped",
  "ldap.addMapping": "Add a group",
  "ldap.save": "Save",
  "ldap.saved": "Saved",
  "ldap.badGroup": "\u201c{group}\u201d is not a group DN (e.g. cn=im-admins,ou=Groups,dc=example,dc=com)",
  "ldap.role.super_admin": "Super administrator",
  "ldap.role.user_admin": "User administrator",
  "ldap.role.auditor": "Auditor",
  "ldap.role.org_admin": "Organisation administrator",
};

export default {
  name: "ldap",
  perm: ["ldap.view", "ldap.write"],
  icon: "Files",
  order: 175,
  title: "menu.ldap",
  component: LdapPage,
  messages: { "zh-CN": zh, en },
};
