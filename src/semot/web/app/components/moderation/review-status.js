// The state of my message held for review (stores/moderation.js): "under review", or
// "rejected: <reason>" (the reason is text, never HTML).
import { computed } from "vue";
import { t } from "../../i18n.js";
import "../../stores/moderation.js";

export default {
  name: "ReviewStatus",
  props: { pending: { type: Object, required: true } },
  setup(props) {
    const reason = computed(() => (props.pending.reason === "timeout" ? t("review.timeout") : props.pending.reason || ""));
    return { t, reason };
  },
  template: `
    <span v-if="pending.status === 'review'" class="st st-review" :title="t('review.hint')" data-testid="st-review"
          style="color:#b88230">⏳ {{ t('review.pending') }}</span>
    <span v-else class="st st-rejected" role="alert" data-testid="st-rejected" :data-mid="pending.mid" style="color:#c45656">
      {{ reason ? t('review.rejectedWhy', { reason }) : t('review.rejected') }}
    </span>`,
};
