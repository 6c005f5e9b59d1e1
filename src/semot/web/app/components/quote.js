// A quoted message (the excerpt in `body.reply_to`): who wrote it and what, one or two
// lines. Above a reply's text (a click scrolls to the original, loading history as
// needed) and in the composer's quote bar. Text is interpolated, never HTML.
import { computed } from "vue";
import { t } from "../i18n.js";
import { displayName } from "../store.js";

// The quotes' stylesheet, linked once (app.css stays as it is).
const CSS = "/web/app/components/quote.css";
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

/** The line a quote shows for its excerpt `q` ({seq, from, kind, text?}). */
export function quoteText(q) {
  if (!q) return "";
  switch (q.kind) {
    case "recalled":
      return t("reply.recalled");
    case "burned":
      return t("reply.burned");
    case "text":
      return q.text || t("msg.burnHidden");
    case "image":
      return t("msg.image");
    case "voice":
      return t("msg.voice");
    case "video":
      return t("msg.video");
    case "file":
      return q.text ? t("msg.fileNamed", { name: q.text }) : t("msg.file");
    case "location":
      return t("msg.location", { title: q.text || "" });
    case "card":
      return t("reply.card");
    default:
      return t("reply.custom");
  }
}

export default {
  name: "MessageQuote",
  props: {
    quote: { type: Object, required: true },
    clickable: { type: Boolean, default: false },
  },
  emits: ["jump"],
  setup(props, { emit }) {
    const name = computed(() => displayName(props.quote.from));
    const text = computed(() => quoteText(props.quote));
    const gone = computed(() => props.quote.kind === "recalled" || props.quote.kind === "burned");
    function jump() {
      if (props.clickable) emit("jump", props.quote.seq);
    }
    return { name, text, gone, jump, t };
  },
  template: `
    <component :is="clickable ? 'button' : 'div'" class="quote" :class="{ gone, clickable }" :type="clickable ? 'button' : undefined"
         :title="clickable ? t('reply.jump') : undefined" @click.stop="jump" data-testid="quote" :data-seq="quote.seq" :data-kind="quote.kind">
      <span class="quote-name">{{ name }}</span>
      <span class="quote-text" data-testid="quote-text">{{ text }}</span>
    </component>`,
};
