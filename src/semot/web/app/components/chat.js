// The chat pane: header (title, typing…), the message log with day separators and
// infinite scroll upwards, and the composer.
import { computed, nextTick, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { t } from "../i18n.js";
import { closeConv, client, convTitle, displayName, loadLatest, loadOlder, me, state } from "../store.js";
import { dayKey, dayLabel } from "../util.js";
import UserAvatar from "./avatar.js";
import MessageItem from "./message.js";
import ComposerBox from "./composer.js";
import GroupPanel from "./group-panel.js";

export default {
  name: "ChatView",
  components: { UserAvatar, MessageItem, ComposerBox, GroupPanel },
  props: { conv: { type: Object, required: true } },
  setup(props) {
    const scroller = ref(null);
    const atBottom = ref(true);
    const unseen = ref(0);
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

    // Messages + pending sends, with a day separator whenever the day changes.
    const items = computed(() => {
      const out = [];
      let lastDay = null;
      const push = (ts, entry) => {
        const d = dayKey(ts);
        if (d !== lastDay) {
          out.push({ type: "day", key: `day-${d}`, label: dayLabel(ts, state.today) });
          lastDay = d;
        }
        out.push(entry);
      };
      for (const m of props.conv.messages) {
        if (m.kind === "system" && m.body.type === "recalled") continue; // shown as the tombstone itself
        push(m.ts, { type: "msg", key: `s${m.seq}`, msg: m, pending: null });
      }
      for (const p of props.conv.pending) {
        push(p.ts, { type: "msg", key: `c${p.cid}`, msg: { ...p, from: me(), seq: 0 }, pending: p });
      }
      return out;
    });

    const lastKey = computed(() => {
      const list = items.value;
      return list.length ? list[list.length - 1].key : "";
    });

    function nearBottom() {
      const el = scroller.value;
      return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    }

    function scrollToBottom() {
      const el = scroller.value;
      if (el) el.scrollTop = el.scrollHeight;
      unseen.value = 0;
      atBottom.value = true;
    }

    // New messages at the end: follow them if the reader was at the bottom.
    watch(lastKey, async () => {
      const follow = atBottom.value; // where the reader was before this render
      await nextTick();
      const last = items.value[items.value.length - 1];
      const mine = last && last.msg && last.msg.from === me();
      if (follow || mine) scrollToBottom();
      else unseen.value += 1;
    });

    let anchoring = false;
    async function maybeLoadOlder() {
      const el = scroller.value;
      if (!el || anchoring || !props.conv.hasMoreBefore || props.conv.loadingOlder) return;
      if (el.scrollTop > 120) return;
      anchoring = true;
      const before = el.scrollHeight;
      const top = el.scrollTop;
      try {
        const got = await loadOlder(props.conv);
        await nextTick();
        if (got) el.scrollTop = el.scrollHeight - before + top;
      } finally {
        anchoring = false;
      }
      // still no scrollbar (or still at the top)? keep filling
      if (el.scrollHeight <= el.clientHeight + 10 && props.conv.hasMoreBefore) maybeLoadOlder();
    }

    function onScroll() {
      atBottom.value = nearBottom();
      if (atBottom.value) unseen.value = 0;
      maybeLoadOlder();
    }

    async function init() {
      if (!props.conv.loaded) await loadLatest(props.conv);
      await nextTick();
      scrollToBottom();
      maybeLoadOlder();
    }

    onMounted(init);
    watch(() => props.conv.loaded, (v) => v && nextTick().then(() => {
      scrollToBottom();
      maybeLoadOlder();
    }));

    // Keep the bottom in view when the on-screen keyboard or the composer resizes the log.
    let ro = null;
    onMounted(() => {
      if (typeof ResizeObserver === "function" && scroller.value) {
        ro = new ResizeObserver(() => {
          if (atBottom.value) scrollToBottom();
        });
        ro.observe(scroller.value);
      }
    });
    onBeforeUnmount(() => ro && ro.disconnect());

    const connected = computed(() => state.connection === "open");
    return {
      scroller, panel, items, title, subtitle, typing, unseen, onScroll, scrollToBottom, closeConv, state, t, displayName, connected, client,
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
        <el-button v-if="conv.type === 'group'" class="chat-info-btn" text circle :aria-label="t('group.info')" :title="t('group.info')" @click="panel = true" data-testid="group-info">
          <el-icon :size="20"><icon-more-filled /></el-icon>
        </el-button>
      </header>
      <group-panel v-if="conv.type === 'group' && panel" v-model="panel" :conv="conv" />
      <div class="msgs" ref="scroller" role="log" :aria-label="t('chat.messages')" aria-live="polite" @scroll.passive="onScroll" data-testid="messages">
        <div class="msgs-top">
          <span v-if="conv.loadingOlder" class="older-status"><el-icon class="is-loading"><icon-loading /></el-icon> {{ t('chat.loadingOlder') }}</span>
          <span v-else-if="conv.loaded && !conv.hasMoreBefore && conv.messages.length" class="older-status">{{ t('chat.noMore') }}</span>
        </div>
        <div v-if="!conv.loaded && !conv.pending.length" class="msgs-placeholder">
          <template v-if="conv.loading || connected"><el-icon class="is-loading"><icon-loading /></el-icon> {{ t('chat.loading') }}</template>
          <template v-else>{{ t('chat.waiting') }}</template>
        </div>
        <div v-else-if="!items.length" class="msgs-placeholder">{{ t('chat.noMessages') }}</div>
        <template v-for="item in items" :key="item.key">
          <div v-if="item.type === 'day'" class="day-sep" role="separator"><span>{{ item.label }}</span></div>
          <message-item v-else :msg="item.msg" :conv="conv" :pending="item.pending" />
        </template>
      </div>
      <transition name="fade">
        <button v-if="unseen" class="jump-new" type="button" @click="scrollToBottom" :aria-label="t('chat.scrollBottom')">
          {{ t('chat.newMessages') }} ({{ unseen }}) ↓
        </button>
      </transition>
      <composer-box :conv="conv" />
    </section>`,
};
