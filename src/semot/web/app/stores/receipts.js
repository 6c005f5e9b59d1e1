// Group read receipts: every member's read position (read_seq) per group conversation,
// loaded once per conversation from GET /api/v1/conversations/{conv}/reads and kept
// current by `evt read` (the server fans those out to every member of groups within
// read_receipts_max_group). "N unread" under my own message is counted here, on the
// client, from that map: no per-message state on the server. See docs/protocol.md,
// "Group read receipts".
import { reactive } from "vue";
import { client, displayName } from "../store.js";

export const receipts = reactive({
  reads: {}, // conv -> {user_id: read_seq}
  joined: {}, // conv -> {user_id: joined_at ms} (members who joined after a message are left out of it)
  off: {}, // conv -> true: the server keeps this group's reads private (too big), show nothing
});

const loading = new Map(); // conv -> promise
let session = null;

function sameSession() {
  if (session !== client.userId) {
    session = client.userId;
    receipts.reads = {};
    receipts.joined = {};
    receipts.off = {};
    loading.clear();
  }
}

/** The server's limit (client config at auth); 500 when an older server says nothing. */
export function receiptsLimit() {
  const n = client.serverConfig && client.serverConfig.read_receipts_max_group;
  return typeof n === "number" ? n : 500;
}

/** Load (once) a group's read positions; `force` reloads (after a reconnect). */
export function loadReads(conv, force = false) {
  sameSession();
  if (!force && (receipts.reads[conv] || receipts.off[conv])) return Promise.resolve();
  if (loading.has(conv)) return loading.get(conv);
  const p = client.conversationReadMarks(conv)
    .then(({ reads, joined }) => {
      const known = receipts.reads[conv] || {};
      // a live `evt read` may have arrived while the request was out: keep the larger
      const merged = { ...reads };
      for (const [u, s] of Object.entries(known)) if (u in merged) merged[u] = Math.max(merged[u], s);
      receipts.joined[conv] = joined || {};
      receipts.reads[conv] = merged;
      // Ask for the members' names now (one batched request): the list of who has read is
      // rendered only when a receipt is clicked (issue 11), and should open with names.
      for (const u of Object.keys(merged)) displayName(u);
    })
    .catch((error) => {
      if (error && (error.status === 403 || error.code === "forbidden")) receipts.off[conv] = true;
    })
    .finally(() => loading.delete(conv));
  loading.set(conv, p);
  return p;
}

/**
 * Who of the other members has read message `seq` and who has not, or null when
 * there is nothing to show (not loaded, receipts off). Members who joined after the
 * message was sent (`ts`, ms; the server's `joined` map) are in neither list: it was
 * never theirs to read.
 */
export function readersOf(conv, seq, sender, ts) {
  const reads = receipts.reads[conv];
  if (!reads || receipts.off[conv]) return null;
  const joined = receipts.joined[conv] || {};
  const read = [];
  const unread = [];
  for (const [u, s] of Object.entries(reads)) {
    if (u === sender) continue;
    if (typeof ts === "number" && typeof joined[u] === "number" && joined[u] > ts) continue;
    (s >= seq ? read : unread).push(u);
  }
  return { read, unread };
}

client.on("event", (e) => {
  if (!e || !e.conv || !e.conv.startsWith("g:")) return;
  const reads = receipts.reads[e.conv];
  if (!reads) return;
  if (e.evt === "read" && e.user && typeof e.seq === "number") {
    reads[e.user] = Math.max(reads[e.user] || 0, e.seq);
  } else if (e.evt === "group" && e.change) {
    const ty = e.change.type;
    if (ty === "dismissed" || ((ty === "member_left" || ty === "member_removed") && e.change.user === client.userId)) {
      forgetReads(e.conv); // I am out (left, removed, a service session transferred away): nothing more to read (403)
    } else if (ty === "member_joined" || ty === "members_added" || ty === "member_left" || ty === "member_removed") {
      loadReads(e.conv, true); // members come and go: reload the map rather than guess their positions
    }
  }
});

/** Drop a group's read marks (I am no longer in it); loaded again if I come back and open it. */
export function forgetReads(conv) {
  delete receipts.reads[conv];
  delete receipts.joined[conv];
  delete receipts.off[conv];
}

// after a reconnect the live reads missed while offline are not replayed: reload
client.on("state", (s) => {
  if (s && s.state === "open" && s.previous && s.previous !== "open") {
    for (const conv of Object.keys(receipts.reads)) loadReads(conv, true);
  }
});
