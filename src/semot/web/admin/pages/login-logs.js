// Login logs (登录日志): every login attempt, successful or not and why, with the client's
// address, device, platform and browser. Filters (user, keyword, address, result, time)
// live in the address, so a filtered view can be shared; the CSV export takes the same
// filters (the server streams it, with formula-safe cells). Everything from the log is
// shown as text: Vue escapes it, nothing is rendered as HTML.
import { onMounted, reactive } from "vue";
import { api } from "../api.js";
import { i18n, t } from "../i18n.js";
import { route, setQuery } from "../router.js";

const STYLES = "/admin/pages/dashboard/stats.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}

const SIZES = [20, 50, 100, 200];
const REASONS = ["unknown_user", "wrong_password", "disabled", "rate_limited", "unavailable", "error"];
const PLATFORMS = ["web", "desktop", "android", "ios", "bot", "sdk"];

function pad(n) {
  return String(n).padStart(2, "0");
}

/** A time in the browser's zone, to the second (YYYY-MM-DD HH:mm:ss). */
export function formatTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const LoginLogsPage = {
  name: "LoginLogsPage",
  setup() {
    const q = route.query;
    const filters = reactive({
      user_id: q.user_id || "",
      q: q.q || "",
      ip: q.ip || "",
      ok: q.ok === "true" || q.ok === "false" ? q.ok : "",
      range: q.from && q.to ? [Number(q.from), Number(q.to)] : null,
    });
    const list = reactive({
      rows: [], total: 0, loading: false, exporting: false,
      page: Math.max(1, Number(q.page) || 1), size: SIZES.includes(Number(q.size)) ? Number(q.size) : 50,
    });

    function query() {
      return {
        user_id: filters.user_id.trim() || undefined,
        q: filters.q.trim() || undefined,
        ip: filters.ip.trim() || undefined,
        ok: filters.ok || undefined,
        from: filters.range ? filters.range[0] : undefined,
        to: filters.range ? filters.range[1] : undefined,
      };
    }

    async function load() {
      const filter = query();
      setQuery({ ...filter, page: list.page > 1 ? list.page : undefined, size: list.size !== 50 ? list.size : undefined });
      list.loading = true;
      try {
        const page = await api.get("/login-logs", { ...filter, offset: (list.page - 1) * list.size, limit: list.size });
        list.rows = page.logs;
        list.total = page.total;
      } catch {
        /* the API module showed the error */
      } finally {
        list.loading = false;
      }
    }

    function search() {
      list.page = 1;
      load();
    }
    function reset() {
      Object.assign(filters, { user_id: "", q: "", ip: "", ok: "", range: null });
      search();
    }
    function pageChange(p) {
      list.page = p;
      load();
    }
    function sizeChange(s) {
      list.size = s;
      list.page = 1;
      load();
    }
    function only(userId) {
      filters.user_id = userId;
      search();
    }
    async function exportCsv() {
      list.exporting = true;
      try {
        await api.download("/login-logs.csv", { ...query(), tz: -new Date().getTimezoneOffset() }, "login-logs.csv");
      } catch {
        /* shown */
      } finally {
        list.exporting = false;
      }
    }

    const reasonLabel = (r) => (REASONS.includes(r) ? t(`login-logs.reason.${r}`) : r);
    const platformLabel = (p) => (PLATFORMS.includes(p) ? t(`login-logs.platform.${p}`) : p || "—");
    onMounted(load);
    return { t, i18n, filters, list, search, reset, pageChange, sizeChange, only, exportCsv, reasonLabel, platformLabel, formatTime, SIZES };
  },
  template: `
<div class="adm-page" data-testid="login-logs-page">
  <div class="adm-card">
    <div class="adm-toolbar sm-ll-filters">
      <el-input v-model="filters.q" clearable :placeholder="t('login-logs.keyword')" data-testid="ll-q" @keyup.enter="search">
        <template #prefix><el-icon><icon-search/></el-icon></template>
      </el-input>
      <el-input v-model="filters.user_id" clearable :placeholder="t('login-logs.userId')" data-testid="ll-user" @keyup.enter="search" />
      <el-input v-model="filters.ip" clearable :placeholder="t('login-logs.ip')" data-testid="ll-ip" @keyup.enter="search" />
      <el-select v-model="filters.ok" :placeholder="t('login-logs.result')" clearable data-testid="ll-ok" @change="search">
        <el-option value="" :label="t('login-logs.all')" />
        <el-option value="true" :label="t('login-logs.success')" data-testid="ll-ok-true" />
        <el-option value="false" :label="t('login-logs.failure')" data-testid="ll-ok-false" />
      </el-select>
      <el-date-picker v-model="filters.range" type="datetimerange" value-format="x" class="sm-ll-range"
        :start-placeholder="t('login-logs.from')" :end-placeholder="t('login-logs.to')" data-testid="ll-range" @change="search" />
      <el-button type="primary" data-testid="ll-search" @click="search"><el-icon><icon-search/></el-icon>{{ t('login-logs.search') }}</el-button>
      <el-button data-testid="ll-reset" @click="reset">{{ t('login-logs.reset') }}</el-button>
      <span class="adm-spacer"></span>
      <el-button data-testid="ll-export" :loading="list.exporting" @click="exportCsv"><el-icon><icon-download/></el-icon>{{ t('login-logs.export') }}</el-button>
    </div>
    <el-table :data="list.rows" v-loading="list.loading" row-key="id" data-testid="ll-table" :empty-text="t('login-logs.empty')">
      <el-table-column :label="t('login-logs.time')" width="170">
        <template #default="{ row }"><span class="sm-nowrap">{{ formatTime(row.ts) }}</span></template>
      </el-table-column>
      <el-table-column :label="t('login-logs.user')" min-width="170">
        <template #default="{ row }">
          <div v-if="row.user_id" class="sm-ll-user">
            <el-link type="primary" :underline="false" data-testid="ll-user-link" @click="only(row.user_id)">{{ row.display_name || row.username }}</el-link>
            <div class="adm-muted sm-small">{{ row.username }}<template v-if="row.username !== row.user_id"> · {{ row.user_id }}</template></div>
          </div>
          <div v-else>
            <span>{{ row.username }}</span>
            <div class="adm-muted sm-small">{{ t('login-logs.noSuchUser') }}</div>
          </div>
        </template>
      </el-table-column>
      <el-table-column :label="t('login-logs.result')" min-width="130">
        <template #default="{ row }">
          <el-tag v-if="row.ok" type="success" size="small" data-testid="ll-result" data-ok="true">{{ t('login-logs.success') }}</el-tag>
          <template v-else>
            <el-tag type="danger" size="small" data-testid="ll-result" data-ok="false">{{ t('login-logs.failure') }}</el-tag>
            <div class="sm-small sm-ll-reason" data-testid="ll-reason">{{ reasonLabel(row.reason) }}</div>
          </template>
        </template>
      </el-table-column>
      <el-table-column :label="t('login-logs.ip')" min-width="130">
        <template #default="{ row }"><span data-testid="ll-ip-cell">{{ row.ip }}</span></template>
      </el-table-column>
      <el-table-column :label="t('login-logs.device')" min-width="170">
        <template #default="{ row }">
          <div>{{ row.device || '—' }}</div>
          <div class="adm-muted sm-small">{{ platformLabel(row.platform) }}</div>
        </template>
      </el-table-column>
      <el-table-column :label="t('login-logs.userAgent')" min-width="220" show-overflow-tooltip>
        <template #default="{ row }"><span class="adm-muted">{{ row.user_agent || '—' }}</span></template>
      </el-table-column>
    </el-table>
    <div class="adm-pager">
      <el-pagination background layout="total, sizes, prev, pager, next" :total="list.total" :page-size="list.size"
        :page-sizes="SIZES" :current-page="list.page" data-testid="ll-pager"
        @current-change="pageChange" @size-change="sizeChange" />
    </div>
  </div>
</div>`,
};

const zh = {
  "login-logs.keyword": "用户名或用户 ID",
  "login-logs.userId": "用户 ID（精确）",
  "login-logs.ip": "IP 地址",
  "login-logs.result": "结果",
  "login-logs.all": "全部",
  "login-logs.success": "成功",
  "login-logs.failure": "失败",
  "login-logs.from": "开始时间",
  "login-logs.to": "结束时间",
  "login-logs.search": "查询",
  "login-logs.reset": "重置",
  "login-logs.export": "导出 CSV",
  "login-logs.empty": "没有符合条件的登录记录",
  "login-logs.time": "时间",
  "login-logs.user": "用户",
  "login-logs.noSuchUser": "不存在的用户名",
  "login-logs.device": "设备",
  "login-logs.userAgent": "User-Agent",
  "login-logs.reason.unknown_user": "用户不存在",
  "login-logs.reason.wrong_password": "密码错误",
  "login-logs.reason.disabled": "账号已停用",
  "login-logs.reason.rate_limited": "尝试过多被限制",
  "login-logs.reason.unavailable": "服务器繁忙",
  "login-logs.reason.error": "服务器错误",
  "login-logs.platform.web": "网页",
  "login-logs.platform.desktop": "桌面端",
  "login-logs.platform.android": "Android",
  "login-logs.platform.ios": "iOS",
  "login-logs.platform.bot": "机器人",
  "login-logs.platform.sdk": "SDK / 接口",
};

const en = {
  "login-logs.keyword": "Username or user ID",
  "login-logs.userId": "User ID (exact)",
  "login-logs.ip": "IP address",
  "login-logs.result": "Result",
  "login-logs.all": "All",
  "login-logs.success": "Success",
  "login-logs.failure": "Failed",
  "login-logs.from": "From",
  "login-logs.to": "To",
  "login-logs.search": "Search",
  "login-logs.reset": "Reset",
  "login-logs.export": "Export CSV",
  "login-logs.empty": "No login attempts match",
  "login-logs.time": "Time",
  "login-logs.user": "User",
  "login-logs.noSuchUser": "No such user",
  "login-logs.device": "Device",
  "login-logs.userAgent": "User agent",
  "login-logs.reason.unknown_user": "Unknown user",
  "login-logs.reason.wrong_password": "Wrong password",
  "login-logs.reason.disabled": "Account disabled",
  "login-logs.reason.rate_limited": "Too many attempts",
  "login-logs.reason.unavailable": "Server busy",
  "login-logs.reason.error": "Server error",
  "login-logs.platform.web": "Web",
  "login-logs.platform.desktop": "Desktop",
  "login-logs.platform.android": "Android",
  "login-logs.platform.ios": "iOS",
  "login-logs.platform.bot": "Bot",
  "login-logs.platform.sdk": "SDK / API",
};

export default {
  name: "login-logs",
  perm: "login_logs.view",
  icon: "Tickets",
  order: 40,
  title: "menu.login-logs",
  component: LoginLogsPage,
  messages: { "zh-CN": zh, en },
};
