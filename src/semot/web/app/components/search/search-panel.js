// The message search panel (issue 13): a drawer opened from the conversation list (every
// conversation I am in) or from a chat's header (that chat; a switch widens it). A
// keyword and filters (sender, type, dates); results newest first with the
// conversation, the sender, the time and the matching text with the keywords marked
// (text nodes only: highlight.js splits the text, Vue escapes it); "load more" by cursor.
// A click opens the message in its chat, scrolled to it and flashed (stores/search.js).
import { computed, nextTick, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { peerOf } from "semot";
import { t } from "../../i18n.js";
import { convTitle, displayName, me, state, summary } from "../../store.js";
import { fullTime } from "../../util.js";
import UserAvatar from "../avatar.js";
import { excerpt, highlight } from "./highlight.js";
import {
  KINDS, canSearch, clearResults, closeSearch, loadMore, resetFilters, runSearch, search, showMessage,
} from "../../stores/search.js";
import "./strings.js";

const CSS = "/web/app/components/search/search.css";
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

const MAX_SENDERS = 300;

export default {
  name: "SearchPanel",
  components: { UserAvatar },
  setup() {
    const input = ref(null);

    const visible = computed({
      get: () => search.open,
      set: (v) => (v ? (search.open = true) : closeSearch()),
    });

    watch(() => search.open, (open) => open && nextTick(() => input.value && input.value.focus()));

    const scopeConv = computed(() => (search.scope ? state.convs[search.scope] || null : null));
    const title = computed(() => (scopeConv.value ? t("search.titleIn", { name: convTitle(scopeConv.value) }) : t("search.title")));
    const originConv = computed(() => (search.origin ? state.convs[search.origin] || null : null));
    const scopeChoice = computed({
      get: () => (search.scope ? "conv" : "all"),
      set: (v) => {
        search.scope = v === "conv" && search.origin ? search.origin : null;
        rerun();
      },
    });

    // who can be picked as the sender: me, the chat's members (or every member I know of
    // and my friends); any user id can be typed too
    const senders = computed(() => {
      const ids = new Set([me()]);
      const convs = scopeConv.value ? [scopeConv.value] : Object.values(state.convs);
      for (const c of convs) {
        if (c.peer) ids.add(c.peer);
        for (const u of c.members || []) ids.add(u);
        if (ids.size > MAX_SENDERS) break;
      }
      if (!scopeConv.value) for (const f of state.contacts.friends) ids.add(f.user_id);
      return [...ids].filter(Boolean).slice(0, MAX_SENDERS).map((id) => ({ id, name: id === me() ? `${displayName(id)} (${t("common.you")})` : displayName(id) }));
    });

    function convName(id) {
      const c = state.convs[id];
      if (c) return convTitle(c);
      if (id.startsWith("d:")) return displayName(peerOf(id, me()));
      return t("list.group");
    }

    const rows = computed(() => search.hits.map((h) => ({
      h,
      key: `${h.conv}#${h.seq}`,
      conv: convName(h.conv),
      from: displayName(h.from),
      time: fullTime(h.ts),
      segs: highlight(excerpt(summary(h), search.q), search.q),
    })));

    function rerun() {
      if (canSearch()) runSearch();
      else clearResults();
    }
    function clearAll() {
      resetFilters();
      rerun();
    }

    async function open(row) {
      if (search.opening) return;
      if (state.narrow) closeSearch(); // the chat takes the whole screen on a phone
      const shown = await showMessage(row.h.conv, row.h.seq);
      if (shown) closeSearch();
      else ElMessage.warning(t("search.notFound"));
    }

    const hasFilters = computed(() => !!(search.sender || search.kind || search.range));
    return {
      search, state, t, input, visible, title, originConv, scopeChoice, senders, rows, KINDS, hasFilters,
      runSearch, rerun, loadMore, clearAll, open, canSearch,
    };
  },
  template: `
    <el-drawer v-model="visible" :title="title" :size="state.narrow ? '100%' : '420px'" append-to-body class="search-panel" data-testid="search-panel"
               :data-scope="search.scope || ''">
      <div class="sp">
        <el-radio-group v-if="originConv" v-model="scopeChoice" size="small" class="sp-scope" data-testid="search-scope">
          <el-radio-button value="conv" data-testid="search-scope-conv">{{ t('search.thisChat') }}</el-radio-button>
          <el-radio-button value="all" data-testid="search-scope-all">{{ t('search.allChats') }}</el-radio-button>
        </el-radio-group>
        <form class="sp-query" role="search" @submit.prevent="runSearch">
          <el-input ref="input" v-model="search.q" :placeholder="t('search.placeholder')" :aria-label="t('search.placeholder')" clearable
                    data-testid="search-input" @clear="rerun">
            <template #prefix><el-icon><icon-search /></el-icon></template>
          </el-input>
          <el-button type="primary" native-type="submit" :disabled="!canSearch()" :loading="search.loading" data-testid="search-go">{{ t('search.go') }}</el-button>
        </form>
        <div class="sp-filters" :aria-label="t('search.filters')">
          <el-select v-model="search.sender" filterable allow-create default-first-option clearable :placeholder="t('search.anySender')"
                     :aria-label="t('search.sender')" size="small" class="sp-sender" data-testid="search-sender" @change="rerun">
            <el-option v-for="s in senders" :key="s.id" :value="s.id" :label="s.name" :data-user="s.id" data-testid="search-sender-option" />
          </el-select>
          <el-select v-model="search.kind" clearable :placeholder="t('search.anyKind')" :aria-label="t('search.kind')" size="small"
                     class="sp-kind" data-testid="search-kind" @change="rerun">
            <el-option v-for="k in KINDS" :key="k" :value="k" :label="t('search.kind.' + k)" :data-kind="k" data-testid="search-kind-option" />
          </el-select>
          <el-date-picker v-model="search.range" type="daterange" value-format="x" size="small" unlink-panels class="sp-range"
                          :start-placeholder="t('search.from')" :end-placeholder="t('search.to')" data-testid="search-range" @change="rerun" />
          <el-button v-if="hasFilters" link size="small" data-testid="search-reset" @click="clearAll">{{ t('search.reset') }}</el-button>
        </div>
        <div class="sp-results" aria-live="polite">
          <p v-if="search.error" class="sp-note sp-error" role="alert" data-testid="search-error">{{ search.error }}</p>
          <p v-else-if="search.loading" class="sp-note"><el-icon class="is-loading"><icon-loading /></el-icon></p>
          <p v-else-if="!search.searched" class="sp-note" data-testid="search-hint">{{ t('search.hint') }}</p>
          <p v-else-if="!rows.length" class="sp-note" data-testid="search-none">{{ t('search.none') }}</p>
          <ul v-if="rows.length" class="sp-list" :aria-label="t('search.results')" data-testid="search-results">
            <li v-for="r in rows" :key="r.key">
              <button type="button" class="sp-hit" :class="{ opening: search.opening === r.key }" :data-conv="r.h.conv" :data-seq="r.h.seq"
                      data-testid="search-hit" @click="open(r)">
                <user-avatar :id="r.h.from" :name="r.from" :size="34" />
                <span class="sp-hit-body">
                  <span class="sp-hit-top">
                    <span class="sp-hit-conv" data-testid="search-hit-conv">{{ r.conv }}</span>
                    <span class="sp-hit-time" data-testid="search-hit-time">{{ r.time }}</span>
                  </span>
                  <span class="sp-hit-from" data-testid="search-hit-from">{{ r.from }}</span>
                  <span class="sp-hit-text" data-testid="search-hit-text"><template v-for="(s, i) in r.segs" :key="i"><mark v-if="s.hit" class="sp-mark" data-testid="search-mark">{{ s.text }}</mark><template v-else>{{ s.text }}</template></template></span>
                </span>
              </button>
            </li>
          </ul>
          <div v-if="rows.length" class="sp-foot">
            <span class="sp-count" data-testid="search-count">{{ t('search.count', { n: rows.length }) }}</span>
            <el-button v-if="search.next" size="small" :loading="search.loadingMore" data-testid="search-more" @click="loadMore">{{ t('search.more') }}</el-button>
            <span v-else class="sp-end" data-testid="search-end">{{ t('search.end') }}</span>
          </div>
        </div>
      </div>
    </el-drawer>`,
};
