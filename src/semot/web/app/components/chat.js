// The chat pane: header (title, typing…), the message log (components/message-list.js:
// a virtual list with day separators, the unread divider and infinite scroll upwards),
// and the composer.
import { computed, ref } from "vue";
import { t } from "../i18n.js";
import { closeConv, client, convTitle, displayName, state } from "../store.js";
import UserAvatar from "./avatar.js";
import MessageList from "./message-list.js";
import ComposerBox from "./composer.js";
import GroupPanel from "./group-panel.js";
import GroupBanner from "./group-banner.js"; // W1: announcement banner, join requests
import { openSearch } from "../stores/search.js"; // issue 13: search in this chat

export default {
  name: "ChatView",
  components: { UserAvatar, MessageList, ComposerBox, GroupPanel, GroupBanner },
  props: { conv: { type: Object, required: true } },
  setup(props) {
    const panel = ref(false);

    const title = computed(() => convTitle(props.conv));
    const typing = computed(() => props.conv.typingUntil > state.now);
    const subtitle = computed(() => {
      if (typing.value) return t("chat.typing");
      if (props.conv.type === "group") {
        const n = props.conv.memberCount || props.conv.members.length;
        return n ? t("chat.members", { n }) : t("list.group");
      }
      return `@${props.conv.peer}`;
    });

    const connected = computed(() => state.connection === "open");
    return {
      panel, title, subtitle, typing, closeConv, state, t, displayName, connected, client, openSearch,
    };
  },
  template: `
    <section class="chat" :aria-label="title" data-testid="chat" :data-conv="conv.id">
      <header class="chat-head">
        <el-button v-if="state.narrow" class="back-btn" text circle :aria-label="t('chat.backToList')" @click="closeConv" data-testid="back">
          <el-icon :size="20"><icon-arrow-left /></el-icon>
        </el-button>
        <user-avatar :id="conv.peer || conv.id" :name="title" :group="conv.type === 'group'" :size="36" class="chat-head-avatar" />
        <div class="chat-title">
          <h2 data-testid="chat-title">{{ title }}</h2>
          <span class="chat-sub" :class="{ typing }" data-testid="chat-sub" aria-live="polite">{{ subtitle }}</span>
        </div>
        <el-button class="chat-search-btn" text circle :aria-label="t('search.inChat')" :title="t('search.inChat')" @click="openSearch(conv.id)" data-testid="chat-search">
          <el-icon :size="19"><icon-search /></el-icon>
        </el-button>
        <el-button v-if="conv.type === 'group'" class="chat-info-btn" text circle :aria-label="t('group.info')" :title="t('group.info')" @click="panel = true" data-testid="group-info">
          <el-icon :size="20"><icon-more-filled /></el-icon>
        </el-button>
      </header>
      <group-panel v-if="conv.type === 'group' && panel" v-model="panel" :conv="conv" />
      <group-banner v-if="conv.type === 'group'" :conv="conv" />
      <message-list :conv="conv" />
      <composer-box :conv="conv" />
    </section>`,
};
