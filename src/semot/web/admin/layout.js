// The signed-in console: a sidebar menu of the pages the caller may see (from the page
// registry, filtered by permission), a header with the page title, the language switch
// and the account menu, and the current page. Desktop first; below 1024 px the sidebar
// starts collapsed to icons (the toggle in the header expands it again).
import { computed, onBeforeUnmount, ref, watchEffect } from "vue";
import { ElMessageBox } from "element-plus";
import * as Icons from "@element-plus/icons-vue";
import { createLangSwitch } from "/web/shared/lang-switch.js";
import { i18n, setLocale, t } from "./i18n.js";
import { registry } from "./pages/index.js";
import { navigate, route } from "./router.js";
import { can, session, signOut } from "./session.js";
import { EmptyView, ForbiddenView, NotFoundView, PageHost } from "./views.js";

const LangSwitch = createLangSwitch({ i18n, setLocale, t });
const NARROW = "(max-width: 1023px)";

export default {
  name: "AdminLayout",
  components: { LangSwitch, PageHost, NotFoundView, ForbiddenView, EmptyView },
  setup() {
    const media = window.matchMedia(NARROW);
    const collapsed = ref(media.matches);
    const onMedia = (e) => (collapsed.value = e.matches);
    media.addEventListener("change", onMedia);
    onBeforeUnmount(() => media.removeEventListener("change", onMedia));

    const visible = computed(() => registry.pages.filter((p) => can(p.perm)));
    const current = computed(() => registry.pages.find((p) => p.name === route.name) || null);
    // what the content area shows
    const view = computed(() => {
      if (!route.name) return visible.value.length ? "redirect" : "empty";
      if (!current.value) return "notfound";
      return can(current.value.perm) ? "page" : "forbidden";
    });
    // #/ opens the first page the caller may see
    watchEffect(() => {
      if (view.value === "redirect") navigate(visible.value[0].name);
    });
    const title = computed(() => (current.value ? t(current.value.title) : ""));
    watchEffect(() => (session.pageTitle = title.value));
    onBeforeUnmount(() => (session.pageTitle = ""));
    const displayName = computed(() => (session.user ? session.user.display_name || session.user.username : ""));
    const roleNames = computed(() => session.roles.map((r) => (t(`role.${r}`) === `role.${r}` ? r : t(`role.${r}`))).join(t("common.listSep")));
    const permText = computed(() => {
      const p = current.value && current.value.perm;
      return Array.isArray(p) ? p.join(" / ") : p || "";
    });

    async function onUser(cmd) {
      if (cmd === "client") {
        window.open("/", "_blank", "noopener");
        return;
      }
      if (cmd !== "logout") return;
      try {
        await ElMessageBox.confirm(t("user.logoutConfirm"), t("user.logout"), {
          confirmButtonText: t("user.logout"),
          cancelButtonText: t("common.cancel"),
          type: "warning",
        });
      } catch {
        return;
      }
      await signOut();
    }

    return {
      t, i18n, session, route, registry, collapsed, visible, current, view, title, displayName, roleNames, permText,
      icon: (name) => Icons[name] || Icons.Document, onUser, select: (name) => navigate(name),
    };
  },
  template: `
    <el-container class="adm-shell" :class="{ 'is-collapsed': collapsed }" data-testid="admin-shell">
      <el-aside class="adm-aside" :width="collapsed ? '64px' : '220px'">
        <a class="adm-brand" href="#/" :title="t('app.title')">
          <img :src="session.brand.logo || '/web/icons/icon.svg'" alt="" width="28" height="28">
          <span v-show="!collapsed" class="adm-brand-text">
            <span class="adm-brand-name">{{ session.brand.name || t('app.name') }}</span>
            <span class="adm-brand-sub">{{ t('app.console') }}</span>
          </span>
        </a>
        <el-scrollbar class="adm-menu-scroll">
          <el-menu class="adm-menu" :default-active="route.name" :collapse="collapsed" :collapse-transition="false"
                   background-color="#001529" text-color="#c4cbd6" active-text-color="#ffffff"
                   @select="select" :aria-label="t('menu.label')" data-testid="admin-menu">
            <el-menu-item v-for="p in visible" :key="p.name" :index="p.name" :data-testid="'menu-' + p.name">
              <el-icon><component :is="icon(p.icon)" /></el-icon>
              <template #title>{{ t(p.title) }}</template>
            </el-menu-item>
          </el-menu>
        </el-scrollbar>
      </el-aside>
      <el-container class="adm-body">
        <el-header class="adm-header" height="56px">
          <div class="adm-header-left">
            <el-button text class="adm-toggle" @click="collapsed = !collapsed"
                       :aria-label="collapsed ? t('menu.expand') : t('menu.collapse')" :aria-expanded="String(!collapsed)" data-testid="menu-toggle">
              <el-icon :size="18"><component :is="icon(collapsed ? 'Expand' : 'Fold')" /></el-icon>
            </el-button>
            <h1 class="adm-title" data-testid="page-title">{{ title }}</h1>
          </div>
          <div class="adm-header-right">
            <lang-switch />
            <el-dropdown trigger="click" @command="onUser" data-testid="user-menu">
              <button class="adm-user" type="button" :aria-label="t('user.menu')" data-testid="user-menu-button">
                <user-avatar :id="session.user ? session.user.user_id : ''" :name="displayName" :src="(session.user && session.user.avatar_url) || ''" :size="30" />
                <span class="adm-user-name">{{ displayName }}</span>
                <el-icon><component :is="icon('ArrowDown')" /></el-icon>
              </button>
              <template #dropdown>
                <el-dropdown-menu>
                  <li class="adm-user-info" role="presentation">
                    <div class="adm-user-who">{{ t('user.signedInAs', { name: displayName }) }}</div>
                    <div v-if="roleNames" class="adm-user-roles" data-testid="user-roles">{{ t('user.roles', { roles: roleNames }) }}</div>
                  </li>
                  <el-dropdown-item command="client" divided data-testid="open-client">{{ t('user.openClient') }}</el-dropdown-item>
                  <el-dropdown-item command="logout" data-testid="logout">{{ t('user.logout') }}</el-dropdown-item>
                </el-dropdown-menu>
              </template>
            </el-dropdown>
          </div>
        </el-header>
        <el-main class="adm-main" data-testid="admin-main" :data-page="view === 'page' ? current.name : view">
          <page-host v-if="view === 'page'" :page="current" :key="current.name" />
          <forbidden-view v-else-if="view === 'forbidden'" :perm="permText" />
          <not-found-view v-else-if="view === 'notfound'" :name="route.name" />
          <empty-view v-else-if="view === 'empty'" />
        </el-main>
      </el-container>
    </el-container>`,
};
