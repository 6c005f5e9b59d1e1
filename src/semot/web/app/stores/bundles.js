// Merged forward: several messages sent as ONE `custom` message, a chat-history card
// (docs/protocol.md, "forward_bundle"):
//   {type: "forward_bundle", data: {title, items: [{from, from_name, ts, kind, body}]}}
// Each item's body is what a one-by-one forward would send (stores/forward.js,
// forwardBody): file kinds by file_id only, no mentions, no reply_to.
//
// Why file items show as labels only: the server lets a user read a file when a message
// of one of their conversations references it by its own kind and body; a file_id inside
// a custom payload does not count, so the recipient could not load the bytes. The viewer
// says so instead of showing broken images.
//
// A received bundle is untrusted JSON (any client may send a custom message): readBundle
// keeps only well-typed fields, and everything is rendered as text.
import { shallowRef } from "vue";
import { t } from "../i18n.js";
import { client, convTitle, displayName, me, summary } from "../store.js";
import { forwardBody } from "./forward.js";

export const BUNDLE_TYPE = "forward_bundle";
export const MAX_ITEMS = 100;
const KINDS = new Set(["text", "image", "voice", "video", "file", "location", "card", "custom"]);

/** The server's limits on custom data (docs/protocol.md section 5.10), as it announces them. */
function limits() {
  const cfg = client.serverConfig || {};
  return { bytes: cfg.max_custom_bytes || 16384, depth: cfg.max_custom_depth || 32 };
}

/** "Alice 和 Bob 的聊天记录": a direct chat names both sides, a group its name. */
export function bundleTitle(conv) {
  if (conv.type === "group") return t("bundle.title1", { a: convTitle(conv) });
  const other = conv.peer || (conv.members || []).find((u) => u !== me()) || "";
  if (!other || other === me()) return t("bundle.title1", { a: displayName(me()) });
  return t("bundle.title2", { a: displayName(me()), b: displayName(other) });
}

/** The custom body for `msgs` (in the order given). */
export function makeBundle(conv, msgs) {
  return {
    type: BUNDLE_TYPE,
    data: {
      title: bundleTitle(conv),
      items: msgs.slice(0, MAX_ITEMS).map((m) => ({
        from: m.from, from_name: displayName(m.from), ts: m.ts, kind: m.kind, body: forwardBody(m),
      })),
    },
  };
}

function depthOf(value) {
  let max = 0;
  const stack = [[value, 1]];
  while (stack.length) {
    const [node, d] = stack.pop();
    if (node === null || typeof node !== "object") continue;
    max = Math.max(max, d);
    for (const c of Object.values(node)) if (c !== null && typeof c === "object") stack.push([c, d + 1]);
  }
  return max;
}

/** Why `bundle` cannot be sent ("" when it can): too many items, or data over the
 * server's size or depth limit (measured as it measures: compact JSON in UTF-8). */
export function bundleProblem(bundle, count) {
  const lim = limits();
  if (count > MAX_ITEMS) return t("sel.tooMany", { n: MAX_ITEMS });
  const bytes = new TextEncoder().encode(JSON.stringify(bundle.data)).length;
  if (bytes > lim.bytes) return t("sel.tooBig", { size: (bytes / 1024).toFixed(1), max: Math.floor(lim.bytes / 1024) });
  if (depthOf(bundle.data) > lim.depth) return t("sel.tooDeep");
  return "";
}

export function isBundle(msg) {
  return !!msg && msg.kind === "custom" && !!msg.body && msg.body.type === BUNDLE_TYPE;
}

/** The well-typed part of a received bundle body: {title, items}, or null. */
export function readBundle(body) {
  const data = body && body.type === BUNDLE_TYPE ? body.data : null;
  if (!data || typeof data !== "object" || !Array.isArray(data.items)) return null;
  const items = [];
  for (const it of data.items.slice(0, MAX_ITEMS)) {
    if (!it || typeof it !== "object") continue;
    const kind = KINDS.has(it.kind) ? it.kind : "unsupported";
    const from = typeof it.from === "string" ? it.from : "";
    items.push({
      from,
      name: typeof it.from_name === "string" && it.from_name ? it.from_name.slice(0, 64) : from,
      ts: Number.isFinite(it.ts) ? it.ts : 0,
      kind,
      body: it.body && typeof it.body === "object" && !Array.isArray(it.body) ? it.body : {},
    });
  }
  const title = typeof data.title === "string" && data.title ? data.title.slice(0, 200) : t("bundle.label");
  return { title, items };
}

/** One item as a line of text: "[图片]", the text, "[聊天记录] ...". */
export function itemText(item) {
  if (item.kind === "unsupported") return t("msg.unsupported");
  if (item.kind === "text") return typeof item.body.text === "string" ? item.body.text : "";
  if (item.kind === "custom" && item.body.type === BUNDLE_TYPE) {
    const inner = readBundle(item.body);
    return t("bundle.summary", { title: inner ? inner.title : t("bundle.label") });
  }
  if (item.kind === "custom") return t("msg.custom", { type: String(item.body.type || "") });
  return summary({ kind: item.kind, body: item.body, from: item.from });
}

// The bundle open in the viewer (one viewer per chat, mounted by the message list, so
// that it outlives the row of the card that opened it): a stack, for bundles in bundles.
export const viewing = shallowRef([]);

export function openBundle(bundle) {
  if (bundle) viewing.value = [...viewing.value, bundle];
}
export function backBundle() {
  viewing.value = viewing.value.slice(0, -1);
}
export function closeBundles() {
  viewing.value = [];
}
