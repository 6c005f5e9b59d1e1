// The full-screen image viewer: the full image from the message's signed `url`, fitted to
// the screen, zoomable (buttons, + / - / 0 keys, a click on the image), a download
// button, closed by Esc, the close button or a click beside the image. A modal dialog:
// focus moves into it, Tab stays inside, and the opener gets focus back on close.
import { computed, nextTick, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { Download } from "@element-plus/icons-vue";
import { t } from "../../i18n.js";
import { onMediaError } from "../../stores/media.js";

const STEPS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4];

export default {
  name: "MediaLightbox",
  components: { IconDownload: Download },
  props: {
    msg: { type: Object, required: true },
    conv: { type: Object, required: true },
  },
  emits: ["close"],
  setup(props, { emit }) {
    const root = ref(null);
    const closeBtn = ref(null);
    const img = ref(null);
    const body = computed(() => props.msg.body || {});
    const url = computed(() => body.value.url || "");
    const thumb = computed(() => body.value.thumb_url || "");
    const loaded = ref(false);
    const broken = ref(false);
    // 0: fit the screen; otherwise a scale of the natural size
    const zoom = ref(0);
    const natural = ref({ w: Number(body.value.w) || 0, h: Number(body.value.h) || 0 });

    watch(url, () => {
      loaded.value = false;
      broken.value = false;
    });

    const imgStyle = computed(() => {
      if (!zoom.value || !natural.value.w) return {};
      return { width: `${Math.round(natural.value.w * zoom.value)}px`, height: `${Math.round(natural.value.h * zoom.value)}px`, maxWidth: "none", maxHeight: "none" };
    });
    const zoomLabel = computed(() => (zoom.value ? `${Math.round(zoom.value * 100)}%` : t("media.fit")));

    /** The scale the fitted image is shown at, so zooming continues from what one sees. */
    function fittedScale() {
      const el = img.value;
      if (!el || !natural.value.w) return 1;
      return el.clientWidth / natural.value.w;
    }
    function zoomIn() {
      const cur = zoom.value || fittedScale();
      zoom.value = STEPS.find((s) => s > cur + 0.01) || STEPS[STEPS.length - 1];
    }
    function zoomOut() {
      const cur = zoom.value || fittedScale();
      const next = [...STEPS].reverse().find((s) => s < cur - 0.01);
      zoom.value = next || STEPS[0];
    }
    function fit() {
      zoom.value = 0;
    }
    function toggle() {
      zoom.value = zoom.value ? 0 : 1;
    }

    function onLoad(e) {
      loaded.value = true;
      broken.value = false;
      natural.value = { w: e.target.naturalWidth, h: e.target.naturalHeight };
    }
    async function onError(e) {
      loaded.value = false;
      const ok = await onMediaError(props.conv.id, props.msg, e.target.src);
      if (!ok) broken.value = true;
    }

    function close() {
      emit("close");
    }

    function focusables() {
      return root.value ? [...root.value.querySelectorAll("button, a[href]")].filter((el) => !el.disabled) : [];
    }
    function onKey(e) {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        close();
      } else if (e.key === "+" || e.key === "=") {
        e.preventDefault();
        zoomIn();
      } else if (e.key === "-") {
        e.preventDefault();
        zoomOut();
      } else if (e.key === "0") {
        e.preventDefault();
        fit();
      } else if (e.key === "Tab") {
        const els = focusables();
        if (!els.length) return;
        const i = els.indexOf(document.activeElement);
        const next = e.shiftKey ? (i <= 0 ? els.length - 1 : i - 1) : (i < 0 || i === els.length - 1 ? 0 : i + 1);
        e.preventDefault();
        els[next].focus();
      }
    }

    // capture: Esc must close the viewer, not the dialog or drawer underneath it
    onMounted(async () => {
      document.addEventListener("keydown", onKey, true);
      await nextTick();
      if (closeBtn.value) closeBtn.value.focus();
    });
    onBeforeUnmount(() => document.removeEventListener("keydown", onKey, true));

    return { root, closeBtn, img, body, url, thumb, loaded, broken, zoom, imgStyle, zoomLabel, zoomIn, zoomOut, fit, toggle, onLoad, onError, close, t };
  },
  template: `
    <teleport to="body">
      <div ref="root" class="lightbox" role="dialog" aria-modal="true" :aria-label="t('media.viewer')" data-testid="lightbox">
        <div class="lb-bar">
          <span class="lb-zoom" aria-live="polite" data-testid="lb-zoom">{{ zoomLabel }}</span>
          <button type="button" class="lb-btn" @click="zoomOut" :aria-label="t('media.zoomOut')" :title="t('media.zoomOut')" data-testid="lb-zoom-out">−</button>
          <button type="button" class="lb-btn" @click="fit" :aria-label="t('media.fit')" :title="t('media.fit')" data-testid="lb-fit">⤢</button>
          <button type="button" class="lb-btn" @click="zoomIn" :aria-label="t('media.zoomIn')" :title="t('media.zoomIn')" data-testid="lb-zoom-in">+</button>
          <a v-if="url" class="lb-btn" :href="url" download="" :aria-label="t('media.download')" :title="t('media.download')" data-testid="lb-download">
            <el-icon :size="18"><icon-download /></el-icon>
          </a>
          <button ref="closeBtn" type="button" class="lb-btn" @click="close" :aria-label="t('media.close')" :title="t('media.close')" data-testid="lb-close">✕</button>
        </div>
        <div class="lb-stage" :class="{ zoomed: zoom }" @click.self="close">
          <img v-if="url && !broken" ref="img" :src="url" :alt="t('media.image')" :style="imgStyle" :class="{ loaded }"
               @load="onLoad" @error="onError" @click="toggle" data-testid="lb-img">
          <img v-if="thumb && !loaded && !broken" class="lb-thumb" :src="thumb" alt="" aria-hidden="true">
          <span v-if="!loaded && !broken" class="lb-loading"><el-icon class="is-loading" :size="28"><icon-loading /></el-icon></span>
          <span v-if="broken" class="lb-broken" role="status">{{ t('media.loadFailed') }}</span>
        </div>
      </div>
    </teleport>`,
};
