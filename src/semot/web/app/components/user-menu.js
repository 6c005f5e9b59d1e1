// The user's menu behind their avatar: who am I, notifications, language, about, sign out.
import { computed } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { setLocale, t } from "../i18n.js";
import { client, logout, notificationStatus, setNotifications, state, ui } from "../store.js";
import UserAvatar from "./avatar.js";

export default {
  name: "UserMenu",
  components: { UserAvatar },
  props: { size: { type: Number, default: 36 } },
  setup() {
    const me = computed(() => state.me || { user_id: client.userId, display_name: client.userId });
    const notif = computed(() => notificationStatus());
    async function onCommand(cmd) {
      if (cmd === "logout") {
        try {
          await ElMessageBox.confirm(t("menu.logoutConfirm"), t("menu.logout"), {
            confirmButtonText: t("menu.logout"), cancelButtonText: t("common.cancel"), type: "warning",
          });
        } catch {
          return;
        }
        await logout();
      } else if (cmd === "notify") {
        const want = notif.value !== "on";
        const res = await setNotifications(want);
        if (want && res === "on") ElMessage.success(t("notify.enabled"));
        else if (want) ElMessage.warning(t("notify.denied"));
      } else if (cmd === "about") {
        ui.dialog = "about";
      } else if (cmd === "zh-CN" || cmd === "en") {
        setLocale(cmd);
      }
    }
    const notifLabel = computed(() => ({
      on: t("menu.notificationsOn"), off: t("menu.notificationsOff"),
      blocked: t("menu.notificationsBlocked"), unsupported: t("menu.notificationsUnsupported"),
    })[notif.value]);
    return { me, t, onCommand, notif, notifLabel, state };
  },
  template: `
    <el-dropdown trigger="click" @command="onCommand" placement="right-start" popper-class="user-menu-popper">
      <button class="avatar-btn" type="button" :aria-label="t('nav.menu')" data-testid="user-menu">
        <user-avatar :id="me.user_id" :name="me.display_name || me.user_id" :size="size" />
      </button>
      <template #dropdown>
        <div class="user-card">
          <user-avatar :id="me.user_id" :name="me.display_name || me.user_id" :size="44" />
          <div class="user-card-text">
            <div class="user-card-name">{{ me.display_name || me.user_id }}</div>
            <div class="user-card-id">@{{ me.user_id }}</div>
          </div>
        </div>
        <el-dropdown-menu>
          <el-dropdown-item command="notify" :disabled="notif === 'unsupported' || notif === 'blocked'" data-testid="menu-notify">
            {{ t('menu.notifications') }}: {{ notifLabel }}
          </el-dropdown-item>
          <el-dropdown-item command="zh-CN" divided data-testid="menu-lang-zh-CN">{{ t('lang.label') }}: {{ t('lang.zh') }}</el-dropdown-item>
          <el-dropdown-item command="en" data-testid="menu-lang-en">{{ t('lang.label') }}: {{ t('lang.en') }}</el-dropdown-item>
          <el-dropdown-item command="about" divided>{{ t('menu.about') }}</el-dropdown-item>
          <el-dropdown-item command="logout" data-testid="menu-logout"><span class="danger-text">{{ t('menu.logout') }}</span></el-dropdown-item>
        </el-dropdown-menu>
      </template>
    </el-dropdown>`,
};
