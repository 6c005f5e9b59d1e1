// The visitor's context (the product or order they asked about, from the shop's page):
// picture, title as a link to the shop, price, order number and status. Text only; the
// link opens in a new tab and only http(s) addresses become links. Shown in the
// workbench's side panel and, as the `custom` message `{"type":"cs_context"}` the server
// posts at the start of a session, in the chat itself (message.js) with a one-line
// preview for the conversation list (contextSummary, store.js).
import { computed, ref } from "vue";
import { t } from "../../i18n.js";
import "./strings.js";
import "./styles.js";

export const CONTEXT_TYPE = "cs_context";

/** A context card message (services/customer_service.py CONTEXT_CARD) worth a card. */
export function isContextCard(msg) {
  return !!msg && msg.kind === "custom" && !!msg.body && msg.body.type === CONTEXT_TYPE
    && !!msg.body.data && typeof msg.body.data === "object" && typeof msg.body.data.title === "string";
}

/** "[商品] 青花瓷茶杯" for the conversation list and notifications. */
export function contextSummary(data) {
  return t("cs.ctx.summary", { kind: data.type === "order" ? t("cs.ctx.order") : t("cs.ctx.product"), title: data.title });
}

function safeUrl(u) {
  try {
    const url = new URL(String(u));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

export default {
  name: "ServiceContextCard",
  props: { ctx: { type: Object, required: true } },
  setup(props) {
    const url = computed(() => (props.ctx.url ? safeUrl(props.ctx.url) : null));
    // the client's Content-Security-Policy allows the widget's sites' pictures (app.py); a
    // picture from anywhere else is refused by it, and then not shown at all
    const broken = ref(false);
    const img = computed(() => (props.ctx.image_url && !broken.value ? safeUrl(props.ctx.image_url) : null));
    const kind = computed(() => (props.ctx.type === "order" ? t("cs.ctx.order") : t("cs.ctx.product")));
    return { url, img, kind, t, broken };
  },
  template: `
    <div class="cs-card" data-testid="cs-context" :data-type="ctx.type">
      <img v-if="img" class="cs-card-img" :src="img" alt="" referrerpolicy="no-referrer" data-testid="cs-context-img" @error="broken = true" />
      <div class="cs-card-main">
        <span class="cs-card-kind">{{ kind }}</span>
        <a v-if="url" :href="url" target="_blank" rel="noopener noreferrer" class="cs-card-title" data-testid="cs-context-title">{{ ctx.title }}</a>
        <span v-else class="cs-card-title" data-testid="cs-context-title">{{ ctx.title }}</span>
        <span v-if="ctx.price !== undefined && ctx.price !== null && ctx.price !== ''" class="cs-card-price">{{ t('cs.ctx.price') }} {{ ctx.price }}</span>
        <span v-if="ctx.order_no" class="cs-card-line">{{ t('cs.ctx.orderNo') }} {{ ctx.order_no }}</span>
        <span v-if="ctx.status" class="cs-card-line">{{ t('cs.ctx.status') }} {{ ctx.status }}</span>
      </div>
    </div>`,
};
