// The web client's state and its wiring to the SDK: session, conversations, message
// windows, the outbox shown as pending bubbles, read receipts, typing, recall, burn
// timers, notifications and the tab title. Components read `state` and call actions.
import { reactive } from "vue";
import { ClientClosed, MAX_PRESENCE_SUB, RequestTimeout, SemotAPIError, SemotClient, directConv, newCid, peerOf } from "semot";
import { t } from "./i18n.js";
import { forgetMentionScans, noteMention, readUpTo, scanUnreadMentions } from "./stores/mentions.js";
import { recallQuotes } from "./stores/replies.js";
import { applyChanged, applyEdit, applyReaction } from "./stores/reactions.js"; // W4: edits and reactions
import { applySettings, isDnd } from "./stores/conversations-settings.js";
import { contextSummary, isContextCard } from "./components/service/context-card.js"; // customer service

// History pages: the first one small (the chat opens fast), older ones as big as the
// server allows (the list is virtual: a big page costs no DOM; issue 11).
const PAGE = 50;
const OLDER_PAGE = 200;
const LS = "semot.";

function load(key, fallback) {
  try {
    const raw = localStorage.getItem(LS + key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback;
  }
}
function save(key, value) {
  try {
    localStorage.setItem(LS + key, JSON.stringify(value));
  } catch {
    /* storage full or unavailable */
  }
}

/** One device id per browser tab (kept across reloads of the tab). */
function deviceId() {
  try {
    let id = sessionStorage.getItem(LS + "device");
    if (!id) {
      id = `web-${newCid().slice(0, 16)}`;
      sessionStorage.setItem(LS + "device", id);
    }
    return id;
  } catch {
    return `web-${newCid().slice(0, 16)}`;
  }
}

/**
 * A duplicated tab inherits its opener's sessionStorage, and so its device id; two
 * connections with one device id replace each other (close code 4409). Ask the other
 * tabs whether the id is taken, and take a fresh one if it is.
 */
const devices = typeof BroadcastChannel === "function" ? new BroadcastChannel("semot-devices") : null;
if (devices) {
  devices.onmessage = (e) => {
    if (e.data && e.data.q === client.deviceId) devices.postMessage({ taken: client.deviceId });
  };
}
// Asked once per page: from then on this tab answers for its id, and a copy opened later
// is the one that changes (before signing in too: the login declares the device id).
let deviceChecked = null;
function ensureUniqueDevice() {
  if (!devices) return Promise.resolve();
  deviceChecked ||= new Promise((resolve) => {
    const id = client.deviceId;
    const onMsg = (e) => {
      if (e.data && e.data.taken === id) {
        client.deviceId = `web-${newCid().slice(0, 16)}`;
        try {
          sessionStorage.setItem(LS + "device", client.deviceId);
        } catch {
          /* no storage */
        }
      }
    };
    devices.addEventListener("message", onMsg);
    devices.postMessage({ q: id });
    setTimeout(() => {
      devices.removeEventListener("message", onMsg);
      resolve();
    }, 120);
  });
  return deviceChecked;
}

export const client = new SemotClient(location.origin, {
  platform: "web",
  deviceId: deviceId(),
  persistSession: true, // who is signed in survives a reload; the tokens do not:
  refreshCookie: true, // the refresh token is an HttpOnly cookie, the access token stays in memory
  storagePrefix: LS,
  logger: null,
});

export const state = reactive({
  phase: client.userId ? "app" : "login",
  me: null,
  // a visitor or an external customer (GET /api/v1/me `restricted`): the customer mode
  // (stores/customer.js) shows only what customer service lets them use
  restricted: false,
  connection: "idle",
  closeCode: null,
  convs: {},
  activeId: null,
  search: "",
  now: Date.now(),
  today: new Date().toDateString(), // changes once a day: day labels depend on it, not on \`now\`
  hidden: document.visibilityState === "hidden",
  notifications: load("notify", false),
  loginNotice: "",
  outboxCount: 0,
  narrow: window.matchMedia("(max-width: 768px)").matches,
  names: {}, // user_id -> the name to show (a friend's remark or display name)
  avatars: {}, // user_id -> avatar_url or null, from profiles and contacts (stores/profile.js)
  tab: "chats", // the left navigation: "chats" | "contacts" | "directory"
  contacts: emptyContacts(), // the snapshot of GET /api/v1/contacts, kept current by `evt contacts`
  presence: {}, // user_id -> {status, text}
  groupVersion: {}, // conv -> a counter bumped by every evt group (the group panel reloads)
});

function emptyContacts() {
  return { loaded: false, friends: [], requests: { incoming: [], outgoing: [] }, tags: [], blacklist: [], settings: {} };
}

// Per-user remembered facts the server has no API for yet (see the README).
let groupNames = {};
let groupMembers = {};
let peerReads = {};
let burnEnds = {};

function me() {
  return client.userId;
}

// ------------------------------------------------------------------ conversations
function makeConv(id) {
  const group = id.startsWith("g:");
  return {
    id,
    type: group ? "group" : "direct",
    peer: group ? null : peerOf(id, me()),
    name: group ? groupNames[id] || "" : "",
    maxSeq: 0,
    readSeq: 0,
    unread: 0,
    mentioned: false,
    last: null,
    lastTs: 0,
    messages: [],
    loaded: false,
    loading: false,
    loadingOlder: false,
    hasMoreBefore: false,
    pending: [],
    peerRead: peerReads[id] || 0,
    typingUntil: 0,
    members: [...new Set([...(groupMembers[id] || [])])],
    memberCount: 0,
    dismissed: false,
    draft: "",
    nameRequested: false,
  };
}

export function ensureConv(id) {
  if (!state.convs[id]) {
    state.convs[id] = makeConv(id);
    if (id.startsWith("g:")) addMember(state.convs[id], me()); // I am in every group I see
  }
  return state.convs[id];
}

export function convTitle(c) {
  if (!c) return "";
  if (c.type === "group") return c.name || t("list.group");
  return displayName(c.peer);
}

/** The name to show for a user: mine, a friend's remark or name, or the public profile's
 * display name (fetched in the background for anyone else: the view re-renders when it
 * arrives); the user id until then. */
export function displayName(userId) {
  if (userId && userId === me()) return state.me ? state.me.display_name || userId : userId;
  if (!userId) return "";
  const name = state.names[userId];
  if (!name) wantProfile(userId);
  return name || userId;
}

function addMember(c, userId) {
  if (c.type !== "group" || !userId || c.members.includes(userId)) return;
  c.members.push(userId);
  groupMembers[c.id] = c.members;
  save(`groupmembers:${me()}`, groupMembers);
}

function removeMember(c, userId) {
  const i = c.members.indexOf(userId);
  if (i < 0) return;
  c.members.splice(i, 1);
  groupMembers[c.id] = c.members;
  save(`groupmembers:${me()}`, groupMembers);
}

function setGroupName(c, name) {
  if (!name || c.name === name) return;
  c.name = name;
  groupNames[c.id] = name;
  save(`groupnames:${me()}`, groupNames);
}

/** A group's name comes with its first message (the group_created notice). */
async function requestGroupName(c) {
  if (c.type !== "group" || c.name || c.nameRequested || !client.connected) return;
  c.nameRequested = true;
  try {
    const page = await client.history(c.id, { after: 0, limit: 1 });
    const first = page.messages[0];
    if (first && first.kind === "system" && first.body.type === "group_created") {
      setGroupName(c, first.body.name);
      addMember(c, first.body.by);
    }
  } catch {
    c.nameRequested = false;
  }
}

export function sortedConvs() {
  const q = state.search.trim().toLowerCase();
  const list = Object.values(state.convs).filter((c) => c.lastTs || c.pending.length || c.id === state.activeId || c.draft);
  const filtered = q
    ? list.filter((c) => convTitle(c).toLowerCase().includes(q) || c.id.toLowerCase().includes(q) || previewText(c).toLowerCase().includes(q))
    : list;
  return filtered.sort((a, b) => activity(b) - activity(a));
}

function activity(c) {
  const p = c.pending.length ? c.pending[c.pending.length - 1].ts : 0;
  return Math.max(c.lastTs || 0, p);
}

export function totalUnread() {
  let n = 0;
  for (const c of Object.values(state.convs)) if (!isDnd(c.id)) n += c.unread; // muted chats do not call
  return n;
}

/** The one-line preview of a message (for the list and notifications), as plain text. */
export function summary(m) {
  if (!m) return "";
  switch (m.kind) {
    case "text":
      if (m.opts && m.opts.burn_s && m.from !== me()) return t("msg.burnHidden");
      return m.body.text;
    case "location":
      return t("msg.location", { title: m.body.title || m.body.address || `${m.body.lat}, ${m.body.lng}` });
    case "card":
      return t("msg.card", { name: displayName(m.body.user_id) });
    case "image":
      return t("msg.image");
    case "voice":
      return t("msg.voice");
    case "video":
      return t("msg.video");
    case "file":
      return m.body && m.body.name ? t("msg.fileNamed", { name: m.body.name }) : t("msg.file");
    case "custom": // a chat history (merged forward, stores/bundles.js) by its title
      if (m.body.type === "forward_bundle") return t("bundle.summary", { title: (m.body.data && typeof m.body.data.title === "string" && m.body.data.title) || t("bundle.label") });
      if (m.body.type === "app_card" && m.body.data && typeof m.body.data.title === "string") return t("bridge.card", { title: m.body.data.title }); // bridge/card.js
      if (isContextCard(m)) return contextSummary(m.body.data); // a visitor's product/order (customer service)
      return t("msg.custom", { type: m.body.type });
    case "recalled":
      return recalledText(m);
    case "burned":
      return t("msg.burned");
    case "system":
      return systemText(m.body);
    default:
      return t("msg.unsupported");
  }
}

function who(userId) {
  return userId === me() ? t("common.you") : displayName(userId);
}
/** The object case ("Alice muted you", not "muted You"); Chinese has one form. */
function whom(userId) {
  return userId === me() ? t("common.youObject") : displayName(userId);
}

/** Who made a group change: an administrator acting from the admin console (`by_admin`,
 * docs/protocol.md, Groups) is named as one, so the act is not passed off as a member's. */
function actor(b) {
  if (!b.by_admin) return who(b.by);
  return b.by === me() ? t("sys.byAdminYou") : t("sys.byAdmin", { name: displayName(b.by) });
}

const SYSTEM_TEXTS = {
  group_members_added: (b) => t("sys.membersAdded", { by: actor(b), users: (b.users || []).map(whom).join(t("common.listSep")) }),
  group_member_joined: (b) => t("sys.memberJoined", { user: who(b.user) }),
  group_member_removed: (b) => t("sys.memberRemoved", { by: actor(b), user: whom(b.user) }),
  group_member_left: (b) => t("sys.memberLeft", { user: who(b.user) }),
  group_role_changed: (b) => t("sys.roleChanged", { by: actor(b), user: whom(b.user), role: t(b.role === "admin" ? "sys.roleAdmin" : "sys.roleMember") }),
  // `until: null` is an unmute (docs/protocol.md, Groups), also in notices stored before issue 11
  group_member_muted: (b) => t(b.until == null ? "sys.memberUnmuted" : "sys.memberMuted", { by: actor(b), user: whom(b.user) }),
  group_owner_transferred: (b) => t("sys.ownerTransferred", { by: actor(b), user: whom(b.user) }),
  group_dismissed: (b) => t("sys.dismissed", { by: actor(b) }),
  group_renamed: (b) => t("sys.renamed", { by: actor(b), name: b.name }),
  group_announcement: (b) => announcementText(b),
  group_settings_changed: (b) => t("sys.settings", { by: actor(b) }),
  group_avatar: (b) => t("sys.groupAvatar", { by: actor(b) }),
};

/** An announcement notice shows the text (issue 11); "" cleared it; no `text`: an old notice. */
function announcementText(b) {
  if (typeof b.text !== "string") return t("sys.announcement", { by: actor(b) });
  return b.text.trim() ? t("sys.announcementText", { by: actor(b), text: b.text }) : t("sys.announcementCleared", { by: actor(b) });
}

/** The text of a system notice (the server's `system` messages), as plain text. */
export function systemText(b) {
  if (b.type === "group_created") return t("msg.groupCreated", { name: who(b.by), group: b.name });
  if (b.type === "recalled") {
    if (b.role === "admin") return t("msg.recalledByAdmin");
    if (b.role === "group_admin" && b.by !== me()) return t("msg.recalledByManagerShort", { name: displayName(b.by) });
    return b.by === me() ? t("msg.recalledByMe") : t("msg.recalledBy", { name: displayName(b.by) });
  }
  const f = SYSTEM_TEXTS[b.type];
  return f ? f(b) : t("msg.system");
}

/** A tombstone's text: who recalled it, and as what (`recalled_by` / `recalled_role`,
 * docs/protocol.md; a tombstone without them was recalled by its sender). */
export function recalledText(m) {
  const by = m.recalled_by || m.from;
  const role = m.recalled_role || "sender";
  if (role === "admin") return t("msg.recalledByAdmin");
  if (role === "group_admin" && by !== m.from) {
    if (by === me()) return t("msg.recalledOthersByMe", { user: displayName(m.from) });
    return t("msg.recalledByManager", { name: displayName(by), user: whom(m.from) });
  }
  return by === me() ? t("msg.recalledByMe") : t("msg.recalledBy", { name: displayName(by) });
}

export function previewText(c) {
  const p = c.pending.length ? c.pending[c.pending.length - 1] : null;
  const m = p && (!c.last || p.ts >= (c.last.ts || 0)) ? { ...p, from: me() } : c.last;
  if (!m) return "";
  const text = summary(m);
  if (c.type === "group" && m.from && m.from !== me() && m.kind !== "system" && m.kind !== "recalled") return `${displayName(m.from)}: ${text}`;
  return text;
}

// ------------------------------------------------------------------ session
export async function login(username, password) {
  await ensureUniqueDevice(); // the login log records the id the connection will use
  await client.login(username, password);
  await enterApp();
}

export async function register(username, password, displayName) {
  await client.register(username, password, displayName || undefined);
  await login(username, password);
}

function loadUserFacts() {
  groupNames = load(`groupnames:${me()}`, {});
  groupMembers = load(`groupmembers:${me()}`, {});
  peerReads = load(`peerread:${me()}`, {});
  burnEnds = load(`burn:${me()}`, {});
  const now = Date.now();
  for (const [k, v] of Object.entries(burnEnds)) if (v < now - 60000) delete burnEnds[k];
}

export async function enterApp() {
  state.phase = "app";
  state.loginNotice = "";
  state.convs = {};
  state.names = {};
  state.avatars = {};
  forgetProfiles();
  state.activeId = null;
  loadUserFacts();
  state.restricted = load(`restricted:${me()}`, false) === true; // last time's answer: no flash of staff tabs
  restorePending();
  await ensureUniqueDevice();
  client.start().catch(onStartError);
  try {
    state.me = await client.me();
    state.restricted = state.me.restricted === true;
    save(`restricted:${me()}`, state.restricted);
  } catch (error) {
    if (error instanceof SemotAPIError && error.status === 401) return;
    state.me = { user_id: me(), username: me(), display_name: me() };
  }
}

function onStartError(error) {
  if (error instanceof SemotAPIError && (error.code === "unauthorized" || error.status === 401)) return; // session_expired handles it
  if (error instanceof SemotAPIError && error.code === "forbidden") {
    state.connection = "closed";
    state.closeCode = 1008;
  }
}

/** Sign out: the SDK ends the login on the server too (best effort: an unreachable
 * server delays this by at most a few seconds, and the tab signs out all the same). */
export async function logout() {
  await client.logout({ timeout: 3000 });
  state.phase = "login";
  state.me = null;
  state.restricted = false;
  state.convs = {};
  state.activeId = null;
  state.connection = "idle";
  state.contacts = emptyContacts();
  state.presence = {};
  forgetPresenceSub();
  forgetMentionScans();
  state.tab = "chats";
  updateTitle();
}

client.on("session_expired", async () => {
  await client.close();
  state.phase = "login";
  state.loginNotice = t("login.expired");
  state.convs = {};
  state.activeId = null;
  state.me = null;
  state.restricted = false;
  state.contacts = emptyContacts();
  state.presence = {};
  forgetPresenceSub();
  state.tab = "chats";
});

client.on("state", async ({ state: s, code }) => {
  state.connection = s;
  if (code !== undefined) state.closeCode = code;
  if (s === "open") {
    state.closeCode = null;
    await onOpen();
  }
});

/** Group names and members, friends' names: from the server's group and contacts APIs
 * (best effort: a server without them leaves the locally remembered values). */
async function refreshGroups() {
  try {
    const { groups } = await client.http("GET", "/api/v1/groups");
    for (const g of groups) {
      const c = ensureConv(g.conv);
      setGroupName(c, g.name);
      if (typeof g.member_count === "number") c.memberCount = g.member_count;
      c.dismissed = !!g.dismissed;
    }
  } catch {
    /* older server, or offline: keep what we have */
  }
}

export async function refreshMembers(c) {
  if (c.type !== "group" || state.restricted) return; // a customer's session: the member list is closed to them
  try {
    const page = await client.http("GET", `/api/v1/groups/${encodeURIComponent(c.id.slice(2))}/members?limit=200`);
    for (const m of page.members) addMember(c, m.user_id);
    if (typeof page.total === "number") c.memberCount = page.total;
  } catch {
    /* not a member any more, or an older server */
  }
}

async function refreshContacts() {
  try {
    const snap = await client.http("GET", "/api/v1/contacts");
    state.contacts = {
      friends: snap.friends || [],
      requests: { incoming: (snap.requests && snap.requests.incoming) || [], outgoing: (snap.requests && snap.requests.outgoing) || [] },
      tags: snap.tags || [],
      blacklist: snap.blacklist || [],
      settings: snap.settings || {},
      loaded: true,
    };
    updateNames();
    for (const f of state.contacts.friends) if ("avatar_url" in f) state.avatars[f.user_id] = f.avatar_url || null;
    refreshPresence([me(), ...state.contacts.friends.map((f) => f.user_id)]);
  } catch {
    /* older server: user ids are shown */
  }
}

const knownNames = {}; // user_id -> display name seen elsewhere (the directory, profiles)

// Public profiles of users who are not friends (group members, senders, the peer of a
// direct chat, requesters), fetched in batches: displayName() asks for an unknown id,
// the ids asked for within a short while go out together (client.users splits them to
// the server's limit per call), and each id is asked for once per session.
const PROFILE_DELAY = 60; // ms to gather ids into one batch
const PROFILE_WAIT_CONTACTS = 1500; // ms to wait for the contacts snapshot (friends need no fetch)
const profileQueue = new Set(); // ids waiting for the next batch
const profileAsked = new Set(); // ids queued, in flight or answered (found or not)
const profileFailed = new Set(); // ids whose batch failed (offline): asked again on reconnect
let profileTimer = null;
let profileSince = 0;

function wantProfile(userId) {
  if (profileAsked.has(userId) || !client.userId || state.phase !== "app") return;
  profileAsked.add(userId);
  profileQueue.add(userId);
  if (!profileTimer) {
    profileSince = Date.now();
    profileTimer = setTimeout(flushProfiles, PROFILE_DELAY);
  }
}

async function flushProfiles() {
  profileTimer = null;
  if (!state.contacts.loaded && Date.now() - profileSince < PROFILE_WAIT_CONTACTS) {
    profileTimer = setTimeout(flushProfiles, 150); // friends' names come with the snapshot
    return;
  }
  const ids = [...profileQueue].filter((id) => !state.names[id] || !(id in state.avatars));
  profileQueue.clear();
  if (!ids.length) return;
  const session = client.userId;
  try {
    const users = await client.users(ids);
    if (client.userId !== session) return; // signed out meanwhile
    for (const u of users) {
      rememberName(u.user_id, u.display_name);
      state.avatars[u.user_id] = u.avatar_url || null;
    }
  } catch {
    // offline or refused: ask again when the connection is back (onOpen)
    if (client.userId === session) for (const id of ids) profileFailed.add(id);
  }
}

/** A user's avatar is wanted (stores/profile.js): fetched with the names, once. */
export function wantAvatar(userId) {
  if (userId && userId !== me() && !(userId in state.avatars)) wantProfile(userId);
}

/** Ask again for the names that could not be fetched (after a reconnect). */
function retryProfiles() {
  const ids = [...profileFailed];
  profileFailed.clear();
  for (const id of ids) {
    profileAsked.delete(id);
    wantProfile(id);
  }
}

function forgetProfiles() {
  clearTimeout(profileTimer);
  profileTimer = null;
  profileQueue.clear();
  profileAsked.clear();
  profileFailed.clear();
  for (const k of Object.keys(knownNames)) delete knownNames[k];
}

/** Remember a display name seen outside the contacts (a friend's remark still wins). */
export function rememberName(userId, name) {
  if (!userId || !name || name === userId) return;
  knownNames[userId] = name;
  if (!state.names[userId]) state.names[userId] = name;
}

function updateNames() {
  const names = { ...knownNames };
  for (const f of state.contacts.friends) {
    const n = f.remark || f.display_name;
    if (n && n !== f.user_id) names[f.user_id] = n;
  }
  state.names = names;
}

/** A user changed their display name (evt profile, or my own PATCH /api/v1/me): every
 * view shows the new one at once (a friend's remark still wins). */
export function profileChanged(userId, name) {
  if (!userId || !name) return;
  if (userId === me() && state.me) state.me.display_name = name;
  knownNames[userId] = name;
  const f = state.contacts.friends.find((x) => x.user_id === userId);
  if (f) f.display_name = name;
  updateNames();
}

function putBy(list, key, obj) {
  const i = list.findIndex((x) => x[key] === obj[key]);
  if (i >= 0) list[i] = obj;
  else list.push(obj);
}

function dropBy(list, key, value) {
  const i = list.findIndex((x) => x[key] === value);
  if (i >= 0) list.splice(i, 1);
}

/** Apply one `evt contacts` change to the snapshot (protocol.md, section 3, Contacts). */
function applyContactsChange(ch) {
  const s = state.contacts;
  if (!ch || !s.loaded) return refreshContactsSoon();
  switch (ch.type) {
    case "friend_added":
    case "friend_updated":
      putBy(s.friends, "user_id", ch.friend);
      if (ch.type === "friend_added") refreshPresence([ch.friend.user_id]);
      break;
    case "friend_removed":
      dropBy(s.friends, "user_id", ch.user_id);
      break;
    case "request_added":
      if (s.requests[ch.direction]) putBy(s.requests[ch.direction], "request_id", ch.request);
      break;
    case "request_removed":
      dropBy(s.requests.incoming, "request_id", ch.request_id);
      dropBy(s.requests.outgoing, "request_id", ch.request_id);
      break;
    case "tag_added":
    case "tag_updated":
      putBy(s.tags, "tag_id", ch.tag);
      break;
    case "tag_removed":
      dropBy(s.tags, "tag_id", ch.tag_id);
      break;
    case "blocked":
      putBy(s.blacklist, "user_id", ch.entry);
      break;
    case "unblocked":
      dropBy(s.blacklist, "user_id", ch.user_id);
      break;
    case "settings":
      s.settings = ch.settings || {};
      break;
    default:
      refreshContactsSoon();
      return;
  }
  updateNames();
}

/** Friends' presence, in batches the server takes (at most 200 ids, a request line well
 * under 8 KiB), so a user with thousands of friends still sees every dot. */
async function refreshPresence(users) {
  const batches = [];
  let batch = [];
  let size = 0;
  for (const u of users) {
    const n = encodeURIComponent(u).length + 3;
    if (batch.length === 200 || size + n > 4000) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(u);
    size += n;
  }
  if (batch.length) batches.push(batch);
  for (const ids of batches) {
    try {
      const { users: list } = await client.http("GET", `/api/v1/presence?users=${ids.map(encodeURIComponent).join(",")}`);
      for (const p of list) {
        const seen = state.presence[p.user];
        state.presence[p.user] = { status: p.status, text: p.text || "", v: seen && seen.v }; // a later push still wins
      }
    } catch {
      /* presence is best effort */
    }
  }
}

// ------------------------------------------------------------------ contacts actions
const enc = encodeURIComponent;
export function requestFriend(userId, message) {
  return client.http("POST", "/api/v1/friends/requests", { user_id: userId, message: message || undefined });
}
/** Whether friend requests need my approval (GET / PATCH /api/v1/me/settings). */
export async function loadMySettings() {
  const r = await client.http("GET", "/api/v1/me/settings");
  state.contacts.settings = { ...state.contacts.settings, ...(r || {}) };
}
export async function setFriendApproval(on) {
  const r = await client.http("PATCH", "/api/v1/me/settings", { friend_approval: !!on });
  state.contacts.settings = { ...state.contacts.settings, ...(r || { friend_approval: !!on }) };
}
export function answerRequest(requestId, action) {
  return client.http("POST", `/api/v1/friends/requests/${enc(requestId)}`, { action });
}
export function removeFriend(userId) {
  return client.http("DELETE", `/api/v1/friends/${enc(userId)}`);
}
export function setRemark(userId, remark) {
  return client.http("PATCH", `/api/v1/friends/${enc(userId)}`, { remark });
}
export function blockUser(userId) {
  return client.http("PUT", `/api/v1/blacklist/${enc(userId)}`);
}
/** The group API (protocol.md, section 3, Groups) for the group panel. */
export function groupApi(c, method, path = "", body = undefined) {
  // customer mode: a group's details are closed to restricted users (their sessions are
  // groups); refused here, as the server would, without a request
  if (state.restricted) return Promise.reject(new SemotAPIError("forbidden", "customer service only", 403));
  return client.http(method, `/api/v1/groups/${enc(c.id.slice(2))}${path}`, body);
}
// Presence of people who are not friends (colleagues in the directory): pushed only for
// the users this tab follows with `presence_sub`, which replaces the list at every call
// (protocol.md, section 5). The directory follows the people it shows. Friends' presence
// does not depend on it (always pushed, and fetched with the contacts). The list belongs
// to the connection and ends with it, so it is sent again after every reconnect (onOpen).
const PRESENCE_SUB_DELAY = 300; // ms: a view that changes quickly sends one list
let presenceWanted = []; // what the open view shows, first ones first
let presenceSent = ""; // the list the server was last given ("": none; null: unknown)
let presenceTimer = null;
let presenceSeq = 0;

/** Follow these users' presence (the first MAX_PRESENCE_SUB; [] follows no one). */
export function followPresence(users) {
  if (state.restricted) return; // presence_sub is closed to restricted users
  presenceWanted = [...new Set(users.filter(Boolean))].slice(0, MAX_PRESENCE_SUB);
  clearTimeout(presenceTimer);
  presenceTimer = setTimeout(() => sendPresenceSub(false), PRESENCE_SUB_DELAY);
}

async function sendPresenceSub(again) {
  clearTimeout(presenceTimer);
  presenceTimer = null;
  const list = presenceWanted;
  const key = [...list].sort().join(","); // the same people in another order: nothing to send
  if ((!again && key === presenceSent) || !client.connected) return; // not connected: onOpen sends it
  const before = presenceSent ? presenceSent.split(",") : [];
  const mine = ++presenceSeq;
  presenceSent = key;
  try {
    const users = await client.subscribePresence(list);
    if (mine !== presenceSeq) return; // a newer list went out meanwhile
    const now = new Set(list);
    const friends = new Set(state.contacts.friends.map((f) => f.user_id));
    for (const u of before) if (!now.has(u) && !friends.has(u) && u !== me()) delete state.presence[u]; // would go stale
    for (const p of users) {
      const seen = state.presence[p.user];
      state.presence[p.user] = { status: p.status, text: p.text || "", v: seen && seen.v };
    }
  } catch {
    if (mine === presenceSeq) presenceSent = null; // unknown: sent again at the next change or connect
  }
}

function forgetPresenceSub() {
  clearTimeout(presenceTimer);
  presenceTimer = null;
  presenceWanted = [];
  presenceSent = "";
  presenceSeq += 1;
}

/** My own status: online / busy / away, with an optional text (kept by the server). */
export async function setMyPresence(status, text) {
  const p = await client.http("PUT", "/api/v1/me/presence", { status, text: text || "" });
  state.presence[me()] = { status: (p && p.status) || status, text: (p && p.text) || text || "" };
}
export function unblockUser(userId) {
  return client.http("DELETE", `/api/v1/blacklist/${enc(userId)}`);
}

let groupsTimer = null;
function refreshGroupsSoon() {
  clearTimeout(groupsTimer);
  groupsTimer = setTimeout(refreshGroups, 300);
}

let contactsTimer = null;
function refreshContactsSoon() {
  clearTimeout(contactsTimer);
  contactsTimer = setTimeout(refreshContacts, 300);
}

/** After each (re)connect: the full conversation list, then the open window's gap. */
async function onOpen() {
  if (presenceWanted.length || presenceSent !== "") sendPresenceSub(true);
  refreshGroups();
  refreshContacts();
  retryProfiles();
  try {
    const states = await client.sync({});
    for (const st of states) applySyncState(st);
    scanUnreadMentions(client, Object.values(state.convs), me(), isViewing); // "[有人@我]" for what came while away
    for (const c of Object.values(state.convs)) if (c.type === "group" && !c.name) requestGroupName(c);
    updateTitle();
    const c = active();
    if (c) {
      if (!c.loaded) await loadLatest(c);
      else await fillWindow(c);
      markReadSoon(c);
    }
  } catch (error) {
    if (!(error instanceof ClientClosed || error instanceof RequestTimeout)) console.warn("semot: refresh after connect failed", error);
  }
}

/** How far the other party of a direct chat has read: from `evt read`, and from sync's
 * `peer_read_seq`, so read marks are right on a new device or after storage was cleared. */
function setPeerRead(c, seq) {
  if (c.type !== "direct" || !Number.isInteger(seq) || seq <= c.peerRead) return;
  c.peerRead = seq;
  peerReads[c.id] = seq;
  save(`peerread:${me()}`, peerReads);
  markReadByOthers(c, seq);
}

/** My burn-after-reading messages start their countdown when someone reads them. */
function markReadByOthers(c, seq) {
  for (const m of c.messages) {
    if (m.from === me() && m.seq <= seq) {
      m.readSeen = true;
      startBurn(c, m);
    }
  }
}

function applySyncState(st) {
  const c = ensureConv(st.conv);
  applySettings(me(), st); // pinned / do not disturb / hidden (stores/conversations.js)
  if (typeof st.peer_read_seq === "number") setPeerRead(c, st.peer_read_seq);
  if (st.max_seq >= c.maxSeq) {
    c.maxSeq = st.max_seq;
    c.unread = st.unread;
    c.readSeq = st.read_seq;
    readUpTo(c, c.readSeq);
  }
  if (st.last && !isViewing(c)) noteMention(c, st.last, me());
  if (st.last && (!c.last || st.last.seq >= c.last.seq)) {
    c.last = st.last;
    c.lastTs = st.last.ts;
    if (st.last.kind === "system" && st.last.body.type === "group_created") setGroupName(c, st.last.body.name);
  }
  if (c.unread && isViewing(c)) markReadSoon(c);
}

// ------------------------------------------------------------------ messages
function countsAsUnread(m) {
  return m.from !== me() && m.kind !== "system";
}

export function isViewing(c) {
  return !!c && state.activeId === c.id && !state.hidden && state.phase === "app";
}

export function active() {
  return state.activeId ? state.convs[state.activeId] : null;
}

client.on("message", (m) => {
  const c = ensureConv(m.conv);
  if (m.from && m.kind !== "system") addMember(c, m.from);
  if (m.kind === "system") {
    if (m.body.type === "group_created") {
      setGroupName(c, m.body.name);
      addMember(c, m.body.by);
    } else if (m.body.type === "recalled") {
      markRecalled(c, m.body.seq, m.body.by, m.body.role);
    } else if (m.body.type === "group_renamed") {
      setGroupName(c, m.body.name);
    } else if (m.body.type === "group_members_added") {
      for (const u of m.body.users || []) addMember(c, u);
    } else if (m.body.type === "group_member_joined") {
      addMember(c, m.body.user);
    } else if (m.body.type === "group_member_removed" || m.body.type === "group_member_left") {
      removeMember(c, m.body.user);
    }
  }
  if (!c.last || m.seq >= c.last.seq) {
    c.last = m;
    c.lastTs = m.ts;
  }
  const fresh = m.seq > c.maxSeq;
  if (fresh) c.maxSeq = m.seq;
  if (m.from === me()) removePending(c, m.cid);
  if (!isViewing(c)) noteMention(c, m, me()); // live or caught up: any mention after my read position
  if (c.loaded) insertIntoWindow(c, [m]);
  if (fresh && countsAsUnread(m)) {
    if (m.from === c.peer) c.typingUntil = 0;
    if (isViewing(c)) markReadSoon(c);
    else {
      c.unread += 1;
      notify(c, m);
    }
  }
  if (c.type === "group" && !c.name) requestGroupName(c);
  updateTitle();
});

client.on("event", (e) => {
  const c = e.conv ? state.convs[e.conv] : null;
  switch (e.evt) {
    case "typing":
      if (c && e.user !== me()) c.typingUntil = Date.now() + 6000;
      break;
    case "read":
      if (!c) break;
      if (e.user === me()) {
        c.readSeq = Math.max(c.readSeq, e.seq);
        readUpTo(c, e.seq);
        if (e.seq >= c.maxSeq) {
          c.unread = 0;
          c.mentioned = false;
        }
        startBurns(c);
        updateTitle();
      } else {
        // live, or from sync (source "sync": the SDK saw peer_read_seq move)
        if (c.type === "direct") setPeerRead(c, e.seq);
        else markReadByOthers(c, e.seq);
      }
      break;
    case "recall":
      if (c) markRecalled(c, e.seq, e.by, e.role);
      break;
    case "burned":
      if (c) markBurned(c, e.seq);
      break;
    case "edit": // W4: edits and reactions (live, and `changed` after a reconnect)
      if (c) applyEdit(c, e);
      break;
    case "reaction":
      if (c) applyReaction(c, e);
      break;
    case "changed":
      if (c) applyChanged(c, e.message);
      break;
    case "group":
      if (e.conv || e.group_id) {
        const g = ensureConv(e.conv || `g:${e.group_id}`);
        if (e.change && e.change.name) setGroupName(g, e.change.name);
        const ch = e.change || {};
        if (ch.type === "member_left" || ch.type === "member_removed") removeMember(g, ch.user);
        else if (ch.by && ch.type !== "requests_pending") addMember(g, ch.by); // whoever acted is a member (askers are not)
        if (ch.type === "member_joined") addMember(g, ch.user);
        for (const u of ch.users || []) addMember(g, u);
        refreshGroupsSoon();
        if (state.activeId === g.id) refreshMembers(g);
        state.groupVersion[g.id] = (state.groupVersion[g.id] || 0) + 1;
      }
      break;
    case "contacts":
      applyContactsChange(e.change);
      break;
    case "presence": {
      // `v` orders the pushes of one user: one sent by another node may arrive late
      const seen = e.user && state.presence[e.user];
      if (e.user && !(seen && typeof e.v === "number" && typeof seen.v === "number" && e.v < seen.v)) {
        state.presence[e.user] = { status: e.status, text: e.text || "", v: e.v };
      }
      break;
    }
    default:
      break;
  }
});

/** Merge messages into a conversation's window (sorted by seq, one entry per seq). */
function insertIntoWindow(c, msgs) {
  const list = c.messages;
  for (const raw of msgs) {
    const m = { ...raw };
    const hi = list.length ? list[list.length - 1].seq : 0;
    if (!list.length || m.seq > hi) {
      if (c.hasMoreAfter) continue; // a window around an older message (stores/search.js): loaded by scrolling down
      if (list.length && m.seq > hi + 1) {
        // a gap in the window (it was loaded before these arrived): fetch it
        fillWindow(c);
        continue;
      }
      list.push(m);
    } else {
      const i = list.findIndex((x) => x.seq >= m.seq);
      if (i >= 0 && list[i].seq === m.seq) {
        if (list[i].kind !== m.kind && (m.kind === "recalled" || m.kind === "burned")) list[i] = m;
        continue;
      }
      if (m.seq < list[0].seq) continue; // older than the window: loaded by scrolling up
      list.splice(i < 0 ? list.length : i, 0, m);
    }
    if (m.kind === "system" && m.body.type === "recalled") markRecalled(c, m.body.seq, m.body.by, m.body.role);
    startBurn(c, m);
  }
}

const filling = new Set();
/** Fetch what the open window misses after its newest message. */
async function fillWindow(c) {
  if (filling.has(c.id) || !client.connected || c.hasMoreAfter) return;
  filling.add(c.id);
  try {
    for (;;) {
      const hi = c.messages.length ? c.messages[c.messages.length - 1].seq : 0;
      const page = await client.history(c.id, { after: hi, limit: 200 });
      for (const m of page.messages) if (m.seq > (c.messages.length ? c.messages[c.messages.length - 1].seq : 0)) {
        c.messages.push({ ...m });
        startBurn(c, c.messages[c.messages.length - 1]);
        if (m.kind === "system" && m.body.type === "recalled") markRecalled(c, m.body.seq, m.body.by, m.body.role);
      }
      if (!page.more || !page.messages.length) break;
    }
  } catch {
    /* retried at the next reconnect */
  } finally {
    filling.delete(c.id);
  }
}

/** The latest page of a conversation, for a window opened for the first time. */
export async function loadLatest(c) {
  if (c.loading) return;
  if (!client.connected) return;
  c.loading = true;
  try {
    const page = await client.history(c.id, { limit: PAGE });
    const fresh = page.messages.map((m) => ({ ...m }));
    // keep anything that arrived while the page was on its way
    const hi = fresh.length ? fresh[fresh.length - 1].seq : 0;
    for (const m of c.messages) if (m.seq > hi) fresh.push(m);
    c.messages = fresh;
    c.hasMoreBefore = page.more;
    c.loaded = true;
    for (const m of c.messages) {
      if (m.from && m.kind !== "system") addMember(c, m.from);
      if (m.kind === "system" && m.body.type === "group_created") setGroupName(c, m.body.name);
    }
    for (const m of c.messages) if (m.kind === "system" && m.body.type === "recalled") markRecalled(c, m.body.seq, m.body.by, m.body.role);
    const last = c.messages[c.messages.length - 1];
    if (last && last.seq > c.maxSeq) c.maxSeq = last.seq;
    startBurns(c);
  } catch (error) {
    if (!(error instanceof ClientClosed || error instanceof RequestTimeout)) throw error;
  } finally {
    c.loading = false;
  }
}

/** One page older than the window's oldest message (infinite scroll upwards). */
export async function loadOlder(c) {
  if (c.loadingOlder || !c.hasMoreBefore || !c.messages.length || !client.connected) return false;
  c.loadingOlder = true;
  try {
    const page = await client.history(c.id, { before: c.messages[0].seq, limit: OLDER_PAGE });
    const older = page.messages.filter((m) => m.seq < c.messages[0].seq).map((m) => ({ ...m }));
    c.messages.unshift(...older);
    c.hasMoreBefore = page.more;
    for (const m of older) {
      if (m.from && m.kind !== "system") addMember(c, m.from);
      if (m.kind === "system" && m.body.type === "recalled") markRecalled(c, m.body.seq, m.body.by, m.body.role);
    }
    startBurns(c);
    return older.length > 0;
  } catch {
    return false;
  } finally {
    c.loadingOlder = false;
  }
}

export async function openConv(id) {
  const c = ensureConv(id);
  state.activeId = id;
  c.mentioned = false;
  if (c.type === "group") refreshMembers(c);
  if (!c.loaded) await loadLatest(c);
  markReadSoon(c);
  if (c.type === "group" && !c.name) requestGroupName(c);
  updateTitle();
}

export function closeConv() {
  state.activeId = null;
}

/** Start (or open) the direct chat with a user. */
export function startDirect(userId) {
  const id = directConv(me(), userId);
  const c = ensureConv(id);
  if (!c.lastTs) c.lastTs = Date.now();
  return openConv(id);
}

export async function createGroup(name, members) {
  const g = await client.createGroup(name, members);
  const c = ensureConv(g.conv);
  setGroupName(c, name);
  for (const u of [me(), ...members]) addMember(c, u);
  if (!c.lastTs) c.lastTs = Date.now();
  await openConv(g.conv);
  return g;
}

/** Groups an outsider may join: by exact id, or by part of a searchable group's name. */
export function searchGroups(q) {
  return client.searchGroups(q, 20);
}

/** Join a found group (open: at once, and open it) or ask to (approval: an admin decides). */
export async function joinGroup(g, message = "") {
  const r = await client.joinGroup(g.group_id, message);
  if (r.joined) {
    const c = ensureConv(g.conv);
    setGroupName(c, g.name);
    addMember(c, me());
    if (!c.lastTs) c.lastTs = Date.now();
    refreshGroupsSoon();
    await openConv(g.conv);
  }
  return r;
}

// ------------------------------------------------------------------ reading
const readTimers = new Map();
export function markReadSoon(c) {
  if (readTimers.has(c.id)) return;
  readTimers.set(c.id, setTimeout(() => {
    readTimers.delete(c.id);
    markRead(c);
  }, 150));
}

async function markRead(c) {
  if (!isViewing(c)) return;
  const seq = c.maxSeq;
  c.unread = 0;
  c.mentioned = false;
  updateTitle();
  if (seq <= c.readSeq || !client.connected) {
    startBurns(c);
    return;
  }
  try {
    await client.read(c.id, seq);
    c.readSeq = Math.max(c.readSeq, seq);
  } catch {
    /* the next open or reconnect retries */
  }
  startBurns(c);
}

// ------------------------------------------------------------------ burn after reading
function burnKey(c, m) {
  return `${c.id}#${m.seq}`;
}

/** Start the countdown of a burn-after-reading message once it counts as read. */
function startBurn(c, m) {
  if (!m.opts || !m.opts.burn_s || m.kind === "burned" || m.kind === "recalled" || m.burnEndsAt) return;
  const key = burnKey(c, m);
  if (burnEnds[key]) {
    m.burnEndsAt = burnEnds[key];
    return;
  }
  const readByMe = m.from !== me() && m.seq <= c.readSeq && isViewing(c);
  const readByOthers = m.from === me() && (m.readSeen || (c.type === "direct" && m.seq <= c.peerRead));
  if (!(readByMe || readByOthers)) return;
  m.burnEndsAt = Date.now() + m.opts.burn_s * 1000;
  burnEnds[key] = m.burnEndsAt;
  save(`burn:${me()}`, burnEnds);
}

function startBurns(c) {
  for (const m of c.messages) startBurn(c, m);
}

function markBurned(c, seq) {
  const m = c.messages.find((x) => x.seq === seq);
  if (m) {
    m.kind = "burned";
    m.body = {};
    m.burnEndsAt = 0;
  }
  if (c.last && c.last.seq === seq) c.last = { ...c.last, kind: "burned", body: {} };
  delete burnEnds[`${c.id}#${seq}`];
}

function markRecalled(c, seq, by, role) {
  const m = c.messages.find((x) => x.seq === seq);
  if (m && by && !m.recalled_by) {
    m.recalled_by = by; // who recalled it and as what: the tombstone's text (recalledText)
    m.recalled_role = role || "sender";
  }
  if (m && m.kind !== "recalled") {
    m.kind = "recalled";
    m.body = {};
    m.burnEndsAt = 0;
  }
  if (c.last && c.last.seq === seq) {
    c.last = { ...c.last, kind: "recalled", body: {}, recalled_by: by || c.last.from, recalled_role: role || "sender" };
  }
  recallQuotes(c, seq); // its replies' quotes lose the text too
}

// a 1-second clock for countdowns and "typing…"
setInterval(() => {
  state.now = Date.now();
  const today = new Date().toDateString();
  if (today !== state.today) state.today = today;
  for (const c of Object.values(state.convs)) {
    for (const m of c.messages) {
      if (m.burnEndsAt && m.burnEndsAt <= state.now && m.kind !== "burned") markBurned(c, m.seq);
    }
  }
}, 1000);

// ------------------------------------------------------------------ sending
function restorePending() {
  for (const it of client.outbox) {
    const c = ensureConv(it.conv);
    if (!c.pending.some((p) => p.cid === it.cid)) {
      c.pending.push({ cid: it.cid, kind: it.kind, body: it.body, opts: it.opts || {}, ts: it.created, status: "sending", error: "" });
    }
  }
  state.outboxCount = client.outbox.length;
}

function removePending(c, cid) {
  const i = c.pending.findIndex((p) => p.cid === cid);
  if (i >= 0) c.pending.splice(i, 1);
}

function findPending(cid) {
  for (const c of Object.values(state.convs)) {
    const p = c.pending.find((x) => x.cid === cid);
    if (p) return { c, p };
  }
  return null;
}

client.on("outbox", ({ items }) => {
  state.outboxCount = items.length;
});

client.on("send_failed", ({ cid, error, permanent }) => {
  const found = findPending(cid);
  if (found) {
    found.p.status = "failed";
    found.p.error = describeError(error);
    found.p.permanent = !!permanent; // refused for good (not allowed, invalid, gone): delete, never retry
  }
});

/** Send a message in a conversation; it shows at once as "sending". */
export function sendMessage(c, kind, body, opts = undefined) {
  const p = { cid: newCid(), kind, body, opts: opts || {}, ts: Date.now(), status: "sending", error: "" };
  c.pending.push(p);
  dispatch(c, p);
  return p;
}

function dispatch(c, p) {
  p.status = "sending";
  p.error = "";
  client.send(c.id, p.kind, p.body, { cid: p.cid, opts: Object.keys(p.opts || {}).length ? p.opts : undefined }).catch(() => {
    /* "send_failed" marks it */
  });
}

/** Send a failed message again, with the same cid (the server stores it once). */
export function retry(c, p) {
  if (p.permanent) return; // the same message would be refused again
  dispatch(c, p);
}

export function discard(c, p) {
  client.discard(p.cid);
  removePending(c, p.cid);
}

export async function recall(c, m) {
  await client.recall(c.id, m.seq);
  // the reply may come before the `recall` event: name the same role it will
  markRecalled(c, m.seq, me(), m.from === me() ? "sender" : "group_admin");
}

let lastTyping = 0;
export function typing(c) {
  if (c.type !== "direct" || !client.connected) return;
  const now = Date.now();
  if (now - lastTyping < 3000) return;
  lastTyping = now;
  client.typing(c.id).catch(() => {});
}

export function describeError(error) {
  if (error instanceof RequestTimeout) return t("err.timeout");
  if (error instanceof ClientClosed) return t("err.offline");
  if (error instanceof SemotAPIError) {
    const key = `err.${error.code}`;
    const s = t(key, { msg: error.serverMessage || "" });
    return s === key ? t("err.generic", { msg: error.serverMessage || error.code }) : s;
  }
  return t("err.generic", { msg: (error && error.message) || String(error) });
}

// ------------------------------------------------------------------ attention: title, notifications
export function updateTitle() {
  const n = totalUnread();
  const base = t("appName"); // the client configuration's product name, when set
  document.title = state.hidden && n > 0 ? `(${n > 99 ? "99+" : n}) ${base}` : base;
}

document.addEventListener("visibilitychange", () => {
  state.hidden = document.visibilityState === "hidden";
  const c = active();
  if (!state.hidden && c) markReadSoon(c);
  updateTitle();
});

export function notificationsSupported() {
  return typeof window.Notification === "function";
}

export function notificationStatus() {
  if (!notificationsSupported()) return "unsupported";
  if (Notification.permission === "denied") return "blocked";
  return state.notifications && Notification.permission === "granted" ? "on" : "off";
}

export async function setNotifications(on) {
  if (!on) {
    state.notifications = false;
    save("notify", false);
    return "off";
  }
  if (!notificationsSupported()) return "unsupported";
  let perm = Notification.permission;
  if (perm === "default") perm = await Notification.requestPermission();
  state.notifications = perm === "granted";
  save("notify", state.notifications);
  return perm === "granted" ? "on" : "blocked";
}

function notify(c, m) {
  if (isDnd(c.id)) return; // do not disturb: the grey badge is all
  if (!state.hidden || !state.notifications || !notificationsSupported() || Notification.permission !== "granted") return;
  try {
    const title = c.type === "group" ? `${convTitle(c)} · ${displayName(m.from)}` : displayName(m.from);
    const n = new Notification(title || t("notify.newMessage"), {
      body: summary(m),
      tag: c.id,
      icon: "/web/icons/icon-192.png",
    });
    n.onclick = () => {
      window.focus();
      openConv(c.id);
      n.close();
    };
  } catch {
    /* some browsers allow notifications only from a service worker */
  }
}

window.matchMedia("(max-width: 768px)").addEventListener("change", (e) => {
  state.narrow = e.matches;
});

export { directConv, me };

/** Which dialog is open: "newChat" | "newGroup" | "location" | "card" | "about" | null. */
export const ui = reactive({ dialog: null });
