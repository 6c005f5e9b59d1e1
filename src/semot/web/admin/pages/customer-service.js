// Customer service (客服, docs/customer-service.md): service queues (订单咨询, 售后问题 ...),
// agents (a user, their queues, the field shown to visitors, how many conversations at
// once), the widget's settings (texts, color, position, opening hours, the sites allowed
// to use and frame it) with the snippet to paste into a site, and statistics over a
// period (conversations, first-response time, ratings; per queue and agent). The server
// checks every value and permission; this page hides what cs.view alone may not do.
import { onMounted, reactive, computed } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api, describeError } from "../api.js";
import { t } from "../i18n.js";
import { can } from "../session.js";

const DAYS = [1, 2, 3, 4, 5, 6, 7];
const DAY_MS = 86_400_000;

function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

function lines(text) {
  return text.split(/[\s,]+/).map((s) => s.trim().replace(/\/+$/, "")).filter(Boolean);
}

const CustomerServicePage = {
  name: "CustomerServicePage",
  setup() {
    const view = reactive({ tab: "queues" });
    const queues = reactive({ rows: [], loading: false });
    const qform = reactive({ open: false, id: "", name: "", description: "", position: 0, busy: false });
    const agents = reactive({ rows: [], loading: false });
    const aform = reactive({ open: false, editing: false, user_id: "", queues: [], field: "", max_concurrent: 5, busy: false });
    const settings = reactive({ loaded: false, busy: false, doc: null, origins: "", ancestors: "" });
    const stats = reactive({ range: [new Date(Date.now() - 7 * DAY_MS), new Date()], data: null, loading: false });
    const writable = computed(() => can("cs.write"));

    function queueName(id) {
      const q = queues.rows.find((r) => r.queue_id === id);
      return q ? q.name : id;
    }

    async function loadQueues() {
      queues.loading = true;
      try {
        queues.rows = (await api.get("/cs/queues", undefined, { quiet: true })).queues;
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        queues.loading = false;
      }
    }
    function editQueue(row) {
      Object.assign(qform, row ? { id: row.queue_id, name: row.name, description: row.description, position: row.position }
        : { id: "", name: "", description: "", position: queues.rows.length });
      qform.open = true;
    }
    async function saveQueue() {
      qform.busy = true;
      const body = { name: qform.name.trim(), description: qform.description, position: Number(qform.position) || 0 };
      try {
        if (qform.id) await api.put(`/cs/queues/${encodeURIComponent(qform.id)}`, body, { quiet: true });
        else await api.post("/cs/queues", body, { quiet: true });
        qform.open = false;
        ElMessage.success(t("cs.saved"));
        await loadQueues();
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        qform.busy = false;
      }
    }
    async function deleteQueue(row) {
      try {
        await ElMessageBox.confirm(t("cs.queueDeleteConfirm", { name: row.name }), t("cs.delete"), { type: "warning" });
      } catch {
        return;
      }
      try {
        await api.del(`/cs/queues/${encodeURIComponent(row.queue_id)}`, { quiet: true });
        await Promise.all([loadQueues(), loadAgents()]);
      } catch (e) {
        ElMessage.error(describeError(e));
      }
    }

    async function loadAgents() {
      agents.loading = true;
      try {
        agents.rows = (await api.get("/cs/agents", undefined, { quiet: true })).agents;
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        agents.loading = false;
      }
    }
    function editAgent(row) {
      Object.assign(aform, row
        ? { editing: true, user_id: row.user_id, queues: [...row.queues], field: row.field, max_concurrent: row.max_concurrent }
        : { editing: false, user_id: "", queues: [], field: "", max_concurrent: 5 });
      aform.open = true;
    }
    async function saveAgent() {
      aform.busy = true;
      try {
        await api.put(`/cs/agents/${encodeURIComponent(aform.user_id.trim())}`,
          { queues: aform.queues, field: aform.field, max_concurrent: Number(aform.max_concurrent) || 1 }, { quiet: true });
        aform.open = false;
        ElMessage.success(t("cs.saved"));
        await Promise.all([loadAgents(), loadQueues()]);
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        aform.busy = false;
      }
    }
    async function deleteAgent(row) {
      try {
        await ElMessageBox.confirm(t("cs.agentDeleteConfirm", { name: row.display_name }), t("cs.delete"), { type: "warning" });
      } catch {
        return;
      }
      try {
        await api.del(`/cs/agents/${encodeURIComponent(row.user_id)}`, { quiet: true });
        await Promise.all([loadAgents(), loadQueues()]);
      } catch (e) {
        ElMessage.error(describeError(e));
      }
    }

    async function loadSettings() {
      try {
        const doc = await api.get("/cs/settings", undefined, { quiet: true });
        settings.doc = doc;
        settings.origins = doc.allowed_origins.join("\n");
        settings.ancestors = doc.frame_ancestors.join("\n");
        settings.loaded = true;
      } catch (e) {
        ElMessage.error(describeError(e));
      }
    }
    function addHours() {
      settings.doc.hours.push({ day: 1, from: "09:00", to: "18:00" });
    }
    async function saveSettings() {
      settings.busy = true;
      const body = { ...settings.doc, allowed_origins: lines(settings.origins), frame_ancestors: lines(settings.ancestors) };
      try {
        const doc = await api.put("/cs/settings", body, { quiet: true });
        settings.doc = doc;
        ElMessage.success(t("cs.saved"));
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        settings.busy = false;
      }
    }
    const snippet = computed(() => {
      const color = settings.doc ? settings.doc.color : "#1677ff";
      return `<script src="${location.origin}/widget.js" data-color="${color}" async></script>`;
    });
    async function copySnippet() {
      try {
        await navigator.clipboard.writeText(snippet.value);
        ElMessage.success(t("cs.copied"));
      } catch {
        ElMessage.warning(t("cs.copyByHand"));
      }
    }

    async function loadStats() {
      stats.loading = true;
      const [since, until] = stats.range || [];
      const q = {};
      if (since) q.since = new Date(since).getTime();
      if (until) q.until = new Date(until).getTime() + DAY_MS;
      try {
        stats.data = await api.get("/cs/stats", q, { quiet: true });
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        stats.loading = false;
      }
    }

    onMounted(() => {
      loadQueues();
      loadAgents();
      loadSettings();
      loadStats();
    });
    return {
      view, queues, qform, agents, aform, settings, stats, writable, DAYS, t, formatMs, queueName, snippet,
      editQueue, saveQueue, deleteQueue, editAgent, saveAgent, deleteAgent, addHours, saveSettings, copySnippet, loadStats,
    };
  },
  template: `
  <div class="adm-page" data-testid="cs-page">
    <el-tabs v-model="view.tab">
      <el-tab-pane :label="t('cs.queues')" name="queues">
        <div class="adm-toolbar">
          <el-button v-if="writable" type="primary" data-testid="cs-queue-new" @click="editQueue(null)">{{ t('cs.queueNew') }}</el-button>
        </div>
        <el-table :data="queues.rows" v-loading="queues.loading" :empty-text="t('cs.noQueues')" data-testid="cs-queues-table">
          <el-table-column :label="t('cs.name')" min-width="140">
            <template #default="{ row }"><span :data-testid="'cs-queue-' + row.name">{{ row.name }}</span></template>
          </el-table-column>
          <el-table-column prop="description" :label="t('cs.description')" min-width="200" />
          <el-table-column prop="agents" :label="t('cs.agentCount')" width="100" />
          <el-table-column prop="position" :label="t('cs.position')" width="90" />
          <el-table-column v-if="writable" :label="t('cs.actions')" width="150">
            <template #default="{ row }">
              <el-button link type="primary" @click="editQueue(row)">{{ t('cs.edit') }}</el-button>
              <el-button link type="danger" @click="deleteQueue(row)">{{ t('cs.delete') }}</el-button>
            </template>
          </el-table-column>
        </el-table>
      </el-tab-pane>

      <el-tab-pane :label="t('cs.agents')" name="agents">
        <div class="adm-toolbar">
          <el-button v-if="writable" type="primary" data-testid="cs-agent-new" @click="editAgent(null)">{{ t('cs.agentNew') }}</el-button>
        </div>
        <el-table :data="agents.rows" v-loading="agents.loading" :empty-text="t('cs.noAgents')" data-testid="cs-agents-table">
          <el-table-column :label="t('cs.agent')" min-width="150">
            <template #default="{ row }"><span :data-testid="'cs-agent-' + row.user_id">{{ row.display_name }}</span>
              <div class="adm-muted">{{ row.user_id }}</div></template>
          </el-table-column>
          <el-table-column :label="t('cs.queues')" min-width="180">
            <template #default="{ row }"><el-tag v-for="q in row.queues" :key="q" size="small">{{ queueName(q) }}</el-tag></template>
          </el-table-column>
          <el-table-column prop="field" :label="t('cs.field')" min-width="120" />
          <el-table-column :label="t('cs.load')" width="110">
            <template #default="{ row }">{{ row.active_count }} / {{ row.max_concurrent }}</template>
          </el-table-column>
          <el-table-column :label="t('cs.state')" width="110">
            <template #default="{ row }">
              <el-tag size="small" :type="!row.connected || row.state === 'offline' ? 'info' : row.state === 'online' ? 'success' : 'warning'">
                {{ t('cs.state.' + (row.connected ? row.state : 'offline')) }}</el-tag>
            </template>
          </el-table-column>
          <el-table-column v-if="writable" :label="t('cs.actions')" width="150">
            <template #default="{ row }">
              <el-button link type="primary" @click="editAgent(row)">{{ t('cs.edit') }}</el-button>
              <el-button link type="danger" @click="deleteAgent(row)">{{ t('cs.remove') }}</el-button>
            </template>
          </el-table-column>
        </el-table>
      </el-tab-pane>

      <el-tab-pane :label="t('cs.widget')" name="widget">
        <el-form v-if="settings.loaded" label-position="top" style="max-width: 640px" @submit.prevent>
          <el-form-item :label="t('cs.title')"><el-input v-model="settings.doc.title" maxlength="64" data-testid="cs-title" :disabled="!writable" /></el-form-item>
          <el-form-item :label="t('cs.greeting')"><el-input v-model="settings.doc.greeting" maxlength="500" type="textarea" :disabled="!writable" /></el-form-item>
          <el-form-item :label="t('cs.offlineMessage')"><el-input v-model="settings.doc.offline_message" maxlength="500" type="textarea" :disabled="!writable" /></el-form-item>
          <div class="adm-row">
            <el-form-item :label="t('cs.color')"><el-color-picker v-model="settings.doc.color" :disabled="!writable" /></el-form-item>
            <el-form-item :label="t('cs.positionLabel')">
              <el-radio-group v-model="settings.doc.position" :disabled="!writable">
                <el-radio value="right">{{ t('cs.right') }}</el-radio><el-radio value="left">{{ t('cs.left') }}</el-radio>
              </el-radio-group>
            </el-form-item>
          </div>
          <el-form-item :label="t('cs.timezone')"><el-input v-model="settings.doc.timezone" maxlength="64" style="width: 240px" :disabled="!writable" /></el-form-item>
          <el-form-item :label="t('cs.hours')">
            <div style="width: 100%">
              <div class="adm-muted">{{ t('cs.hoursHint') }}</div>
              <div v-for="(h, i) in settings.doc.hours" :key="i" class="adm-row">
                <el-select v-model="h.day" style="width: 110px" :disabled="!writable">
                  <el-option v-for="d in DAYS" :key="d" :value="d" :label="t('cs.day.' + d)" />
                </el-select>
                <el-time-select v-model="h.from" start="00:00" step="00:30" end="23:30" style="width: 120px" :disabled="!writable" />
                <span>–</span>
                <el-time-select v-model="h.to" start="00:30" step="00:30" end="23:59" style="width: 120px" :disabled="!writable" />
                <el-button v-if="writable" link type="danger" @click="settings.doc.hours.splice(i, 1)">{{ t('cs.remove') }}</el-button>
              </div>
              <el-button v-if="writable" size="small" @click="addHours">{{ t('cs.addHours') }}</el-button>
            </div>
          </el-form-item>
          <el-form-item :label="t('cs.allowedOrigins')">
            <el-input v-model="settings.origins" type="textarea" :placeholder="t('cs.originsHint')" data-testid="cs-origins" :disabled="!writable" />
          </el-form-item>
          <el-form-item :label="t('cs.frameAncestors')">
            <el-input v-model="settings.ancestors" type="textarea" :placeholder="t('cs.originsHint')" :disabled="!writable" />
          </el-form-item>
          <el-button v-if="writable" type="primary" :loading="settings.busy" data-testid="cs-settings-save" @click="saveSettings">{{ t('cs.save') }}</el-button>
          <h3>{{ t('cs.snippet') }}</h3>
          <div class="adm-muted">{{ t('cs.snippetHint') }}</div>
          <div class="adm-row" style="align-items: flex-start"><code data-testid="cs-snippet" style="display: block; flex: 1; white-space: pre-wrap; word-break: break-all; padding: 8px 12px; background: var(--el-fill-color-light); border: 1px solid var(--el-border-color); border-radius: 4px">{{ snippet }}</code>
            <el-button size="small" @click="copySnippet">{{ t('cs.copy') }}</el-button></div>
        </el-form>
      </el-tab-pane>

      <el-tab-pane :label="t('cs.stats')" name="stats">
        <div class="adm-toolbar">
          <el-date-picker v-model="stats.range" type="daterange" style="max-width: 360px" :start-placeholder="t('cs.since')" :end-placeholder="t('cs.until')" />
          <el-button data-testid="cs-stats-refresh" @click="loadStats">{{ t('cs.refresh') }}</el-button>
        </div>
        <div v-if="stats.data" v-loading="stats.loading" data-testid="cs-stats">
          <el-descriptions :column="4" border>
            <el-descriptions-item :label="t('cs.conversations')"><span data-testid="cs-stat-conversations">{{ stats.data.total.conversations }}</span></el-descriptions-item>
            <el-descriptions-item :label="t('cs.answered')">{{ stats.data.total.answered }}</el-descriptions-item>
            <el-descriptions-item :label="t('cs.leftMessages')">{{ stats.data.total.left_messages }}</el-descriptions-item>
            <el-descriptions-item :label="t('cs.waiting')">{{ stats.data.total.waiting }}</el-descriptions-item>
            <el-descriptions-item :label="t('cs.firstP50')">{{ formatMs(stats.data.total.first_response_p50_ms) }}</el-descriptions-item>
            <el-descriptions-item :label="t('cs.firstAvg')">{{ formatMs(stats.data.total.first_response_avg_ms) }}</el-descriptions-item>
            <el-descriptions-item :label="t('cs.ratingAvg')">{{ stats.data.total.rating_avg ?? '—' }}</el-descriptions-item>
            <el-descriptions-item :label="t('cs.ratings')">
              <span v-for="n in [5, 4, 3, 2, 1]" :key="n" class="adm-muted">{{ n }}★ {{ stats.data.total.ratings[String(n)] }}&nbsp; </span>
            </el-descriptions-item>
          </el-descriptions>
          <h3>{{ t('cs.byQueue') }}</h3>
          <el-table :data="stats.data.queues" :empty-text="t('cs.none')">
            <el-table-column prop="name" :label="t('cs.name')" min-width="140" />
            <el-table-column prop="conversations" :label="t('cs.conversations')" width="110" />
            <el-table-column :label="t('cs.firstP50')" width="130"><template #default="{ row }">{{ formatMs(row.first_response_p50_ms) }}</template></el-table-column>
            <el-table-column :label="t('cs.firstAvg')" width="130"><template #default="{ row }">{{ formatMs(row.first_response_avg_ms) }}</template></el-table-column>
            <el-table-column :label="t('cs.ratingAvg')" width="110"><template #default="{ row }">{{ row.rating_avg ?? '—' }}</template></el-table-column>
          </el-table>
          <h3>{{ t('cs.byAgent') }}</h3>
          <el-table :data="stats.data.agents" :empty-text="t('cs.none')">
            <el-table-column prop="display_name" :label="t('cs.agent')" min-width="140" />
            <el-table-column prop="conversations" :label="t('cs.conversations')" width="110" />
            <el-table-column :label="t('cs.firstP50')" width="130"><template #default="{ row }">{{ formatMs(row.first_response_p50_ms) }}</template></el-table-column>
            <el-table-column :label="t('cs.firstAvg')" width="130"><template #default="{ row }">{{ formatMs(row.first_response_avg_ms) }}</template></el-table-column>
            <el-table-column :label="t('cs.ratingAvg')" width="110"><template #default="{ row }">{{ row.rating_avg ?? '—' }}</template></el-table-column>
          </el-table>
        </div>
      </el-tab-pane>
    </el-tabs>

    <el-dialog v-model="qform.open" :title="qform.id ? t('cs.queueEdit') : t('cs.queueNew')" width="480px">
      <el-form label-position="top" @submit.prevent>
        <el-form-item :label="t('cs.name')"><el-input v-model="qform.name" maxlength="64" data-testid="cs-queue-name" /></el-form-item>
        <el-form-item :label="t('cs.description')"><el-input v-model="qform.description" maxlength="500" type="textarea" /></el-form-item>
        <el-form-item :label="t('cs.position')"><el-input-number v-model="qform.position" :min="0" :max="10000" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="qform.open = false">{{ t('cs.cancel') }}</el-button>
        <el-button type="primary" :loading="qform.busy" :disabled="!qform.name.trim()" data-testid="cs-queue-save" @click="saveQueue">{{ t('cs.save') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="aform.open" :title="aform.editing ? t('cs.agentEdit') : t('cs.agentNew')" width="480px">
      <el-form label-position="top" @submit.prevent>
        <el-form-item :label="t('cs.userId')"><el-input v-model="aform.user_id" maxlength="64" :disabled="aform.editing" data-testid="cs-agent-user" /></el-form-item>
        <el-form-item :label="t('cs.queues')">
          <el-select v-model="aform.queues" multiple style="width: 100%" data-testid="cs-agent-queues">
            <el-option v-for="q in queues.rows" :key="q.queue_id" :value="q.queue_id" :label="q.name" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('cs.field')"><el-input v-model="aform.field" maxlength="64" :placeholder="t('cs.fieldHint')" /></el-form-item>
        <el-form-item :label="t('cs.maxConcurrent')"><el-input-number v-model="aform.max_concurrent" :min="1" :max="100" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="aform.open = false">{{ t('cs.cancel') }}</el-button>
        <el-button type="primary" :loading="aform.busy" :disabled="!aform.user_id.trim()" data-testid="cs-agent-save" @click="saveAgent">{{ t('cs.save') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};

const zh = {
  "cs.queues": "服务队列", "cs.agents": "客服人员", "cs.widget": "网站插件", "cs.stats": "统计",
  "cs.queueNew": "新建队列", "cs.queueEdit": "修改队列", "cs.noQueues": "还没有队列", "cs.name": "名称",
  "cs.description": "说明", "cs.agentCount": "客服数", "cs.position": "排序", "cs.actions": "操作", "cs.edit": "修改",
  "cs.delete": "删除", "cs.remove": "移除", "cs.save": "保存", "cs.saved": "已保存", "cs.cancel": "取消",
  "cs.queueDeleteConfirm": "删除队列「{name}」？队列中的客服会被移出该队列。",
  "cs.agentNew": "添加客服", "cs.agentEdit": "修改客服", "cs.noAgents": "还没有客服", "cs.agent": "客服",
  "cs.field": "负责领域", "cs.fieldHint": "显示给访客，如：订单咨询、售后问题", "cs.load": "当前接待",
  "cs.state": "状态", "cs.state.online": "在线", "cs.state.busy": "忙碌", "cs.state.offline": "离线",
  "cs.agentDeleteConfirm": "不再让「{name}」担任客服？", "cs.userId": "用户 ID", "cs.maxConcurrent": "同时接待上限",
  "cs.title": "标题", "cs.greeting": "欢迎语", "cs.offlineMessage": "离线提示（留言时显示）", "cs.color": "主题色",
  "cs.positionLabel": "按钮位置", "cs.right": "右下角", "cs.left": "左下角", "cs.timezone": "时区（如 Asia/Shanghai）",
  "cs.hours": "营业时间", "cs.hoursHint": "不设置表示全天服务；营业时间外访客只能留言。", "cs.addHours": "添加时段",
  "cs.day.1": "周一", "cs.day.2": "周二", "cs.day.3": "周三", "cs.day.4": "周四", "cs.day.5": "周五", "cs.day.6": "周六",
  "cs.day.7": "周日",
  "cs.allowedOrigins": "允许使用插件的网站（跨域）", "cs.frameAncestors": "允许嵌入插件页面的网站",
  "cs.originsHint": "每行一个，如 https://shop.example.com", "cs.snippet": "插件代码",
  "cs.snippetHint": "把这段代码放到网站每个页面的 </body> 之前；并把网站地址加入上面两个列表。",
  "cs.copy": "复制", "cs.copied": "已复制", "cs.copyByHand": "无法访问剪贴板，请手动复制",
  "cs.since": "开始日期", "cs.until": "结束日期", "cs.refresh": "刷新", "cs.conversations": "会话数", "cs.answered": "已回复",
  "cs.leftMessages": "留言", "cs.waiting": "排队中", "cs.firstP50": "首次响应（中位数）", "cs.firstAvg": "首次响应（平均）",
  "cs.ratingAvg": "平均评分", "cs.ratings": "评分分布", "cs.byQueue": "按队列", "cs.byAgent": "按客服", "cs.none": "没有数据",
};
const en = {
  "cs.queues": "Queues", "cs.agents": "Agents", "cs.widget": "Website widget", "cs.stats": "Statistics",
  "cs.queueNew": "New queue", "cs.queueEdit": "Change queue", "cs.noQueues": "No queues yet", "cs.name": "Name",
  "cs.description": "Description", "cs.agentCount": "Agents", "cs.position": "Order", "cs.actions": "Actions", "cs.edit": "Edit",
  "cs.delete": "Delete", "cs.remove": "Remove", "cs.save": "Save", "cs.saved": "Saved", "cs.cancel": "Cancel",
  "cs.queueDeleteConfirm": "Delete the queue \"{name}\"? Its agents leave it.",
  "cs.agentNew": "Add agent", "cs.agentEdit": "Change agent", "cs.noAgents": "No agents yet", "cs.agent": "Agent",
  "cs.field": "Field", "cs.fieldHint": "Shown to visitors, e.g. orders, after-sales", "cs.load": "Serving",
  "cs.state": "State", "cs.state.online": "Online", "cs.state.busy": "Busy", "cs.state.offline": "Offline",
  "cs.agentDeleteConfirm": "Stop \"{name}\" being an agent?", "cs.userId": "User ID", "cs.maxConcurrent": "Conversations at once",
  "cs.title": "Title", "cs.greeting": "Greeting", "cs.offlineMessage": "Offline message (when visitors leave a message)",
  "cs.color": "Color", "cs.positionLabel": "Button position", "cs.right": "Bottom right", "cs.left": "Bottom left",
  "cs.timezone": "Time zone (e.g. Asia/Shanghai)", "cs.hours": "Opening hours",
  "cs.hoursHint": "None: always open. Outside the opening hours visitors leave a message.", "cs.addHours": "Add hours",
  "cs.day.1": "Mon", "cs.day.2": "Tue", "cs.day.3": "Wed", "cs.day.4": "Thu", "cs.day.5": "Fri", "cs.day.6": "Sat",
  "cs.day.7": "Sun",
  "cs.allowedOrigins": "Sites that may use the widget (CORS)", "cs.frameAncestors": "Sites that may frame the widget page",
  "cs.originsHint": "One a line, e.g. https://shop.example.com", "cs.snippet": "Snippet",
  "cs.snippetHint": "Put this before </body> on every page of the site, and add the site to both lists above.",
  "cs.copy": "Copy", "cs.copied": "Copied", "cs.copyByHand": "No clipboard access: copy it by hand",
  "cs.since": "From", "cs.until": "To", "cs.refresh": "Refresh", "cs.conversations": "Conversations", "cs.answered": "Answered",
  "cs.leftMessages": "Left messages", "cs.waiting": "Waiting", "cs.firstP50": "First response (median)",
  "cs.firstAvg": "First response (average)", "cs.ratingAvg": "Average rating", "cs.ratings": "Ratings",
  "cs.byQueue": "By queue", "cs.byAgent": "By agent", "cs.none": "No data",
};

export default {
  name: "customer-service",
  perm: "cs.view",
  icon: "Service",
  order: 170,
  title: "menu.customer-service",
  component: CustomerServicePage,
  messages: { "zh-CN": zh, en },
};
