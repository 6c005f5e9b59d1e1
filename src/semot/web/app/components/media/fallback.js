// What a media bubble shows when its file cannot be loaded even with fresh URLs (gone,
// no longer readable, or offline): a note and a retry button, never a broken image.
import { t } from "../../i18n.js";

export default {
  name: "MediaFallback",
  props: { label: { type: String, required: true } },
  emits: ["retry"],
  setup() {
    return { t };
  },
  template: `
    <div class="media-fallback" role="status" data-testid="media-failed">
      <el-icon :size="18" aria-hidden="true"><icon-warning-filled /></el-icon>
      <span class="media-fallback-text">{{ label }}</span>
      <button type="button" class="media-retry" @click.stop="$emit('retry')" data-testid="media-retry">{{ t('media.retry') }}</button>
    </div>`,
};
