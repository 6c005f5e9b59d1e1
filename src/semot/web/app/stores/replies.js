// Replies / quotes (`body.reply_to`, docs/protocol.md "Replies and quotes").
// - The composer's quote bar: which message the next send in a conversation answers.
// - The quote a message shows: the excerpt the server stored ({seq, from, kind, text?}),
//   filled from the stored original, so it shows without the original's history loaded;
//   a recalled original reads as recalled (the server rewrites the excerpt; a device that
//   sees the recall live rewrites its copies at once: recallQuotes()).
// - Jumping to the original: jumpToQuote() asks the message list (W2's virtual list,
//   revealMessage) to load history back to it and scroll it into view.
// No import of app/store.js (it imports this module): callers pass what is needed.
import { reactive } from "vue";

const QUOTE_CHARS = 200; // as the server: a longer text is cut (its excerpt is authoritative)

/** conv id -> the excerpt the next send answers (shown in the composer's quote bar). */
export const replyDrafts = reactive({});

/** A local excerpt of message `m`, shown at once while the send is on its way (the
 * server replaces it with its own, built from the stored original). */
export function excerptOf(m) {
  const e = { seq: m.seq, from: m.from, kind: m.kind };
  if (m.opts && m.opts.burn_s) return e;
  const b = m.body || {};
  let text = null;
  if (m.kind === "text") text = b.text;
  else if (m.kind === "file") text = b.name;
  else if (m.kind === "location") text = b.title || b.address;
  if (typeof text === "string" && text) e.text = text.length <= QUOTE_CHARS ? text : `${text.slice(0, QUOTE_CHARS - 1)}…`;
  return e;
}

/** Messages of these kinds can be replied to (once stored: they have a seq). */
export function canReply(m, pending) {
  return !pending && m.seq > 0 && !["system", "recalled", "burned"].includes(m.kind);
}

export function startReply(c, m) {
  replyDrafts[c.id] = excerptOf(m);
}

export function cancelReply(c) {
  delete replyDrafts[c.id];
}

export function replyDraft(c) {
  return (c && replyDrafts[c.id]) || null;
}

/** The quote the next send answers, taken off the quote bar (a send carries it): the
 * `reply_to` for a body, or null. */
export function takeReply(c) {
  const q = replyDraft(c);
  if (q) cancelReply(c);
  return q ? { ...q } : null; // the server refills the excerpt from the original
}

/** The quote message `m` shows, or null. Its original, when loaded and recalled or
 * burned since, wins over the stored excerpt. */
export function quoteOf(c, m) {
  const q = m && m.body && m.body.reply_to;
  if (!q || typeof q !== "object" || !Number.isInteger(q.seq)) return null;
  const original = c.messages.find((x) => x.seq === q.seq);
  if (original && (original.kind === "recalled" || original.kind === "burned") && q.kind !== original.kind) {
    return { seq: q.seq, from: q.from, kind: original.kind };
  }
  return q;
}

/** The original `seq` was recalled: the loaded replies quoting it lose its text. */
export function recallQuotes(c, seq) {
  for (const m of c.messages) {
    const q = m.body && m.body.reply_to;
    if (q && q.seq === seq && q.kind !== "recalled") m.body = { ...m.body, reply_to: { seq, from: q.from, kind: "recalled" } };
  }
  const draft = replyDrafts[c.id];
  if (draft && draft.seq === seq) delete replyDrafts[c.id];
}

/** Scroll the open chat `c` to message `seq` (a click on a quote), loading older pages
 * as needed. Resolves to true when it is shown, false when it is not in the history. */
export async function jumpToQuote(c, seq) {
  const { revealMessage } = await import("../components/message-list.js"); // at call time: no import cycle
  return revealMessage(c.id, seq);
}
