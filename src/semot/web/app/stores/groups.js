// Group notices that are not messages (issue 11): the join requests waiting for owner and
// admins (a badge on the chat, a notice in it, the list to act on), the announcement
// banner and its dismissal, and what became of this user's own join requests (the
// find-group dialog says "accepted" live).
//
// Why a store of its own: these facts come from `evt group` pushes and the group API
// (docs/protocol.md, Groups), not from the message stream, and they are per user:
// requests are shown to owner and admins only, dismissals are remembered per user on
// this device (localStorage), per announcement (a hash of its text, so a new
// announcement shows again while re-opening the chat does not).
import { reactive } from "vue";
import { client, me, state } from "../store.js";

export const groups = reactive({
  pending: {}, // conv -> join requests waiting (owner and admins only; absent or 0: none)
  info: {}, // conv -> the last GET /api/v1/groups/{id} of a group shown in the chat
  outcomes: {}, // group_id -> "accepted" | "declined": my own requests, decided while I was here
  requestsFor: null, // conv whose request list is open (the chat's requests dialog)
  dismissed: {}, // conv -> hash of the announcement this user closed
});

let session = null;
/** Facts of another signed-in user are not shown: reset when the user changes. */
function sameSession() {
  const id = client.userId || null;
  if (session === id) return;
  session = id;
  groups.pending = {};
  groups.info = {};
  groups.outcomes = {};
  groups.requestsFor = null;
  groups.dismissed = readDismissed();
}

const dismissKey = () => `semot.ann:${client.userId}`;
function readDismissed() {
  try {
    return JSON.parse(localStorage.getItem(dismissKey()) || "{}") || {};
  } catch {
    return {};
  }
}

/** A short stable hash of a text (FNV-1a, 32 bits): which announcement was dismissed. */
export function textHash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

const gid = (conv) => conv.slice(2);

/** Join requests waiting in a group (0 for plain members). */
export function pendingRequests(conv) {
  sameSession();
  return groups.pending[conv] || 0;
}

/** The announcement to show as the chat's banner: its text, or "" (none, or dismissed). */
export function bannerAnnouncement(conv) {
  sameSession();
  const g = groups.info[conv];
  const text = (g && g.my_role && !g.dismissed && g.announcement) || "";
  if (!text.trim() || groups.dismissed[conv] === textHash(text)) return "";
  return text;
}

export function dismissAnnouncement(conv) {
  const g = groups.info[conv];
  if (!g || !g.announcement) return;
  groups.dismissed[conv] = textHash(g.announcement);
  try {
    localStorage.setItem(dismissKey(), JSON.stringify(groups.dismissed));
  } catch {
    /* private mode: dismissed for this page only */
  }
}

function notePending(conv, g) {
  const manages = g && (g.my_role === "owner" || g.my_role === "admin") && !g.dismissed;
  groups.pending[conv] = manages ? g.pending_requests || 0 : 0;
}

// Loads may overlap (a push during a load): only the latest of each group writes.
const loads = {};
/** (Re)load a group's info for the chat: announcement, my role, requests waiting. */
export async function loadGroupInfo(conv) {
  sameSession();
  const mine = (loads[conv] = (loads[conv] || 0) + 1);
  try {
    const g = await client.getGroup(gid(conv));
    if (loads[conv] !== mine) return;
    groups.info[conv] = g;
    notePending(conv, g);
  } catch {
    /* offline: keep what we have (the next push or reconnect reloads) */
  }
}

/** The requests of a group, pending first (owner and admins). */
export async function listRequests(conv) {
  const list = await client.groupRequests(gid(conv));
  const pending = list.filter((r) => !r.status || r.status === "pending");
  groups.pending[conv] = pending.length;
  return pending;
}

export async function decideRequest(conv, requestId, accept) {
  await client.decideGroupRequest(gid(conv), requestId, accept);
}

export function openRequests(conv) {
  groups.requestsFor = conv;
}

/** I asked to join: forget an older decision about the same group. */
export function requestSent(groupId) {
  delete groups.outcomes[groupId];
}

// After each (re)connect: the counts of the groups I review (the pushes missed while
// offline are not replayed).
async function refreshPending() {
  try {
    const { groups: list } = await client.http("GET", "/api/v1/groups");
    for (const g of list || []) notePending(g.conv, g);
  } catch {
    /* an older server, or offline again */
  }
}

client.on("state", ({ state: s }) => {
  if (s !== "open") return;
  sameSession();
  refreshPending();
});

client.on("event", (e) => {
  if (!e || e.evt !== "group" || !e.change) return;
  sameSession();
  const conv = e.conv || `g:${e.group_id}`;
  const ch = e.change;
  const shown = conv === state.activeId || !!groups.info[conv]; // reloaded below anyway
  if (ch.type === "requests_pending") {
    groups.pending[conv] = typeof ch.pending === "number" ? ch.pending : (groups.pending[conv] || 0) + (ch.count || 1);
  } else if (ch.type === "request_decided") {
    if (ch.user === me()) groups.outcomes[e.group_id] = ch.accepted ? "accepted" : "declined";
    else if (typeof ch.pending === "number") groups.pending[conv] = ch.pending;
  } else if ((ch.type === "member_removed" || ch.type === "member_left") && ch.user === me()) {
    // the member list is closed to me now (refreshMembers gets 403): count myself out
    const c = state.convs[conv];
    if (c && c.memberCount > 0) c.memberCount -= 1;
    if (!shown) loadGroupInfo(conv);
  } else if (!shown && (ch.user === me() || ch.type === "dismissed" || ch.type === "owner_transferred")) {
    loadGroupInfo(conv); // my role or membership changed: whether I review requests may have too
  }
  if (shown) loadGroupInfo(conv);
});
