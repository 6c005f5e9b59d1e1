// The admin console's entry point: Vue 3 + Element Plus from the vendored ES modules
// (index.html's import map), no build step, like the chat client. Boot: who is signed
// in (the shared login cookie), which pages exist, then the login page or the console.
import { computed, createApp, watchEffect } from "vue";
import ElementPlus from "element-plus";
import * as Icons from "@element-plus/icons-vue";
import UserAvatar from "/web/shared/avatar.js";
import zhCn from "/web/vendor/element-plus/locale/zh-cn.min.mjs";
import en from "/web/vendor/element-plus/locale/en.min.mjs";

import { installErrorReporter } from "/web/shared/error-reporter.js";
import { api } from "./api.js";
import { client } from "./client.js";
import { i18n, t } from "./i18n.js";
import AdminLayout from "./layout.js";
import { DeniedView, LoginView } from "./login.js";
import { loadPages, registry } from "./pages/index.js";
import { route } from "./router.js";
import { can, loadBrand, restore, session } from "./session.js";

const App = {
  name: "SemotAdmin",
  components: { AdminLayout, LoginView, DeniedView },
  setup() {
    const epLocale = computed(() => (i18n.locale === "zh-CN" ? zhCn : en));
    watchEffect(() => {
      const base = session.brand.name ? t("app.titleOf", { name: session.brand.name }) : t("app.title");
      document.title = session.pageTitle ? `${session.pageTitle} - ${base}` : base;
    });
    return { session, registry, epLocale };
  },
  template: `
    <el-config-provider :locale="epLocale">
      <div v-if="session.phase === 'boot' || (session.phase === 'app' && !registry.loaded)" class="boot" aria-hidden="true"><img src="/web/icons/icon.svg" alt="" width="56" height="56"></div>
      <login-view v-else-if="session.phase === 'login'" />
      <denied-view v-else-if="session.phase === 'denied'" />
      <admin-layout v-else />
    </el-config-provider>`,
};

const app = createApp(App);
app.use(ElementPlus);
// every icon as <icon-name />, for the pages' templates
for (const [name, comp] of Object.entries(Icons)) app.component(`Icon${name}`, comp);
app.component("UserAvatar", UserAvatar); // <user-avatar :id :name :src :size />
app.config.errorHandler = (err) => {
  console.error("semot admin:", err);
};
// ...and to the server: the developer tools list it (shared/error-reporter.js)
installErrorReporter({ app: "admin", vueApp: app, token: () => client.accessToken });
app.mount("#app");
document.getElementById("boot")?.remove();

// For debugging from the console and for the browser tests.
Object.defineProperty(window, "__semotAdmin", { value: Object.freeze({ api, client, session, registry, route, can }) });

loadBrand();
await Promise.all([restore(), loadPages()]);
