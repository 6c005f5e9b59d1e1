// The signed-in layout: navigation rail, conversation list, chat pane, connection
// banner and dialogs. On narrow screens the list and the chat take turns.
import { computed } from "vue";
import { t } from "../i18n.js";
import { state, totalUnread, ui } from "../store.js";
import UserAvatar from "./avatar.js";
import UserMenu from "./user-menu.js";
import ConnBanner from "./banner.js";
import ConvList from "./conv-list.js";
import ContactsView from "./contacts.js";
import DirectoryView from "./directory.js";
import ChatView from "./chat.js";
import ProfileDialog from "./profile-dialog.js";
import { H5PageNav, H5PageView } from "./h5-pages.js";
import ClientWatermark from "./watermark.js";
import SearchPanel from "./search/search-panel.js"; // issue 13: message search
import { ServiceNav, ServiceView } from "./service/workbench.js"; // issue 15: the customer-service workbench
import { customerMode } from "../stores/customer.js"; // visitors and customers: customer service only
import { AboutDialog, CardDialog, FindGroupDialog, LocationDialog, NewChatDialog, NewGroupDialog } from "./dialogs.js";

export default {
  name: "ShellView",
  components: { ServiceNav, ServiceView, SearchPanel, H5PageNav, H5PageView, ClientWatermark, UserAvatar, ConnBanner, ConvList, ContactsView, DirectoryView, ChatView, UserMenu, NewChatDialog, NewGroupDialog, FindGroupDialog, LocationDialog, CardDialog, AboutDialog, ProfileDialog },
  setup() {
    const unread = computed(() => totalUnread());
    const activeConv = computed(() => (state.activeId ? state.convs[state.activeId] : null));
    const requests = computed(() => state.contacts.requests.incoming.length);
    const pageTab = computed(() => String(state.tab).startsWith("h5:") || state.tab === "service"); // an H5 page (h5-pages.js) or the workbench is open
    const staff = computed(() => !customerMode()); // contacts, directory, apps, workbench: not for customers
    return { state, ui, t, unread, activeConv, requests, pageTab, staff };
  },
  template: `
    <div class="shell" :class="{ narrow: state.narrow, 'chat-open': !!state.activeId }">
      <conn-banner />
      <div class="shell-body">
        <nav class="rail" :aria-label="t('nav.chats')">
          <user-menu :size="38" />
          <button class="rail-item" :class="{ active: state.tab === 'chats' }" type="button" :aria-label="t('nav.chats')" :aria-current="state.tab === 'chats' ? 'page' : undefined" @click="state.tab = 'chats'" data-testid="nav-chats">
            <el-badge :value="unread" :hidden="!unread" :max="99" class="rail-badge">
              <el-icon :size="24"><icon-chat-dot-round /></el-icon>
            </el-badge>
            <span class="rail-label">{{ t('nav.chats') }}</span>
          </button>
          <template v-if="staff">
          <button class="rail-item" :class="{ active: state.tab === 'contacts' }" type="button" :aria-label="t('nav.contacts')" :aria-current="state.tab === 'contacts' ? 'page' : undefined" @click="state.tab = 'contacts'" data-testid="nav-contacts">
            <el-badge :value="requests" :hidden="!requests" :max="99" class="rail-badge">
              <el-icon :size="24"><icon-user /></el-icon>
            </el-badge>
            <span class="rail-label">{{ t('nav.contacts') }}</span>
          </button>
          <button class="rail-item" :class="{ active: state.tab === 'directory' }" type="button" :aria-label="t('nav.directory')" :aria-current="state.tab === 'directory' ? 'page' : undefined" @click="state.tab = 'directory'" data-testid="nav-directory">
            <el-icon :size="24"><icon-office-building /></el-icon>
            <span class="rail-label">{{ t('nav.directory') }}</span>
          </button>
          <service-nav variant="rail" />
          <h5-page-nav variant="rail" />
          </template>
          <div class="rail-spacer"></div>
          <a v-if="staff" class="rail-item" href="/docs" target="_blank" rel="noopener" :aria-label="t('menu.apiDocs')" :title="t('menu.apiDocs')">
            <el-icon :size="20"><icon-document /></el-icon>
          </a>
        </nav>
        <service-view v-if="staff && state.tab === 'service'" />
        <h5-page-view v-else-if="pageTab" />
        <section v-show="!pageTab" class="sidebar" :aria-label="pageTab ? '' : t('nav.' + state.tab)">
          <contacts-view v-if="staff && state.tab === 'contacts'" />
          <directory-view v-else-if="staff && state.tab === 'directory'" />
          <conv-list v-else />
          <nav v-if="state.narrow" class="tabbar" :aria-label="t('nav.menu')">
            <button type="button" :class="{ active: state.tab === 'chats' }" @click="state.tab = 'chats'" data-testid="tab-chats">
              <el-badge :value="unread" :hidden="!unread" :max="99"><el-icon :size="22"><icon-chat-dot-round /></el-icon></el-badge>
              <span>{{ t('nav.chats') }}</span>
            </button>
            <template v-if="staff">
            <button type="button" :class="{ active: state.tab === 'contacts' }" @click="state.tab = 'contacts'" data-testid="tab-contacts">
              <el-badge :value="requests" :hidden="!requests" :max="99"><el-icon :size="22"><icon-user /></el-icon></el-badge>
              <span>{{ t('nav.contacts') }}</span>
            </button>
            <button type="button" :class="{ active: state.tab === 'directory' }" @click="state.tab = 'directory'" data-testid="tab-directory">
              <el-icon :size="22"><icon-office-building /></el-icon>
              <span>{{ t('nav.directory') }}</span>
            </button>
            <service-nav variant="tabbar" />
            <h5-page-nav variant="tabbar" />
            </template>
          </nav>
        </section>
        <main v-show="!pageTab" class="chat-pane">
          <chat-view v-if="activeConv" :key="activeConv.id" :conv="activeConv" />
          <div v-else class="chat-empty">
            <svg viewBox="0 0 120 100" width="120" height="100" aria-hidden="true"><rect x="8" y="14" width="72" height="50" rx="12" fill="#dbe7ff"/><path d="M26 64l-8 16 22-16z" fill="#dbe7ff"/><rect x="44" y="34" width="68" height="44" rx="12" fill="#bcd3ff"/><path d="M96 78l8 14-20-14z" fill="#bcd3ff"/><circle cx="64" cy="56" r="4" fill="#fff"/><circle cx="78" cy="56" r="4" fill="#fff"/><circle cx="92" cy="56" r="4" fill="#fff"/></svg>
            <p class="chat-empty-title">{{ t('chat.empty') }}</p>
            <p class="chat-empty-hint">{{ t(staff ? 'chat.emptyHint' : 'customer.contactHint') }}</p>
          </div>
        </main>
      </div>
      <template v-if="staff">
        <new-chat-dialog />
        <new-group-dialog />
        <find-group-dialog />
        <card-dialog />
      </template>
      <location-dialog />
      <about-dialog />
      <profile-dialog />
      <search-panel />
      <client-watermark />
    </div>`,
};

