// The search box of the location dialog (issue 11): finds the organisation's places
// (offices, campuses: the client configuration's `places`), cities of the offline
// gazetteer by Chinese name, English name or pinyin, and what a configured geocoder
// knows, all through the server (GET /api/v1/geo/search: intranets often reach no map
// service). Opening lists the organisation's places; typing searches, debounced, the
// answers of an older query dropped. Picking one emits `pick` with
// {title, address, lat, lng, kind}.
import { onMounted, ref, watch } from "vue";
import { Search } from "@element-plus/icons-vue";
import { i18n, t } from "../../i18n.js";
import { client } from "../../store.js";
import "./styles.js";

const DEBOUNCE_MS = 250;

/** "350 m" / "12.3 km" / "1,070 km". */
function distanceText(m) {
  if (typeof m !== "number") return "";
  if (m < 1000) return t("loc.distM", { n: Math.round(m) });
  const km = m < 100000 ? Math.round(m / 100) / 10 : Math.round(m / 1000);
  return t("loc.distKm", { n: km.toLocaleString(i18n.locale) });
}

export default {
  name: "PlaceSearch",
  components: { IconSearch: Search },
  props: { near: { type: Object, default: null } }, // {lat, lng}: nearer first, distances shown
  emits: ["pick"],
  setup(props, { emit }) {
    const q = ref("");
    const results = ref([]);
    const searching = ref(false);
    const error = ref("");
    const searched = ref(false); // a non-empty query was answered (for "nothing found")
    const answered = ref(null); // the query the results are for (data-answered: tests wait on it)
    let asked = 0;
    let timer = null;

    async function run() {
      const mine = ++asked;
      const text = q.value.trim();
      const params = { q: text, lang: String(i18n.locale).startsWith("zh") ? "zh" : "en", limit: 10 };
      const near = props.near;
      if (near && Number.isFinite(near.lat) && Number.isFinite(near.lng)) params.near = `${near.lat.toFixed(6)},${near.lng.toFixed(6)}`;
      searching.value = !!text;
      try {
        const found = await client.searchPlaces(text, params);
        if (mine !== asked) return;
        results.value = found;
        answered.value = text;
        error.value = "";
        searched.value = !!text;
      } catch (e) {
        if (mine !== asked) return;
        results.value = [];
        error.value = e && e.code === "rate_limited" ? t("loc.searchBusy") : t("loc.searchFailed");
      } finally {
        if (mine === asked) searching.value = false;
      }
    }
    watch(q, () => {
      clearTimeout(timer);
      timer = setTimeout(run, DEBOUNCE_MS);
    });
    watch(() => props.near, run); // the device position arrived: nearest first
    onMounted(run); // the organisation's places at once (and the server warms its gazetteer up)

    const kindText = (kind) => t(kind === "place" ? "loc.kindPlace" : kind === "city" ? "loc.kindCity" : "loc.kindMap");
    const pick = (r) => emit("pick", { title: r.title, address: r.address, lat: r.lat, lng: r.lng, kind: r.kind });
    return { q, results, searching, error, searched, answered, kindText, distanceText, pick, t };
  },
  template: `
    <div class="loc-search" data-testid="loc-search-box" :data-answered="answered">
      <el-input v-model="q" clearable :placeholder="t('loc.searchPlaceholder')" maxlength="100" :aria-label="t('loc.searchPlaceholder')" data-testid="loc-search">
        <template #prefix><el-icon><icon-search /></el-icon></template>
      </el-input>
      <p v-if="error" class="loc-pick-error" role="alert" data-testid="loc-search-error">{{ error }}</p>
      <ul v-if="results.length" class="loc-results" role="listbox" :aria-label="t('loc.searchResults')" data-testid="loc-results">
        <li v-for="(r, i) in results" :key="r.kind + i + r.title" role="option" tabindex="0" class="loc-result"
            @click="pick(r)" @keydown.enter.prevent="pick(r)" data-testid="loc-result" :data-kind="r.kind">
          <span class="loc-result-main">
            <span class="loc-result-title">{{ r.title }}</span>
            <span v-if="r.address" class="loc-result-addr">{{ r.address }}</span>
          </span>
          <span class="loc-result-side">
            <span class="loc-result-kind">{{ kindText(r.kind) }}</span>
            <span v-if="r.distance_m != null" class="loc-result-dist">{{ distanceText(r.distance_m) }}</span>
          </span>
        </li>
      </ul>
      <p v-else-if="searching" class="form-hint" data-testid="loc-searching">{{ t('loc.searching') }}</p>
      <p v-else-if="searched && q.trim()" class="form-hint" data-testid="loc-no-results">{{ t('loc.noResults') }}</p>
    </div>`,
};
