// A voice message: play/pause, a progress bar that can be sought (click, or the arrow
// keys on it: it is a slider), and the duration; the bubble grows with the duration as
// chat apps do. The sound is an <audio> on the signed `url` (metadata only until play).
// Starting one voice message pauses any other.
import { computed, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { VideoPause, VideoPlay } from "@element-plus/icons-vue";
import { t } from "../../i18n.js";
import { claimPlayback, ensureFresh, media, mediaKey, onMediaError, retryMedia } from "../../stores/media.js";
import { clockDuration, clockElapsed } from "./format.js";
import MediaFallback from "./fallback.js";

export default {
  name: "MediaVoice",
  components: { MediaFallback, IconVideoPlay: VideoPlay, IconVideoPause: VideoPause },
  props: {
    msg: { type: Object, required: true },
    conv: { type: Object, required: true },
  },
  setup(props) {
    const audio = ref(null);
    const body = computed(() => props.msg.body || {});
    const url = computed(() => body.value.url || "");
    const playing = ref(false);
    const current = ref(0); // seconds
    const actual = ref(0); // seconds, from the audio once known
    const totalS = computed(() => actual.value || (Number(body.value.duration_ms) || 0) / 1000);
    const duration = computed(() => clockDuration(body.value.duration_ms || actual.value * 1000));
    const shown = computed(() => (playing.value || current.value > 0 ? clockElapsed(current.value) : duration.value));
    const progress = computed(() => (totalS.value ? Math.min(100, (current.value / totalS.value) * 100) : 0));
    // 140 px for a blip, up to 260 px for a minute or more
    const width = computed(() => `${Math.round(140 + Math.min(1, totalS.value / 60) * 120)}px`);
    const failed = computed(() => !!media.failed[mediaKey(props.conv.id, props.msg.seq)]);
    let resumeAt = 0;
    let resume = false;

    const check = () => ensureFresh(props.conv.id, props.msg);
    onMounted(check);
    watch(() => props.msg.body, check);
    watch(url, () => {
      playing.value = false;
    });

    async function toggle() {
      const el = audio.value;
      if (!el) return;
      if (!el.paused) {
        el.pause();
        return;
      }
      claimPlayback(el);
      try {
        await el.play();
      } catch {
        /* an error event follows for a failed load; a refused autoplay needs no message */
      }
    }
    function onTime() {
      const el = audio.value;
      if (el) current.value = el.currentTime;
    }
    function onMeta() {
      const el = audio.value;
      if (el && Number.isFinite(el.duration) && el.duration > 0) actual.value = el.duration;
      if (el && resumeAt) {
        el.currentTime = resumeAt;
        resumeAt = 0;
        if (resume) {
          resume = false;
          claimPlayback(el);
          el.play().catch(() => {});
        }
      }
    }
    function onEnded() {
      playing.value = false;
      current.value = 0;
    }
    function onError() {
      const el = audio.value;
      playing.value = false;
      if (el && el.currentTime) {
        resumeAt = el.currentTime;
        resume = true;
      }
      onMediaError(props.conv.id, props.msg, el ? el.currentSrc || el.src : undefined);
    }
    function seekTo(fraction) {
      const el = audio.value;
      if (!el || !totalS.value) return;
      el.currentTime = Math.max(0, Math.min(1, fraction)) * totalS.value;
      current.value = el.currentTime;
    }
    function onBarClick(e) {
      const r = e.currentTarget.getBoundingClientRect();
      if (r.width) seekTo((e.clientX - r.left) / r.width);
    }
    function onBarKey(e) {
      if (!totalS.value) return;
      const step = Math.max(1, totalS.value / 20) / totalS.value;
      const at = current.value / totalS.value;
      if (e.key === "ArrowRight" || e.key === "ArrowUp") seekTo(at + step);
      else if (e.key === "ArrowLeft" || e.key === "ArrowDown") seekTo(at - step);
      else if (e.key === "Home") seekTo(0);
      else if (e.key === "End") seekTo(0.999);
      else return;
      e.preventDefault();
    }
    onBeforeUnmount(() => {
      if (audio.value && !audio.value.paused) audio.value.pause();
    });

    return {
      audio, url, playing, current, totalS, duration, shown, progress, width, failed,
      toggle, onTime, onMeta, onEnded, onError, onBarClick, onBarKey, retry: () => retryMedia(props.conv.id, props.msg), t, Math,
    };
  },
  template: `
    <div class="media-voice" :style="{ width }" data-testid="media-voice" :data-playing="playing ? 'true' : 'false'">
      <media-fallback v-if="failed" :label="t('media.loadFailed')" @retry="retry" />
      <template v-else>
        <button type="button" class="voice-play" @click="toggle" :disabled="!url" :aria-label="playing ? t('media.pause') : t('media.play')" data-testid="voice-play">
          <el-icon :size="22"><icon-video-pause v-if="playing" /><icon-video-play v-else /></el-icon>
        </button>
        <div class="voice-bar" role="slider" tabindex="0" :aria-label="t('media.voice')" aria-valuemin="0" :aria-valuemax="Math.round(totalS)"
             :aria-valuenow="Math.round(current)" :aria-valuetext="shown + ' / ' + duration" @click="onBarClick" @keydown="onBarKey" data-testid="voice-bar">
          <span class="voice-fill" :style="{ width: progress + '%' }"></span>
        </div>
        <span class="voice-dur" data-testid="voice-duration">{{ shown }}</span>
        <audio v-if="url" ref="audio" :src="url" preload="metadata" @play="playing = true" @pause="playing = false"
               @timeupdate="onTime" @loadedmetadata="onMeta" @durationchange="onMeta" @ended="onEnded" @error="onError" data-testid="voice-audio"></audio>
      </template>
    </div>`,
};
