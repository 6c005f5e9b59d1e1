// "[有人@我]": whether a conversation holds an unread message that mentions me.
// It is derived from what the server says, not only from live pushes, so a mention
// received while this device was offline (or before a reload) still shows after login:
// - every message that reaches the store (push, catch-up, history page) after my read
//   position, from someone else, that names me in `mentions` or has `mention_all`;
// - sync's `last` of each conversation;
// - after a (re)connect, the unread part of each group whose messages this session has
//   not seen (a history scan after read_seq, a few pages at most).
// It clears when my read position (here or on another device) passes the mention.
// Pure functions over a conversation object of app/store.js (no import of it: no cycle).

const SCAN_PAGE = 200;
const SCAN_PAGES = 3; // a group with more unread than this: the newest pages are what a mention is likely in

/** Does message `m` mention `userId` (by id, or everyone)? Own messages never do. */
export function mentionsUser(m, userId) {
  if (!m || !userId || m.from === userId || m.kind !== "text" || !m.body) return false;
  return !!m.body.mention_all || (Array.isArray(m.body.mentions) && m.body.mentions.includes(userId));
}

/** Note a message of conversation `c`: a mention of me after my read position tags it. */
export function noteMention(c, m, userId) {
  if (!mentionsUser(m, userId) || m.seq <= (c.readSeq || 0)) return;
  if (m.seq > (c.mentionSeq || 0)) c.mentionSeq = m.seq;
  c.mentioned = true;
}

/** My read position moved to `seq`: the tag goes once it passes the newest mention. */
export function readUpTo(c, seq) {
  if (c.mentioned && seq >= (c.mentionSeq || 0)) c.mentioned = false;
}

const scanned = new Map(); // conv id -> the max_seq up to which its unread part was scanned

/** Look through the unread part of groups for mentions this session has not seen.
 * `client`: the SDK client; `convs`: conversation objects; `viewing(c)`: true for the
 * open chat (read at once: no tag). Runs one conversation at a time. */
export async function scanUnreadMentions(client, convs, userId, viewing) {
  for (const c of convs) {
    if (c.type !== "group" || !c.unread || c.mentioned || viewing(c)) continue;
    if ((scanned.get(c.id) || 0) >= c.maxSeq) continue;
    const upTo = c.maxSeq;
    try {
      let before = upTo + 1;
      for (let i = 0; i < SCAN_PAGES && before > c.readSeq + 1 && !c.mentioned; i++) {
        const limit = Math.min(SCAN_PAGE, before - c.readSeq - 1);
        const page = await client.history(c.id, { before, limit });
        for (const m of page.messages) noteMention(c, m, userId);
        if (!page.more || !page.messages.length) break;
        before = page.messages[0].seq;
      }
      scanned.set(c.id, upTo);
    } catch {
      return; // offline again: the next connect scans
    }
  }
}

/** Forget what was scanned (logout: another user may sign in on this tab). */
export function forgetMentionScans() {
  scanned.clear();
}
