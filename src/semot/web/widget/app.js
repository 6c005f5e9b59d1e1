// The widget's frame (/widget/): the agent list, the chat with an agent, a left message
// when nobody is online, the rating when the agent closes. Plain JavaScript on the JS
// SDK, no framework, no build step; every piece of user content is set as text.
//
// Identity: an anonymous visitor (`POST /api/v1/cs/visitors`, its secret visitor_key in
// this frame's localStorage resumes the same visitor; where the browser refuses storage
// to third-party frames, the host page keeps the key for us), or the shop's buyer after
// the host page called SemotWidget.login(ticket) (a normal Semot login, kept with its
// refresh token in this frame's storage). The host page is trusted only for what it may
// say (open, context, login ticket), from its own origin (`?origin=`) and window.
import { MemoryStorage, SemotAPIError, SemotClient } from "../sdk/semot.js";
import { pickLang, translator } from "./i18n.js";
import { h, messageRow, stateLabel } from "./view.js";

const params = new URLSearchParams(location.search);
const PARENT = window.parent !== window ? params.get("origin") || "" : "";
const LANG = pickLang(params.get("lang"));
const t = translator(LANG);
const KEY_STORE = "semot.widget.visitor";
const BUYER_PREFIX = "semot.widget.buyer.";
const EMOJI = ["😀", "😂", "😊", "😍", "🤔", "😅", "😭", "😮", "👍", "👎", "👏", "🙏", "💪", "🎉", "❤️", "🔥", "✅", "❌", "⭐", "🌹", "☕", "📦", "🚚", "💰"];
const OPEN_STATES = new Set(["active", "waiting", "left_message"]);
const KEY_RE = /^[A-Za-z0-9_-]{16,128}$/;

/** This frame's localStorage, or null where the browser refuses storage to third-party
 * frames (third-party cookies blocked): then the host page keeps the visitor_key for us
 * (its "init" message brings it, "keep" stores it), and a buyer signs in again with a
 * fresh ticket on every page. */
function probeStorage() {
  try {
    const ls = window.localStorage;
    ls.setItem("semot.widget.probe", "1");
    ls.removeItem("semot.widget.probe");
    return ls;
  } catch {
    return null;
  }
}
const LOCAL = probeStorage();
const STORE = LOCAL || new MemoryStorage();
let hostKey = null;
let initDone = null;
const hostInit = new Promise((resolve) => {
  initDone = resolve;
  if (!PARENT) resolve();
  else setTimeout(resolve, 3000); // an older loader that sends no "init"
});
const RATE_WITHIN_MS = 24 * 3600 * 1000; // a closed session not rated yet is offered for rating this long

function skipped(session) {
  try {
    return STORE.getItem("semot.widget.rated:" + session.session_id) === "1";
  } catch {
    return false;
  }
}

function markRated(session) {
  try {
    if (session) STORE.setItem("semot.widget.rated:" + session.session_id, "1");
  } catch {
    /* ignore */
  }
}

document.documentElement.lang = LANG;
const color = params.get("color");
if (color && /^#[0-9a-fA-F]{3,8}$/.test(color)) document.documentElement.style.setProperty("--w-color", color);

const root = document.getElementById("widget");
const s = {
  config: null, // GET /api/v1/cs/widget
  client: null,
  me: null, // {user_id, visitor}
  session: null,
  messages: new Map(), // seq -> message of the session's conv
  view: "loading", // loading | home | chat | rating | thanks | error
  hidden: PARENT !== "", // framed: hidden until the host opens the panel
  unread: 0,
  readSeq: 0,
  notice: "",
  names: new Map(), // user_id -> display name
  pending: null, // an "open" that came before the identity was ready
};
window.__semotWidget = s; // for tests and for debugging from the console

// ------------------------------------------------------------------ the host page
function toHost(msg) {
  if (PARENT) window.parent.postMessage({ ...msg, semot_widget: 1 }, PARENT);
}

window.addEventListener("message", (e) => {
  if (!PARENT || e.source !== window.parent || e.origin !== PARENT) return;
  const m = e.data;
  if (!m || m.semot_widget !== 1 || typeof m.type !== "string") return;
  if (m.type === "init") {
    if (typeof m.visitor_key === "string" && KEY_RE.test(m.visitor_key)) hostKey = m.visitor_key;
    initDone();
  } else if (m.type === "open") onOpen(m);
  else if (m.type === "hidden") {
    s.hidden = true;
  } else if (m.type === "login" && typeof m.ticket === "string" && m.ticket) signInBuyer(m.ticket);
  else if (m.type === "logout") signOutBuyer();
});

function onOpen(m) {
  s.hidden = false;
  s.unread = 0;
  toHost({ type: "unread", count: 0 });
  const ctx = m.context && typeof m.context === "object" ? m.context : null;
  if (!s.client || !s.client.connected) {
    s.pending = { context: ctx, queue_id: m.queue_id || null, agent_id: m.agent_id || null };
    return;
  }
  if (ctx || m.queue_id || m.agent_id) startSession({ context: ctx, queue_id: m.queue_id, agent_id: m.agent_id });
  else markRead();
  render();
}

// ------------------------------------------------------------------ identity
async function api(method, path, body) {
  return s.client.http(method, path, body);
}

function newClient(opts) {
  const client = new SemotClient(location.origin, { platform: "web", requestTimeout: 20000, storage: STORE, ...opts });
  client.on("message", onMessage);
  client.on("event", onEvent);
  client.on("state", () => render());
  return client;
}

async function visitorSession() {
  const key = STORE.getItem(KEY_STORE) || hostKey;
  const body = key ? { visitor_key: key } : {};
  const resp = await fetch("/api/v1/cs/visitors", {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body),
  });
  const data = await resp.json().catch(() => null);
  if (!resp.ok || !data || !data.access_token) {
    const err = (data && data.error) || {};
    throw new SemotAPIError(err.code || "unavailable", err.message || String(resp.status), resp.status);
  }
  STORE.setItem(KEY_STORE, data.visitor_key);
  if (!LOCAL && data.visitor_key !== hostKey) {
    hostKey = data.visitor_key;
    toHost({ type: "keep", visitor_key: data.visitor_key });
  }
  return data;
}

/** Visitors have no refresh token: a new access token comes from the visitor_key again. */
let visitorTimer = null;
function scheduleVisitorRenewal(expiresIn) {
  clearTimeout(visitorTimer);
  visitorTimer = setTimeout(async () => {
    try {
      const data = await visitorSession();
      s.client.setSession({ user_id: data.user_id, access_token: data.access_token, expires_in: data.expires_in });
      scheduleVisitorRenewal(data.expires_in);
    } catch {
      scheduleVisitorRenewal(60);
    }
  }, Math.max(30, (expiresIn || 900) * 0.8) * 1000);
}

async function connect() {
  s.view = "loading";
  render();
  const buyer = newClient({ persistSession: true, storagePrefix: BUYER_PREFIX });
  if (buyer.userId && (buyer.accessToken || buyer.refreshToken)) {
    s.client = buyer;
    s.me = { user_id: buyer.userId, visitor: false };
    buyer.on("session_expired", () => signOutBuyer());
  } else if (params.get("member") === "1") {
    // the host page has a signed-in buyer and is about to send a ticket: no visitor meanwhile
    toHost({ type: "identity", user_id: null, visitor: false });
    return;
  } else {
    const data = await visitorSession();
    s.client = newClient({ persistSession: false, storagePrefix: "semot.widget.visitor." });
    // with a refresh token (the server gives one) the SDK keeps the login fresh by itself;
    // a reload or a refused refresh starts again from the visitor_key
    s.client.setSession({ user_id: data.user_id, access_token: data.access_token, refresh_token: data.refresh_token,
      expires_in: data.expires_in });
    s.client.on("session_expired", () => renewAndRestart());
    s.me = { user_id: data.user_id, visitor: true };
    if (!data.refresh_token) scheduleVisitorRenewal(data.expires_in);
  }
  toHost({ type: "identity", user_id: s.me.user_id, visitor: s.me.visitor });
  await s.client.start();
  await loadMine();
  if (s.pending) {
    const p = s.pending;
    s.pending = null;
    if (p.context || p.queue_id || p.agent_id) await startSession(p);
  }
}

async function renewAndRestart() {
  try {
    const data = await visitorSession();
    s.client.setSession({ user_id: data.user_id, access_token: data.access_token, refresh_token: data.refresh_token,
      expires_in: data.expires_in });
    await s.client.start();
  } catch {
    fail();
  }
}

async function signInBuyer(ticket) {
  try {
    if (s.client) await s.client.close();
    clearTimeout(visitorTimer);
    const buyer = newClient({ persistSession: true, storagePrefix: BUYER_PREFIX });
    await buyer.loginWithTicket(ticket);
    resetChat();
    await buyer.close();
    await boot();
  } catch {
    fail();
  }
}

async function signOutBuyer() {
  if (s.client && !s.me?.visitor) await s.client.logout().catch(() => {});
  STORE.removeItem(BUYER_PREFIX + "session");
  resetChat();
  await boot();
}

function resetChat() {
  s.session = null;
  s.messages = new Map();
  s.unread = 0;
  s.readSeq = 0;
}

// ------------------------------------------------------------------ sessions
async function loadMine() {
  const mine = await api("GET", "/api/v1/cs/sessions/mine");
  const list = (mine && (mine.sessions || mine.items)) || (Array.isArray(mine) ? mine : []);
  const open = list.find((x) => OPEN_STATES.has(x.state));
  const last = list[0];
  if (open) await showSession(open);
  else if (last && last.state === "closed" && !last.rating && Date.now() - (last.closed_at || 0) < RATE_WITHIN_MS && !skipped(last)) {
    s.session = last; // closed while this page was away: still ask for the rating
    s.view = "rating";
  } else if (s.view !== "rating" && s.view !== "thanks") s.view = "home";
  render();
}

async function startSession({ context, queue_id, agent_id } = {}) {
  const body = {};
  if (queue_id) body.queue_id = queue_id;
  else if (agent_id) body.agent_id = agent_id;
  if (context) body.context = context;
  try {
    const session = await api("POST", "/api/v1/cs/sessions", body);
    await showSession(session);
  } catch {
    s.notice = t("error");
    render();
  }
}

async function showSession(session) {
  const same = s.session && s.session.session_id === session.session_id;
  s.session = { ...(same ? s.session : {}), ...session };
  if (!same) s.messages = new Map();
  s.view = "chat";
  render();
  const page = await s.client.history(session.conv, { limit: 50 });
  for (const m of page.messages || []) s.messages.set(m.seq, m);
  const st = (await s.client.sync({ [session.conv]: 0 }).catch(() => [])).find?.((x) => x.conv === session.conv);
  s.readSeq = st ? st.read_seq || 0 : 0;
  countUnread();
  if (!s.hidden) markRead();
  render(true);
}

function countUnread() {
  let n = 0;
  for (const m of s.messages.values()) if (m.seq > s.readSeq && m.from !== s.me.user_id && m.kind !== "system") n += 1;
  s.unread = n;
  if (s.hidden) toHost({ type: "unread", count: n });
}

function markRead() {
  const seqs = [...s.messages.keys()];
  const last = seqs.length ? Math.max(...seqs) : 0;
  if (s.session && last > s.readSeq && s.client.connected) {
    s.readSeq = last;
    s.client.read(s.session.conv, last).catch(() => {});
  }
  s.unread = 0;
}

function onMessage(m) {
  if (!s.session || m.conv !== s.session.conv) return;
  s.messages.set(m.seq, m);
  if (s.hidden) countUnread();
  else markRead();
  render(true);
}

function onEvent(e) {
  if (e.evt !== "cs") return;
  const type = e.type || (e.data && e.data.type);
  const session = e.session || (e.data && e.data.session);
  if (!session || (s.session && session.session_id !== s.session.session_id && s.session.state !== "closed")) {
    if (!s.session && session && OPEN_STATES.has(session.state)) showSession(session);
    return;
  }
  s.session = { ...(s.session || {}), ...session };
  if (type === "closed" || session.state === "closed") {
    s.view = "rating";
    if (s.hidden) toHost({ type: "unread", count: Math.max(1, s.unread) });
  }
  render();
}

async function sendText(text) {
  const value = text.trim();
  if (!value || !s.session) return;
  try {
    await s.client.sendText(s.session.conv, value);
    s.notice = "";
  } catch {
    s.notice = t("sendFailed");
  }
  render(true);
}

async function sendImage(file) {
  if (!file || !s.session) return;
  s.notice = t("uploading");
  render();
  try {
    const info = await s.client.uploadFile(file, { name: file.name });
    const kind = String(info.mime || "").startsWith("image/") && info.mime !== "image/svg+xml" ? "image" : "file";
    await s.client.sendFile(s.session.conv, kind, info.file_id);
    s.notice = "";
  } catch {
    s.notice = t("sendFailed");
  }
  render(true);
}

async function rate(score, comment) {
  try {
    await api("POST", `/api/v1/cs/sessions/${encodeURIComponent(s.session.session_id)}/rating`, { score, comment });
  } catch {
    /* rated already, or the session is gone: thank all the same */
  }
  markRated(s.session);
  s.view = "thanks";
  render();
}

function newChat() {
  if (s.view === "rating") markRated(s.session); // skipped: not asked again
  resetChat();
  s.view = "home";
  s.rateScore = 0;
  render();
  loadConfig().then(() => render()).catch(() => {}); // the agents' states of now
}

async function loadConfig() {
  const resp = await fetch("/api/v1/cs/widget", { headers: { Accept: "application/json" } });
  s.config = resp.ok ? await resp.json() : s.config || {};
  if (s.config.color && /^#[0-9a-fA-F]{3,8}$/.test(s.config.color) && !color) {
    document.documentElement.style.setProperty("--w-color", s.config.color);
  }
  toHost({ type: "theme", color: s.config.color || null, position: s.config.position || null }); // the launcher button
}

function fail() {
  s.view = "error";
  render();
}

// ------------------------------------------------------------------ rendering
function agentName(id) {
  if (!id) return "";
  if (s.session && s.session.agent && s.session.agent.user_id === id) return s.session.agent.display_name || id;
  for (const q of (s.config && s.config.queues) || []) {
    for (const a of q.agents || []) if (a.user_id === id) return a.display_name || id;
  }
  return s.names.get(id) || "";
}

function header() {
  const title = (s.config && s.config.title) || t("title");
  const kids = [];
  if (s.view === "chat" || s.view === "thanks" || s.view === "rating") {
    kids.push(h("button", { class: "w-icon", type: "button", "aria-label": t("back"), onclick: newChat, "data-testid": "w-back" }, "‹"));
  }
  kids.push(h("div", { class: "w-title", "data-testid": "w-title" }, title));
  if (PARENT) kids.push(h("button", { class: "w-icon", type: "button", "aria-label": t("close"), onclick: () => toHost({ type: "close" }), "data-testid": "w-close" }, "×"));
  return h("header", { class: "w-head" }, ...kids);
}

function homeView() {
  const c = s.config || {};
  const out = [h("p", { class: "w-greeting", "data-testid": "w-greeting" }, c.greeting || t("greeting"))];
  const anyone = (c.queues || []).some((q) => (q.agents || []).some((a) => a.state === "online"));
  if (c.open_now === false || !anyone) {
    out.push(h("p", { class: "w-offline", "data-testid": "w-offline" }, c.offline_message || (c.open_now === false ? t("closedNow") : t("leftMessage"))));
  }
  for (const q of c.queues || []) {
    const agents = (q.agents || []).map((a) =>
      h("button", { class: "w-agent", type: "button", "data-testid": "w-agent", "data-user": a.user_id, onclick: () => startSession({ agent_id: a.user_id }) },
        a.avatar_url ? h("img", { class: "w-avatar", src: a.avatar_url, alt: "" }) : h("span", { class: "w-avatar w-avatar-text" }, (a.display_name || "?").slice(0, 1)),
        h("span", { class: "w-agent-main" },
          h("span", { class: "w-agent-name" }, a.display_name || a.user_id),
          a.field ? h("span", { class: "w-agent-field" }, a.field) : null),
        h("span", { class: `w-state w-state-${a.state}`, "data-testid": "w-agent-state" }, stateLabel(t, a.state))),
    );
    out.push(h("section", { class: "w-queue", "data-testid": "w-queue", "data-queue": q.queue_id },
      h("div", { class: "w-queue-head" },
        h("div", null, h("div", { class: "w-queue-name" }, q.name), q.description ? h("div", { class: "w-queue-desc" }, q.description) : null),
        h("button", { class: "w-primary", type: "button", "data-testid": "w-start", onclick: () => startSession({ queue_id: q.queue_id }) },
          c.open_now === false || !anyone ? t("leaveMessage") : t("start"))),
      ...(agents.length ? agents : [h("p", { class: "w-muted" }, t("noAgents"))])));
  }
  return h("div", { class: "w-body w-home" }, ...out);
}

function banner() {
  const st = s.session && s.session.state;
  if (st === "waiting") return h("div", { class: "w-banner", "data-testid": "w-banner", "data-state": st }, t("waiting"));
  if (st === "left_message") return h("div", { class: "w-banner", "data-testid": "w-banner", "data-state": st }, (s.config && s.config.offline_message) || t("leftMessage"));
  if (st === "active") {
    const name = agentName(s.session.agent_id || (s.session.agent && s.session.agent.user_id)) || t("agent");
    return h("div", { class: "w-banner w-banner-ok", "data-testid": "w-banner", "data-state": st }, t("serving", { name }));
  }
  if (st === "closed") return h("div", { class: "w-banner", "data-testid": "w-banner", "data-state": st }, t("sessionClosed"));
  return null;
}

let emojiOpen = false;
function chatView() {
  const rows = [...s.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => messageRow(m, s.me.user_id, t, agentName));
  const list = h("div", { class: "w-messages", "data-testid": "w-messages" }, ...rows);
  const input = h("textarea", { class: "w-input", rows: 2, placeholder: t("placeholder"), "data-testid": "w-input", "aria-label": t("placeholder") });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      const v = input.value;
      input.value = "";
      sendText(v);
    }
  });
  const file = h("input", { type: "file", accept: "image/*", hidden: true, "data-testid": "w-file" });
  file.addEventListener("change", () => {
    const f = file.files && file.files[0];
    file.value = "";
    sendImage(f);
  });
  const emojis = emojiOpen
    ? h("div", { class: "w-emoji", "data-testid": "w-emoji-panel" }, ...EMOJI.map((em) =>
      h("button", { type: "button", onclick: () => { input.value += em; emojiOpen = false; input.focus(); } }, em)))
    : null;
  const closed = s.session && s.session.state === "closed";
  return h("div", { class: "w-body w-chat" },
    banner(), list,
    s.notice ? h("div", { class: "w-notice", "data-testid": "w-notice" }, s.notice) : null,
    closed ? null : h("div", { class: "w-composer" },
      emojis,
      h("div", { class: "w-tools" },
        h("button", { type: "button", class: "w-tool", "aria-label": t("emoji"), title: t("emoji"), "data-testid": "w-emoji", onclick: () => { emojiOpen = !emojiOpen; render(); } }, "☺"),
        h("button", { type: "button", class: "w-tool", "aria-label": t("image"), title: t("image"), "data-testid": "w-image", onclick: () => file.click() }, "🖼"),
        file),
      h("div", { class: "w-send-row" }, input,
        h("button", { type: "button", class: "w-primary", "data-testid": "w-send", onclick: () => { const v = input.value; input.value = ""; sendText(v); } }, t("send")))));
}

function ratingView() {
  let score = s.rateScore || 5;
  const stars = h("div", { class: "w-stars", role: "radiogroup", "aria-label": t("rateTitle") });
  const paint = () => [...stars.children].forEach((b, i) => { b.classList.toggle("on", i < score); b.setAttribute("aria-checked", String(i + 1 === score)); });
  for (let i = 1; i <= 5; i++) {
    stars.appendChild(h("button", { type: "button", role: "radio", "data-testid": "w-star", "data-score": i, "aria-label": String(i), onclick: () => { score = s.rateScore = i; paint(); } }, "★"));
  }
  paint();
  const comment = h("textarea", { class: "w-input", rows: 3, placeholder: t("rateComment"), "data-testid": "w-rate-comment", maxlength: 500 });
  return h("div", { class: "w-body w-rate", "data-testid": "w-rating" },
    h("p", { class: "w-muted" }, t("sessionClosed")),
    h("h2", null, t("rateTitle")), stars, comment,
    h("div", { class: "w-row" },
      h("button", { type: "button", class: "w-secondary", onclick: newChat }, t("rateSkip")),
      h("button", { type: "button", class: "w-primary", "data-testid": "w-rate-submit", onclick: () => rate(score, comment.value.trim()) }, t("rateSubmit"))));
}

function render(scroll = false) {
  let body;
  if (s.view === "home") body = homeView();
  else if (s.view === "chat" && s.session) body = chatView();
  else if (s.view === "rating") body = ratingView();
  else if (s.view === "thanks") {
    body = h("div", { class: "w-body w-center", "data-testid": "w-thanks" }, h("p", null, t("thanks")),
      h("button", { type: "button", class: "w-primary", onclick: newChat }, t("newChat")));
  } else if (s.view === "error") body = h("div", { class: "w-body w-center", "data-testid": "w-error" }, t("error"));
  else body = h("div", { class: "w-body w-center w-muted" }, t("connecting"));
  // keep what is being typed and the scroll position across a re-render
  const old = root.querySelector(".w-input");
  const draft = old ? old.value : "";
  const draftOf = old ? old.dataset.testid : "";
  const focused = old && document.activeElement === old;
  const oldList = root.querySelector(".w-messages");
  const atBottom = !oldList || oldList.scrollHeight - oldList.scrollTop - oldList.clientHeight < 40;
  const prevTop = oldList ? oldList.scrollTop : 0;
  root.replaceChildren(header(), body);
  const input = root.querySelector(".w-input");
  if (input && input.dataset.testid === draftOf) { // the same box (message or rating comment)
    input.value = draft;
    if (focused) input.focus();
  }
  const list = root.querySelector(".w-messages");
  if (list) list.scrollTop = scroll || atBottom ? list.scrollHeight : prevTop;
  root.dataset.view = s.view;
  root.dataset.state = (s.client && s.client.state) || "idle";
}

// ------------------------------------------------------------------ start
async function boot() {
  try {
    await hostInit;
    if (!s.config) await loadConfig();
    await connect();
  } catch {
    fail();
  }
}

toHost({ type: "ready" });
boot();
