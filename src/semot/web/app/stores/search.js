// Message search (issue 13): the search panel's state, the SDK calls, and opening a hit
// in its chat.
//
// - `search.scope` is null (every conversation I am in) or one conversation id; the
//   filters are sender, kind and a date range; results come newest first, a page at a
//   time (`search` request: {hits, next}); "load more" passes `next` as the cursor.
// - Opening a hit: a hit close to the loaded part of its chat (within NEAR messages of
//   it) loads the older pages up to it (the chat's window stays contiguous); a hit
//   further back loads the history AROUND it (`history` before=seq+1 and after=seq) as a
//   window of its own that does not reach the latest message (`c.hasMoreAfter`):
//   scrolling down loads newer pages (loadNewer), the "↓" button and sending a message
//   go back to the latest messages (backToLatest), and leaving the chat drops it.
//   Then the message list scrolls to the message and flashes it (revealMessage).
import { nextTick, reactive } from "vue";
import { client, describeError, ensureConv, loadLatest, openConv, state } from "../store.js";
import { revealMessage } from "../components/message-list.js";

export const PAGE = 20; // hits per page
const AROUND = 30; // messages loaded on each side of a far hit
const NEWER_PAGE = 100; // messages per page when scrolling down a detached window
const NEAR = 400; // a hit this close to the loaded window is reached by loading older pages

export const KINDS = ["text", "image", "file", "voice", "video", "location", "card"];

export const search = reactive({
  open: false,
  scope: null, // conv id, or null for every conversation
  origin: null, // the chat whose header opened the panel (it offers "this chat only")
  q: "",
  sender: "",
  kind: "",
  range: null, // [from ms, to ms] (days, from the date picker) or null
  hits: [],
  next: null,
  loading: false,
  loadingMore: false,
  searched: false, // a search ran with the current results
  error: "",
  opening: "", // "conv#seq" of the hit being opened
});

let generation = 0; // a newer search makes the replies of older ones stale

/** Open the panel: across every conversation (conv null) or within one. */
export function openSearch(conv = null) {
  if (search.scope !== conv || search.origin !== conv) {
    search.scope = conv;
    search.origin = conv;
    clearResults();
    search.sender = "";
  }
  search.open = true;
}

export function closeSearch() {
  search.open = false;
}

export function clearResults() {
  generation += 1;
  search.hits = [];
  search.next = null;
  search.searched = false;
  search.error = "";
  search.loading = false;
  search.loadingMore = false;
}

export function resetFilters() {
  search.sender = "";
  search.kind = "";
  search.range = null;
}

const DAY = 86_400_000;

/** The request's filters from the panel's fields. */
export function filters() {
  const f = {};
  if (search.scope) f.conv = search.scope;
  if (search.sender) f.sender = search.sender;
  if (search.kind) f.kind = search.kind;
  if (Array.isArray(search.range) && search.range.length === 2) {
    const [from, to] = search.range.map(Number);
    if (Number.isFinite(from)) f.since = from;
    if (Number.isFinite(to)) f.until = to + DAY - 1; // the end day is included
  }
  return f;
}

/** Whether a search can run: a keyword, or at least one filter besides the scope. */
export function canSearch() {
  const f = filters();
  return !!search.q.trim() || !!(f.sender || f.kind || f.since || f.until);
}

/** A new search from the first page. */
export async function runSearch() {
  if (!canSearch()) {
    clearResults();
    return;
  }
  clearResults();
  const gen = generation;
  search.loading = true;
  try {
    const page = await client.search(search.q.trim(), { ...filters(), limit: PAGE });
    if (gen !== generation) return;
    search.hits = page.hits;
    search.next = page.next;
    search.searched = true;
  } catch (error) {
    if (gen === generation) search.error = errorText(error);
  } finally {
    if (gen === generation) search.loading = false;
  }
}

/** The next page of the same search. */
export async function loadMore() {
  if (!search.next || search.loadingMore || search.loading) return;
  const gen = generation;
  search.loadingMore = true;
  try {
    const page = await client.search(search.q.trim(), { ...filters(), limit: PAGE, cursor: search.next });
    if (gen !== generation) return;
    const seen = new Set(search.hits.map((h) => `${h.conv}#${h.seq}`));
    search.hits.push(...page.hits.filter((h) => !seen.has(`${h.conv}#${h.seq}`)));
    search.next = page.next;
  } catch (error) {
    if (gen === generation) search.error = errorText(error);
  } finally {
    if (gen === generation) search.loadingMore = false;
  }
}

function errorText(error) {
  return describeError(error);
}

// ------------------------------------------------------------------ opening a hit

/** Open message `seq` of conversation `convId` in its chat, scrolled to it and flashed.
 * Resolves to true when it is shown. */
export async function showMessage(convId, seq) {
  const c = ensureConv(convId);
  search.opening = `${convId}#${seq}`;
  try {
    if (!covers(c, seq)) {
      if (!c.loaded) await loadLatest(c);
      const first = c.messages.length ? c.messages[0].seq : Infinity;
      if (!covers(c, seq) && !(c.loaded && !c.hasMoreAfter && first - seq <= NEAR)) await loadAround(c, seq);
    }
    await openConv(convId);
    for (let i = 0; i < 60; i += 1) {
      await nextTick();
      if (await revealMessage(convId, seq)) return true;
      if (state.activeId !== convId) return false; // the reader went elsewhere meanwhile
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  } finally {
    search.opening = "";
  }
}

/** Whether the loaded window of `c` holds message `seq`. */
function covers(c, seq) {
  if (!c.loaded || !c.messages.length) return false;
  const lo = c.messages[0].seq;
  const hi = c.messages[c.messages.length - 1].seq;
  return lo <= seq && (seq <= hi || !c.hasMoreAfter);
}

/** Replace the window of `c` with the messages around `seq`. */
async function loadAround(c, seq) {
  const [older, newer] = await Promise.all([
    client.history(c.id, { before: seq + 1, limit: AROUND }),
    client.history(c.id, { after: seq, limit: AROUND }),
  ]);
  const msgs = [...older.messages, ...newer.messages.filter((m) => m.seq > seq)].map((m) => ({ ...m }));
  if (!newer.more) {
    // the window reaches the latest message: keep what arrived meanwhile
    const hi = msgs.length ? msgs[msgs.length - 1].seq : 0;
    for (const m of c.messages) if (m.seq > hi && !c.hasMoreAfter) msgs.push(m);
  }
  c.messages = msgs;
  c.hasMoreBefore = older.more;
  c.hasMoreAfter = !!newer.more;
  c.newerUntil = 0;
  c.loaded = true;
}

/** One page newer than the detached window's newest message (scrolling down). */
export async function loadNewer(c) {
  if (!c.hasMoreAfter || c.loadingNewer || !c.messages.length || !client.connected) return false;
  c.loadingNewer = true;
  try {
    const hi = c.messages[c.messages.length - 1].seq;
    const page = await client.history(c.id, { after: hi, limit: NEWER_PAGE });
    if (!c.hasMoreAfter || !c.messages.length || c.messages[c.messages.length - 1].seq !== hi) return false;
    const newer = page.messages.filter((m) => m.seq > hi).map((m) => ({ ...m }));
    if (newer.length) c.newerUntil = newer[newer.length - 1].seq;
    c.messages.push(...newer);
    c.hasMoreAfter = !!page.more && newer.length > 0;
    return newer.length > 0;
  } catch {
    return false;
  } finally {
    c.loadingNewer = false;
  }
}

/** Whether message `m` came into the window by scrolling down (not as a new message). */
export function pagedIn(c, m) {
  return !!(m && typeof m.seq === "number" && c.newerUntil && m.seq <= c.newerUntil);
}

/** Leave a detached window for the latest messages (the message list's watch on
 * `loaded` scrolls to the bottom once they are there). */
export async function backToLatest(c) {
  if (!c.hasMoreAfter) return;
  c.hasMoreAfter = false;
  c.newerUntil = 0;
  c.messages = [];
  c.loaded = false;
  await loadLatest(c);
}

/** The chat of `c` closes: a detached window is dropped (opened again, the chat shows
 * its latest messages as usual). */
export function leaveDetached(c) {
  if (!c.hasMoreAfter) return;
  c.hasMoreAfter = false;
  c.newerUntil = 0;
  c.messages = [];
  c.loaded = false;
}
