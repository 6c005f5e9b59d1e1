// The web client's entry point: Vue 3 + Element Plus from the vendored ES modules (see
// index.html's import map), no build step.
import { computed, createApp } from "vue";
import ElementPlus from "element-plus";
import {
  ArrowDown, ArrowLeft, ChatDotRound, Check, CircleCheck, Clock, CopyDocument, Delete, Document, Link, Location,
  Loading, MoreFilled, OfficeBuilding, Plus, Postcard, Promotion, RefreshRight, Search, Setting, SwitchButton, User, UserFilled, WarningFilled,
} from "@element-plus/icons-vue";
import zhCn from "/web/vendor/element-plus/locale/zh-cn.min.mjs";
import en from "/web/vendor/element-plus/locale/en.min.mjs";

import { i18n } from "./i18n.js";
import { client, enterApp, state } from "./store.js";
import LoginView from "./components/login.js";
import ShellView from "./components/shell.js";

const App = {
  name: "SemotApp",
  components: { LoginView, ShellView },
  setup() {
    const epLocale = computed(() => (i18n.locale === "zh-CN" ? zhCn : en));
    return { state, epLocale };
  },
  template: `
    <el-config-provider :locale="epLocale">
      <login-view v-if="state.phase === 'login'" />
      <shell-view v-else />
    </el-config-provider>`,
};

const app = createApp(App);
app.use(ElementPlus);
const icons = {
  ArrowDown, ArrowLeft, ChatDotRound, Check, CircleCheck, Clock, CopyDocument, Delete, Document, Link, Location, Loading,
  MoreFilled, OfficeBuilding, Plus, Postcard, Promotion, RefreshRight, Search, Setting, SwitchButton, User, UserFilled, WarningFilled,
};
for (const [name, comp] of Object.entries(icons)) app.component(`Icon${name}`, comp);
app.config.errorHandler = (err) => {
  // a bug in the client: keep running, report it once in the console
  console.error("semot web client:", err);
};
app.mount("#app");
document.getElementById("boot")?.remove();

if (state.phase === "app") enterApp();

// For debugging from the console (and for the browser tests): the SDK client and the state.
Object.defineProperty(window, "__semot", { value: Object.freeze({ client, state }) });

// The service worker makes the client installable and able to open offline; it never
// touches /api or /ws (see sw.js).
if ("serviceWorker" in navigator && window.isSecureContext) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
      /* not fatal: the client works without it */
    });
  });
}
