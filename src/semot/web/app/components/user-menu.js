// The user's menu behind their avatar: who am I, notifications, language, about, sign out.
import { computed } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { setLocale, t } from "../i18n.js";
import { client, describeError, logout, notificationStatus, setMyPresence, setNotifications, state, ui } from "../store.js";
import UserAvatar from "./avatar.js";
import "./extras/styles.js";

export default {
  name: "UserMenu",
  components: { UserAvatar },
  props: { size: { type: Number, default: 36 } },
  setup() {
    const me = computed(() => state.me || { user_id: client.userId, display_name: client.userId });
    const notif = computed(() => notificationStatus());
    const myStatus = computed(() => state.presence[me.value.user_id] || { status: "online", text: "" });
    // What the dot says: the chosen status only while the socket is up. Under the
    // offline banner nobody sees us online, so a green dot would lie (issue 11, defect 7).
    const linkDown = computed(() => {
      const s = state.connection;
      if (s === "open") return null;
      return s === "connecting" || s === "reconnecting" || s === "idle" ? "connecting" : "offline";
    });
    const dotStatus = computed(() => linkDown.value || myStatus.value.status);
    const dotLabel = computed(() => t(linkDown.value === "connecting" ? "presence.connecting" : `presence.${dotStatus.value}`));
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
      } else if (cmd.startsWith("status:")) {
        try {
          await setMyPresence(cmd.slice(7), myStatus.value.text);
        } catch (error) {
          ElMessage.error(describeError(error));
        }
      } else if (cmd === "statusText") {
        let value;
        try {
          ({ value } = await ElMessageBox.prompt(t("status.textPrompt"), t("status.text"), {
            inputValue: myStatus.value.text, confirmButtonText: t("common.ok"), cancelButtonText: t("common.cancel"),
            inputValidator: (v) => (v || "").length <= 100 || t("status.tooLong"),
          }));
        } catch {
          return;
        }
        try {
          const st = myStatus.value.status === "offline" ? "online" : myStatus.value.status;
          await setMyPresence(st, (value || "").trim());
        } catch (error) {
          ElMessage.error(describeError(error));
        }
      } else if (cmd === "profile") {
        ui.dialog = "profile";
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
    return { me, t, onCommand, notif, notifLabel, state, myStatus, dotStatus, dotLabel, statuses: ['online', 'busy', 'away'] };
  },
  template: `
    <el-dropdown trigger="click" @command="onCommand" placement="right-start" popper-class="user-menu-popper">
      <button class="avatar-btn" type="button" :aria-label="t('nav.menu')" data-testid="user-menu">
        <user-avatar :id="me.user_id" :name="me.display_name || me.user_id" :size="size" />
        <span class="presence-dot my-dot" :class="'p-' + dotStatus" :title="dotLabel" data-testid="my-presence" :data-status="dotStatus"></span>
      </button>
      <template #dropdown>
        <div class="user-card">
          <user-avatar :id="me.user_id" :name="me.display_name || me.user_id" :size="44" />
          <div class="user-card-text">
            <div class="user-card-name">{{ me.display_name || me.user_id }}<span v-if="state.restricted" class="customer-tag" data-testid="customer-tag">{{ t('customer.badge') }}</span></div>
            <div class="user-card-id">@{{ me.user_id }}</div>
            <div class="user-card-id" data-testid="my-status-text"><span class="presence-dot inline" :class="'p-' + dotStatus"></span>{{ dotLabel }}<template v-if="myStatus.text"> · {{ myStatus.text }}</template></div>
          </div>
        </div>
        <el-dropdown-menu>
          <el-dropdown-item v-for="st in statuses" :key="st" :command="'status:' + st" :data-testid="'status-' + st">
            <span class="presence-dot inline" :class="'p-' + st"></span>{{ t('presence.' + st) }}<el-icon v-if="myStatus.status === st" class="status-check"><icon-check /></el-icon>
          </el-dropdown-item>
          <el-dropdown-item command="statusText" data-testid="status-text">{{ t('status.text') }}…</el-dropdown-item>
          <el-dropdown-item command="profile" divided data-testid="menu-profile">{{ t('menu.profile') }}…</el-dropdown-item>
          <el-dropdown-item divided command="notify" :disabled="notif === 'unsupported' || notif === 'blocked'" data-testid="menu-notify">
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
