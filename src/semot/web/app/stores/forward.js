// Forwarding a message to other conversations and contacts.
//
// Forwarding is sending: the same kind and body, as a new message of mine, to each target
// (protocol.md: "forwarding is sending a file you can read"). File kinds send only their
// `file_id` (and `duration_ms` for voice and video): the server fills in the rest from the
// stored file and checks that I may read it, so nothing is uploaded again. A text keeps
// its text and drops its mentions (they name members of the original conversation).
// Each target gets its own pending bubble through the store's outbox, and its own result.
import { client, convTitle, describeError, directConv, displayName, ensureConv, me, sendMessage, state } from "../store.js";
import { MEDIA_KINDS } from "./media.js";

const FORWARDABLE = new Set(["text", "image", "voice", "video", "file", "location", "card", "custom"]);

/** Whether the message menu offers Forward: a stored message of a forwardable kind that
 * is not burn-after-reading (its sender chose that it should not outlive the reading). */
export function canForward(msg, pending = null) {
  if (!msg || pending || !(msg.seq > 0) || !FORWARDABLE.has(msg.kind)) return false;
  if (msg.opts && msg.opts.burn_s) return false;
  const b = msg.body || {};
  if (MEDIA_KINDS.has(msg.kind)) return typeof b.file_id === "string" && b.file_id !== "";
  if (msg.kind === "text") return typeof b.text === "string" && b.text !== "";
  return true;
}

/** The body to send for a forwarded copy of `msg`. */
export function forwardBody(msg) {
  const b = msg.body || {};
  if (MEDIA_KINDS.has(msg.kind)) {
    const out = { file_id: b.file_id };
    if ((msg.kind === "voice" || msg.kind === "video") && Number.isInteger(b.duration_ms)) out.duration_ms = b.duration_ms;
    return out;
  }
  if (msg.kind === "text") return { text: b.text };
  const { reply_to: _quote, ...rest } = b; // a quote names a seq of the source chat: not forwarded (W3)
  return JSON.parse(JSON.stringify(rest)); // location, card, custom: as they are
}

/**
 * Where a message can go: my conversations (most recent first; not dismissed groups),
 * then friends I have no direct chat with yet. Each target: {id (a conv), title, sub,
 * group, peer}. `query` filters by name, remark or id (case-insensitive).
 */
export function forwardTargets(query = "") {
  const q = String(query || "").trim().toLowerCase();
  const out = [];
  const seen = new Set();
  const convs = Object.values(state.convs)
    .filter((c) => !c.dismissed && (c.type === "group" || c.peer))
    .sort((a, b) => (b.lastTs || 0) - (a.lastTs || 0));
  for (const c of convs) {
    seen.add(c.id);
    out.push({ id: c.id, title: convTitle(c), sub: c.type === "group" ? "" : `@${c.peer}`, group: c.type === "group", peer: c.peer || "" });
  }
  for (const f of state.contacts.friends || []) {
    if (!f.user_id || f.user_id === me()) continue;
    const id = directConv(me(), f.user_id);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ id, title: displayName(f.user_id), sub: `@${f.user_id}`, group: false, peer: f.user_id });
  }
  if (!q) return out;
  return out.filter((t) => t.title.toLowerCase().includes(q) || t.sub.toLowerCase().includes(q) || t.id.toLowerCase().includes(q));
}

/**
 * Send a copy of `msg` to each conversation id in `targets`. `onStatus(id, status,
 * error)` reports "sending" / "queued" (offline: it waits in the outbox and goes out on
 * reconnect) / "sent" / "failed". Resolves with {sent, failed} once every target that
 * was connected has its answer (queued ones are not waited for).
 */
export async function forwardTo(targets, msg, onStatus = () => {}) {
  const kind = msg.kind;
  const body = forwardBody(msg);
  const jobs = targets.map(async (id) => {
    const c = ensureConv(id);
    const p = sendMessage(c, kind, JSON.parse(JSON.stringify(body)));
    // the same cid again: the SDK keeps one outbox item and gives this call its answer
    const answer = client.send(c.id, kind, p.body, { cid: p.cid });
    if (!client.connected) {
      onStatus(id, "queued");
      answer.then(() => onStatus(id, "sent"), (error) => onStatus(id, "failed", describeError(error)));
      return "queued";
    }
    onStatus(id, "sending");
    try {
      await answer;
      onStatus(id, "sent");
      return "sent";
    } catch (error) {
      onStatus(id, "failed", describeError(error));
      return "failed";
    }
  });
  const results = await Promise.all(jobs);
  return { sent: results.filter((r) => r === "sent").length, failed: results.filter((r) => r === "failed").length, queued: results.filter((r) => r === "queued").length };
}

/**
 * Forward `msgs` one by one (each through forwardTo, with its body rules) to each target,
 * in the order given (seq order): a message goes out once the one before it has its
 * answer, so each target receives them in that order. `onStatus(id, status, error)` as
 * forwardTo, per target: "failed" as soon as one of its messages failed, "sent" once all
 * were sent. Resolves with per-target counts {sent, failed, queued}.
 */
export async function forwardEach(targets, msgs, onStatus = () => {}) {
  const worst = {}; // target -> "sent" | "queued" | "failed"
  const rank = { sent: 0, queued: 1, failed: 2 };
  for (const id of targets) onStatus(id, "sending");
  for (const m of msgs) {
    await forwardTo(targets, m, (id, status, error) => {
      if (status === "sending") return;
      if (!worst[id] || rank[status] > rank[worst[id]]) worst[id] = status;
      if (status === "failed") onStatus(id, "failed", error);
    });
  }
  for (const id of targets) if (worst[id] !== "failed") onStatus(id, worst[id] || "sent");
  const results = targets.map((id) => worst[id] || "sent");
  return { sent: results.filter((r) => r === "sent").length, failed: results.filter((r) => r === "failed").length, queued: results.filter((r) => r === "queued").length };
}
