// Edits and reactions (docs/protocol.md "Edits and reactions"), the app's side.
// - Applying what the SDK reports: live `evt edit` / `evt reaction`, and `evt changed`
//   (a changed message fetched after a reconnect: body, edited_ts and reactions as they
//   are now). Each replaces the loaded copy's fields: applying one twice changes nothing.
// - Which message is being edited in place (one per conversation), and the requests.
// No import of app/store.js (it imports this module): callers pass what is needed.
import { reactive } from "vue";

/** conv id -> seq of the message being edited in place. */
export const editing = reactive({});

/** A small built-in set for one-click reactions; the emoji picker offers the rest. */
export const QUICK_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "🙏"];

function find(c, seq) {
  return c.messages.find((m) => m.seq === seq) || null;
}

function touchLast(c, seq, fields) {
  if (c.last && c.last.seq === seq) c.last = { ...c.last, ...fields };
}

/** `evt edit`: the message now reads `body`. */
export function applyEdit(c, e) {
  const m = find(c, e.seq);
  if (m && m.kind === "text") {
    m.body = e.body;
    m.edited_ts = e.edited_ts;
  }
  touchLast(c, e.seq, { body: e.body, edited_ts: e.edited_ts });
}

/** `evt reaction`: the message's whole summary after the change. */
export function applyReaction(c, e) {
  const m = find(c, e.seq);
  if (m) m.reactions = e.reactions && e.reactions.length ? e.reactions : undefined;
}

/** `evt changed` (catch-up): the message as it is now. */
export function applyChanged(c, msg) {
  const m = find(c, msg.seq);
  if (m) {
    if (m.kind === "text" && msg.kind === "text") m.body = msg.body;
    m.edited_ts = msg.edited_ts;
    m.reactions = msg.reactions;
  }
  if (msg.kind === "text" && msg.edited_ts) touchLast(c, msg.seq, { body: msg.body, edited_ts: msg.edited_ts });
}

/** May `me` edit message `m` now? (own stored text message, within the window; 0: off) */
export function canEdit(m, pending, me, windowS, now) {
  if (pending || !(m.seq > 0) || m.from !== me || m.kind !== "text" || !windowS) return false;
  return now - m.ts < windowS * 1000;
}

export function startEdit(c, m) {
  editing[c.id] = m.seq;
}

export function cancelEdit(c) {
  delete editing[c.id];
}

export function isEditing(c, m) {
  return editing[c.id] === m.seq;
}

/** Save an edit; the copy shows it at once (the server's reply confirms). */
export async function saveEdit(client, c, m, text) {
  if (text === m.body.text) {
    cancelEdit(c);
    return;
  }
  const r = await client.edit(c.id, m.seq, text);
  if (r.changed) applyEdit(c, { seq: m.seq, body: { ...m.body, text }, edited_ts: r.edited_ts });
  cancelEdit(c);
}

/** Did `me` react with `emoji` on `m`? */
export function reacted(m, emoji, me) {
  const r = (m.reactions || []).find((x) => x.emoji === emoji);
  return !!(r && r.users.includes(me));
}

/** Toggle `me`'s `emoji` on message `m` (click on a chip or on the add menu). */
export async function toggleReaction(client, c, m, emoji, me) {
  const on = !reacted(m, emoji, me);
  const r = await client.react(c.id, m.seq, emoji, on);
  applyReaction(c, { seq: m.seq, reactions: r.reactions });
}
