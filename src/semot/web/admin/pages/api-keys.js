// Server API (服务端接口, docs/integration.md): the keys integrators call /api/server/v1
// with (create: the key is shown once, with a copy button; scopes, IP allowlist, rate,
// expiry; revoke) and the call log (every call: key, IP, method, path, status, duration)
// with filters. The server checks every value and permission; this page hides what
// api_keys.view alone may not do.
import { onMounted, reactive } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api, describeError } from "../api.js";
import { t } from "../i18n.js";
import { can } from "../session.js";

const SCOPES = ["users", "messages", "notifications", "groups", "org"];

function formatTime(ms) {
  return ms ? new Date(ms).toLocaleString() : "";
}

const ApiKeysPage = {
  name: "ApiKeysPage",
  setup() {
    const view = reactive({ tab: "keys" });
    const keys = reactive({ rows: [], loading: false });
    const form = reactive({ open: false, name: "", scopes: [...SCOPES], allowIps: "", rate: 0, expires: null, busy: false });
    const made = reactive({ key: "", name: "" });
    const calls = reactive({ rows: [], total: 0, loading: false, page: 1, size: 50,
      key_id: "", ip: "", path: "", status_class: "" });

    async function loadKeys() {
      keys.loading = true;
      try {
        keys.rows = (await api.get("/api-keys", undefined, { quiet: true })).keys;
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        keys.loading = false;
      }
    }
    async function create() {
      form.busy = true;
      try {
        const body = {
          name: form.name.trim(),
          scopes: form.scopes,
          allow_ips: form.allowIps.split(/[\s,]+/).filter(Boolean),
          rate_per_min: Number(form.rate) || 0,
        };
        if (form.expires) body.expires_at = new Date(form.expires).getTime();
        const out = await api.post("/api-keys", body, { quiet: true });
        made.key = out.key;
        made.name = out.name;
        form.open = false;
        form.name = "";
        form.allowIps = "";
        await loadKeys();
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        form.busy = false;
      }
    }
    async function copyKey() {
      try {
        await navigator.clipboard.writeText(made.key);
        ElMessage.success(t("apikeys.copied"));
      } catch {
        ElMessage.warning(t("apikeys.copyByHand"));
      }
    }
    async function revoke(row) {
      try {
        await ElMessageBox.confirm(t("apikeys.revokeConfirm", { name: row.name }), t("apikeys.revoke"), { type: "warning" });
      } catch {
        return;
      }
      try {
        await api.del(`/api-keys/${encodeURIComponent(row.key_id)}`, { quiet: true });
        ElMessage.success(t("apikeys.revoked"));
        await loadKeys();
      } catch (e) {
        ElMessage.error(describeError(e));
      }
    }
    async function loadCalls() {
      calls.loading = true;
      const q = { offset: (calls.page - 1) * calls.size, limit: calls.size };
      for (const f of ["key_id", "ip", "path", "status_class"]) if (calls[f]) q[f] = calls[f];
      try {
        const out = await api.get("/api-calls", q, { quiet: true });
        calls.rows = out.calls;
        calls.total = out.total;
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        calls.loading = false;
      }
    }
    function keyName(id) {
      const k = keys.rows.find((r) => r.key_id === id);
      return k ? k.name : id || t("apikeys.noKey");
    }
    onMounted(() => {
      loadKeys();
      loadCalls();
    });
    return { view, keys, form, made, calls, SCOPES, t, can, formatTime, create, copyKey, revoke, loadCalls, keyName };
  },
  template: `
  <div class="adm-page" data-testid="api-keys-page">
    <el-tabs v-model="view.tab">
      <el-tab-pane :label="t('apikeys.keys')" name="keys">
        <div class="adm-toolbar">
          <el-button v-if="can('api_keys.write')" type="primary" data-testid="apikey-new" @click="form.open = true">{{ t('apikeys.create') }}</el-button>
        </div>
        <el-alert v-if="made.key" type="success" :closable="true" @close="made.key = ''" :title="t('apikeys.showOnce', { name: made.name })" show-icon>
          <div class="adm-row"><code data-testid="apikey-secret">{{ made.key }}</code>
            <el-button size="small" data-testid="apikey-copy" @click="copyKey">{{ t('apikeys.copy') }}</el-button></div>
        </el-alert>
        <el-table :data="keys.rows" data-testid="apikeys-table" v-loading="keys.loading" :empty-text="t('apikeys.none')">
          <el-table-column :label="t('apikeys.name')" min-width="140">
            <template #default="{ row }"><span :data-testid="'apikey-row-' + row.name">{{ row.name }}</span>
              <div class="adm-muted">{{ row.prefix }}…</div></template>
          </el-table-column>
          <el-table-column :label="t('apikeys.scopes')" min-width="180">
            <template #default="{ row }"><el-tag v-for="s in row.scopes" :key="s" size="small">{{ t('apikeys.scope.' + s) }}</el-tag></template>
          </el-table-column>
          <el-table-column :label="t('apikeys.allowIps')" min-width="140">
            <template #default="{ row }">{{ row.allow_ips.join(', ') || t('apikeys.anywhere') }}</template>
          </el-table-column>
          <el-table-column :label="t('apikeys.rate')" width="110">
            <template #default="{ row }">{{ row.rate_per_min || t('apikeys.unlimited') }}</template>
          </el-table-column>
          <el-table-column :label="t('apikeys.expires')" min-width="150">
            <template #default="{ row }">{{ row.expires_at ? formatTime(row.expires_at) : t('apikeys.never') }}</template>
          </el-table-column>
          <el-table-column :label="t('apikeys.lastUsed')" min-width="150">
            <template #default="{ row }"><span class="adm-muted">{{ formatTime(row.last_used_at) }}</span></template>
          </el-table-column>
          <el-table-column :label="t('apikeys.state')" width="100">
            <template #default="{ row }">
              <el-tag v-if="row.revoked_at" type="danger" size="small">{{ t('apikeys.stateRevoked') }}</el-tag>
              <el-tag v-else-if="row.expires_at && row.expires_at < Date.now()" type="info" size="small">{{ t('apikeys.stateExpired') }}</el-tag>
              <el-tag v-else type="success" size="small">{{ t('apikeys.stateActive') }}</el-tag>
            </template>
          </el-table-column>
          <el-table-column v-if="can('api_keys.write')" :label="t('apikeys.actions')" width="100">
            <template #default="{ row }">
              <el-button v-if="!row.revoked_at" link type="danger" :data-testid="'apikey-revoke-' + row.name" @click="revoke(row)">{{ t('apikeys.revoke') }}</el-button>
            </template>
          </el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane :label="t('apikeys.calls')" name="calls">
        <div class="adm-toolbar">
          <el-select v-model="calls.key_id" data-testid="apicalls-key" clearable :placeholder="t('apikeys.allKeys')" style="width: 180px" @change="calls.page = 1; loadCalls()">
            <el-option v-for="k in keys.rows" :key="k.key_id" :label="k.name" :value="k.key_id" />
          </el-select>
          <el-input v-model="calls.ip" data-testid="apicalls-ip" clearable :placeholder="t('apikeys.ip')" style="width: 160px" @change="calls.page = 1; loadCalls()" />
          <el-input v-model="calls.path" data-testid="apicalls-path" clearable :placeholder="t('apikeys.pathPrefix')" style="width: 220px" @change="calls.page = 1; loadCalls()" />
          <el-select v-model="calls.status_class" data-testid="apicalls-status" clearable :placeholder="t('apikeys.status')" style="width: 130px" @change="calls.page = 1; loadCalls()">
            <el-option label="2xx" value="2" /><el-option label="4xx" value="4" /><el-option label="5xx" value="5" />
          </el-select>
          <el-button data-testid="apicalls-refresh" @click="loadCalls">{{ t('apikeys.refresh') }}</el-button>
        </div>
        <el-table :data="calls.rows" v-loading="calls.loading" :empty-text="t('apikeys.noCalls')" data-testid="apicalls-table">
          <el-table-column :label="t('apikeys.time')" min-width="160"><template #default="{ row }">{{ formatTime(row.ts) }}</template></el-table-column>
          <el-table-column :label="t('apikeys.key')" min-width="120"><template #default="{ row }">{{ keyName(row.key_id) }}</template></el-table-column>
          <el-table-column prop="ip" :label="t('apikeys.ip')" min-width="120" />
          <el-table-column prop="method" :label="t('apikeys.method')" width="90" />
          <el-table-column prop="path" :label="t('apikeys.path')" min-width="240" />
          <el-table-column prop="status" :label="t('apikeys.status')" width="90" />
          <el-table-column :label="t('apikeys.duration')" width="100"><template #default="{ row }">{{ row.duration_ms }} ms</template></el-table-column>
        </el-table>
        <el-pagination layout="total, prev, pager, next" :total="calls.total" :page-size="calls.size"
          v-model:current-page="calls.page" @current-change="loadCalls" />
      </el-tab-pane>
    </el-tabs>
    <el-dialog v-model="form.open" :title="t('apikeys.create')" width="520px">
      <el-form label-position="top" @submit.prevent>
        <el-form-item :label="t('apikeys.name')"><el-input v-model="form.name" maxlength="64" data-testid="apikey-name" /></el-form-item>
        <el-form-item :label="t('apikeys.scopes')">
          <el-checkbox-group v-model="form.scopes"><el-checkbox v-for="s in SCOPES" :key="s" :value="s">{{ t('apikeys.scope.' + s) }}</el-checkbox></el-checkbox-group>
        </el-form-item>
        <el-form-item :label="t('apikeys.allowIps')"><el-input v-model="form.allowIps" type="textarea" :placeholder="t('apikeys.allowIpsHint')" data-testid="apikey-ips" /></el-form-item>
        <el-form-item :label="t('apikeys.ratePerMin')"><el-input-number v-model="form.rate" :min="0" :max="1000000" /></el-form-item>
        <el-form-item :label="t('apikeys.expires')"><el-date-picker v-model="form.expires" type="datetime" clearable /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="form.open = false">{{ t('apikeys.cancel') }}</el-button>
        <el-button type="primary" :loading="form.busy" :disabled="!form.name.trim()" data-testid="apikey-create" @click="create">{{ t('apikeys.create') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};

const zh = {
  "apikeys.keys": "接口密钥", "apikeys.calls": "调用日志", "apikeys.create": "创建密钥",
  "apikeys.showOnce": "密钥「{name}」已创建。它只显示这一次，请立即复制保存。",
  "apikeys.copy": "复制", "apikeys.copied": "已复制", "apikeys.copyByHand": "无法访问剪贴板，请手动复制",
  "apikeys.none": "还没有密钥", "apikeys.name": "名称", "apikeys.scopes": "权限范围", "apikeys.allowIps": "IP 白名单",
  "apikeys.allowIpsHint": "每行或逗号分隔一个 IP 或网段（CIDR，支持 IPv6）；留空表示不限",
  "apikeys.anywhere": "不限", "apikeys.rate": "频率上限", "apikeys.ratePerMin": "每分钟调用上限（0 表示不限）",
  "apikeys.unlimited": "不限", "apikeys.expires": "过期时间", "apikeys.never": "永不过期", "apikeys.lastUsed": "最近使用",
  "apikeys.state": "状态", "apikeys.stateActive": "有效", "apikeys.stateRevoked": "已吊销", "apikeys.stateExpired": "已过期",
  "apikeys.actions": "操作", "apikeys.revoke": "吊销", "apikeys.revoked": "密钥已吊销",
  "apikeys.revokeConfirm": "吊销密钥「{name}」？使用它的调用将立即被拒绝，且无法恢复。",
  "apikeys.allKeys": "全部密钥", "apikeys.ip": "IP", "apikeys.pathPrefix": "路径前缀", "apikeys.status": "状态码",
  "apikeys.refresh": "刷新", "apikeys.noCalls": "没有调用记录", "apikeys.time": "时间", "apikeys.key": "密钥",
  "apikeys.noKey": "（无效密钥）", "apikeys.method": "方法", "apikeys.path": "路径", "apikeys.duration": "耗时",
  "apikeys.cancel": "取消",
  "apikeys.scope.users": "用户", "apikeys.scope.messages": "消息", "apikeys.scope.notifications": "通知",
  "apikeys.scope.groups": "群组", "apikeys.scope.org": "组织架构",
};
const en = {
  "apikeys.keys": "API keys", "apikeys.calls": "Call log", "apikeys.create": "Create key",
  "apikeys.showOnce": "Key \"{name}\" created. It is shown this once: copy it now.",
  "apikeys.copy": "Copy", "apikeys.copied": "Copied", "apikeys.copyByHand": "No clipboard access: copy it by hand",
  "apikeys.none": "No keys yet", "apikeys.name": "Name", "apikeys.scopes": "Scopes", "apikeys.allowIps": "IP allowlist",
  "apikeys.allowIpsHint": "IPs or CIDR networks (IPv6 too), one per line or comma-separated; empty: anywhere",
  "apikeys.anywhere": "Anywhere", "apikeys.rate": "Rate limit", "apikeys.ratePerMin": "Calls a minute (0: unlimited)",
  "apikeys.unlimited": "Unlimited", "apikeys.expires": "Expires", "apikeys.never": "Never", "apikeys.lastUsed": "Last used",
  "apikeys.state": "State", "apikeys.stateActive": "Active", "apikeys.stateRevoked": "Revoked", "apikeys.stateExpired": "Expired",
  "apikeys.actions": "Actions", "apikeys.revoke": "Revoke", "apikeys.revoked": "Key revoked",
  "apikeys.revokeConfirm": "Revoke the key \"{name}\"? Calls with it are refused at once; this cannot be undone.",
  "apikeys.allKeys": "All keys", "apikeys.ip": "IP", "apikeys.pathPrefix": "Path prefix", "apikeys.status": "Status",
  "apikeys.refresh": "Refresh", "apikeys.noCalls": "No calls", "apikeys.time": "Time", "apikeys.key": "Key",
  "apikeys.noKey": "(invalid key)", "apikeys.method": "Method", "apikeys.path": "Path", "apikeys.duration": "Duration",
  "apikeys.cancel": "Cancel",
  "apikeys.scope.users": "Users", "apikeys.scope.messages": "Messages", "apikeys.scope.notifications": "Notifications",
  "apikeys.scope.groups": "Groups", "apikeys.scope.org": "Organisation",
};

export default {
  name: "api-keys",
  perm: "api_keys.view",
  icon: "Key",
  order: 140,
  title: "menu.api-keys",
  component: ApiKeysPage,
  messages: { "zh-CN": zh, en },
};
