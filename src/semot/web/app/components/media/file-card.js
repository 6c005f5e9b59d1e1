// A file message: a type badge (from the server's sniffed mime, refined by the
// extension), the name (text, cut with an ellipsis, whole in the tooltip), the size, and
// a download link on the signed `url`. A link whose URL has expired is refreshed first.
import { computed, onMounted, watch } from "vue";
import { Download } from "@element-plus/icons-vue";
import { t } from "../../i18n.js";
import { ensureFresh, needsRefresh, refreshMessage } from "../../stores/media.js";
import { fileType, humanSize } from "./format.js";

export default {
  name: "MediaFile",
  components: { IconDownload: Download },
  props: {
    msg: { type: Object, required: true },
    conv: { type: Object, required: true },
  },
  setup(props) {
    const body = computed(() => props.msg.body || {});
    const name = computed(() => body.value.name || t("media.file"));
    const size = computed(() => humanSize(body.value.size));
    const type = computed(() => fileType(body.value.mime, body.value.name));
    const url = computed(() => body.value.url || "");

    const check = () => ensureFresh(props.conv.id, props.msg);
    onMounted(check);
    watch(() => props.msg.body, check);

    /** A link that has expired (or is about to): fetch a fresh one, then download it. */
    async function onDownload(e) {
      if (!needsRefresh(props.msg)) return;
      e.preventDefault();
      const ok = await refreshMessage(props.conv.id, props.msg.seq, { force: true });
      if (!ok || !url.value) return;
      const a = document.createElement("a");
      a.href = url.value;
      a.download = body.value.name || "";
      a.rel = "noopener";
      document.body.appendChild(a);
      a.click();
      a.remove();
    }
    return { body, name, size, type, url, onDownload, t };
  },
  template: `
    <div class="file-card" data-testid="file-card">
      <span class="file-icon" :style="{ background: type.color }" aria-hidden="true" data-testid="file-icon">{{ type.label }}</span>
      <span class="file-text">
        <span class="file-name" :title="name" data-testid="file-name">{{ name }}</span>
        <span class="file-size" data-testid="file-size">{{ size }}</span>
      </span>
      <a v-if="url" class="file-dl" :href="url" :download="body.name || ''" rel="noopener" @click="onDownload"
         :aria-label="t('media.downloadFile', { name })" :title="t('media.download')" data-testid="file-download">
        <el-icon :size="18"><icon-download /></el-icon>
      </a>
      <span v-else-if="msg.seq > 0" class="file-dl" aria-hidden="true"><el-icon class="is-loading"><icon-loading /></el-icon></span>
    </div>`,
};
