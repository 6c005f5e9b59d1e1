// What the message audit page (pages/messages.js) and its context drawer share: names of
// users and groups (looked up once per visit), a message's content as text, the keyword
// marks (segments rendered with {{ }}: never HTML), the time format.
import { reactive } from "vue";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { can } from "../../session.js";

// the type filter (recalled and burned messages are not found: docs/search.md)
export const KINDS = ["text", "image", "file", "voice", "video", "location", "card", "custom"];

export const names = reactive({ users: {}, groups: {} });
const asked = new Set();
let wanted = new Set();
let timer = null;

/** Look up the display names of these users (public profiles) and the names of these
 * groups (when the administrator may see groups); the table re-renders when they come. */
export function wantNames(userIds, convs = []) {
  for (const id of userIds) if (id && !asked.has(`u:${id}`)) wanted.add(id);
  for (const conv of convs) {
    if (!conv || !conv.startsWith("g:") || asked.has(conv) || !can("groups.view")) continue;
    asked.add(conv);
    const gid = conv.slice(2);
    api.get(`/groups/${encodeURIComponent(gid)}`, undefined, { quiet: true })
      .then((g) => { if (g && g.name) names.groups[conv] = g.name; })
      .catch(() => undefined);
  }
  if (!timer && wanted.size) timer = setTimeout(flush, 30);
}

async function flush() {
  timer = null;
  const ids = [...wanted];
  wanted = new Set();
  for (const id of ids) asked.add(`u:${id}`);
  for (let i = 0; i < ids.length; i += 200) {
    try {
      const r = await api.get("/api/v1/users", { ids: ids.slice(i, i + 200).join(",") }, { quiet: true });
      for (const u of (r && r.users) || []) names.users[u.user_id] = u.display_name || u.username || u.user_id;
    } catch {
      /* ids are shown instead */
    }
  }
}

export function userName(id) {
  return (id && names.users[id]) || id || "—";
}

/** A conversation as people read it: the group's name, or "A ↔ B" for a direct chat. */
export function convName(conv) {
  if (!conv) return "—";
  if (conv.startsWith("g:")) return names.groups[conv] || conv;
  if (conv.startsWith("d:")) {
    const [a, b] = conv.slice(2).split(":");
    return `${userName(a)} ↔ ${userName(b)}`;
  }
  return conv;
}

export function convUsers(conv) {
  return conv && conv.startsWith("d:") ? conv.slice(2).split(":") : [];
}

export function kindLabel(kind) {
  return [...KINDS, "recalled", "burned", "system"].includes(kind) ? t(`messages.kind.${kind}`) : kind;
}

/** The searchable text of a message, or a label for what has none. */
export function contentText(m) {
  const b = (m && m.body) || {};
  switch (m && m.kind) {
    case "text":
      return typeof b.text === "string" ? b.text : "";
    case "file":
    case "image":
    case "video":
    case "voice":
      return b.name ? `[${kindLabel(m.kind)}] ${b.name}` : `[${kindLabel(m.kind)}]`;
    case "location":
      return `[${kindLabel("location")}] ${[b.title, b.address].filter(Boolean).join(" ") || `${b.lat}, ${b.lng}`}`;
    case "card":
      return `[${kindLabel("card")}] ${b.user_id || ""}`;
    case "custom":
      return `[${kindLabel("custom")}] ${b.type || ""}`;
    case "recalled":
      return t("messages.recalledText");
    case "burned":
      return t("messages.kind.burned");
    case "system":
      return `[${kindLabel("system")}] ${b.type || ""}`;
    default:
      return JSON.stringify(b);
  }
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `text` split into [{text, hit}] by the words of `q` (case-insensitive). */
export function marks(text, q) {
  const s = String(text ?? "");
  const words = [...new Set(String(q || "").split(/\s+/).filter(Boolean))].sort((a, b) => b.length - a.length);
  if (!s || !words.length) return s ? [{ text: s, hit: false }] : [];
  const out = [];
  let at = 0;
  for (const m of s.matchAll(new RegExp(words.map(escapeRe).join("|"), "giu"))) {
    if (m.index > at) out.push({ text: s.slice(at, m.index), hit: false });
    out.push({ text: m[0], hit: true });
    at = m.index + m[0].length;
  }
  if (at < s.length) out.push({ text: s.slice(at), hit: false });
  return out;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

export function formatTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Whether an administrator with messages.recall can recall this message. */
export function recallable(m) {
  return !!m && !["recalled", "burned", "system"].includes(m.kind);
}
