// Webhooks (事件回调): the integrator's hooks (PROTOCOL.md §4, docs/integration.md).
// Tab "hooks": register one (URL, events, timeout, what a before-send timeout does); its
// secret is shown once, in a dialog, right after registration; remove one. Tab
// "deliveries": the outbox, newest first, filtered by hook, status and event, with each
// delivery's tries, last HTTP status and last error; a delivery can be replayed (the same
// id and signed body, tries reset). Everything from the server is shown as text.
import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../api.js";
import { has, t } from "../i18n.js";
import { route, setQuery } from "../router.js";
import { can } from "../session.js";

const SIZES = [20, 50, 100, 200];
const STATUSES = ["pending", "delivered", "dead"];
const STATUS_TAG = { pending: "warning", delivered: "success", dead: "danger" };

function pad(n) {
  return String(n).padStart(2, "0");
}

function formatTime(ms) {
  if (!ms) return "—";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const WebhooksPage = {
  name: "WebhooksPage",
  setup() {
    const q = route.query;
    const tab = ref(q.tab === "deliveries" ? "deliveries" : "hooks");
    const writable = computed(() => can("webhooks.write"));
    const hooks = reactive({ rows: [], events: [], loading: false });
    const form = reactive({ open: false, url: "", events: [], timeout_ms: 2000, on_timeout: "allow", saving: false });
    const created = reactive({ open: false, webhook_id: "", secret: "" });
    const filters = reactive({ webhook_id: q.webhook_id || "", status: STATUSES.includes(q.status) ? q.status : "", event: q.event || "" });
    const list = reactive({ rows: [], total: 0, loading: false, page: Math.max(1, Number(q.page) || 1), size: 50 });

    const eventLabel = (e) => {
      const key = `webhooks.event.${e}`;
      return has(key) ? `${t(key)} (${e})` : e;
    };
    const hookUrl = (id) => (hooks.rows.find((h) => h.webhook_id === id) || {}).url || id;

    async function loadHooks() {
      hooks.loading = true;
      try {
        const page = await api.get("/webhooks");
        hooks.rows = page.webhooks;
        hooks.events = page.events;
      } catch {
        /* shown by the API module */
      } finally {
        hooks.loading = false;
      }
    }

    function openForm() {
      Object.assign(form, { open: true, url: "", events: [], timeout_ms: 2000, on_timeout: "allow" });
    }

    async function register() {
      if (!/^https?:\/\/\S+$/.test(form.url.trim())) {
        ElMessage.error(t("webhooks.badUrl"));
        return;
      }
      if (!form.events.length) {
        ElMessage.error(t("webhooks.noEvents"));
        return;
      }
      form.saving = true;
      try {
        const body = { url: form.url.trim(), events: form.events, timeout_ms: Number(form.timeout_ms), on_timeout: form.on_timeout };
        const made = await api.post("/webhooks", body);
        form.open = false;
        Object.assign(created, { open: true, webhook_id: made.webhook_id, secret: made.secret });
        await loadHooks();
      } catch {
        /* shown */
      } finally {
        form.saving = false;
      }
    }

    async function copySecret() {
      try {
        await navigator.clipboard.writeText(created.secret);
        ElMessage.success(t("webhooks.copied"));
      } catch {
        /* the secret stays on screen to copy by hand */
      }
    }

    async function remove(row) {
      try {
        await ElMessageBox.confirm(t("webhooks.confirmDelete", { url: row.url }), t("webhooks.delete"), { type: "warning" });
      } catch {
        return;
      }
      try {
        await api.del(`/webhooks/${encodeURIComponent(row.webhook_id)}`);
        ElMessage.success(t("webhooks.deleted"));
        await loadHooks();
      } catch {
        /* shown */
      }
    }

    function showDeliveries(row) {
      filters.webhook_id = row.webhook_id;
      tab.value = "deliveries";
      search();
    }

    async function loadDeliveries() {
      const filter = {
        webhook_id: filters.webhook_id || undefined,
        status: filters.status || undefined,
        event: filters.event || undefined,
      };
      setQuery({ tab: "deliveries", ...filter, page: list.page > 1 ? list.page : undefined });
      list.loading = true;
      try {
        const page = await api.get("/webhook-deliveries", { ...filter, offset: (list.page - 1) * list.size, limit: list.size });
        list.rows = page.deliveries;
        list.total = page.total;
      } catch {
        /* shown */
      } finally {
        list.loading = false;
      }
    }

    function search() {
      list.page = 1;
      loadDeliveries();
    }
    function reset() {
      Object.assign(filters, { webhook_id: "", status: "", event: "" });
      search();
    }
    function pageChange(p) {
      list.page = p;
      loadDeliveries();
    }
    function sizeChange(s) {
      list.size = s;
      list.page = 1;
      loadDeliveries();
    }

    async function replay(row) {
      try {
        await api.post(`/webhook-deliveries/${encodeURIComponent(row.id)}/replay`);
        ElMessage.success(t("webhooks.replayed"));
        await loadDeliveries();
      } catch {
        /* shown */
      }
    }

    function tabChange(name) {
      if (name === "deliveries") loadDeliveries();
      else setQuery({});
    }

    onMounted(async () => {
      await loadHooks();
      if (tab.value === "deliveries") loadDeliveries();
    });
    return {
      t, tab, writable, hooks, form, created, filters, list, STATUSES, STATUS_TAG, SIZES,
      eventLabel, hookUrl, formatTime, openForm, register, copySecret, remove, showDeliveries,
      search, reset, pageChange, sizeChange, replay, tabChange, loadDeliveries,
    };
  },
  template: `
<div class="adm-page" data-testid="webhooks-page">
  <div class="adm-card">
    <el-tabs v-model="tab" data-testid="wh-tabs" @tab-change="tabChange">
      <el-tab-pane :label="t('webhooks.tabHooks')" name="hooks">
        <div class="adm-toolbar">
          <span class="adm-muted">{{ t('webhooks.intro') }}</span>
          <span class="adm-spacer"></span>
          <el-button v-if="writable" type="primary" data-testid="wh-add" @click="openForm"><el-icon><icon-plus/></el-icon>{{ t('webhooks.add') }}</el-button>
        </div>
        <el-table :data="hooks.rows" v-loading="hooks.loading" row-key="webhook_id" data-testid="wh-table" :empty-text="t('webhooks.emptyHooks')">
          <el-table-column :label="t('webhooks.url')" min-width="240">
            <template #default="{ row }">
              <div data-testid="wh-url">{{ row.url }}</div>
              <div class="adm-muted">{{ row.webhook_id }}</div>
            </template>
          </el-table-column>
          <el-table-column :label="t('webhooks.events')" min-width="260">
            <template #default="{ row }">
              <el-tag v-for="e in row.events" :key="e" size="small" class="sm-wh-tag" data-testid="wh-event">{{ eventLabel(e) }}</el-tag>
            </template>
          </el-table-column>
          <el-table-column :label="t('webhooks.timeout')" width="120">
            <template #default="{ row }">{{ row.timeout_ms }} ms</template>
          </el-table-column>
          <el-table-column :label="t('webhooks.onTimeout')" width="130">
            <template #default="{ row }"><span data-testid="wh-on-timeout">{{ t('webhooks.onTimeout.' + row.on_timeout) }}</span></template>
          </el-table-column>
          <el-table-column :label="t('webhooks.created')" width="170">
            <template #default="{ row }">{{ formatTime(row.created_at) }}</template>
          </el-table-column>
          <el-table-column :label="t('webhooks.actions')" width="200">
            <template #default="{ row }">
              <el-button link type="primary" data-testid="wh-show-deliveries" @click="showDeliveries(row)">{{ t('webhooks.deliveries') }}</el-button>
              <el-button v-if="writable" link type="danger" data-testid="wh-delete" @click="remove(row)">{{ t('webhooks.delete') }}</el-button>
            </template>
          </el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane :label="t('webhooks.tabDeliveries')" name="deliveries">
        <div class="adm-toolbar">
          <el-select v-model="filters.webhook_id" clearable :placeholder="t('webhooks.allHooks')" data-testid="wd-hook" @change="search" style="width: 260px">
            <el-option v-for="h in hooks.rows" :key="h.webhook_id" :value="h.webhook_id" :label="h.url" />
          </el-select>
          <el-select v-model="filters.status" clearable :placeholder="t('webhooks.status')" data-testid="wd-status" @change="search" style="width: 150px">
            <el-option v-for="s in STATUSES" :key="s" :value="s" :label="t('webhooks.status.' + s)" :data-testid="'wd-status-' + s" />
          </el-select>
          <el-select v-model="filters.event" clearable filterable :placeholder="t('webhooks.event')" data-testid="wd-event" @change="search" style="width: 240px">
            <el-option v-for="e in hooks.events" :key="e" :value="e" :label="eventLabel(e)" />
          </el-select>
          <el-button type="primary" data-testid="wd-search" @click="search"><el-icon><icon-search/></el-icon>{{ t('webhooks.search') }}</el-button>
          <el-button data-testid="wd-reset" @click="reset">{{ t('webhooks.reset') }}</el-button>
        </div>
        <el-table :data="list.rows" v-loading="list.loading" row-key="id" data-testid="wd-table" :empty-text="t('webhooks.emptyDeliveries')">
          <el-table-column :label="t('webhooks.time')" width="170">
            <template #default="{ row }">{{ formatTime(row.created_at) }}</template>
          </el-table-column>
          <el-table-column :label="t('webhooks.event')" min-width="170">
            <template #default="{ row }">
              <div data-testid="wd-event-cell">{{ row.event }}</div>
              <div class="adm-muted">{{ row.id }}</div>
            </template>
          </el-table-column>
          <el-table-column :label="t('webhooks.url')" min-width="200" show-overflow-tooltip>
            <template #default="{ row }">{{ hookUrl(row.webhook_id) }}</template>
          </el-table-column>
          <el-table-column :label="t('webhooks.status')" width="110">
            <template #default="{ row }">
              <el-tag :type="STATUS_TAG[row.status]" size="small" data-testid="wd-status-cell" :data-status="row.status">{{ t('webhooks.status.' + row.status) }}</el-tag>
            </template>
          </el-table-column>
          <el-table-column :label="t('webhooks.tries')" width="80">
            <template #default="{ row }"><span data-testid="wd-tries">{{ row.tries }}</span></template>
          </el-table-column>
          <el-table-column :label="t('webhooks.lastError')" min-width="220">
            <template #default="{ row }">
              <span v-if="row.last_error" class="sm-wh-error" data-testid="wd-error">{{ row.last_error }}</span>
              <span v-else-if="row.last_status" class="adm-muted">HTTP {{ row.last_status }}</span>
              <span v-else class="adm-muted">—</span>
              <div v-if="row.status === 'pending' && row.tries" class="adm-muted">{{ t('webhooks.nextTry') }} {{ formatTime(row.next_at) }}</div>
            </template>
          </el-table-column>
          <el-table-column :label="t('webhooks.actions')" width="110">
            <template #default="{ row }">
              <el-button v-if="writable && row.status !== 'pending'" link type="primary" data-testid="wd-replay" @click="replay(row)">{{ t('webhooks.replay') }}</el-button>
            </template>
          </el-table-column>
        </el-table>
        <div class="adm-pager">
          <el-pagination background layout="total, sizes, prev, pager, next" :total="list.total" :page-size="list.size"
            :page-sizes="SIZES" :current-page="list.page" data-testid="wd-pager" @current-change="pageChange" @size-change="sizeChange" />
        </div>
      </el-tab-pane>
    </el-tabs>
  </div>

  <el-dialog v-model="form.open" :title="t('webhooks.add')" width="560px" data-testid="wh-dialog">
    <el-form label-position="top" @submit.prevent>
      <el-form-item :label="t('webhooks.url')">
        <el-input v-model="form.url" placeholder="https://example.com/semot-hook" data-testid="wh-form-url" />
      </el-form-item>
      <el-form-item :label="t('webhooks.events')">
        <el-select v-model="form.events" multiple filterable style="width: 100%" data-testid="wh-form-events" :placeholder="t('webhooks.pickEvents')">
          <el-option v-for="e in hooks.events" :key="e" :value="e" :label="eventLabel(e)" :data-testid="'wh-opt-' + e" />
        </el-select>
      </el-form-item>
      <el-form-item :label="t('webhooks.timeoutMs')">
        <el-input-number v-model="form.timeout_ms" :min="50" :max="30000" :step="100" data-testid="wh-form-timeout" />
      </el-form-item>
      <el-form-item :label="t('webhooks.onTimeoutLabel')">
        <el-radio-group v-model="form.on_timeout" data-testid="wh-form-on-timeout">
          <el-radio value="allow" data-testid="wh-form-allow">{{ t('webhooks.onTimeout.allow') }}</el-radio>
          <el-radio value="block" data-testid="wh-form-block">{{ t('webhooks.onTimeout.block') }}</el-radio>
        </el-radio-group>
        <div class="adm-muted">{{ t('webhooks.onTimeoutHelp') }}</div>
      </el-form-item>
    </el-form>
    <template #footer>
      <el-button @click="form.open = false">{{ t('webhooks.cancel') }}</el-button>
      <el-button type="primary" :loading="form.saving" data-testid="wh-form-save" @click="register">{{ t('webhooks.register') }}</el-button>
    </template>
  </el-dialog>

  <el-dialog v-model="created.open" :title="t('webhooks.secretTitle')" width="560px" data-testid="wh-secret-dialog">
    <p>{{ t('webhooks.secretOnce') }}</p>
    <el-input :model-value="created.secret" readonly data-testid="wh-secret" />
    <p class="adm-muted">{{ t('webhooks.secretHelp') }}</p>
    <template #footer>
      <el-button data-testid="wh-copy" @click="copySecret">{{ t('webhooks.copy') }}</el-button>
      <el-button type="primary" data-testid="wh-secret-done" @click="created.open = false">{{ t('webhooks.done') }}</el-button>
    </template>
  </el-dialog>
</div>`,
};

const EVENTS_ZH = {
  "user.login": "用户登录", "user.logout": "用户退出登录", "user.online": "用户上线", "user.offline": "用户下线",
  "message.sent": "消息发送", "message.recalled": "消息撤回", "message.read": "消息已读", "file.uploaded": "文件上传",
  "group.created": "创建群组", "group.member_joined": "成员入群", "group.member_left": "成员退群",
  "group.dismissed": "解散群组", "friend.added": "添加好友", "message.before_send": "发送前拦截（同步）",
};
const EVENTS_EN = {
  "user.login": "User logged in", "user.logout": "User logged out", "user.online": "User online", "user.offline": "User offline",
  "message.sent": "Message sent", "message.recalled": "Message recalled", "message.read": "Message read", "file.uploaded": "File uploaded",
  "group.created": "Group created", "group.member_joined": "Member joined", "group.member_left": "Member left",
  "group.dismissed": "Group dismissed", "friend.added": "Friend added", "message.before_send": "Before send (synchronous)",
};
const events = (table) => Object.fromEntries(Object.entries(table).map(([k, v]) => [`webhooks.event.${k}`, v]));

const zh = {
  "webhooks.tabHooks": "回调地址",
  "webhooks.tabDeliveries": "投递记录",
  "webhooks.intro": "事件以 POST 投递到回调地址，请求头 X-Semot-Signature 为 HMAC-SHA256 签名；失败自动重试。",
  "webhooks.add": "注册回调",
  "webhooks.emptyHooks": "还没有注册事件回调",
  "webhooks.url": "回调地址",
  "webhooks.events": "订阅事件",
  "webhooks.timeout": "超时",
  "webhooks.timeoutMs": "超时（毫秒）",
  "webhooks.onTimeout": "超时处理",
  "webhooks.onTimeoutLabel": "发送前拦截超时或失败时",
  "webhooks.onTimeout.allow": "放行",
  "webhooks.onTimeout.block": "拦截",
  "webhooks.onTimeoutHelp": "仅用于“发送前拦截”：回调超时或应答无效时放行消息，或以 blocked 拒绝发送。",
  "webhooks.created": "注册时间",
  "webhooks.actions": "操作",
  "webhooks.deliveries": "投递记录",
  "webhooks.delete": "删除",
  "webhooks.confirmDelete": "删除回调 {url}？其投递记录一并删除。",
  "webhooks.deleted": "已删除",
  "webhooks.badUrl": "请输入 http:// 或 https:// 开头的地址",
  "webhooks.noEvents": "请至少选择一个事件",
  "webhooks.pickEvents": "选择事件",
  "webhooks.cancel": "取消",
  "webhooks.register": "注册",
  "webhooks.secretTitle": "回调密钥",
  "webhooks.secretOnce": "密钥只显示这一次，请立即保存：",
  "webhooks.secretHelp": "用它校验每个请求：X-Semot-Signature = sha256=HMAC-SHA256(密钥, 请求原始正文) 的十六进制。",
  "webhooks.copy": "复制",
  "webhooks.copied": "已复制",
  "webhooks.done": "我已保存",
  "webhooks.allHooks": "全部回调",
  "webhooks.status": "状态",
  "webhooks.status.pending": "待投递",
  "webhooks.status.delivered": "已送达",
  "webhooks.status.dead": "已放弃",
  "webhooks.event": "事件",
  "webhooks.search": "查询",
  "webhooks.reset": "重置",
  "webhooks.emptyDeliveries": "没有符合条件的投递记录",
  "webhooks.time": "时间",
  "webhooks.tries": "次数",
  "webhooks.lastError": "最近错误",
  "webhooks.nextTry": "下次重试",
  "webhooks.replay": "重新投递",
  "webhooks.replayed": "已重新排队投递",
  ...events(EVENTS_ZH),
};

const en = {
  "webhooks.tabHooks": "Hooks",
  "webhooks.tabDeliveries": "Deliveries",
  "webhooks.intro": "Events are POSTed to each hook, signed in X-Semot-Signature (HMAC-SHA256); failures are retried.",
  "webhooks.add": "Register webhook",
  "webhooks.emptyHooks": "No webhooks registered",
  "webhooks.url": "URL",
  "webhooks.events": "Events",
  "webhooks.timeout": "Timeout",
  "webhooks.timeoutMs": "Timeout (ms)",
  "webhooks.onTimeout": "On timeout",
  "webhooks.onTimeoutLabel": "When the before-send hook times out or fails",
  "webhooks.onTimeout.allow": "Allow",
  "webhooks.onTimeout.block": "Block",
  "webhooks.onTimeoutHelp": "Only for \u201cbefore send\u201d: a timeout or bad answer lets the message through, or refuses it with blocked.",
  "webhooks.created": "Registered",
  "webhooks.actions": "Actions",
  "webhooks.deliveries": "Deliveries",
  "webhooks.delete": "Delete",
  "webhooks.confirmDelete": "Delete the webhook {url}? Its deliveries go too.",
  "webhooks.deleted": "Deleted",
  "webhooks.badUrl": "Enter a URL starting with http:// or https://",
  "webhooks.noEvents": "Pick at least one event",
  "webhooks.pickEvents": "Pick events",
  "webhooks.cancel": "Cancel",
  "webhooks.register": "Register",
  "webhooks.secretTitle": "Webhook secret",
  "webhooks.secretOnce": "The secret is shown this once. Save it now:",
  "webhooks.secretHelp": "Check every request with it: X-Semot-Signature = sha256= and the hex HMAC-SHA256 of the raw body.",
  "webhooks.copy": "Copy",
  "webhooks.copied": "Copied",
  "webhooks.done": "I saved it",
  "webhooks.allHooks": "All hooks",
  "webhooks.status": "Status",
  "webhooks.status.pending": "Pending",
  "webhooks.status.delivered": "Delivered",
  "webhooks.status.dead": "Dead",
  "webhooks.event": "Event",
  "webhooks.search": "Search",
  "webhooks.reset": "Reset",
  "webhooks.emptyDeliveries": "No deliveries match",
  "webhooks.time": "Time",
  "webhooks.tries": "Tries",
  "webhooks.lastError": "Last error",
  "webhooks.nextTry": "Next try",
  "webhooks.replay": "Replay",
  "webhooks.replayed": "Queued for delivery again",
  ...events(EVENTS_EN),
};

export default {
  name: "webhooks",
  perm: ["webhooks.view", "webhooks.write"],
  icon: "Connection",
  order: 165,
  title: "menu.webhooks",
  component: WebhooksPage,
  messages: { "zh-CN": zh, en },
};
