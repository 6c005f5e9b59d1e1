// The translation machinery the web client's strings and the admin console's strings
// share: the language choice (zh-CN for browsers that prefer Chinese, English for the
// rest; remembered under one key, so both apps speak the same language), CLDR plural
// forms and {placeholder} filling. Each app keeps its own tables.
import { reactive } from "vue";

export const LOCALES = ["zh-CN", "en"];
export const LANG_KEY = "semot.lang";

/** The language to start in: the saved choice, else the browser's preference. */
export function detectLocale(supported = LOCALES) {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && supported.includes(saved)) return saved;
  } catch {
    /* no storage */
  }
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const p of prefs) {
    const l = String(p).toLowerCase();
    if (l.startsWith("zh")) return "zh-CN";
    if (l.startsWith("en")) return "en";
  }
  return "en";
}

const pluralRules = {};
/** The CLDR plural category of `n`: "one" or "other" in English, always "other" in Chinese. */
export function pluralOf(n, locale) {
  if (!pluralRules[locale]) {
    try {
      pluralRules[locale] = new Intl.PluralRules(locale);
    } catch {
      pluralRules[locale] = { select: (x) => (x === 1 ? "one" : "other") };
    }
  }
  return pluralRules[locale].select(n);
}

/**
 * A translator over `tables` ({"zh-CN": {...}, en: {...}}), with a reactive `locale`.
 * `t(key, params)` fills {name} placeholders as text (never HTML); with a numeric
 * `params.n` the form "key#one"/"key#other" wins when the language has it. A key
 * missing in the current language falls back to zh-CN, then to the key itself.
 */
export function createI18n(tables, { fallback = "zh-CN" } = {}) {
  const state = reactive({ locale: detectLocale(Object.keys(tables)) });

  function t(key, params = undefined) {
    const table = tables[state.locale] || tables[fallback];
    const n = params && typeof params.n === "number" ? params.n : null;
    const plural = n === null ? undefined : table[`${key}#${pluralOf(n, state.locale)}`];
    let s = plural ?? table[key] ?? tables[fallback][key] ?? key;
    if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] === undefined ? m : String(params[k])));
    return s;
  }

  function setLocale(locale) {
    if (!tables[locale]) return;
    state.locale = locale;
    try {
      localStorage.setItem(LANG_KEY, locale);
    } catch {
      /* no storage */
    }
    document.documentElement.lang = locale;
  }

  /** Add strings (a page's `messages`) to the tables; existing keys are kept. */
  function extend(more) {
    for (const [locale, strings] of Object.entries(more || {})) {
      if (!tables[locale]) continue;
      for (const [k, v] of Object.entries(strings)) if (!(k in tables[locale])) tables[locale][k] = v;
    }
  }

  document.documentElement.lang = state.locale;
  return { i18n: state, t, setLocale, extend, has: (key) => key in (tables[state.locale] || {}) };
}
