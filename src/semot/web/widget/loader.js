// Semot customer-service widget: the one script a site puts on its pages.
//
//   <script src="https://im.example.com/widget.js" data-lang="zh-CN" data-color="#2f6bff" async></script>
//
// It draws a launcher button (with an unread badge) and opens Semot's page /widget/ in a
// frame: the chat itself runs there, on Semot's origin, so this page never sees a token.
// Optional configuration before the tag: window.SemotWidget = {lang, color, position,
// queue, agent, context, ticket, open}. The page API, once loaded:
//   SemotWidget.open({context, queue, agent})  open the panel (and start a session with this context)
//   SemotWidget.close()                        hide it
//   SemotWidget.login(ticket)                  sign the frame in as the shop's buyer (a Semot SSO ticket)
//   SemotWidget.logout()                       back to an anonymous visitor
//   SemotWidget.on("unread" | "open" | "close" | "ready", fn)
// The frame and this page talk over postMessage: this page posts only to Semot's origin
// and listens only to the frame's window from that origin; the frame does the same the
// other way (docs/customer-service.md, "The widget").
(function () {
  "use strict";
  var script = document.currentScript;
  var previous = window.SemotWidget;
  if (previous && previous.__semot) return; // loaded twice: keep the first
  var cfg = {};
  if (previous && typeof previous === "object") for (var k in previous) cfg[k] = previous[k];
  var data = (script && script.dataset) || {};
  function pick(name) {
    return cfg[name] !== undefined ? cfg[name] : data[name];
  }
  var base = String(pick("server") || (script && new URL(script.src, location.href).origin) || "").replace(/\/+$/, "");
  var origin = new URL(base, location.href).origin;
  var color = /^#[0-9a-fA-F]{3,8}$/.test(pick("color") || "") ? pick("color") : "";
  var position = pick("position") === "left" || pick("position") === "right" ? pick("position") : "";
  var listeners = {};
  var frame = null;
  var ready = false;
  var queue = []; // messages waiting for the frame's "ready"
  var isOpen = false;
  var unread = 0;

  // The anonymous visitor's key, kept here for browsers that refuse storage to the frame
  // (third-party storage blocked): only its own visitor's key, nothing of a signed-in buyer.
  var KEY = "semot.widget.visitor_key";
  function loadKey() {
    try {
      return localStorage.getItem(KEY);
    } catch (e) {
      return null;
    }
  }
  function saveKey(v) {
    if (typeof v !== "string" || !/^[A-Za-z0-9_-]{16,128}$/.test(v)) return;
    try {
      localStorage.setItem(KEY, v);
    } catch (e) {
      /* no storage here either: a new visitor next time */
    }
  }

  function emit(name, value) {
    (listeners[name] || []).slice().forEach(function (fn) {
      try {
        fn(value);
      } catch (e) {
        if (window.console) console.error(e);
      }
    });
  }

  function post(msg) {
    msg.semot_widget = 1;
    if (ready && frame) frame.contentWindow.postMessage(msg, origin);
    else queue.push(msg);
  }

  var style = document.createElement("style");
  style.textContent =
    ".semot-w-btn{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:var(--semot-w-color,#2f6bff);color:#fff;box-shadow:0 4px 16px rgba(0,0,0,.25);cursor:pointer;font:600 22px/56px sans-serif;padding:0}" +
    ".semot-w-btn svg{width:28px;height:28px;vertical-align:middle;fill:currentColor}" +
    ".semot-w-badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#f56c6c;" +
    "color:#fff;font:600 12px/20px sans-serif;box-sizing:border-box}" +
    ".semot-w-frame{position:fixed;bottom:88px;right:20px;z-index:2147483001;width:380px;height:600px;max-height:calc(100vh - 108px);" +
    "border:0;border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.25);background:#fff;display:none}" +
    ".semot-w-open .semot-w-frame{display:block}" +
    ".semot-w-left .semot-w-btn,.semot-w-left .semot-w-frame{right:auto;left:20px}" +
    "@media (max-width:600px){.semot-w .semot-w-frame{top:0;left:0;right:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}" +
    ".semot-w-open .semot-w-btn{display:none}}";

  var host = document.createElement("div");
  host.className = "semot-w";
  if (color) host.style.setProperty("--semot-w-color", color);
  if (position === "left") host.classList.add("semot-w-left");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "semot-w-btn";
  button.setAttribute("data-testid", "semot-widget-button");
  var zh = /^zh/i.test(pick("lang") || navigator.language || "");
  button.setAttribute("aria-label", zh ? "在线客服" : "Customer service");
  button.title = button.getAttribute("aria-label");
  button.innerHTML =
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.6 2 11c0 2.4 1.3 4.6 3.5 6.1L5 21l4.2-2.3c.9.2 1.8.3 2.8.3 5.5 0 10-3.6 10-8s-4.5-8-10-8z"/></svg>';
  var badge = document.createElement("span");
  badge.className = "semot-w-badge";
  badge.setAttribute("data-testid", "semot-widget-badge");
  badge.hidden = true;
  button.appendChild(badge);

  function setUnread(n) {
    unread = Math.max(0, n | 0);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
    emit("unread", unread);
  }

  function ensureFrame() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.className = "semot-w-frame";
    frame.title = zh ? "在线客服" : "Customer service";
    frame.setAttribute("data-testid", "semot-widget-frame");
    frame.allow = "clipboard-write";
    var q = "origin=" + encodeURIComponent(location.origin);
    if (pick("lang")) q += "&lang=" + encodeURIComponent(pick("lang"));
    if (color) q += "&color=" + encodeURIComponent(color);
    // a signed-in member: the page sends login(ticket) at once, so the frame makes no anonymous visitor meanwhile
    if (pick("member") === true || pick("member") === "true") q += "&member=1";
    frame.src = base + "/widget/?" + q;
    host.appendChild(frame);
  }

  function open(opts) {
    opts = opts || {};
    ensureFrame();
    isOpen = true;
    host.classList.add("semot-w-open");
    setUnread(0);
    post({ type: "open", context: opts.context || null, queue_id: opts.queue || opts.queue_id || null,
      agent_id: opts.agent || opts.agent_id || null });
    emit("open", opts);
  }

  function close() {
    isOpen = false;
    host.classList.remove("semot-w-open");
    post({ type: "hidden" });
    emit("close", null);
  }

  window.addEventListener("message", function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== origin) return;
    var m = e.data;
    if (!m || m.semot_widget !== 1 || typeof m.type !== "string") return;
    if (m.type === "ready") {
      ready = true;
      // first the visitor_key this page keeps for a frame that may not store it itself
      frame.contentWindow.postMessage({ semot_widget: 1, type: "init", visitor_key: loadKey() }, origin);
      var waiting = queue;
      queue = [];
      waiting.forEach(post);
      emit("ready", null);
    } else if (m.type === "unread") {
      if (!isOpen) setUnread(m.count);
    } else if (m.type === "close") {
      close();
    } else if (m.type === "keep") {
      saveKey(m.visitor_key);
    } else if (m.type === "theme") {
      // the console's color and position, unless the page chose its own
      if (!color && typeof m.color === "string" && /^#[0-9a-fA-F]{3,8}$/.test(m.color)) host.style.setProperty("--semot-w-color", m.color);
      if (!position) host.classList.toggle("semot-w-left", m.position === "left");
    } else if (m.type === "identity") {
      emit("identity", { user_id: m.user_id, visitor: !!m.visitor });
    }
  });

  button.addEventListener("click", function () {
    if (isOpen) close();
    else open();
  });

  var api = {
    __semot: true,
    open: open,
    close: close,
    toggle: function () {
      if (isOpen) close();
      else open();
    },
    login: function (ticket) {
      ensureFrame();
      post({ type: "login", ticket: String(ticket || "") });
    },
    logout: function () {
      ensureFrame();
      post({ type: "logout" });
    },
    on: function (name, fn) {
      (listeners[name] = listeners[name] || []).push(fn);
      return function () {
        listeners[name] = (listeners[name] || []).filter(function (f) {
          return f !== fn;
        });
      };
    },
    get unread() {
      return unread;
    },
    get isOpen() {
      return isOpen;
    },
  };
  window.SemotWidget = api;

  function mount() {
    document.head.appendChild(style);
    host.appendChild(button);
    document.body.appendChild(host);
    // the frame loads at once (hidden): the visitor's unread badge and a waiting answer show without a click
    ensureFrame();
    if (pick("ticket")) api.login(pick("ticket"));
    if (pick("open") === true || pick("open") === "true") open({ context: cfg.context || null });
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
