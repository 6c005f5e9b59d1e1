// The emoji picker: categories, search by name or keyword in English and Chinese
// ("smile", "笑", "thumbs", "赞"), and the emoji this user picked last (kept in
// localStorage per user, so two people sharing a browser keep their own). It is a plain
// component that emits `pick` with the emoji: the composer inserts it at the caret,
// and anything else (reactions) can use it the same way:
//
//   <emoji-picker @pick="onEmoji" @close="open = false" />
//
// Keyboard: the search box has the focus when the picker opens; Down moves into the
// grid, arrows move in it (a roving tabindex: one Tab stop for the whole grid), Enter
// or Space picks, Escape asks the owner to close (`close`), Enter in the search box
// picks the first match.
//
// The data (data/emoji.json, about 500 emoji with names and CLDR keywords in both
// languages) is a subset of emojibase-data built by scripts/build-emoji-data.mjs; it is
// fetched the first time a picker opens, never at page load.
import { computed, nextTick, onMounted, ref } from "vue";
import { i18n, t } from "../i18n.js";
import { me } from "../store.js";
import "./extras/styles.js";

const DATA_URL = "/web/app/data/emoji.json";
const RECENT_MAX = 24;
const COLUMNS = 8;
const CATEGORY_ICONS = {
  recent: "🕘", smileys: "😀", people: "👋", nature: "🐶", food: "🍜",
  activities: "🎉", travel: "🚗", objects: "💡", symbols: "✅",
};

let loading = null;
/** The emoji data, fetched once per page: [{id, emoji: [{e, en, zh, hay}]}]. */
export function loadEmoji() {
  if (!loading) {
    loading = fetch(DATA_URL)
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json();
      })
      .then((d) =>
        d.categories.map((c) => ({
          id: c.id,
          emoji: c.emoji.map(([e, en, zh, words]) => ({ e, en, zh, hay: `${en} ${zh} ${words}`.toLowerCase() })),
        })),
      )
      .catch((error) => {
        loading = null; // try again next time
        throw error;
      });
  }
  return loading;
}

function recentKey() {
  return `semot.emoji.recent.${me() || "anon"}`;
}
/** This user's recently picked emoji, most recent first. */
export function recentEmoji() {
  try {
    const list = JSON.parse(localStorage.getItem(recentKey()) || "[]");
    return Array.isArray(list) ? list.filter((e) => typeof e === "string").slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}
/** Put `emoji` first in this user's recently used list. */
export function rememberEmoji(emoji) {
  const list = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(recentKey(), JSON.stringify(list));
  } catch {
    /* no storage (private mode, full): the list is just not kept */
  }
  return list;
}

/** Every word of the query must occur in the name or keywords; names that start with
 * the query come first. */
export function searchEmoji(categories, query, limit = 80) {
  const words = query.toLowerCase().trim().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const seen = new Set();
  const hits = [];
  for (const c of categories) {
    for (const x of c.emoji) {
      if (seen.has(x.e) || !words.every((w) => x.hay.includes(w))) continue;
      seen.add(x.e);
      const q = words[0];
      const rank = x.en.toLowerCase().startsWith(q) || x.zh.startsWith(q) ? 0 : 1;
      hits.push({ x, rank });
    }
  }
  return hits.sort((a, b) => a.rank - b.rank).slice(0, limit).map((h) => h.x);
}

export default {
  name: "EmojiPicker",
  emits: ["pick", "close"],
  setup(props, { emit, expose }) {
    const categories = ref([]);
    const failed = ref(false);
    const query = ref("");
    const recent = ref(recentEmoji());
    const active = ref("smileys");
    const focusIndex = ref(0);
    const search = ref(null);
    const grid = ref(null);
    const byEmoji = computed(() => {
      const m = new Map();
      for (const c of categories.value) for (const x of c.emoji) m.set(x.e, x);
      return m;
    });
    function nameOf(x) {
      return (i18n.locale === "en" ? x.en : x.zh || x.en) || x.e;
    }
    const tabs = computed(() => [
      ...(recent.value.length ? ["recent"] : []),
      ...categories.value.map((c) => c.id),
    ]);
    /** What the grid shows: the search results, or the chosen category. */
    const shown = computed(() => {
      if (query.value.trim()) return searchEmoji(categories.value, query.value);
      if (active.value === "recent") return recent.value.map((e) => byEmoji.value.get(e) || { e, en: e, zh: "" });
      const c = categories.value.find((k) => k.id === active.value);
      return c ? c.emoji : [];
    });

    /** Start afresh (no query; the recently used first) with the caret in the search box
     * (not on touch screens: no keyboard popping up over the picker). Owners that keep the
     * picker alive call it each time they show it. */
    function focus() {
      query.value = "";
      if (recent.value.length) active.value = "recent";
      focusIndex.value = 0;
      const touch = typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;
      if (!touch) nextTick(() => search.value && search.value.focus());
    }
    expose({ focus });
    onMounted(async () => {
      focus();
      try {
        categories.value = await loadEmoji();
      } catch {
        failed.value = true;
      }
    });

    function choose(x) {
      recent.value = rememberEmoji(x.e);
      emit("pick", x.e);
    }
    function showCategory(id) {
      active.value = id;
      query.value = "";
      focusIndex.value = 0;
    }
    function onQuery() {
      focusIndex.value = 0;
    }
    function focusCell(i) {
      const n = shown.value.length;
      if (!n) return;
      focusIndex.value = Math.max(0, Math.min(n - 1, i));
      nextTick(() => {
        const el = grid.value && grid.value.querySelector(`[data-index="${focusIndex.value}"]`);
        if (el) el.focus();
      });
    }
    function onSearchKey(ev) {
      if (ev.key === "ArrowDown") {
        ev.preventDefault();
        focusCell(0);
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        if (shown.value.length) choose(shown.value[0]);
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        emit("close");
      }
    }
    function onGridKey(ev) {
      const i = focusIndex.value;
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, ArrowDown: i + COLUMNS, ArrowUp: i - COLUMNS, Home: 0, End: shown.value.length - 1 };
      if (ev.key in moves) {
        ev.preventDefault();
        if (ev.key === "ArrowUp" && i < COLUMNS) {
          search.value && search.value.focus(); // back up to the search box
          return;
        }
        focusCell(moves[ev.key]);
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        emit("close");
      }
    }
    function tabLabel(id) {
      return t(`emoji.cat.${id}`);
    }
    return {
      t, query, tabs, active, shown, failed, categories, focusIndex, search, grid, CATEGORY_ICONS,
      nameOf, choose, showCategory, onQuery, onSearchKey, onGridKey, tabLabel,
    };
  },
  template: `
    <div class="emoji-picker" data-testid="emoji-picker">
      <input ref="search" v-model="query" type="search" class="emoji-search" :placeholder="t('emoji.search')" :aria-label="t('emoji.search')"
             @input="onQuery" @keydown="onSearchKey" data-testid="emoji-search">
      <div v-show="!query.trim()" class="emoji-tabs" role="tablist" :aria-label="t('emoji.categories')">
        <button v-for="id in tabs" :key="id" type="button" role="tab" class="emoji-tab" :class="{ on: active === id }"
                :aria-selected="active === id ? 'true' : 'false'" :aria-label="tabLabel(id)" :title="tabLabel(id)"
                @click="showCategory(id)" :data-testid="'emoji-tab-' + id">{{ CATEGORY_ICONS[id] || '•' }}</button>
      </div>
      <div class="emoji-heading" aria-hidden="true">{{ query.trim() ? t('emoji.results') : tabLabel(active) }}</div>
      <p v-if="failed" class="emoji-empty" role="alert">{{ t('emoji.loadFailed') }}</p>
      <p v-else-if="!categories.length" class="emoji-empty">{{ t('chat.loading') }}</p>
      <p v-else-if="!shown.length" class="emoji-empty" data-testid="emoji-none">{{ query.trim() ? t('emoji.none') : '' }}</p>
      <div v-else ref="grid" class="emoji-grid" role="listbox" :aria-label="query.trim() ? t('emoji.results') : tabLabel(active)" @keydown="onGridKey">
        <button v-for="(x, i) in shown" :key="x.e" type="button" class="emoji" role="option" :data-index="i" :tabindex="i === focusIndex ? 0 : -1"
                :aria-selected="i === focusIndex ? 'true' : 'false'" :aria-label="nameOf(x)" :title="nameOf(x)"
                @click="choose(x)" @focus="focusIndex = i" data-testid="emoji-option" :data-emoji="x.e">{{ x.e }}</button>
      </div>
    </div>`,
};
