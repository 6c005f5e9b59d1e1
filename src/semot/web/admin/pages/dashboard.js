// The dashboard (信息中心): who is online now, messages and logins per minute over the
// last 24 hours, new users per day, storage used, node and database health.
//
// Live by polling GET /api/admin/v1/dashboard every REFRESH_MS (paused while the tab is
// hidden, never two requests at once): the figures change by the minute, the server
// keeps every one of them cheap (services/stats.py: no table scan per refresh), and a
// plain request works through every proxy, which a held-open stream would not.
import { computed, onBeforeUnmount, onMounted, reactive } from "vue";
import { api } from "../api.js";
import { i18n, t } from "../i18n.js";
import AdminChart from "../components/chart.js";

const STYLES = "/admin/pages/dashboard/stats.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}

export const REFRESH_MS = 5000;

const pad = (n) => String(n).padStart(2, "0");
const hhmm = (ms) => {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const clock = (ms) => {
  const d = new Date(ms);
  return `${hhmm(ms)}:${pad(d.getSeconds())}`;
};

export function formatBytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) : v} ${units[i]}`;
}

function sum(list) {
  return (list || []).reduce((a, b) => a + b, 0);
}

export const WINDOWS = [60, 360, 1440]; // what the per-minute charts show: 1 h, 6 h, 24 h

/** [time, count] pairs of the last `minutes` of a per-minute series (ECharts' time axis). */
function points(series, minutes) {
  if (!series) return [];
  const all = series.counts.map((n, i) => [series.start + i * series.step_ms, n]);
  return all.slice(Math.max(0, all.length - minutes));
}

const DashboardPage = {
  name: "DashboardPage",
  components: { AdminChart },
  setup() {
    const state = reactive({ data: null, loading: true, failed: false, auto: true, updated: 0, window: 1440 });
    let timer = null;
    let busy = false;

    const number = (n) => (n === null || n === undefined ? "—" : new Intl.NumberFormat(i18n.locale).format(n));
    /** A string with a count: {c} the count as shown, its plural form chosen by the number. */
    const tc = (key, value) => t(key, { n: typeof value === "number" ? value : undefined, c: number(value) });

    async function refresh() {
      if (busy) return;
      busy = true;
      try {
        state.data = await api.get("/dashboard", { tz: -new Date().getTimezoneOffset() }, { quiet: state.data !== null });
        state.failed = false;
        state.updated = Date.now();
      } catch {
        state.failed = true;
      } finally {
        busy = false;
        state.loading = false;
      }
    }

    function schedule() {
      clearInterval(timer);
      timer = state.auto ? setInterval(() => document.visibilityState === "visible" && refresh(), REFRESH_MS) : null;
    }
    const onVisible = () => document.visibilityState === "visible" && state.auto && refresh();
    onMounted(() => {
      refresh();
      schedule();
      document.addEventListener("visibilitychange", onVisible);
    });
    onBeforeUnmount(() => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    });

    const d = computed(() => state.data || {});
    const messages24h = computed(() => (d.value.messages ? sum(d.value.messages.counts) : null));
    const lastMinute = computed(() => {
      const c = d.value.messages && d.value.messages.counts;
      return c && c.length > 1 ? c[c.length - 2] : null; // the last whole minute
    });
    const failed24h = computed(() => (d.value.logins ? sum(d.value.logins.failed.counts) : null));
    const uptime = computed(() => {
      const s = d.value.health ? d.value.health.uptime_s : 0;
      const days = Math.floor(s / 86400);
      const hours = Math.floor((s % 86400) / 3600);
      const minutes = Math.floor((s % 3600) / 60);
      if (days) return t("dashboard.uptimeDays", { d: days, h: hours });
      if (hours) return t("dashboard.uptimeHours", { h: hours, m: minutes });
      return t("dashboard.uptimeMinutes", { m: minutes });
    });

    const axisBase = { grid: { left: 48, right: 20, top: 36, bottom: 28 }, tooltip: { trigger: "axis" } };
    const timeAxis = { type: "time", axisLabel: { formatter: (v) => hhmm(v) }, splitLine: { show: false } };
    const messagesChart = computed(() => ({
      ...axisBase,
      xAxis: timeAxis,
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        name: t("dashboard.messagesPerMinute"), type: "line", showSymbol: false, areaStyle: { opacity: 0.15 },
        data: points(d.value.messages, state.window), sampling: "lttb",
      }],
    }));
    const loginsChart = computed(() => ({
      ...axisBase,
      legend: { top: 0 },
      xAxis: timeAxis,
      yAxis: { type: "value", minInterval: 1 },
      series: d.value.logins ? [
        { name: t("dashboard.loginsOk"), type: "line", showSymbol: false, data: points(d.value.logins.ok, state.window), itemStyle: { color: "#67c23a" } },
        { name: t("dashboard.loginsFailed"), type: "line", showSymbol: false, data: points(d.value.logins.failed, state.window), itemStyle: { color: "#f56c6c" } },
      ] : [],
    }));
    const usersChart = computed(() => {
      const days = d.value.users ? d.value.users.per_day : [];
      return {
        ...axisBase,
        xAxis: { type: "category", data: days.map((x) => x.date.slice(5)) },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ name: t("dashboard.newUsers"), type: "bar", data: days.map((x) => x.n), itemStyle: { color: "#9b59b6" } }],
      };
    });
    const onlineChart = computed(() => {
      const nodes = d.value.health ? d.value.health.nodes : [];
      return {
        tooltip: { trigger: "item" },
        legend: { bottom: 0, type: "scroll" },
        series: [{
          name: t("dashboard.connectionsPerNode"), type: "pie", radius: ["45%", "70%"], center: ["50%", "45%"],
          label: { formatter: "{b}: {c}" },
          data: nodes.map((n) => ({ name: n.node_id, value: n.sessions })),
        }],
      };
    });

    function toggleAuto(on) {
      state.auto = on;
      schedule();
      if (on) refresh();
    }

    return {
      t, tc, state, d, number, formatBytes, clock, uptime, messages24h, lastMinute, failed24h,
      messagesChart, loginsChart, usersChart, onlineChart, refresh, toggleAuto, REFRESH_MS, WINDOWS,
    };
  },
  template: `
<div class="adm-page" data-testid="dashboard-page">
  <div class="sm-head">
    <span class="adm-muted sm-small" data-testid="dash-updated">
      <template v-if="state.updated">{{ t('dashboard.updated', { time: clock(state.updated) }) }}</template>
    </span>
    <span class="adm-spacer"></span>
    <el-switch :model-value="state.auto" :active-text="t('dashboard.auto', { s: REFRESH_MS / 1000 })" data-testid="dash-auto" @change="toggleAuto" />
    <el-button size="small" data-testid="dash-refresh" @click="refresh"><el-icon><icon-refresh/></el-icon>{{ t('dashboard.refresh') }}</el-button>
  </div>
  <el-alert v-if="state.failed" type="error" :closable="false" show-icon :title="t('dashboard.failed')" data-testid="dash-failed" />
  <el-alert v-if="d.errors && d.errors.length" type="warning" :closable="false" show-icon data-testid="dash-errors"
    :title="t('dashboard.partial')" :description="d.errors.join('; ')" />
  <div class="sm-stats" v-loading="state.loading">
    <div class="sm-stat">
      <div class="sm-stat-icon sm-blue"><el-icon><icon-user/></el-icon></div>
      <div class="sm-stat-body">
        <div class="sm-stat-label">{{ t('dashboard.onlineUsers') }}</div>
        <div class="sm-stat-value" data-testid="dash-online-users">{{ number(d.online && d.online.users) }}</div>
        <div class="sm-stat-sub">{{ tc('dashboard.totalUsers', d.users && d.users.total) }}</div>
      </div>
    </div>
    <div class="sm-stat">
      <div class="sm-stat-icon sm-cyan"><el-icon><icon-connection/></el-icon></div>
      <div class="sm-stat-body">
        <div class="sm-stat-label">{{ t('dashboard.connections') }}</div>
        <div class="sm-stat-value" data-testid="dash-connections">{{ number(d.online && d.online.connections) }}</div>
        <div class="sm-stat-sub">{{ tc('dashboard.nodesAlive', d.health && d.health.nodes_alive) }}</div>
      </div>
    </div>
    <div class="sm-stat">
      <div class="sm-stat-icon sm-green"><el-icon><icon-chat-dot-round/></el-icon></div>
      <div class="sm-stat-body">
        <div class="sm-stat-label">{{ t('dashboard.messages24h') }}</div>
        <div class="sm-stat-value" data-testid="dash-messages">{{ number(messages24h) }}</div>
        <div class="sm-stat-sub">{{ tc('dashboard.lastMinute', lastMinute) }}</div>
      </div>
    </div>
    <div class="sm-stat">
      <div class="sm-stat-icon sm-purple"><el-icon><icon-user-filled/></el-icon></div>
      <div class="sm-stat-body">
        <div class="sm-stat-label">{{ t('dashboard.newToday') }}</div>
        <div class="sm-stat-value" data-testid="dash-new-today">{{ number(d.users && d.users.today) }}</div>
        <div class="sm-stat-sub">{{ tc('dashboard.failedLogins', failed24h) }}</div>
      </div>
    </div>
    <div class="sm-stat">
      <div class="sm-stat-icon sm-orange"><el-icon><icon-folder-opened/></el-icon></div>
      <div class="sm-stat-body">
        <div class="sm-stat-label">{{ t('dashboard.filesStorage') }}</div>
        <div class="sm-stat-value" data-testid="dash-files-bytes">{{ formatBytes(d.storage && d.storage.files_bytes) }}</div>
        <div class="sm-stat-sub">{{ tc('dashboard.files', d.storage && d.storage.files) }}</div>
      </div>
    </div>
    <div class="sm-stat">
      <div class="sm-stat-icon" :class="d.health && d.health.database.ok ? 'sm-green' : 'sm-red'"><el-icon><icon-coin/></el-icon></div>
      <div class="sm-stat-body">
        <div class="sm-stat-label">{{ t('dashboard.database') }}</div>
        <div class="sm-stat-value" data-testid="dash-db-bytes">{{ formatBytes(d.storage && d.storage.database_bytes) }}</div>
        <div class="sm-stat-sub" data-testid="dash-db-latency">
          <template v-if="d.health && d.health.database.ok">{{ t('dashboard.latency', { ms: d.health.database.latency_ms }) }}</template>
          <template v-else-if="d.health">{{ t('dashboard.dbDown') }}</template>
        </div>
      </div>
    </div>
  </div>
  <div class="sm-charts">
    <div class="adm-card sm-wide">
      <h3 class="sm-card-title">{{ t('dashboard.messagesPerMinute') }}
        <span class="adm-spacer"></span>
        <el-radio-group v-model="state.window" size="small" data-testid="dash-window">
          <el-radio-button v-for="w in WINDOWS" :key="w" :value="w" :data-testid="'dash-window-' + w">{{ t('dashboard.window' + w) }}</el-radio-button>
        </el-radio-group>
      </h3>
      <admin-chart :option="messagesChart" :height="280" :loading="state.loading" :empty="!state.loading && !d.messages" data-testid="dash-messages-chart" />
    </div>
    <div class="adm-card">
      <h3 class="sm-card-title">{{ t('dashboard.loginsPerMinute') }} <span class="adm-muted">{{ t('dashboard.window' + state.window) }}</span></h3>
      <admin-chart :option="loginsChart" :height="260" :loading="state.loading" :empty="!state.loading && !d.logins" data-testid="dash-logins-chart" />
    </div>
    <div class="adm-card">
      <h3 class="sm-card-title">{{ t('dashboard.newUsersPerDay') }} <span class="adm-muted">{{ t('dashboard.last30d') }}</span></h3>
      <admin-chart :option="usersChart" :height="260" :loading="state.loading" :empty="!state.loading && !d.users" data-testid="dash-users-chart" />
    </div>
    <div class="adm-card">
      <h3 class="sm-card-title">{{ t('dashboard.connectionsPerNode') }}</h3>
      <admin-chart :option="onlineChart" :height="260" :loading="state.loading"
        :empty="!state.loading && !(d.health && d.health.nodes.length)" data-testid="dash-nodes-chart" />
    </div>
    <div class="adm-card" data-testid="dash-health">
      <h3 class="sm-card-title">{{ t('dashboard.health') }}</h3>
      <dl class="sm-health" v-if="d.health">
        <div><dt>{{ t('dashboard.version') }}</dt><dd data-testid="dash-version">{{ d.health.version }}</dd></div>
        <div><dt>{{ t('dashboard.uptime') }}</dt><dd data-testid="dash-uptime">{{ uptime }}</dd></div>
        <div><dt>{{ t('dashboard.thisNode') }}</dt><dd>{{ d.health.node_id }}</dd></div>
        <div><dt>{{ t('dashboard.dbKind') }}</dt><dd data-testid="dash-db-kind">{{ d.health.database.dialect }}
          <el-tag size="small" :type="d.health.database.ok ? 'success' : 'danger'">{{ d.health.database.ok ? t('dashboard.ok') : t('dashboard.down') }}</el-tag></dd></div>
      </dl>
      <el-table v-if="d.health" :data="d.health.nodes" size="small" data-testid="dash-nodes" :empty-text="t('dashboard.noNodes')">
        <el-table-column :label="t('dashboard.node')" prop="node_id" min-width="120" />
        <el-table-column :label="t('dashboard.connections')" prop="sessions" width="110" />
        <el-table-column :label="t('dashboard.users')" prop="users" width="100" />
        <el-table-column :label="t('dashboard.heartbeat')" width="110">
          <template #default="{ row }">{{ clock(row.seen_ms) }}</template>
        </el-table-column>
      </el-table>
    </div>
  </div>
</div>`,
};

const zh = {
  "dashboard.updated": "更新于 {time}",
  "dashboard.auto": "每 {s} 秒自动刷新",
  "dashboard.refresh": "刷新",
  "dashboard.failed": "无法获取仪表盘数据，稍后会自动重试",
  "dashboard.partial": "部分数据暂时无法读取",
  "dashboard.onlineUsers": "在线用户",
  "dashboard.totalUsers": "共 {c} 个用户",
  "dashboard.connections": "在线连接",
  "dashboard.nodesAlive": "{c} 个节点在线",
  "dashboard.messages24h": "消息数（24 小时）",
  "dashboard.lastMinute": "上一分钟 {c} 条",
  "dashboard.newToday": "今日新增用户",
  "dashboard.failedLogins": "24 小时登录失败 {c} 次",
  "dashboard.filesStorage": "文件存储",
  "dashboard.files": "{c} 个文件",
  "dashboard.database": "数据库大小",
  "dashboard.latency": "响应 {ms} 毫秒",
  "dashboard.dbDown": "数据库无法连接",
  "dashboard.messagesPerMinute": "每分钟消息数",
  "dashboard.loginsPerMinute": "每分钟登录次数",
  "dashboard.loginsOk": "成功",
  "dashboard.loginsFailed": "失败",
  "dashboard.newUsers": "新增用户",
  "dashboard.newUsersPerDay": "每日新增用户",
  "dashboard.connectionsPerNode": "各节点连接数",
  "dashboard.window60": "最近 1 小时",
  "dashboard.window360": "最近 6 小时",
  "dashboard.window1440": "最近 24 小时",
  "dashboard.last30d": "最近 30 天",
  "dashboard.health": "节点与数据库状态",
  "dashboard.version": "版本",
  "dashboard.uptime": "运行时长",
  "dashboard.uptimeDays": "{d} 天 {h} 小时",
  "dashboard.uptimeHours": "{h} 小时 {m} 分钟",
  "dashboard.uptimeMinutes": "{m} 分钟",
  "dashboard.thisNode": "当前节点",
  "dashboard.dbKind": "数据库",
  "dashboard.ok": "正常",
  "dashboard.down": "异常",
  "dashboard.node": "节点",
  "dashboard.users": "用户",
  "dashboard.heartbeat": "最近心跳",
  "dashboard.noNodes": "没有在线节点",
};

const en = {
  "dashboard.updated": "Updated {time}",
  "dashboard.auto": "Refresh every {s} s",
  "dashboard.refresh": "Refresh",
  "dashboard.failed": "The dashboard could not be loaded; it will try again",
  "dashboard.partial": "Some figures cannot be read right now",
  "dashboard.onlineUsers": "Users online",
  "dashboard.totalUsers": "{c} users in all",
  "dashboard.totalUsers#one": "{c} user in all",
  "dashboard.connections": "Connections",
  "dashboard.nodesAlive": "{c} nodes alive",
  "dashboard.nodesAlive#one": "{c} node alive",
  "dashboard.messages24h": "Messages (24 h)",
  "dashboard.lastMinute": "{c} in the last minute",
  "dashboard.newToday": "New users today",
  "dashboard.failedLogins": "{c} failed logins in 24 h",
  "dashboard.failedLogins#one": "{c} failed login in 24 h",
  "dashboard.filesStorage": "File storage",
  "dashboard.files": "{c} files",
  "dashboard.files#one": "{c} file",
  "dashboard.database": "Database size",
  "dashboard.latency": "Responds in {ms} ms",
  "dashboard.dbDown": "Database unreachable",
  "dashboard.messagesPerMinute": "Messages per minute",
  "dashboard.loginsPerMinute": "Logins per minute",
  "dashboard.loginsOk": "Succeeded",
  "dashboard.loginsFailed": "Failed",
  "dashboard.newUsers": "New users",
  "dashboard.newUsersPerDay": "New users per day",
  "dashboard.connectionsPerNode": "Connections per node",
  "dashboard.window60": "last hour",
  "dashboard.window360": "last 6 hours",
  "dashboard.window1440": "last 24 hours",
  "dashboard.last30d": "last 30 days",
  "dashboard.health": "Nodes and database",
  "dashboard.version": "Version",
  "dashboard.uptime": "Uptime",
  "dashboard.uptimeDays": "{d} d {h} h",
  "dashboard.uptimeHours": "{h} h {m} min",
  "dashboard.uptimeMinutes": "{m} min",
  "dashboard.thisNode": "This node",
  "dashboard.dbKind": "Database",
  "dashboard.ok": "OK",
  "dashboard.down": "Down",
  "dashboard.node": "Node",
  "dashboard.users": "Users",
  "dashboard.heartbeat": "Last heartbeat",
  "dashboard.noNodes": "No node alive",
};

export default {
  name: "dashboard",
  perm: "dashboard.view",
  icon: "Odometer",
  order: 10,
  title: "menu.dashboard",
  component: DashboardPage,
  messages: { "zh-CN": zh, en },
};
