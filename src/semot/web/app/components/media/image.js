// An image message: the server's thumbnail in a box sized from the image's w/h (so the
// chat does not jump while it loads), a button that opens the lightbox.
import { computed, onMounted, ref, watch } from "vue";
import { t } from "../../i18n.js";
import { ensureFresh, media, mediaKey, onMediaError, retryMedia } from "../../stores/media.js";
import { previewBox } from "./format.js";
import MediaLightbox from "./lightbox.js";
import MediaFallback from "./fallback.js";

export default {
  name: "MediaImage",
  components: { MediaLightbox, MediaFallback },
  props: {
    msg: { type: Object, required: true },
    conv: { type: Object, required: true },
  },
  setup(props) {
    const body = computed(() => props.msg.body || {});
    const box = computed(() => previewBox(body.value.w, body.value.h));
    const style = computed(() => ({ width: `${box.value.width}px`, height: `${box.value.height}px` }));
    const src = computed(() => body.value.thumb_url || body.value.url || "");
    const loaded = ref(false);
    const open = ref(false);
    const opener = ref(null);
    const failed = computed(() => !!media.failed[mediaKey(props.conv.id, props.msg.seq)]);
    const pending = computed(() => !(props.msg.seq > 0));

    const check = () => ensureFresh(props.conv.id, props.msg);
    onMounted(check);
    watch(() => props.msg.body, check);
    watch(src, () => {
      loaded.value = false;
    });

    function onError(e) {
      loaded.value = false;
      onMediaError(props.conv.id, props.msg, e.target.src);
    }
    function show() {
      if (src.value) open.value = true;
    }
    function closed() {
      open.value = false;
      if (opener.value) opener.value.focus();
    }
    return { body, style, src, loaded, open, opener, failed, pending, onError, show, closed, retry: () => retryMedia(props.conv.id, props.msg), t };
  },
  template: `
    <div class="media-image" :style="style" data-testid="media-image">
      <media-fallback v-if="failed" :label="t('media.loadFailed')" @retry="retry" />
      <button v-else-if="src" ref="opener" type="button" class="media-image-btn" @click="show" :aria-label="t('media.openImage')" data-testid="image-open">
        <img :src="src" :alt="t('media.image')" :class="{ loaded }" decoding="async" draggable="false"
             @load="loaded = true" @error="onError" data-testid="image-thumb">
      </button>
      <div v-else class="media-placeholder" :aria-label="t('media.image')" role="img">
        <el-icon v-if="!pending" class="is-loading"><icon-loading /></el-icon>
      </div>
      <media-lightbox v-if="open" :msg="msg" :conv="conv" @close="closed" />
    </div>`,
};
