// Send a location (composer's pin button; ui.dialog === "location"). Nobody should have
// to type coordinates (issue 11): the dialog asks the browser for the current position
// (at once when the site already has the permission, else on "Use my current
// position"), shows the picked point, and takes an optional place name and address.
// Typing coordinates or pasting a map link stays possible, folded away, for desktops
// without a position source; each field's error shows under that field.
//
// Or search (place-search.js): the organisation's places, cities and the server's
// geocoder, through the server; a result picked fills the point, name and address.
//
// The preview is static (a pin, the coordinates, the accuracy): customers' intranets
// often reach no map service, so no tiles are loaded; the link a location opens is the
// server's `map_url_template` (map-link.js).
import { computed, reactive, ref, watch } from "vue";
import { Aim } from "@element-plus/icons-vue";
import { t } from "../../i18n.js";
import { active, sendMessage, state, ui } from "../../store.js";
import { formatPoint, mapUrl, parsePoint, validPoint } from "./map-link.js";
import PlaceSearch from "./place-search.js";
import { customerMode } from "../../stores/customer.js"; // place search is closed to visitors and customers
import "../extras/styles.js";

const GEO_TIMEOUT_MS = 15000;

/** Whether this page may ask for the position at all (geolocation needs HTTPS or localhost). */
function geoSupported() {
  return typeof navigator !== "undefined" && !!navigator.geolocation && !!window.isSecureContext;
}

export default {
  name: "LocationDialog",
  components: { IconAim: Aim, PlaceSearch },
  setup() {
    const visible = computed({
      get: () => ui.dialog === "location",
      set: (v) => {
        if (!v && ui.dialog === "location") ui.dialog = null;
      },
    });
    const point = ref(null); // {lat, lng, accuracy, source: "device" | "typed" | "search"}
    const form = reactive({ lat: "", lng: "", title: "", address: "" });
    const errors = reactive({ lat: "", lng: "", pick: "" });
    const manual = ref(false);
    const locating = ref(false);
    const geoOk = geoSupported();
    let asked = 0; // answers to an older request (the dialog was reopened) are dropped

    function reset() {
      point.value = null;
      Object.assign(form, { lat: "", lng: "", title: "", address: "" });
      Object.assign(errors, { lat: "", lng: "", pick: "" });
      manual.value = !geoOk;
      locating.value = false;
      asked += 1;
    }
    watch(visible, async (v) => {
      if (!v) return;
      reset();
      if (!geoOk || !navigator.permissions) return;
      try {
        const perm = await navigator.permissions.query({ name: "geolocation" });
        if (perm.state === "granted" && visible.value && !point.value) useMine();
      } catch {
        /* no Permissions API for geolocation: wait for the button */
      }
    }, { immediate: true });

    function useMine() {
      if (!geoOk) {
        errors.pick = t("loc.needsHttps");
        manual.value = true;
        return;
      }
      const mine = ++asked;
      locating.value = true;
      errors.pick = "";
      navigator.geolocation.getCurrentPosition(
        (pos) => {
          if (mine !== asked) return;
          locating.value = false;
          const { latitude: lat, longitude: lng, accuracy } = pos.coords;
          point.value = { lat, lng, accuracy: Number.isFinite(accuracy) ? accuracy : null, source: "device" };
          form.lat = lat.toFixed(6);
          form.lng = lng.toFixed(6);
          errors.lat = errors.lng = "";
        },
        (err) => {
          if (mine !== asked) return;
          locating.value = false;
          errors.pick = t(err && err.code === 1 ? "loc.denied" : "location.unavailable");
          manual.value = true; // the other way to give a point
        },
        { timeout: GEO_TIMEOUT_MS, maximumAge: 60000, enableHighAccuracy: true },
      );
    }

    /** A pasted pair or map link fills both fields at once. */
    function onPaste(ev) {
      const text = ev.clipboardData && ev.clipboardData.getData("text");
      const p = parsePoint(text);
      if (!p) return;
      ev.preventDefault();
      form.lat = String(p.lat);
      form.lng = String(p.lng);
      fromFields();
    }
    /** Check the typed fields, each error under its own field; the point when both are good. */
    function fromFields() {
      const rawLat = String(form.lat).trim();
      const rawLng = String(form.lng).trim();
      const both = parsePoint(rawLat);
      if (both && !rawLng) {
        // "31.2304, 121.4737" typed into the first field
        form.lat = String(both.lat);
        form.lng = String(both.lng);
        return fromFields();
      }
      const lat = Number(rawLat);
      const lng = Number(rawLng);
      errors.lat = rawLat === "" ? t("loc.latRequired") : Number.isFinite(lat) && Math.abs(lat) <= 90 ? "" : t("loc.latInvalid");
      errors.lng = rawLng === "" ? t("loc.lngRequired") : Number.isFinite(lng) && Math.abs(lng) <= 180 ? "" : t("loc.lngInvalid");
      if (errors.lat || errors.lng) return null;
      const same = point.value && point.value.lat === lat && point.value.lng === lng;
      if (!same) point.value = { lat, lng, accuracy: null, source: "typed" };
      errors.pick = "";
      return point.value;
    }
    function onFieldBlur() {
      if (String(form.lat).trim() && String(form.lng).trim()) fromFields();
    }

    /** A search result: its point, name and address (editable before sending). */
    function onPick(place) {
      asked += 1; // a position still being asked for no longer replaces it
      locating.value = false;
      point.value = { lat: place.lat, lng: place.lng, accuracy: null, source: "search" };
      form.lat = String(place.lat);
      form.lng = String(place.lng);
      form.title = place.title || "";
      form.address = place.address || "";
      Object.assign(errors, { lat: "", lng: "", pick: "" });
    }
    // where the device is, for "nearest first" (not a picked result: that is no position)
    const nearPoint = computed(() => (point.value && point.value.source === "device" ? point.value : null));

    function submit() {
      let p = point.value;
      const typed = manual.value && (String(form.lat).trim() || String(form.lng).trim());
      if (typed && (!p || Number(form.lat) !== p.lat || Number(form.lng) !== p.lng)) p = fromFields();
      if (!p) {
        if (!typed) errors.pick = t("loc.pickFirst");
        return;
      }
      if (!validPoint(p.lat, p.lng)) return;
      const c = active();
      if (!c) return;
      const body = { lat: Number(p.lat.toFixed(6)), lng: Number(p.lng.toFixed(6)) };
      if (form.title.trim()) body.title = form.title.trim().slice(0, 200);
      if (form.address.trim()) body.address = form.address.trim().slice(0, 500);
      sendMessage(c, "location", body);
      ui.dialog = null;
    }

    const shownPoint = computed(() => (point.value ? formatPoint(point.value.lat, point.value.lng) : ""));
    const previewHref = computed(() => (point.value ? mapUrl(point.value.lat, point.value.lng) : ""));
    const accuracyText = computed(() => {
      const p = point.value;
      if (!p) return "";
      if (p.source === "typed") return t("loc.typed");
      if (p.source === "search") return t("loc.fromSearch");
      return p.accuracy ? t("loc.accuracy", { n: Math.round(p.accuracy) }) : t("loc.device");
    });
    return {
      visible, point, form, errors, manual, locating, geoOk, shownPoint, previewHref, accuracyText, state, t,
      useMine, onPaste, onFieldBlur, submit, onPick, nearPoint, customerMode,
    };
  },
  template: `
    <el-dialog v-model="visible" :title="t('location.title')" append-to-body :width="state.narrow ? '92%' : '440px'" align-center destroy-on-close data-testid="dlg-location">
      <el-form label-position="top" @submit.prevent="submit">
        <place-search v-if="!customerMode()" :near="nearPoint" @pick="onPick" />
        <div class="loc-pick">
          <el-button type="primary" plain :loading="locating" :disabled="!geoOk" @click="useMine" data-testid="loc-mine">
            <el-icon v-if="!locating"><icon-aim /></el-icon>{{ locating ? t('location.locating') : t('loc.useMine') }}
          </el-button>
          <span v-if="!geoOk" class="form-hint">{{ t('loc.needsHttps') }}</span>
        </div>
        <p v-if="errors.pick" class="loc-pick-error" role="alert" data-testid="loc-pick-error">{{ errors.pick }}</p>
        <div v-if="point" class="loc-preview" data-testid="loc-preview" aria-live="polite">
          <span class="loc-pin" aria-hidden="true"><el-icon :size="22"><icon-location /></el-icon></span>
          <span class="loc-text">
            <span class="loc-title">{{ form.title.trim() || t('msg.locationTitle') }}</span>
            <span v-if="form.address.trim()" class="loc-addr">{{ form.address.trim() }}</span>
            <span class="loc-coords" data-testid="loc-point">{{ shownPoint }}</span>
            <span class="loc-coords" data-testid="loc-accuracy">{{ accuracyText }}</span>
          </span>
          <a v-if="previewHref" class="loc-open" :href="previewHref" target="_blank" rel="noopener noreferrer" data-testid="loc-preview-map">{{ t('msg.openMap') }}</a>
        </div>
        <el-button link type="primary" class="loc-manual-toggle" @click="manual = !manual" :aria-expanded="manual ? 'true' : 'false'" data-testid="loc-manual">
          {{ t('loc.manual') }}
        </el-button>
        <div v-if="manual" class="form-row">
          <el-form-item :label="t('location.lat')" :error="errors.lat" for="loc-lat" data-testid="loc-lat-item">
            <el-input id="loc-lat" v-model="form.lat" inputmode="decimal" placeholder="31.2304" @paste="onPaste" @blur="onFieldBlur" data-testid="loc-lat" />
          </el-form-item>
          <el-form-item :label="t('location.lng')" :error="errors.lng" for="loc-lng" data-testid="loc-lng-item">
            <el-input id="loc-lng" v-model="form.lng" inputmode="decimal" placeholder="121.4737" @paste="onPaste" @blur="onFieldBlur" data-testid="loc-lng" />
          </el-form-item>
        </div>
        <el-form-item :label="t('location.name')" for="loc-title"><el-input id="loc-title" v-model="form.title" maxlength="200" data-testid="loc-title" /></el-form-item>
        <el-form-item :label="t('location.address')" for="loc-addr" data-testid="loc-addr-item"><el-input id="loc-addr" v-model="form.address" maxlength="500" data-testid="loc-addr" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="visible = false">{{ t('common.cancel') }}</el-button>
        <el-button type="primary" @click="submit" data-testid="loc-send">{{ t('location.send') }}</el-button>
      </template>
    </el-dialog>`,
};
