// The message log of a chat as a virtual list: only the rows in and near the viewport
// are in the DOM (a few dozen, whatever the history's length), the rest is padding whose
// height comes from measured (or estimated) row heights. Why: a log of thousands of rows
// made every new message take up to 1.35 s to appear (issue 11, defect 2).
//
// Scroll position is kept as an anchor (a row's key + how far the viewport's top is below
// that row's top), not as a pixel offset: whatever changes above it (an older page
// prepended, an image loaded, a row measured for the first time), the anchor row stays
// where the reader sees it. At the bottom, the list sticks to the bottom instead.
//
// Also: the "New messages" divider above the first message unread when the chat was
// opened, a button to jump to it (loading history as needed), and a jump-to-bottom
// button counting what arrived while the reader was scrolled up.
import { computed, nextTick, onBeforeUnmount, onMounted, onUpdated, reactive, ref, shallowRef, toRaw, watch } from "vue";
import { t } from "../i18n.js";
import { loadLatest, loadOlder, me, state } from "../store.js";
import { dayLabel } from "../util.js";
import MessageItem from "./message.js";
import { dayOf, layout, rowAt, windowOf } from "./message-list-core.js";
import SelectionBar from "./forward/selection-bar.js"; // multi-select: state in stores/selection.js
import BundleViewer from "./forward/bundle-viewer.js";
import { closeBundles } from "../stores/bundles.js";
import { canSelect, endSelect, isPicked, isSelecting, MAX_SELECTED, togglePick } from "../stores/selection.js";
import { ElMessage } from "element-plus";
import { backToLatest, leaveDetached, loadNewer, pagedIn } from "../stores/search.js"; // a window around a search hit

// The list's stylesheet, linked once (app.css stays as it is).
const CSS = "/web/app/components/message-list.css";
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

const OVERSCAN = 700; // px rendered beyond each edge of the viewport
const OVERSCAN_ROWS = 25; // and at least this many rows
const STEP = 8; // the rendered window moves by this many rows
const NEAR_BOTTOM = 80; // px: closer than this to the end counts as "at the bottom"
const DIVIDER_KEY = "unread-divider";

// The mounted list of each conversation, for revealMessage().
const mounted = new Map();

/** Scroll the open chat to message `seq`, loading older pages as needed, and flash it.
 * Resolves to false when the chat is not open or the message is not in its history
 * (for the reply/quote feature: a click on a quote scrolls to the original). */
export function revealMessage(convId, seq) {
  const list = mounted.get(convId);
  return list ? list.reveal(seq) : Promise.resolve(false);
}

export default {
  name: "MessageList",
  components: { MessageItem, SelectionBar, BundleViewer },
  props: { conv: { type: Object, required: true } },
  setup(props) {
    const conv = props.conv;
    const scroller = ref(null);
    const list = ref(null);
    const heights = new Map(); // row key -> measured px (not reactive: `measured` is)
    const measured = ref(0);
    const viewH = ref(600);
    const stick = ref(true);
    const anchor = shallowRef(null); // { key, delta } while not stuck to the bottom
    const unseen = ref(0);
    const farFromBottom = ref(false);
    const flashKey = ref("");
    let lastTop = 0; // the viewport's top at the last scroll event, in list pixels

    // Unread when opened: the divider goes above the first message after readSeq that
    // someone else sent; the count is what the conversation list showed.
    const openUnread = conv.unread;
    const dividerAfter = openUnread > 0 ? conv.readSeq : null;
    const dividerSeen = ref(dividerAfter === null);

    function isUnread(m) {
      return dividerAfter !== null && m.seq > dividerAfter && m.from !== me() && m.kind !== "system";
    }

    // Rows: messages and pending sends, a day separator whenever the day changes, the divider.
    const entries = new WeakMap(); // message -> its row entry, made once (not at every push)
    const items = computed(() => {
      const out = [];
      let lastDay = null;
      let divider = dividerAfter !== null;
      const push = (ts, entry, unread) => {
        const d = typeof entry.msg.seq === "number" && entry.msg.seq > 0 ? dayOf(entry.msg) : dayOf(entry.pending);
        if (d !== lastDay) {
          out.push({ type: "day", key: `day-${d}`, label: dayLabel(ts, state.today) });
          lastDay = d;
        }
        if (divider && unread) {
          out.push({ type: "unread", key: DIVIDER_KEY });
          divider = false;
        }
        out.push(entry);
      };
      // Any change to the window (push, prepend, a message replaced) re-runs this: an
      // instrumented search subscribes to the whole array at once. The loop then reads
      // the plain objects: tracking 10,000 messages' fields at every push would cost more
      // than the rest of a push (the rows themselves get the reactive message).
      conv.messages.includes(null);
      for (const m of toRaw(conv.messages)) {
        if (m.kind === "system" && m.body.type === "recalled") continue; // shown as the tombstone itself
        let entry = entries.get(m);
        if (!entry) {
          entry = { type: "msg", key: `s${m.seq}`, msg: m, pending: null };
          entries.set(m, entry);
        }
        push(m.ts, entry, isUnread(m));
      }
      for (const p of conv.pending) {
        push(p.ts, { type: "msg", key: `c${p.cid}`, msg: { ...p, from: me(), seq: 0 }, pending: p }, false);
      }
      return out;
    });

    const index = computed(() => {
      const m = new Map();
      items.value.forEach((it, i) => m.set(it.key, i));
      return m;
    });

    const offsets = computed(() => {
      measured.value; // eslint-disable-line no-unused-expressions
      return layout(items.value, heights);
    });

    /** Where the viewport's top is, in list pixels, as the anchor or stickiness says. */
    function intendedTop() {
      const o = offsets.value;
      const total = o[o.length - 1];
      if (stick.value || !anchor.value) return Math.max(0, total - viewH.value);
      const i = index.value.get(anchor.value.key);
      if (i === undefined) return lastTop; // the row went (a send acknowledged): stay put
      return o[i] + anchor.value.delta;
    }

    // [start, end) packed in one number, so that renders follow only real window moves.
    const span = computed(() => {
      const o = offsets.value;
      const n = o.length - 1;
      const [s, e] = windowOf(o, intendedTop(), viewH.value, OVERSCAN, STEP, OVERSCAN_ROWS);
      return s * 1048576 + (stick.value ? n : e);
    });
    const start = computed(() => Math.floor(span.value / 1048576));
    const end = computed(() => span.value % 1048576);
    const visible = computed(() => items.value.slice(start.value, end.value)
      .map((it) => (it.type === "msg" && !it.pending ? { ...it, msg: reactive(it.msg) } : it)));
    const padTop = computed(() => offsets.value[start.value] || 0);
    const padBottom = computed(() => {
      const o = offsets.value;
      return Math.max(0, o[o.length - 1] - (o[end.value] || 0));
    });

    function listTop() {
      return list.value ? list.value.offsetTop : 0;
    }

    /** Record the heights of the rendered rows; true when one changed. */
    function measure() {
      const el = list.value;
      if (!el) return false;
      let changed = false;
      for (const row of el.children) {
        const key = row.dataset.key;
        if (!key) continue;
        const h = row.getBoundingClientRect().height;
        if (Math.abs((heights.get(key) ?? -1) - h) > 0.25) {
          heights.set(key, h);
          changed = true;
        }
      }
      if (changed) measured.value += 1;
      return changed;
    }

    /** Put the scroll position where the anchor (or the bottom) says. */
    function fix() {
      const el = scroller.value;
      if (!el) return;
      if (stick.value) {
        const want = el.scrollHeight - el.clientHeight;
        if (Math.abs(el.scrollTop - want) > 0.5) el.scrollTop = want;
      } else if (anchor.value) {
        const want = listTop() + intendedTop();
        if (Math.abs(el.scrollTop - want) > 0.5) el.scrollTop = want;
      }
      checkDivider();
    }

    function relayout() {
      measure();
      fix();
    }

    function checkDivider() {
      if (dividerSeen.value) return;
      const i = index.value.get(DIVIDER_KEY);
      if (i === undefined) return;
      const el = scroller.value;
      const top = el ? el.scrollTop - listTop() : intendedTop();
      const y = offsets.value[i];
      if (y >= top - 4 && y <= top + viewH.value) dividerSeen.value = true;
    }

    let older = false;
    async function maybeLoadOlder() {
      if (older || !conv.hasMoreBefore || conv.loadingOlder || !conv.loaded) return;
      const el = scroller.value;
      if (!el || el.scrollTop - listTop() > Math.max(1200, 2 * viewH.value)) return;
      older = true;
      try {
        await loadOlder(conv); // the anchor keeps the reader's rows in place
      } finally {
        older = false;
      }
      await nextTick();
      maybeLoadOlder();
    }

    function onScroll() {
      const el = scroller.value;
      if (!el) return;
      const top = el.scrollTop - listTop();
      const o = offsets.value;
      const list_ = items.value;
      lastTop = top;
      if (list_.length) {
        // anchor on a message (a day separator's row moves when older rows of its day come)
        let i = rowAt(o, top);
        for (let j = i; j < Math.min(list_.length, i + 4); j += 1) {
          if (list_[j].type === "msg") {
            i = j;
            break;
          }
        }
        const a = anchor.value;
        if (!a || a.key !== list_[i].key || Math.abs(a.delta - (top - o[i])) > 0.5) {
          anchor.value = { key: list_[i].key, delta: top - o[i] };
        }
      }
      const gap = el.scrollHeight - el.scrollTop - el.clientHeight;
      stick.value = gap < NEAR_BOTTOM && !conv.hasMoreAfter;
      farFromBottom.value = gap > el.clientHeight;
      if (stick.value) unseen.value = 0;
      checkDivider();
      maybeLoadOlder();
      if (conv.hasMoreAfter && gap < Math.max(1200, 2 * el.clientHeight)) loadNewer(conv);
    }

    function scrollToBottom() {
      if (conv.hasMoreAfter) {
        backToLatest(conv); // the latest messages replace the window around a search hit
        return;
      }
      stick.value = true;
      unseen.value = 0;
      farFromBottom.value = false;
      fix();
    }

    /** Show row `key` near the top of the viewport. */
    async function showKey(key, margin = 56) {
      stick.value = false;
      anchor.value = { key, delta: -margin };
      farFromBottom.value = true;
      await nextTick();
      relayout();
      await nextTick();
      relayout(); // rows measured on the way in may have moved it
    }

    /** Load older pages until message `seq` is in the window (or the history ends). */
    async function loadUntil(seq) {
      for (let guard = 0; guard < 1000; guard += 1) {
        const first = conv.messages[0];
        if ((first && first.seq <= seq) || !conv.hasMoreBefore) return;
        if (conv.loadingOlder) {
          await new Promise((r) => setTimeout(r, 30));
          continue;
        }
        if (!(await loadOlder(conv)) && !conv.loadingOlder) return;
      }
    }

    async function jumpToUnread() {
      await loadUntil(dividerAfter + 1);
      await showKey(DIVIDER_KEY);
      dividerSeen.value = true;
    }

    async function reveal(seq) {
      await loadUntil(seq);
      const key = `s${seq}`;
      if (!index.value.has(key)) return false;
      await showKey(key, Math.max(56, viewH.value / 3));
      flashKey.value = key;
      setTimeout(() => {
        if (flashKey.value === key) flashKey.value = "";
      }, 1600);
      return true;
    }

    // New rows at the end: stay at the bottom if the reader was there, or if I sent them.
    const lastKey = computed(() => {
      const l = items.value;
      return l.length ? l[l.length - 1].key : "";
    });
    watch(lastKey, (key, prev) => {
      if (!prev || !key) return;
      const last = items.value[items.value.length - 1];
      if (pagedIn(conv, last.msg)) return; // loaded by scrolling down, not a new message
      if (last.msg && last.msg.from === me()) stick.value = true;
      else if (!stick.value && conv.loaded) unseen.value += 1;
    });

    onUpdated(relayout);
    watch(() => conv.pending.length, (n, o) => n > o && backToLatest(conv)); // sending from a window around a search hit

    async function init() {
      if (!conv.loaded) await loadLatest(conv);
      await nextTick();
      relayout();
      maybeLoadOlder();
    }
    watch(() => conv.loaded, (v) => v && nextTick().then(() => {
      scrollToBottom();
      maybeLoadOlder();
    }));

    // A row that changes height (an image decoded, a burn countdown, the composer or the
    // on-screen keyboard resizing the log): measure again and keep the anchor in place.
    let ro = null;
    onMounted(() => {
      mounted.set(conv.id, { reveal });
      if (scroller.value) viewH.value = scroller.value.clientHeight || viewH.value;
      if (typeof ResizeObserver === "function" && scroller.value) {
        ro = new ResizeObserver(() => {
          const el = scroller.value;
          if (!el) return;
          viewH.value = el.clientHeight || viewH.value;
          relayout();
        });
        ro.observe(scroller.value);
        if (list.value) ro.observe(list.value);
      }
      init();
    });
    onBeforeUnmount(() => {
      if (isSelecting(conv)) endSelect(); // another chat: the selection ends
      closeBundles();
      if (ro) ro.disconnect();
      leaveDetached(conv);
      if (mounted.get(conv.id) && mounted.get(conv.id).reveal === reveal) mounted.delete(conv.id);
    });

    const unreadLabel = computed(() => (openUnread === 1 ? t("unreadJump.one") : t("unreadJump.many", { n: openUnread })));
    const showUnreadJump = computed(() => !dividerSeen.value && conv.loaded && openUnread > 0);
    const showBottomJump = computed(() => conv.hasMoreAfter || (!stick.value && (unseen.value > 0 || farFromBottom.value)));

    // Selection mode: a click anywhere on a row picks it (and does nothing else then).
    const selecting = computed(() => isSelecting(conv));
    function pick(item, e) {
      if (!selecting.value || item.type !== "msg") return;
      e.preventDefault();
      e.stopPropagation();
      if (!togglePick(conv, item.msg)) ElMessage.warning(t("sel.tooMany", { n: MAX_SELECTED }));
    }

    return {
      selecting, pick, canSelect, isPicked,
      scroller, list, items, visible, padTop, padBottom, unseen, flashKey, onScroll, scrollToBottom, jumpToUnread,
      unreadLabel, showUnreadJump, showBottomJump, state, t, connected: computed(() => state.connection === "open"),
    };
  },
  template: `
    <div class="msgs-wrap">
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
        <div class="vlist" ref="list" :style="{ paddingTop: padTop + 'px', paddingBottom: padBottom + 'px' }" data-testid="vlist">
          <div v-for="item in visible" :key="item.key" class="vrow" :class="{ flash: item.key === flashKey, selecting: selecting && item.type === 'msg' }" :data-key="item.key"
               @click.capture="selecting && pick(item, $event)">
            <span v-if="selecting && item.type === 'msg'" class="sel-check" :class="{ picked: isPicked(conv, item.msg.seq), off: !canSelect(item.msg, item.pending) }"
                  role="checkbox" :aria-checked="isPicked(conv, item.msg.seq) ? 'true' : 'false'" :aria-label="t('sel.pick')"
                  :tabindex="canSelect(item.msg, item.pending) ? 0 : -1" data-testid="sel-check" :data-seq="item.msg.seq || undefined"
                  @keydown.space.prevent="pick(item, $event)" @keydown.enter.prevent="pick(item, $event)">{{ isPicked(conv, item.msg.seq) ? '✓' : '' }}</span>
            <div v-if="item.type === 'day'" class="day-sep" role="separator"><span>{{ item.label }}</span></div>
            <div v-else-if="item.type === 'unread'" class="unread-sep" role="separator" data-testid="unread-divider"><span>{{ t('unreadJump.divider') }}</span></div>
            <message-item v-else :msg="item.msg" :conv="conv" :pending="item.pending" />
          </div>
        </div>
      </div>
      <selection-bar v-if="selecting" :conv="conv" />
      <bundle-viewer />
      <transition name="fade">
        <button v-if="showUnreadJump" class="jump-unread" type="button" @click="jumpToUnread" data-testid="jump-unread">↑ {{ unreadLabel }}</button>
      </transition>
      <transition name="fade">
        <button v-if="showBottomJump" class="jump-new" type="button" @click="scrollToBottom" :aria-label="t('chat.scrollBottom')" :title="t('chat.scrollBottom')" data-testid="jump-bottom">
          <template v-if="unseen">{{ t('chat.newMessages') }} ({{ unseen }}) </template>↓
        </button>
      </transition>
    </div>`,
};
