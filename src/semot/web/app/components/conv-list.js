// The conversation list: search, new chat / new group, and one row per conversation
// (avatar, title, time, preview, unread badge): pinned ones first, then by recent
// activity; hidden ones left out until their next message (stores/conversations.js).
//
// Each row has a menu (pin, do not disturb, hide / remove): right-click on a desktop,
// a long press on a touch screen, the context-menu key or Shift+F10 from the keyboard.
// The menu is a list of buttons (role menu / menuitem) moved through with the arrow keys;
// Escape closes it and gives the focus back to the row.
import { computed, nextTick, reactive } from "vue";
import { ElMessage } from "element-plus";
import { ChatLineSquare, MuteNotification, Top } from "@element-plus/icons-vue";
import { t } from "../i18n.js";
import { convTitle, describeError, openConv, previewText, state, ui } from "../store.js";
import { canConfigure, hideConv, isDnd, pinnedAt, setDnd, setPinned, visibleConvs } from "../stores/conversations.js";
import { shortTime } from "../util.js";
import UserAvatar from "./avatar.js";
import UserMenu from "./user-menu.js";
import GroupRequestsBadge from "./group-requests-badge.js"; // W1: join requests waiting
import { openSearch } from "../stores/search.js"; // issue 13: search messages in every chat
import { contactSupport, customerMode } from "../stores/customer.js"; // visitors and customers: no '+' menu

const CSS = "/web/app/components/conv-list.css";
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

const LONG_PRESS_MS = 500;
const MOVE_TOLERANCE = 10; // px a finger may drift before a long press becomes a scroll
const MENU_W = 200; // px, for keeping the menu inside the window
const MENU_H = 140;

export default {
  name: "ConvList",
  components: { UserAvatar, UserMenu, GroupRequestsBadge, IconPinned: Top, IconMuted: MuteNotification, IconMsgSearch: ChatLineSquare },
  setup() {
    const rows = computed(() =>
      visibleConvs().map((c) => ({
        c,
        title: convTitle(c),
        preview: previewText(c),
        time: shortTime(Math.max(c.lastTs || 0, c.pending.length ? c.pending[c.pending.length - 1].ts : 0), state.today),
        failed: c.pending.some((p) => p.status === "failed"),
        sending: c.pending.length > 0,
        pinned: pinnedAt(c.id) !== null,
        dnd: isDnd(c.id),
      })),
    );
    const empty = computed(() => Object.keys(state.convs).length === 0 || !rows.value.length);

    function rowLabel(r) {
      const parts = [r.title];
      if (r.pinned) parts.push(t("convMenu.pinnedState"));
      if (r.dnd) parts.push(t("convMenu.mutedState"));
      if (r.c.unread) parts.push(t("list.unread", { n: r.c.unread }));
      return parts.join(", ");
    }

    function onCommand(cmd) {
      ui.dialog = cmd;
    }

    // --- the row menu
    const menu = reactive({ open: false, id: null, x: 0, y: 0, busy: false });
    const menuConv = computed(() => (menu.id ? state.convs[menu.id] : null));
    const menuPinned = computed(() => !!menu.id && pinnedAt(menu.id) !== null);
    const menuDnd = computed(() => !!menu.id && isDnd(menu.id));
    const menuTitle = computed(() => (menuConv.value ? convTitle(menuConv.value) : ""));
    let opener = null; // the row to give the focus back to

    function openMenu(id, x, y, from) {
      opener = from || null;
      menu.id = id;
      menu.x = Math.max(4, Math.min(x, window.innerWidth - MENU_W - 4));
      menu.y = Math.max(4, Math.min(y, window.innerHeight - MENU_H - 4));
      menu.open = true;
      nextTick(() => {
        const first = document.querySelector("[data-testid=conv-menu] [role=menuitem]");
        if (first) first.focus();
      });
    }

    function closeMenu(refocus = false) {
      menu.open = false;
      if (refocus && opener && opener.isConnected) opener.focus();
      opener = null;
    }

    function onContextMenu(e, id) {
      e.preventDefault();
      openMenu(id, e.clientX, e.clientY, e.currentTarget);
    }

    // a long press on a touch screen (Android also fires contextmenu: the menu opens once)
    let press = null;
    let pressed = false; // the long press opened the menu: the click that follows is not an "open"
    function onTouchStart(e, id) {
      if (e.touches.length !== 1) return;
      const { clientX: x, clientY: y } = e.touches[0];
      const target = e.currentTarget;
      cancelPress();
      pressed = false;
      press = { x, y, timer: setTimeout(() => {
        press = null;
        pressed = true;
        openMenu(id, x, y, target);
      }, LONG_PRESS_MS) };
    }
    function onTouchMove(e) {
      if (!press || !e.touches.length) return;
      const { clientX: x, clientY: y } = e.touches[0];
      if (Math.abs(x - press.x) > MOVE_TOLERANCE || Math.abs(y - press.y) > MOVE_TOLERANCE) cancelPress();
    }
    function cancelPress() {
      if (press) clearTimeout(press.timer);
      press = null;
    }

    function onClick(id) {
      if (pressed) {
        pressed = false;
        return;
      }
      openConv(id);
    }

    function onKey(e, id) {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        openConv(id);
      } else if (e.key === "ContextMenu" || (e.key === "F10" && e.shiftKey)) {
        e.preventDefault();
        const box = e.currentTarget.getBoundingClientRect();
        openMenu(id, box.left + 24, box.top + box.height / 2, e.currentTarget);
      }
    }

    function onMenuKey(e) {
      const items = [...document.querySelectorAll("[data-testid=conv-menu] [role=menuitem]")];
      const i = items.indexOf(document.activeElement);
      let next = null;
      if (e.key === "ArrowDown") next = items[(i + 1) % items.length];
      else if (e.key === "ArrowUp") next = items[(i - 1 + items.length) % items.length];
      else if (e.key === "Home") next = items[0];
      else if (e.key === "End") next = items[items.length - 1];
      else if (e.key === "Escape") {
        e.preventDefault();
        closeMenu(true);
        return;
      } else if (e.key === "Tab") {
        closeMenu(false);
        return;
      }
      if (next) {
        e.preventDefault();
        next.focus();
      }
    }

    async function act(what) {
      const c = menuConv.value;
      if (!c || menu.busy) return;
      menu.busy = true;
      try {
        if (what === "pin") await setPinned(c, !menuPinned.value);
        else if (what === "dnd") await setDnd(c, !menuDnd.value);
        else await hideConv(c);
        closeMenu(what !== "hide");
      } catch (error) {
        ElMessage.error(describeError(error));
        closeMenu(true);
      } finally {
        menu.busy = false;
      }
    }

    return {
      rows, empty, state, t, rowLabel, onCommand, onKey, onClick, onContextMenu, onTouchStart, onTouchMove, cancelPress,
      menu, menuConv, menuPinned, menuDnd, menuTitle, canConfigure, closeMenu, onMenuKey, act, openSearch,
      customerMode, contactSupport,
    };
  },
  template: `
    <div class="conv-list-wrap">
      <div class="sidebar-head">
        <user-menu v-if="state.narrow" :size="34" />
        <h1 v-if="state.narrow" class="sidebar-title">{{ t('nav.chats') }}</h1>
        <el-input v-model="state.search" :placeholder="t('list.search')" :aria-label="t('list.searchLabel')" clearable class="conv-search" data-testid="conv-search">
          <template #prefix><el-icon><icon-search /></el-icon></template>
        </el-input>
        <el-button class="new-btn" :aria-label="t('search.open')" :title="t('search.open')" data-testid="msg-search" @click="openSearch(null)"><el-icon><icon-msg-search /></el-icon></el-button>
        <el-button v-if="customerMode()" type="primary" plain class="customer-contact" :title="t('customer.contactHint')"
                   @click="contactSupport" data-testid="cs-contact">{{ t('customer.contact') }}</el-button>
        <el-dropdown v-else trigger="click" @command="onCommand">
          <el-button class="new-btn" :aria-label="t('list.new')" data-testid="new-menu"><el-icon><icon-plus /></el-icon></el-button>
          <template #dropdown>
            <el-dropdown-menu>
              <el-dropdown-item command="newChat" data-testid="new-chat"><el-icon><icon-user /></el-icon>{{ t('list.newChat') }}</el-dropdown-item>
              <el-dropdown-item command="newGroup" data-testid="new-group"><el-icon><icon-user-filled /></el-icon>{{ t('list.newGroup') }}</el-dropdown-item>
              <el-dropdown-item command="findGroup" data-testid="find-group"><el-icon><icon-search /></el-icon>{{ t('list.findGroup') }}</el-dropdown-item>
            </el-dropdown-menu>
          </template>
        </el-dropdown>
      </div>
      <ul v-show="!empty" class="conv-list" role="list" :aria-label="t('nav.chats')" data-testid="conv-list">
        <li v-for="r in rows" :key="r.c.id" role="listitem">
          <div class="conv-item" :class="{ active: r.c.id === state.activeId, pinned: r.pinned }" role="button" tabindex="0"
               :aria-current="r.c.id === state.activeId ? 'true' : undefined"
               :aria-label="rowLabel(r)" aria-keyshortcuts="Shift+F10"
               :data-conv="r.c.id" :data-pinned="r.pinned ? 'true' : 'false'" :data-dnd="r.dnd ? 'true' : 'false'" data-testid="conv-item"
               @click="onClick(r.c.id)" @keydown="onKey($event, r.c.id)" @contextmenu="onContextMenu($event, r.c.id)"
               @touchstart.passive="onTouchStart($event, r.c.id)" @touchmove.passive="onTouchMove" @touchend="cancelPress" @touchcancel="cancelPress">
            <el-badge :value="r.c.unread" :hidden="!r.c.unread" :max="99" :type="r.dnd ? 'info' : 'danger'"
                      class="conv-badge" :class="{ muted: r.dnd }" data-testid="unread-badge">
              <user-avatar :id="r.c.peer || r.c.id" :name="r.title" :group="r.c.type === 'group'" :size="44" />
            </el-badge>
            <div class="conv-body">
              <div class="conv-top">
                <span class="conv-title" data-testid="conv-title">{{ r.title }}</span>
                <group-requests-badge :conv="r.c.id" />
                <el-icon v-if="r.pinned" class="conv-flag" :title="t('convMenu.pinnedState')" data-testid="conv-pinned"><icon-pinned /></el-icon>
                <span class="conv-time">{{ r.time }}</span>
              </div>
              <div class="conv-preview">
                <el-icon v-if="r.failed" class="conv-failed"><icon-warning-filled /></el-icon>
                <el-icon v-else-if="r.sending" class="conv-sending"><icon-clock /></el-icon>
                <span v-if="r.c.mentioned" class="conv-mention">{{ t('list.mentioned') }}</span>
                <span v-else-if="r.c.draft && r.c.id !== state.activeId" class="conv-mention">{{ t('list.draft') }}</span>
                <span class="conv-preview-text" data-testid="conv-preview">{{ r.c.draft && r.c.id !== state.activeId ? r.c.draft : r.preview }}</span>
                <el-icon v-if="r.dnd" class="conv-flag conv-muted" :title="t('convMenu.mutedState')" data-testid="conv-dnd"><icon-muted /></el-icon>
              </div>
            </div>
          </div>
        </li>
      </ul>
      <div v-if="empty" class="conv-empty">
        <template v-if="state.search">{{ t('list.noResults') }}</template>
        <template v-else-if="customerMode()">
          <p>{{ t('customer.empty') }}</p>
          <p class="conv-empty-hint">{{ t('customer.emptyHint') }}</p>
        </template>
        <template v-else>
          <p>{{ t('list.empty') }}</p>
          <p class="conv-empty-hint">{{ t('list.emptyHint') }}</p>
        </template>
      </div>
      <teleport to="body">
        <div v-if="menu.open && menuConv" class="conv-menu-backdrop" @click="closeMenu(true)" @contextmenu.prevent="closeMenu(true)"></div>
        <div v-if="menu.open && menuConv" class="conv-menu" role="menu" :aria-label="t('convMenu.label', { name: menuTitle })"
             :style="{ left: menu.x + 'px', top: menu.y + 'px' }" :data-conv="menuConv.id" data-testid="conv-menu" @keydown="onMenuKey">
          <template v-if="canConfigure(menuConv)">
            <button type="button" role="menuitem" class="conv-menu-item" :disabled="menu.busy" data-testid="conv-menu-pin" @click="act('pin')">
              <el-icon><icon-pinned /></el-icon>{{ menuPinned ? t('convMenu.unpin') : t('convMenu.pin') }}
            </button>
            <button type="button" role="menuitem" class="conv-menu-item" :disabled="menu.busy" data-testid="conv-menu-dnd" @click="act('dnd')">
              <el-icon><icon-muted /></el-icon>{{ menuDnd ? t('convMenu.unmute') : t('convMenu.mute') }}
            </button>
          </template>
          <button type="button" role="menuitem" class="conv-menu-item" :disabled="menu.busy" data-testid="conv-menu-hide" @click="act('hide')">
            <el-icon><icon-delete /></el-icon>{{ canConfigure(menuConv) ? t('convMenu.hide') : t('convMenu.remove') }}
          </button>
        </div>
      </teleport>
    </div>`,
};
