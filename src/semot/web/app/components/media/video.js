// A video message: the server's poster frame (thumb_url) and the browser's own player
// on the signed `url`, in a box sized from w/h. Nothing but the poster loads until the
// user presses play (preload="none"): a chat full of videos stays light.
import { computed, onMounted, ref, watch } from "vue";
import { t } from "../../i18n.js";
import { ensureFresh, media, mediaKey, onMediaError, retryMedia } from "../../stores/media.js";
import { clockDuration, previewBox } from "./format.js";
import MediaFallback from "./fallback.js";

export default {
  name: "MediaVideo",
  components: { MediaFallback },
  props: {
    msg: { type: Object, required: true },
    conv: { type: Object, required: true },
  },
  setup(props) {
    const video = ref(null);
    const body = computed(() => props.msg.body || {});
    const box = computed(() => previewBox(body.value.w, body.value.h, 320, 120));
    const style = computed(() => ({ width: `${box.value.width}px`, height: `${box.value.height}px` }));
    const url = computed(() => body.value.url || "");
    const poster = computed(() => body.value.thumb_url || undefined);
    const duration = computed(() => clockDuration(body.value.duration_ms));
    const failed = computed(() => !!media.failed[mediaKey(props.conv.id, props.msg.seq)]);
    const pending = computed(() => !(props.msg.seq > 0));
    let resumeAt = 0;
    let wasPlaying = false;

    const check = () => ensureFresh(props.conv.id, props.msg);
    onMounted(check);
    watch(() => props.msg.body, check);
    // fresh URLs while playing (expired mid-way): carry on from where it stopped
    watch(url, () => {
      const el = video.value;
      if (!el || !resumeAt) return;
      const at = resumeAt;
      const play = wasPlaying;
      resumeAt = 0;
      el.addEventListener("loadedmetadata", () => {
        el.currentTime = at;
        if (play) el.play().catch(() => {});
      }, { once: true });
    });

    function onError() {
      const el = video.value;
      if (el) {
        resumeAt = el.currentTime || 0;
        wasPlaying = !el.paused;
      }
      onMediaError(props.conv.id, props.msg, el ? el.currentSrc || el.src : undefined);
    }
    return { video, body, style, url, poster, duration, failed, pending, onError, retry: () => retryMedia(props.conv.id, props.msg), t };
  },
  template: `
    <div class="media-video" :style="style" data-testid="media-video">
      <media-fallback v-if="failed" :label="t('media.loadFailed')" @retry="retry" />
      <video v-else-if="url" ref="video" :src="url" :poster="poster" controls preload="none" playsinline
             :aria-label="t('media.video') + ' ' + duration" @error="onError" data-testid="video"></video>
      <div v-else class="media-placeholder" role="img" :aria-label="t('media.video')">
        <el-icon v-if="!pending" class="is-loading"><icon-loading /></el-icon>
      </div>
      <span v-if="!failed" class="media-duration" aria-hidden="true">{{ duration }}</span>
    </div>`,
};
