// The client's side of the apps' bridge (docs/apps.md): a custom page opened as a tab
// (h5-pages.js) talks to the client over postMessage, through /sdk/semot-bridge.js.
//
// Messages are objects tagged `semot_bridge: <version>` (1 today):
//   page -> client  {type: "ready"}                               (the page's script is listening)
//   client -> page  {type: "hello", token, expires_in, user, methods} (also sent on each frame load)
//   page -> client  {type: "request", id, method, params}
//   client -> page  {type: "response", id, ok: true, result} | {..., ok: false, error: {code, message}}
//
// Origin checks on both sides: this side takes messages only from the frame's window
// AND the configured page's origin, and posts only to that origin (a frame that navigated
// elsewhere receives nothing); the page side takes messages only from its parent window
// and the Semot origin it was given. A page on this server's own origin runs sandboxed
// without its origin (h5-pages.js), so it gets no bridge.
//
// Methods: identity() -> a fresh token; openChat(target) -> opens the chat; sendCard(to,
// card) -> sends an "app_card" message as the user, only after the user confirms in a
// dialog; notify(title, body) -> a notification in the client (a few per minute).
import { h } from "vue";
import { ElMessageBox, ElNotification } from "element-plus";
import { t } from "../i18n.js";
import { client, convTitle, directConv, displayName, ensureConv, openConv, startDirect, state } from "../store.js";
import { AppCard, CARD_TYPE, checkCard } from "./card.js";

export const BRIDGE_VERSION = 1;
const TAG = "semot_bridge";
const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const CONV = /^(g:[A-Za-z0-9_.-]{1,64}|d:[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9_.-]{1,64})$/;
const NOTIFY_PER_MINUTE = 5;
export const METHODS = ["identity", "openChat", "sendCard", "notify"];

class BridgeError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function str(value, name, max) {
  if (typeof value !== "string" || !value.trim()) throw new BridgeError("bad_request", `${name}: a non-empty string`);
  if (value.length > max) throw new BridgeError("bad_request", `${name}: at most ${max} characters`);
  return value;
}

/** The conversation a target names: a conv id (one of mine), or a user id (our direct chat). */
function convOf(target) {
  const value = str(target, "target", 140);
  if (CONV.test(value)) {
    if (value.startsWith("d:") && !value.split(":").slice(1).includes(client.userId)) throw new BridgeError("not_found", "not one of your chats");
    if (value.startsWith("g:") && !state.convs[value]) throw new BridgeError("not_found", "not one of your chats");
    return value;
  }
  if (!ID.test(value)) throw new BridgeError("bad_request", "target: a user id or a conversation id (g:..., d:...)");
  if (value === client.userId) throw new BridgeError("bad_request", "target: that is yourself");
  return directConv(client.userId, value);
}

/** Connect a frame showing `page` (from the client configuration); returns the disconnect. */
export function attachBridge(frame, page) {
  let origin;
  try {
    origin = new URL(page.url).origin;
  } catch {
    return () => {};
  }
  if (origin === location.origin || origin === "null") return () => {};
  const app = { title: page.title, origin };
  const notified = [];
  let confirming = false;

  const post = (msg) => {
    if (frame.contentWindow) frame.contentWindow.postMessage({ [TAG]: BRIDGE_VERSION, ...msg }, origin);
  };

  async function identity() {
    const r = await client.http("POST", "/api/v1/apps/identity-token", { url: page.url });
    return { token: r.token, expires_in: r.expires_in, user: { user_id: client.userId, display_name: displayName(client.userId) } };
  }

  async function hello() {
    try {
      post({ type: "hello", ...(await identity()), methods: METHODS });
    } catch (err) {
      post({ type: "hello", error: { code: err.code || "failed", message: String(err.message || err) }, methods: METHODS });
    }
  }

  function openChat(params) {
    const conv = convOf(params.target);
    // after the answer is posted: leaving the page's tab removes its frame
    setTimeout(() => {
      state.tab = "chats";
      if (conv.startsWith("d:")) startDirect(conv.split(":").slice(1).find((u) => u !== client.userId) || client.userId);
      else openConv(conv);
    }, 0);
    return { conv };
  }

  async function sendCard(params) {
    const conv = convOf(params.to);
    const data = checkCard(params.card, app);
    if (confirming) throw new BridgeError("busy", "another card is waiting for the user's answer");
    confirming = true;
    try {
      // rendered again when the peer's name arrives (displayName asks for it)
      const chat = () => (conv.startsWith("g:") ? convTitle(ensureConv(conv)) : displayName(conv.split(":").slice(1).find((u) => u !== client.userId)));
      await ElMessageBox.confirm(
        () => h("div", { class: "bridge-confirm", "data-testid": "bridge-confirm" }, [
          h("p", t("bridge.confirmSend", { app: app.title, chat: chat() })),
          h(AppCard, { data }),
        ]),
        t("bridge.confirmTitle"),
        { confirmButtonText: t("bridge.send"), cancelButtonText: t("common.cancel"), customClass: "bridge-confirm-box" },
      );
    } catch {
      throw new BridgeError("cancelled", "the user did not send the card");
    } finally {
      confirming = false;
    }
    const ack = await client.send(conv, "custom", { type: CARD_TYPE, data });
    return { conv: ack.conv, seq: ack.seq, mid: ack.mid };
  }

  async function notify(params) {
    const title = str(params.title, "title", 100);
    const body = params.body === undefined || params.body === null ? "" : String(params.body).slice(0, 500);
    const now = Date.now();
    while (notified.length && notified[0] < now - 60_000) notified.shift();
    if (notified.length >= NOTIFY_PER_MINUTE) throw new BridgeError("rate_limited", `at most ${NOTIFY_PER_MINUTE} notifications a minute`);
    notified.push(now);
    ElNotification({ title: `${app.title}: ${title}`, message: body, type: "info", customClass: "bridge-notify" });
    if (state.hidden && state.notifications && "Notification" in window && Notification.permission === "granted") {
      new Notification(title, { body });
    }
    return { shown: true };
  }

  const methods = { identity, openChat, sendCard, notify };

  async function onMessage(e) {
    if (e.source !== frame.contentWindow || e.origin !== origin) return; // only the page, only from its origin
    const d = e.data;
    if (!d || typeof d !== "object" || !(TAG in d)) return;
    const id = typeof d.id === "string" || typeof d.id === "number" ? d.id : null;
    if (d[TAG] !== BRIDGE_VERSION) {
      if (id !== null) post({ type: "response", id, ok: false, error: { code: "unsupported_version", message: `this client speaks version ${BRIDGE_VERSION}` } });
      return;
    }
    if (d.type === "ready") return hello();
    if (d.type !== "request" || id === null) return;
    const fn = typeof d.method === "string" && Object.hasOwn(methods, d.method) ? methods[d.method] : null;
    if (!fn) return post({ type: "response", id, ok: false, error: { code: "unknown_method", message: `unknown method ${String(d.method).slice(0, 40)}` } });
    try {
      const params = d.params && typeof d.params === "object" ? d.params : {};
      post({ type: "response", id, ok: true, result: await fn(params) });
    } catch (err) {
      post({ type: "response", id, ok: false, error: { code: err.code || "failed", message: String((err && err.message) || err) } });
    }
  }

  window.addEventListener("message", onMessage);
  frame.addEventListener("load", hello);
  return () => {
    window.removeEventListener("message", onMessage);
    frame.removeEventListener("load", hello);
  };
}
