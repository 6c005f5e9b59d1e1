// Reports uncaught errors of the web client and the admin console to the server
// (POST /api/v1/client-errors), where administrators read them (console: developer
// tools). Catches window `error`, `unhandledrejection` and Vue's app.config.errorHandler.
//
//   import { installErrorReporter } from "/web/shared/error-reporter.js";
//   installErrorReporter({ app: "web", vueApp, token: () => client.accessToken,
//                          version: () => client.serverConfig?.server_version });
//
// Cheap and quiet on purpose: the same error (message + first stack line) is sent once
// per page load; at most `perMinute` reports a minute and `perPage` per page load;
// a 429 pauses reporting for its Retry-After; a failure to report is never reported.
// Fields are cut to the server's bounds. The page's address is sent without its query
// string and without the query of its #hash route (a one-time set-password link carries
// its token there), so no secret of the URL leaves in a report.
import { VERSION as SDK_VERSION } from "semot";

export const ENDPOINT = "/api/v1/client-errors";
const LIMITS = { message: 2000, stack: 16000, url: 2000, version: 64, user_agent: 512 };

function cut(value, n) {
  const s = value == null ? "" : String(value);
  return s.length > n ? s.slice(0, n) : s;
}

/** location without secrets: origin + path + the #route without its ?query. */
export function safeUrl(loc = globalThis.location) {
  if (!loc) return "";
  const hash = String(loc.hash || "").split("?")[0];
  return `${loc.origin || ""}${loc.pathname || ""}${hash}`;
}

/** {message, stack} of whatever was thrown (an Error, a string, an object, undefined). */
export function describe(thrown) {
  if (thrown instanceof Error) {
    const name = thrown.name && !String(thrown.message).startsWith(thrown.name) ? `${thrown.name}: ` : "";
    return { message: `${name}${thrown.message || ""}` || String(thrown), stack: String(thrown.stack || "") };
  }
  if (thrown && typeof thrown === "object") {
    let text;
    try {
      text = JSON.stringify(thrown);
    } catch {
      text = Object.prototype.toString.call(thrown);
    }
    return { message: text || "(object)", stack: "" };
  }
  return { message: thrown === undefined ? "(undefined)" : String(thrown), stack: "" };
}

export class ErrorReporter {
  constructor({ app, token = () => null, version = () => "", endpoint = ENDPOINT, perMinute = 5, perPage = 30 } = {}) {
    this.app = app === "admin" ? "admin" : "web";
    this.token = token;
    this.version = version;
    this.endpoint = endpoint;
    this.perMinute = perMinute;
    this.perPage = perPage;
    this.seen = new Set(); // message + first stack line, per page load
    this.times = []; // when the reports of the last minute left
    this.sent = 0;
    this.pausedUntil = 0;
    this.serverVersion = null; // from /healthz, when the app does not know it
    this.busy = false;
    this.windowHooked = false;
  }

  /** Report one thrown value; `info` says where it was caught (e.g. Vue's lifecycle hook). */
  report(thrown, info = "") {
    if (this.busy) return false; // an error inside report() itself: never report the reporter
    this.busy = true;
    try {
      return this._report(thrown, info);
    } finally {
      this.busy = false;
    }
  }

  _report(thrown, info) {
    const { message, stack } = describe(thrown);
    const key = `${message}\n${(stack.split("\n").find((l) => /\S/.test(l) && !l.includes(message)) || "").trim()}`;
    if (this.seen.has(key)) return false;
    const now = Date.now();
    this.times = this.times.filter((t) => now - t < 60_000);
    if (now < this.pausedUntil || this.times.length >= this.perMinute || this.sent >= this.perPage) return false;
    if (this.seen.size >= 200) this.seen.clear();
    this.seen.add(key);
    this.times.push(now);
    this.sent += 1;
    const full = info ? `${stack}${stack ? "\n" : ""}(${info})` : stack;
    this._send(message, full).catch(() => {
      /* reporting is best effort (and its failures are caught here, never uncaught) */
    });
    return true;
  }

  async _version() {
    let v = "";
    try {
      v = (typeof this.version === "function" ? this.version() : this.version) || "";
    } catch {
      v = "";
    }
    if (!v) {
      if (this.serverVersion === null) {
        this.serverVersion = "";
        try {
          const resp = await fetch("/healthz", { cache: "no-store" });
          this.serverVersion = String((await resp.json()).version || "");
        } catch {
          /* unknown */
        }
      }
      v = this.serverVersion;
    }
    return cut(`${v || "?"} (sdk ${SDK_VERSION})`, LIMITS.version);
  }

  async _send(message, stack) {
    const body = {
      app: this.app,
      message: cut(message, LIMITS.message) || "(empty)",
      stack: cut(stack, LIMITS.stack),
      url: cut(safeUrl(), LIMITS.url),
      version: await this._version(),
      user_agent: cut(globalThis.navigator?.userAgent, LIMITS.user_agent),
    };
    const headers = { "Content-Type": "application/json" };
    let token = null;
    try {
      token = this.token();
    } catch {
      token = null;
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    const resp = await fetch(this.endpoint, {
      method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin", keepalive: true,
    });
    if (resp.status === 429) {
      const wait = Number(resp.headers.get("Retry-After")) || 60;
      this.pausedUntil = Date.now() + wait * 1000;
    }
  }

  /** Listen on window and (if given) a Vue app; keeps the Vue app's own handler. */
  install(vueApp = null) {
    const w = globalThis.window;
    if (w && w.addEventListener && !this.windowHooked) {
      this.windowHooked = true;
      w.addEventListener("error", (event) => {
        // script errors only: a failed <img> fires at the element, not at window
        if (event.error !== undefined || event.message) this.report(event.error ?? event.message);
      });
      w.addEventListener("unhandledrejection", (event) => this.report(event.reason, "unhandled rejection"));
    }
    if (vueApp && vueApp.config) {
      const previous = vueApp.config.errorHandler;
      vueApp.config.errorHandler = (err, instance, info) => {
        this.report(err, info ? `vue: ${info}` : "vue");
        if (previous) previous(err, instance, info);
        else console.error(err);
      };
    }
    return this;
  }
}

/** Create and install the reporter once per page; later calls return the same one. */
export function installErrorReporter({ vueApp = null, ...options } = {}) {
  const w = globalThis.window || {};
  if (!w.__semotErrorReporter) {
    Object.defineProperty(w, "__semotErrorReporter", { value: new ErrorReporter(options).install(vueApp) });
  } else if (vueApp) {
    w.__semotErrorReporter.install(vueApp);
  }
  return w.__semotErrorReporter;
}
