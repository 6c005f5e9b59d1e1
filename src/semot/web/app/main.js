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

import { installErrorReporter } from "/web/shared/error-reporter.js";
import { i18n } from "./i18n.js";
import { client, enterApp, state } from "./store.js";
import LoginView from "./components/login.js";
import ShellView from "./components/shell.js";
import SetPasswordView, { passwordLink } from "./components/set-password.js";
import { landSso, ssoTicket } from "./components/sso-landing.js";
import { startClientConfig } from "./stores/client-config.js";

const App = {
  name: "SemotApp",
  components: { LoginView, ShellView, SetPasswordView },
  setup() {
    const epLocale = computed(() => (i18n.locale === "zh-CN" ? zhCn : en));
    return { state, epLocale, passwordLink };
  },
  template: `
    <el-config-provider :locale="epLocale">
      <set-password-view v-if="passwordLink.token" />
      <login-view v-else-if="state.phase === 'login'" />
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
// ...and to the server, for the admin console's developer tools (shared/error-reporter.js)
installErrorReporter({
  app: "web", vueApp: app, token: () => client.accessToken, version: () => client.serverConfig?.server_version,
});
startClientConfig(); // product name, logo, feature switches: before the first paint
app.mount("#app");
document.getElementById("boot")?.remove();

// a one-time set-password link (/#/set-password?token=...) is shown first: its page signs in;
// an SSO ticket link (/#/sso?ticket=...) signs in as its user (components/sso-landing.js)
if (ssoTicket()) landSso();
else if (state.phase === "app" && !passwordLink.token) enterApp();

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
