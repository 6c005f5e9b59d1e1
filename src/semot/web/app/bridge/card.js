// The message card an app sends into a chat (bridge: sendCard): a `custom` message of
// type "app_card" whose data is checked here before the user is asked to confirm, and
// shown by AppCard (title, text, label/value lines, a link, the app it came from). Every
// field is rendered as text (never HTML), and a link must be http(s).
//
// Any user can send a custom message of this type, naming whatever app they like: the
// card shows an app's name only when the origin it names is one of the pages the
// administrator configured (client configuration) and its link stays on that origin;
// the name shown is then the configured page's title, never the card's own. Any other
// card shows the origin it claims, marked unverified (the sender is shown by the chat).
import { computed } from "vue";
import { t } from "../i18n.js";
import { clientConfig } from "../stores/client-config.js";

// the cards' stylesheet, linked once (app.css stays as it is)
const CSS = "/web/app/bridge/bridge.css";
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

export const CARD_TYPE = "app_card";
const LIMITS = { title: 100, text: 1000, label: 32, value: 200, fields: 10, url: 2048 };

class CardError extends Error {
  constructor(message) {
    super(message);
    this.code = "bad_request";
  }
}

function text(value, name, max, required = false) {
  if (value === undefined || value === null || value === "") {
    if (required) throw new CardError(`card.${name}: required`);
    return undefined;
  }
  if (typeof value !== "string") throw new CardError(`card.${name}: a string`);
  if (value.length > max) throw new CardError(`card.${name}: at most ${max} characters`);
  return value;
}

function httpUrl(value) {
  const url = text(value, "url", LIMITS.url);
  if (url === undefined) return undefined;
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new CardError("card.url: an absolute URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new CardError("card.url: http(s) only");
  return parsed.href;
}

/** The card's data as it will be sent, or a thrown error (code bad_request) saying what is wrong. */
export function checkCard(card, app) {
  if (!card || typeof card !== "object" || Array.isArray(card)) throw new CardError("card: an object");
  const fields = card.fields === undefined ? [] : card.fields;
  if (!Array.isArray(fields) || fields.length > LIMITS.fields) throw new CardError(`card.fields: a list of at most ${LIMITS.fields}`);
  const data = {
    title: text(card.title, "title", LIMITS.title, true),
    text: text(card.text, "text", LIMITS.text),
    fields: fields.map((f, i) => {
      if (!f || typeof f !== "object") throw new CardError(`card.fields.${i}: {label, value}`);
      return { label: text(f.label, `fields.${i}.label`, LIMITS.label, true), value: text(String(f.value ?? ""), `fields.${i}.value`, LIMITS.value) || "" };
    }),
    url: httpUrl(card.url),
    app,
  };
  for (const k of Object.keys(data)) if (data[k] === undefined) delete data[k];
  return data;
}

function originOf(url) {
  try {
    const origin = new URL(String(url)).origin;
    return origin === "null" ? "" : origin;
  } catch {
    return "";
  }
}

/** Who a card says it comes from: {verified, name, origin} (see the top of this file). */
export function cardApp(data) {
  const app = data && data.app && typeof data.app === "object" ? data.app : {};
  const origin = originOf(app.origin);
  const link = data && data.url ? originOf(data.url) : origin;
  if (origin && origin !== location.origin && link === origin) {
    const page = (clientConfig.pages || []).find((p) => originOf(p.url) === origin);
    if (page) return { verified: true, name: page.title, origin };
  }
  const claimed = origin || (typeof app.origin === "string" ? app.origin.slice(0, 100) : "");
  return { verified: false, name: claimed, origin };
}

export function isAppCard(msg) {
  return !!msg && msg.kind === "custom" && !!msg.body && msg.body.type === CARD_TYPE && !!msg.body.data && typeof msg.body.data.title === "string";
}

/** A card in a chat (or in the confirm dialog): `data` as checkCard made it. */
export const AppCard = {
  name: "AppCard",
  props: { data: { type: Object, required: true } },
  setup(props) {
    const link = computed(() => {
      try {
        const u = new URL(String(props.data.url || ""));
        return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
      } catch {
        return null;
      }
    });
    const fields = computed(() => (Array.isArray(props.data.fields) ? props.data.fields.filter((f) => f && typeof f.label === "string") : []));
    const app = computed(() => cardApp(props.data));
    return { link, fields, app, t };
  },
  template: `
    <div class="app-card" data-testid="app-card">
      <div class="app-card-title" data-testid="app-card-title">{{ data.title }}</div>
      <div v-if="data.text" class="app-card-text">{{ data.text }}</div>
      <dl v-if="fields.length" class="app-card-fields">
        <template v-for="(f, i) in fields" :key="i"><dt>{{ f.label }}</dt><dd>{{ String(f.value ?? '') }}</dd></template>
      </dl>
      <div class="app-card-foot">
        <span v-if="app.verified" class="app-card-app" data-testid="app-card-app">{{ app.name }}</span>
        <span v-else class="app-card-app unverified" data-testid="app-card-app" data-unverified="true" :title="t('bridge.unverifiedHint')">
          {{ app.name }} <span class="app-card-unverified">{{ t('bridge.unverified') }}</span>
        </span>
        <a v-if="link" :href="link" target="_blank" rel="noopener noreferrer" data-testid="app-card-open">{{ t('bridge.openCard') }} ↗</a>
      </div>
    </div>`,
};
