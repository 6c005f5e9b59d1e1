// Small pure helpers: time formatting, avatars (web/shared/people.js), text segmentation (links and mentions,
// always rendered as text nodes), the emoji set.
import { i18n, t } from "./i18n.js";

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

export function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

// Formatters are costly to build (a row's title and time each made one per render):
// one per locale and options.
const formats = new Map();
function format(opts) {
  const key = `${i18n.locale}|${JSON.stringify(opts)}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(i18n.locale, opts);
    formats.set(key, f);
  }
  return f;
}

export function clock(ts) {
  return format({ hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(ts));
}

/** Conversation list time: 14:05, Yesterday, Tue, 3/7, 2024/3/7. (`_day` only makes a
 * caller's computed value depend on the day.) */
export function shortTime(ts, _day = undefined, now = Date.now()) {
  if (!ts) return "";
  const d = new Date(ts);
  const n = new Date(now);
  if (sameDay(d, n)) return clock(ts);
  const y = new Date(n);
  y.setDate(n.getDate() - 1);
  if (sameDay(d, y)) return t("time.yesterday");
  if (now - ts < 6 * 86400000) return new Intl.DateTimeFormat(i18n.locale, { weekday: "short" }).format(d);
  if (d.getFullYear() === n.getFullYear()) return new Intl.DateTimeFormat(i18n.locale, { month: "numeric", day: "numeric" }).format(d);
  return new Intl.DateTimeFormat(i18n.locale, { year: "numeric", month: "numeric", day: "numeric" }).format(d);
}

/** Day separator label: Today, Yesterday, or a full date. */
export function dayLabel(ts, _day = undefined, now = Date.now()) {
  const d = new Date(ts);
  const n = new Date(now);
  if (sameDay(d, n)) return t("time.today");
  const y = new Date(n);
  y.setDate(n.getDate() - 1);
  if (sameDay(d, y)) return t("time.yesterday");
  const opts = { month: "long", day: "numeric", weekday: "short" };
  if (d.getFullYear() !== n.getFullYear()) opts.year = "numeric";
  return new Intl.DateTimeFormat(i18n.locale, opts).format(d);
}

export function fullTime(ts) {
  return format({ dateStyle: "medium", timeStyle: "short" }).format(new Date(ts));
}

// avatar colours and initials are shared with the admin console
export { avatarColor, initials } from "../shared/people.js";

const URL_RE = /\bhttps?:\/\/[^\s<>"'）)]+/g;

/**
 * Split a text into segments for rendering: {type:"text"|"link"|"mention", text, href?}.
 * Links are http(s) only; the template renders every segment as text or as an <a> whose
 * href is one of these validated URLs.
 */
export function segments(text, mentionNames = []) {
  const out = [];
  const names = [...new Set(mentionNames.filter(Boolean))].sort((a, b) => b.length - a.length);
  const mentionRe = names.length ? new RegExp(`@(?:${names.map(escapeRe).join("|")})(?=\\s|$|[,.!?，。！？])`, "g") : null;
  let last = 0;
  for (const m of String(text).matchAll(URL_RE)) {
    pushMentions(out, text.slice(last, m.index), mentionRe);
    let href = m[0];
    // leave trailing punctuation out of the link
    const trail = href.match(/[.,!?;:。，！？；：]+$/);
    if (trail) href = href.slice(0, -trail[0].length);
    out.push({ type: "link", text: href, href });
    if (trail) out.push({ type: "text", text: trail[0] });
    last = m.index + m[0].length;
  }
  pushMentions(out, text.slice(last), mentionRe);
  return out;
}

function pushMentions(out, chunk, re) {
  if (!chunk) return;
  if (!re) {
    out.push({ type: "text", text: chunk });
    return;
  }
  let last = 0;
  re.lastIndex = 0;
  for (const m of chunk.matchAll(re)) {
    if (m.index > last) out.push({ type: "text", text: chunk.slice(last, m.index) });
    out.push({ type: "mention", text: m[0] });
    last = m.index + m[0].length;
  }
  if (last < chunk.length) out.push({ type: "text", text: chunk.slice(last) });
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export const USERNAME_RE = /^[A-Za-z0-9_.-]{2,64}$/;

export const EMOJI = [
  "😀", "😁", "😂", "🤣", "😊", "😍", "😘", "😎", "🤔", "😅", "😉", "🙂",
  "🙃", "😇", "🥰", "😋", "😜", "🤗", "🤩", "😏", "😴", "😭", "😢", "😡",
  "😱", "😳", "🥺", "😬", "🙄", "😤", "😪", "🤯", "🥳", "😷", "🤒", "🤝",
  "👍", "👎", "👌", "✌️", "🙏", "👏", "💪", "🙌", "👋", "🤞", "✋", "👀",
  "❤️", "💔", "💯", "🔥", "✨", "🎉", "🎂", "🎁", "🌹", "🌞", "🌙", "⭐",
  "☕", "🍵", "🍺", "🍻", "🍉", "🍎", "🍜", "🍚", "🐱", "🐶", "🐼", "🐷",
  "✅", "❌", "❓", "❗", "⏰", "📌", "📎", "📅", "💡", "🚀", "🏆", "💰",
];

/** Insert `text` into a textarea's value at its caret; returns {value, caret}. */
export function insertAt(value, el, text) {
  const start = el && typeof el.selectionStart === "number" ? el.selectionStart : value.length;
  const end = el && typeof el.selectionEnd === "number" ? el.selectionEnd : value.length;
  return { value: value.slice(0, start) + text + value.slice(end), caret: start + text.length };
}
