// The organisation's places (offices, campuses, warehouses) in the client configuration:
// what the chat client's location picker finds first (GET /api/v1/geo/search; issue 11).
// Rows of name, address, latitude and longitude; a pair pasted into the latitude
// ("31.2304, 121.4737") fills both; many at once from lines of "name, address, lat, lng"
// or tab-separated (pasted from a spreadsheet). At most MAX_PLACES; each bad field is
// outlined, and the page's Save stays off while one is.
import { reactive, ref } from "vue";
import { t } from "../../i18n.js";

export const MAX_PLACES = 500;

/** Index -> which fields of `places` are wrong ({name, lat, lng}); empty when all are good. */
export function placeErrors(places) {
  const bad = {};
  const names = new Set();
  places.forEach((p, i) => {
    const lat = Number(String(p.lat).trim());
    const lng = Number(String(p.lng).trim());
    const row = {
      name: !p.name.trim() || names.has(p.name.trim()),
      lat: String(p.lat).trim() === "" || !Number.isFinite(lat) || Math.abs(lat) > 90,
      lng: String(p.lng).trim() === "" || !Number.isFinite(lng) || Math.abs(lng) > 180,
    };
    names.add(p.name.trim());
    if (row.name || row.lat || row.lng) bad[i] = row;
  });
  return bad;
}

/** A stored place as the form edits it (coordinates as typed text). */
export function placeToForm(p) {
  return { name: p.name, address: p.address || "", lat: String(p.lat), lng: String(p.lng) };
}

/** The form's place as PUT takes it. */
export function placeToBody(p) {
  return { name: p.name.trim(), address: p.address.trim(), lat: Number(String(p.lat).trim()), lng: Number(String(p.lng).trim()) };
}

/** Lines of "name, address, lat, lng" (or tab-separated): the places read, and the lines that were not. */
export function parseLines(text) {
  const places = [];
  const bad = [];
  for (const line of String(text || "").split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = (line.includes("\t") ? line.split("\t") : line.split(/[,，]/)).map((c) => c.trim());
    if (cells.length < 3) {
      bad.push(line);
      continue;
    }
    const lng = cells.pop();
    const lat = cells.pop();
    const name = cells.shift();
    const place = { name, address: cells.join(", "), lat, lng };
    if (Object.keys(placeErrors([place])).length) bad.push(line);
    else places.push(place);
  }
  return { places, bad };
}

export default {
  name: "PlacesEditor",
  props: { places: { type: Array, required: true }, errors: { type: Object, required: true } },
  setup(props) {
    const bulk = reactive({ open: false, text: "", bad: [] });
    const added = ref(0);

    function add() {
      if (props.places.length < MAX_PLACES) props.places.push({ name: "", address: "", lat: "", lng: "" });
    }
    /** "31.2304, 121.4737" pasted into the latitude fills both fields. */
    function onLatPaste(ev, p) {
      const text = ev.clipboardData && ev.clipboardData.getData("text");
      const m = /^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$/.exec(text || "");
      if (!m) return;
      ev.preventDefault();
      p.lat = m[1];
      p.lng = m[2];
    }
    function importLines() {
      const { places, bad } = parseLines(bulk.text);
      const room = MAX_PLACES - props.places.length;
      props.places.push(...places.slice(0, room));
      added.value = Math.min(places.length, room);
      bulk.bad = bad;
      bulk.text = bad.join("\n"); // what could not be read stays, to fix
      if (!bad.length) bulk.open = false;
    }
    return { bulk, added, add, onLatPaste, importLines, MAX_PLACES, t };
  },
  template: `
    <div data-testid="cc-places-editor">
      <div v-for="(p, i) in places" :key="i" class="cc-page-row" data-testid="cc-place">
        <el-input v-model="p.name" class="cc-place-name" :class="{ 'is-bad': errors[i] && errors[i].name }" maxlength="100" :placeholder="t('client-config.placeName')" data-testid="cc-place-name" />
        <el-input v-model="p.address" class="cc-place-addr" maxlength="300" :placeholder="t('client-config.placeAddress')" data-testid="cc-place-address" />
        <el-input v-model="p.lat" class="cc-place-coord" :class="{ 'is-bad': errors[i] && errors[i].lat }" inputmode="decimal" :placeholder="t('client-config.placeLat')" @paste="onLatPaste($event, p)" data-testid="cc-place-lat" />
        <el-input v-model="p.lng" class="cc-place-coord" :class="{ 'is-bad': errors[i] && errors[i].lng }" inputmode="decimal" :placeholder="t('client-config.placeLng')" data-testid="cc-place-lng" />
        <el-button size="small" type="danger" plain :title="t('client-config.remove')" @click="places.splice(i, 1)" data-testid="cc-place-remove">×</el-button>
      </div>
      <p v-if="Object.keys(errors).length" class="cc-places-error" role="alert" data-testid="cc-places-error">{{ t('client-config.placesInvalid') }}</p>
      <div class="cc-places-actions">
        <el-button :disabled="places.length >= MAX_PLACES" @click="add" data-testid="cc-place-add">{{ t('client-config.add') }}</el-button>
        <el-button text @click="bulk.open = !bulk.open" :aria-expanded="bulk.open ? 'true' : 'false'" data-testid="cc-places-bulk">{{ t('client-config.placesBulk') }}</el-button>
        <span class="adm-muted">{{ t('client-config.placesCount', { n: places.length, max: MAX_PLACES }) }}</span>
      </div>
      <div v-if="bulk.open" class="cc-places-bulk">
        <el-input v-model="bulk.text" type="textarea" :rows="5" :placeholder="t('client-config.placesBulkHint')" data-testid="cc-places-bulk-text" />
        <p v-if="bulk.bad.length" class="cc-places-error" data-testid="cc-places-bulk-bad">{{ t('client-config.placesBulkBad', { n: bulk.bad.length }) }}</p>
        <el-button @click="importLines" data-testid="cc-places-bulk-add">{{ t('client-config.placesBulkAdd') }}</el-button>
      </div>
    </div>`,
};
