/*
 * semot-bridge.js: the page side of Semot's apps bridge (docs/apps.md).
 *
 * A custom page opened as a tab in Semot's web client loads this script from the Semot
 * server, and talks to the client over postMessage:
 *
 *   <script src="https://im.example.com/sdk/semot-bridge.js"></script>
 *   <script>
 *     SemotBridge.connect().then(({ token, user }) => {
 *       // send `token` to YOUR backend, which verifies it with Semot's server API
 *       // (POST /api/server/v1/apps/verify-identity) before trusting who this is
 *     });
 *     SemotBridge.openChat("u1001");                   // or a conversation id "g:..."
 *     SemotBridge.sendCard("u1001", { title: "请假审批", text: "...", fields: [{ label, value }], url });
 *     SemotBridge.notify("Saved", "Your request was sent");
 *   </script>
 *
 * Every call returns a Promise; a refusal rejects with an Error whose `code` says why
 * (cancelled, not_found, bad_request, rate_limited, unknown_method, unsupported_version,
 * timeout, not_in_client).
 *
 * Origin checks: messages are taken only from the parent window and only from the Semot
 * origin (by default the origin this script was loaded from; `connect({semotOrigin})`
 * to name it), and posted only to that origin.
 */
(function (global) {
  "use strict";
  var VERSION = 1;
  var TAG = "semot_bridge";
  var script = document.currentScript;
  var semotOrigin = null;
  try {
    semotOrigin = script && script.src ? new URL(script.src).origin : null;
  } catch (e) {
    semotOrigin = null;
  }
  var pending = {};
  var seq = 0;
  var hello = null; // the last hello: {token, expires_in, user, methods}
  var helloWaiters = [];
  var listening = false;

  function bridgeError(code, message) {
    var err = new Error(message || code);
    err.code = code;
    return err;
  }

  function inFrame() {
    try {
      return global.parent && global.parent !== global;
    } catch (e) {
      return true;
    }
  }

  function post(msg) {
    msg[TAG] = VERSION;
    global.parent.postMessage(msg, semotOrigin);
  }

  function onMessage(e) {
    if (e.source !== global.parent || e.origin !== semotOrigin) return; // only the client that frames us
    var d = e.data;
    if (!d || typeof d !== "object" || !(TAG in d)) return;
    if (d.type === "hello") {
      hello = d;
      var waiters = helloWaiters;
      helloWaiters = [];
      waiters.forEach(function (w) {
        if (d.error) w.reject(bridgeError(d.error.code, d.error.message));
        else w.resolve({ token: d.token, expires_in: d.expires_in, user: d.user, methods: d.methods || [] });
      });
      return;
    }
    if (d.type === "response" && Object.prototype.hasOwnProperty.call(pending, d.id)) {
      var p = pending[d.id];
      delete pending[d.id];
      clearTimeout(p.timer);
      if (d.ok) p.resolve(d.result);
      else p.reject(bridgeError((d.error && d.error.code) || "failed", d.error && d.error.message));
    }
  }

  function listen() {
    if (!listening) {
      global.addEventListener("message", onMessage);
      listening = true;
    }
  }

  /** Wait for the client's hello: {token, expires_in, user: {user_id, display_name}, methods}. */
  function connect(options) {
    options = options || {};
    if (options.semotOrigin) semotOrigin = new URL(options.semotOrigin).origin;
    if (!inFrame()) return Promise.reject(bridgeError("not_in_client", "this page is not open inside Semot"));
    if (!semotOrigin) return Promise.reject(bridgeError("bad_request", "semotOrigin: unknown (load this script from the Semot server or name it)"));
    listen();
    var timeout = options.timeout || 15000;
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        helloWaiters = helloWaiters.filter(function (w) { return w.resolve !== done; });
        reject(bridgeError("timeout", "no answer from the Semot client"));
      }, timeout);
      function done(v) {
        clearTimeout(timer);
        resolve(v);
      }
      helloWaiters.push({ resolve: done, reject: function (e) { clearTimeout(timer); reject(e); } });
      post({ type: "ready" }); // the client answers with a hello (it also sends one when the frame loads)
    });
  }

  /** Call a method of the client; resolves with its result. */
  function call(method, params, options) {
    if (!inFrame()) return Promise.reject(bridgeError("not_in_client", "this page is not open inside Semot"));
    if (!semotOrigin) return Promise.reject(bridgeError("bad_request", "call connect() first"));
    listen();
    var id = "b" + ++seq;
    // a card waits for the user's answer: no timeout for sendCard unless given
    var timeout = (options && options.timeout) || (method === "sendCard" ? 0 : 15000);
    return new Promise(function (resolve, reject) {
      var entry = { resolve: resolve, reject: reject, timer: null };
      if (timeout) {
        entry.timer = setTimeout(function () {
          delete pending[id];
          reject(bridgeError("timeout", "no answer from the Semot client"));
        }, timeout);
      }
      pending[id] = entry;
      post({ type: "request", id: id, method: method, params: params || {} });
    });
  }

  global.SemotBridge = {
    version: VERSION,
    connect: connect,
    call: call,
    /** A fresh identity token: {token, expires_in, user} (tokens live a few minutes). */
    identity: function () { return call("identity", {}); },
    /** Open the chat with a user (user id) or a conversation (g:..., d:...); the client shows it. */
    openChat: function (target) { return call("openChat", { target: target }); },
    /** Send a card {title, text?, fields?: [{label, value}], url?} into a chat, as the user, once they confirm. */
    sendCard: function (to, card, options) { return call("sendCard", { to: to, card: card }, options); },
    /** Show a notification in the client. */
    notify: function (title, body) { return call("notify", { title: title, body: body }); },
    /** The last hello the client sent, or null. */
    get last() { return hello; },
  };
})(window);
