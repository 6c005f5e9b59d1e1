// Developer tools (开发者工具): the live protocol log of one user, and the uncaught
// errors browsers reported. Route: #/devtools?tab=protocol|errors (&user=<id>).
// The tabs' components live in ./devtools/; their styles in ./devtools/devtools.css.
import { computed } from "vue";
import { t } from "../i18n.js";
import { route, setQuery } from "../router.js";
import { can } from "../session.js";
import ClientErrorsTab from "./devtools/client-errors.js";
import ProtocolLogTab from "./devtools/protocol-log.js";

const CSS = "/admin/pages/devtools/devtools.css";
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

const DevtoolsPage = {
  name: "DevtoolsPage",
  components: { ProtocolLogTab, ClientErrorsTab },
  setup() {
    const tab = computed({
      get: () => (route.query.tab === "errors" ? "errors" : "protocol"),
      set: (v) => setQuery({ ...route.query, tab: v === "protocol" ? undefined : v }),
    });
    return { t, tab, can };
  },
  template: `
  <div class="adm-page" data-testid="devtools-page">
    <div class="adm-card">
      <el-tabs v-model="tab" data-testid="devtools-tabs">
        <el-tab-pane name="protocol" :label="t('devtools.tab.protocol')" lazy>
          <template #label><span data-testid="devtools-tab-protocol">{{ t('devtools.tab.protocol') }}</span></template>
          <p class="adm-muted devtools-hint">{{ t('devtools.plog.hint') }}</p>
          <protocol-log-tab />
        </el-tab-pane>
        <el-tab-pane name="errors" :label="t('devtools.tab.errors')" lazy>
          <template #label><span data-testid="devtools-tab-errors">{{ t('devtools.tab.errors') }}</span></template>
          <p class="adm-muted devtools-hint">{{ t('devtools.cerr.hint') }}</p>
          <client-errors-tab />
        </el-tab-pane>
      </el-tabs>
    </div>
  </div>`,
};

export default {
  name: "devtools",
  perm: "devtools.view",
  icon: "Monitor",
  order: 100,
  title: "menu.devtools",
  component: DevtoolsPage,
  messages: {
    "zh-CN": {
      "devtools.tab.protocol": "协议日志",
      "devtools.tab.errors": "客户端错误",
      "devtools.plog.hint": "为一个用户临时开启协议日志：该用户在所有节点上的每条 WebSocket 帧（收与发）都会被记录，令牌、密码和链接签名已脱敏。默认关闭，到时自动结束。",
      "devtools.plog.pickUser": "搜索用户（用户名或姓名）",
      "devtools.plog.minutes": "分钟",
      "devtools.plog.start": "开始记录",
      "devtools.plog.restart": "重新计时",
      "devtools.plog.stop": "停止",
      "devtools.plog.on": "记录中，{until} 结束（剩余 {left}）",
      "devtools.plog.off": "未在记录",
      "devtools.plog.running": "正在记录：",
      "devtools.plog.filter": "过滤帧内容",
      "devtools.plog.all": "全部",
      "devtools.plog.in": "↑ 收到",
      "devtools.plog.out": "↓ 发出",
      "devtools.plog.inTitle": "客户端发给服务器",
      "devtools.plog.outTitle": "服务器发给客户端",
      "devtools.plog.pause": "暂停",
      "devtools.plog.resume": "继续",
      "devtools.plog.clear": "清空显示",
      "devtools.plog.count": "显示 {n} / {total} 帧",
      "devtools.plog.noUser": "请先选择一个用户。",
      "devtools.plog.noFrames": "还没有记录到帧。",
      "devtools.plog.meta": "设备 {device}（{platform}）· 会话 {session} · 节点 {node} · {size} 字节",
      "devtools.plog.truncated": "已截断",
      "devtools.cerr.hint": "Web 客户端和管理后台上报的未捕获错误（含堆栈和版本），已按用户和地址限流。",
      "devtools.cerr.app": "应用",
      "devtools.cerr.appWeb": "Web 客户端",
      "devtools.cerr.appAdmin": "管理后台",
      "devtools.cerr.user": "用户 ID",
      "devtools.cerr.search": "搜索错误信息",
      "devtools.cerr.from": "开始时间",
      "devtools.cerr.to": "结束时间",
      "devtools.cerr.go": "查询",
      "devtools.cerr.refresh": "刷新",
      "devtools.cerr.empty": "没有错误报告",
      "devtools.cerr.time": "时间",
      "devtools.cerr.anonymous": "未登录",
      "devtools.cerr.message": "错误信息",
      "devtools.cerr.version": "版本",
      "devtools.cerr.url": "页面",
      "devtools.cerr.agent": "浏览器",
      "devtools.cerr.detail": "错误详情",
      "devtools.cerr.stack": "堆栈",
      "devtools.cerr.noStack": "（没有堆栈）",
    },
    en: {
      "devtools.tab.protocol": "Protocol log",
      "devtools.tab.errors": "Client errors",
      "devtools.plog.hint": "Turn the protocol log on for one user for a while: every WebSocket frame of theirs, in and out, on every node, is recorded with tokens, passwords and link signatures redacted. Off by default; it ends by itself.",
      "devtools.plog.pickUser": "Search a user (username or name)",
      "devtools.plog.minutes": "minutes",
      "devtools.plog.start": "Start",
      "devtools.plog.restart": "Restart timer",
      "devtools.plog.stop": "Stop",
      "devtools.plog.on": "Recording until {until} ({left} left)",
      "devtools.plog.off": "Not recording",
      "devtools.plog.running": "Recording now:",
      "devtools.plog.filter": "Filter frames",
      "devtools.plog.all": "All",
      "devtools.plog.in": "↑ In",
      "devtools.plog.out": "↓ Out",
      "devtools.plog.inTitle": "client to server",
      "devtools.plog.outTitle": "server to client",
      "devtools.plog.pause": "Pause",
      "devtools.plog.resume": "Resume",
      "devtools.plog.clear": "Clear view",
      "devtools.plog.count": "{n} of {total} frames shown",
      "devtools.plog.noUser": "Pick a user first.",
      "devtools.plog.noFrames": "No frames recorded yet.",
      "devtools.plog.meta": "Device {device} ({platform}) · session {session} · node {node} · {size} bytes",
      "devtools.plog.truncated": "truncated",
      "devtools.cerr.hint": "Uncaught errors the web client and the console reported, with stack traces and versions; rate-limited per user and address.",
      "devtools.cerr.app": "App",
      "devtools.cerr.appWeb": "Web client",
      "devtools.cerr.appAdmin": "Admin console",
      "devtools.cerr.user": "User ID",
      "devtools.cerr.search": "Search messages",
      "devtools.cerr.from": "From",
      "devtools.cerr.to": "To",
      "devtools.cerr.go": "Search",
      "devtools.cerr.refresh": "Refresh",
      "devtools.cerr.empty": "No error reports",
      "devtools.cerr.time": "Time",
      "devtools.cerr.anonymous": "signed out",
      "devtools.cerr.message": "Message",
      "devtools.cerr.version": "Version",
      "devtools.cerr.url": "Page",
      "devtools.cerr.agent": "Browser",
      "devtools.cerr.detail": "Error details",
      "devtools.cerr.stack": "Stack trace",
      "devtools.cerr.noStack": "(no stack trace)",
    },
  },
};
