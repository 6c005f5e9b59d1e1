// Semot JavaScript SDK: one dependency-free ES module for browsers and Node.js 20+.
//
// It logs in over HTTP, keeps one WebSocket session, matches replies to requests by
// rid, reconnects with exponential backoff and full jitter, and fills gaps with
// `sync` + `history` after every (re)connect and whenever a push skips a seq, so the
// application sees every message exactly once, in seq order per conversation,
// de-duplicated by (conv, seq). Messages sent while offline wait in an outbox and are
// sent once the connection is back, with the same cid (the server stores a cid once).
//
// Resumable file uploads (tus) live in ./uploads.js, next to this file (the server serves
// both, at /sdk/ and /web/sdk/); upload() loads tus-js-client on first use.
//
// Node.js 20 needs `node --experimental-websocket` for its global WebSocket (or pass a
// WebSocket class in the options). Documentation: sdk/js/README.md.

import { UploadHandle } from "./uploads.js";
import { ChangeTracker } from "./changes.js"; // edits and reactions: change cursors

export { UploadAborted, UploadFailed, UploadHandle } from "./uploads.js";

export const VERSION = "0.1.0";

/** Message kinds that carry a file (sendFile()). */
export const FILE_KINDS = new Set(["image", "voice", "video", "file"]);

/** Close codes after which reconnecting cannot help (account disabled / replaced). */
export const TERMINAL_CLOSE_CODES = new Set([1008, 4409]);

/** Most ids `GET /api/v1/users?ids=` takes per call (users() splits longer lists). */
export const MAX_PROFILE_IDS = 200;
// ...and the longest ids list per call, in characters: the server reads request lines
// of up to 8 KiB, and 200 ids of 64 characters would not fit in one.
const MAX_PROFILE_QUERY = 4000;
const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/** The platforms the server knows (the WebSocket auth frame's `device.platform`): the
 * login declares its device only with one of these (the admin console's "admin" is not). */
const DEVICE_PLATFORMS = new Set(["web", "desktop", "android", "ios", "bot", "sdk"]);
/** Most users one `presence_sub` follows (subscribePresence() takes no more). */
export const MAX_PRESENCE_SUB = 500;

/** An error reply (WebSocket or HTTP) with the server's error code. */
export class SemotAPIError extends Error {
  constructor(code, message, status = null, details = null) {
    super(`${code}: ${message}`);
    this.name = "SemotAPIError";
    this.code = code;
    this.serverMessage = message;
    this.status = status;
    this.details = details;
  }
}

// --- sends refused for good (W3: outbox) -------------------------------------------
/** Error codes that fail a send again however often it is tried: the message is wrong
 * (bad_request, too_large), the sender may not send it (forbidden, blocked), or what it
 * names is gone (not_found), or the state forbids it (conflict). A send refused with one
 * of these is never retried, by the SDK or (it should not offer to) by the user: delete
 * it or change it. `muted`, `unavailable`, `rate_limited`, `internal` and a timeout may
 * pass later. */
export const PERMANENT_SEND_ERRORS = new Set(["bad_request", "forbidden", "not_found", "blocked", "too_large", "conflict", "unauthorized"]);

/** True when retrying this send error (with the same cid) cannot succeed. */
export function isPermanentSendError(error) {
  return !!error && error instanceof SemotAPIError && PERMANENT_SEND_ERRORS.has(error.code);
}
// --- end of sends refused for good ------------------------------------------------

/** The connection ended (or was not open) before the reply arrived. */
export class ClientClosed extends Error {
  constructor(message = "connection closed") {
    super(message);
    this.name = "ClientClosed";
  }
}

/** No reply within the request timeout. */
export class RequestTimeout extends Error {
  constructor(message = "request timed out") {
    super(message);
    this.name = "RequestTimeout";
  }
}

/** A Storage-like object kept in memory (the default where there is no localStorage). */
export class MemoryStorage {
  constructor() {
    this._m = new Map();
  }
  getItem(key) {
    return this._m.has(key) ? this._m.get(key) : null;
  }
  setItem(key, value) {
    this._m.set(key, String(value));
  }
  removeItem(key) {
    this._m.delete(key);
  }
}

/** localStorage in a browser (when usable), a MemoryStorage elsewhere. */
export function defaultStorage() {
  try {
    const ls = globalThis.localStorage;
    if (ls) {
      const k = "__semot_probe__";
      ls.setItem(k, "1");
      ls.removeItem(k);
      return ls;
    }
  } catch {
    /* private mode or no DOM storage */
  }
  return new MemoryStorage();
}

/** The direct conversation id of two users (`d:<a>:<b>`, a < b in byte order). */
export function directConv(a, b) {
  return a < b ? `d:${a}:${b}` : `d:${b}:${a}`;
}

/** The conversation a `send` to `to` lands in, as seen by user `me`. */
export function convFor(to, me) {
  if (to.startsWith("d:") || to.startsWith("g:")) return to;
  return directConv(me, to);
}

/** The other party of a direct conversation, or null for a group. */
export function peerOf(conv, me) {
  if (!conv.startsWith("d:")) return null;
  const [, a, b] = conv.split(":");
  return a === me ? b : a;
}

/** A fresh client message id (UUID v4 when crypto is there). */
export function newCid() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID().replace(/-/g, "");
  let s = "";
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

/** Full-jitter backoff: a random delay in [0, min(max, base * 2**attempt)] ms. */
export function backoffDelay(attempt, base = 500, max = 30000, random = Math.random) {
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return random() * cap;
}

/** A minimal event emitter: on/off/once; listeners are called with one argument. */
export class Emitter {
  constructor() {
    this._listeners = new Map();
  }
  on(name, fn) {
    if (!this._listeners.has(name)) this._listeners.set(name, new Set());
    this._listeners.get(name).add(fn);
    return () => this.off(name, fn);
  }
  off(name, fn) {
    const set = this._listeners.get(name);
    if (set) set.delete(fn);
  }
  once(name, fn) {
    const off = this.on(name, (v) => {
      off();
      return fn(v);
    });
    return off;
  }
  listenerCount(name) {
    const set = this._listeners.get(name);
    return set ? set.size : 0;
  }
  _listenersOf(name) {
    const set = this._listeners.get(name);
    return set ? [...set] : [];
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A per-key mutex: run(key, fn) runs fn after every earlier fn of that key. */
class KeyedLock {
  constructor() {
    this._tails = new Map();
  }
  async run(key, fn) {
    const prev = this._tails.get(key) || Promise.resolve();
    let release;
    const mine = new Promise((r) => (release = r));
    const tail = prev.then(() => mine);
    this._tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this._tails.get(key) === tail) this._tails.delete(key);
    }
  }
}

/**
 * The client.
 *
 * Events (client.on(name, fn)):
 *   "message"  every message, once, in seq order per conversation (own sends included)
 *   "event"    every `evt` push ({t:"evt", evt:"read"|"typing"|"recall"|"burned"|...})
 *   "state"    {state, previous, code?}: idle | connecting | open | reconnecting | offline | closed
 *   "synced"   {convs}: after each catch-up, the `sync` states it acted on
 *   "outbox"   {items}: the outbox changed (queued, in flight, sent, dropped)
 *   "sent"     {cid, ack, item}: an outbox item was acknowledged
 *   "send_failed" {cid, error, item, permanent}: the server refused an outbox item (it left
 *              the outbox); `permanent`: retrying cannot help (isPermanentSendError)
 *   "tokens"   {access_token, refresh_token, user_id, expires_in, obtained_at}: new tokens
 *   "session_expired" {error}: the refresh token was refused: log in again
 *   "error"    {error, where}: a handler threw, or a background step failed
 * Handlers run one at a time, in order, from a dispatcher of their own (never inside
 * the WebSocket's message callback); a handler may return a promise, which is awaited.
 */
export class SemotClient extends Emitter {
  constructor(baseUrl, options = {}) {
    super();
    const o = options;
    this.baseUrl = String(baseUrl || "").replace(/\/+$/, "");
    this.wsUrl = o.wsUrl || (this.baseUrl.replace(/^http:/, "ws:").replace(/^https:/, "wss:") + "/ws");
    this.platform = o.platform || "sdk";
    this.deviceId = o.deviceId || `${this.platform}-${newCid().slice(0, 12)}`;
    this.requestTimeout = o.requestTimeout ?? 15000;
    this.reconnect = o.reconnect ?? true;
    this.backoffBase = o.backoffBase ?? 500;
    this.backoffMax = o.backoffMax ?? 30000;
    this.pingInterval = o.pingInterval ?? 20000;
    this.pingTimeout = o.pingTimeout ?? 10000;
    this.historyPage = o.historyPage ?? 200;
    this.storage = o.storage === undefined ? defaultStorage() : o.storage || new MemoryStorage();
    this.storagePrefix = o.storagePrefix ?? "semot.";
    this.persistSession = o.persistSession ?? false;
    // Browsers: the refresh token lives in an HttpOnly cookie the server sets (no script,
    // ours included, can read it); only the access token is held, in memory.
    this.refreshCookie = o.refreshCookie ?? false;
    this._WebSocket = o.WebSocket || globalThis.WebSocket;
    this._fetch = o.fetch || ((...a) => globalThis.fetch(...a));
    this._random = o.random || Math.random;
    this.logger = o.logger || null;
    this.tus = o.tus || null; // tus-js-client to use for uploads instead of the vendored bundle

    this.userId = null;
    this.accessToken = null;
    this.refreshToken = null;
    this.expiresAt = 0;
    this.sessionId = null;
    this.serverConfig = {};
    this.heartbeatS = null;
    this.lastSeq = {};
    this._changes = new ChangeTracker(this); // edits and reactions (changes.js)
    this.peerReads = {}; // direct conv -> how far the other party has read (sync + evt read)
    this.state = "idle";
    this.closeCode = null;
    this.reconnects = 0;
    this.resyncs = 0; // `evt resync` catch-ups run

    this._ws = null;
    this._rid = 0;
    this._pending = new Map(); // rid -> {resolve, reject, timer}
    this._locks = new KeyedLock();
    this._dispatchQueue = [];
    this._dispatching = false;
    this._closing = false;
    this._attempt = 0;
    this._wakeReconnect = null;
    this._reconnectTimer = null;
    this._gen = 0;
    this._pingTimer = null;
    this._refreshTimer = null;
    this._refreshing = null;
    this._outbox = []; // {cid, to, kind, body, opts, conv, created, inflight}
    this._outboxWaiters = new Map(); // cid -> {resolve, reject}[]
    this._openWaiters = [];
    this._netListeners = null;

    if (o.session) this.setSession(o.session);
    else if (this.persistSession) {
      const s = this._loadJSON("session");
      if (s && s.user_id && (s.access_token || (this.refreshCookie && s.cookie))) this.setSession(s);
      // cookie mode never leaves a refresh token in the storage (an older version may have
      // saved one: it stays in memory until the next refresh moves the login to the cookie)
      if (this.refreshCookie && s && s.refresh_token) this._saveJSON("session", this._persisted());
    }
  }

  // ---------------------------------------------------------------- storage
  _key(name, perUser = true, perDevice = false) {
    let k = this.storagePrefix + name;
    if (perUser) k += ":" + (this.userId || "_");
    if (perDevice) k += ":" + this.deviceId;
    return k;
  }
  _loadJSON(name, perUser = false, perDevice = false) {
    try {
      const raw = this.storage.getItem(this._key(name, perUser, perDevice));
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  }
  _saveJSON(name, value, perUser = false, perDevice = false) {
    try {
      const k = this._key(name, perUser, perDevice);
      if (value === null) this.storage.removeItem(k);
      else this.storage.setItem(k, JSON.stringify(value));
    } catch (error) {
      this._report(error, "storage");
    }
  }
  _loadUserState() {
    const ls = this._loadJSON("lastseq", true) || {};
    const clean = {};
    for (const [k, v] of Object.entries(ls)) if (Number.isInteger(v) && v >= 0) clean[k] = v;
    this.lastSeq = clean;
    this._changes.load();
    const ob = this._loadJSON("outbox", true, true);
    this._outbox = Array.isArray(ob) ? ob.map((it) => ({ ...it, inflight: false })) : [];
    this.peerReads = {};
  }
  /** Write {conv: last_seq} to the storage (done after each catch-up and on close). */
  saveState() {
    if (!this.userId) return;
    this._saveJSON("lastseq", this.lastSeq, true);
    this._changes.save();
  }
  _saveOutbox() {
    if (!this.userId) return;
    const items = this._outbox.map(({ inflight, ...rest }) => rest);
    this._saveJSON("outbox", items.length ? items : null, true, true);
  }
  _report(error, where) {
    if (this.listenerCount("error")) this._emit("error", { error, where });
    else if (this.logger) this.logger.warn(`semot: ${where}:`, error);
  }

  // ---------------------------------------------------------------- HTTP
  /** Call the HTTP API; throws SemotAPIError with the server's code. */
  async http(method, path, body = undefined, { auth = true, retry = true, token = undefined } = {}) {
    // refreshCookie after a page reload: get an access token first, not a 401 first
    if (auth && !token && !this.accessToken && this.refreshCookie && this.userId) await this.refresh();
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const bearer = token || this.accessToken;
    if (auth && bearer) headers.Authorization = `Bearer ${bearer}`;
    let resp;
    try {
      resp = await this._fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new SemotAPIError("unavailable", `network error: ${error && error.message}`, 0);
    }
    let data = null;
    const text = await resp.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (resp.status >= 400) {
      const err = (data && data.error) || {};
      if (resp.status === 401 && auth && retry && !token && this._canRefresh()) {
        await this.refresh();
        return this.http(method, path, body, { auth, retry: false });
      }
      throw new SemotAPIError(err.code || (resp.status >= 500 ? "internal" : "bad_request"),
        err.message || resp.statusText || String(resp.status), resp.status, err.details || null);
    }
    return data;
  }

  /** Create an account; returns the user_id. */
  async register(username, password, displayName = undefined) {
    const body = { username, password };
    if (displayName) body.display_name = displayName;
    return (await this.http("POST", "/api/v1/auth/register", body, { auth: false })).user_id;
  }

  /** Log in; keeps the tokens; returns the server's token reply (without the refresh
   * token with refreshCookie: the server sets it as an HttpOnly cookie instead). The
   * device id and platform go with it, as in the WebSocket auth frame, so the
   * administrators' login log names this device rather than guessing from the browser. */
  async login(username, password) {
    const body = { username, password };
    if (this.refreshCookie) body.cookie = true;
    if (DEVICE_PLATFORMS.has(this.platform) && ID_RE.test(this.deviceId)) body.device = { id: this.deviceId, platform: this.platform };
    const data = await this.http("POST", "/api/v1/auth/login", body, { auth: false });
    this._takeTokens(data);
    return data;
  }

  /** Log in with a single-use SSO ticket (an integrator's server got it from the server
   * API); keeps the tokens like `login`. */
  async loginWithTicket(ticket) {
    const body = { ticket };
    if (this.refreshCookie) body.cookie = true;
    if (DEVICE_PLATFORMS.has(this.platform) && ID_RE.test(this.deviceId)) body.device = { id: this.deviceId, platform: this.platform };
    const data = await this.http("POST", "/api/v1/auth/sso", body, { auth: false });
    this._takeTokens(data);
    return data;
  }

  /**
   * Trade the refresh token for a new pair (refresh tokens are single use). Concurrent
   * calls share one request; with persistSession, a pair rotated by another tab sharing
   * the storage is adopted instead of replaying the old token (which the server treats
   * as theft). In browsers the Web Locks API serialises refreshes across tabs. With
   * refreshCookie the browser sends the cookie, shared by the tabs, and the reply sets
   * the next one.
   */
  refresh() {
    if (this._refreshing) return this._refreshing;
    const run = async () => {
      if (this.persistSession && !this.refreshCookie) {
        const s = this._loadJSON("session");
        if (s && s.user_id === this.userId && s.refresh_token && s.refresh_token !== this.refreshToken) {
          const fresh = (s.obtained_at || 0) + (s.expires_in || 0) * 1000 - 60000 > Date.now();
          if (fresh) {
            this.setSession(s);
            return s;
          }
          this.refreshToken = s.refresh_token;
        }
      }
      if (!this._canRefresh()) throw new SemotAPIError("unauthorized", "no refresh token", 401);
      let data;
      try {
        data = await this.http("POST", "/api/v1/auth/refresh", this._refreshBody(), { auth: false });
      } catch (error) {
        if (error instanceof SemotAPIError && error.status === 401) this._sessionExpired(error);
        throw error;
      }
      this._takeTokens(data);
      return data;
    };
    const locks = globalThis.navigator && globalThis.navigator.locks;
    const p = locks && (this.persistSession || this.refreshCookie) ? locks.request(this.storagePrefix + "refresh", run) : run();
    this._refreshing = p.finally(() => {
      this._refreshing = null;
    });
    return this._refreshing;
  }

  /** Restore tokens saved earlier ({access_token, refresh_token, user_id, expires_in?, obtained_at?}). */
  setSession(s) {
    const changedUser = s.user_id !== this.userId;
    this._session = {
      access_token: s.access_token || null,
      refresh_token: s.refresh_token || null,
      user_id: s.user_id,
      expires_in: s.expires_in || 0,
      obtained_at: s.obtained_at || Date.now(),
    };
    this.accessToken = s.access_token || null;
    this.refreshToken = s.refresh_token || null;
    this.userId = s.user_id;
    this.expiresAt = s.expires_in ? this._session.obtained_at + s.expires_in * 1000 : 0;
    if (changedUser) this._loadUserState();
    this._scheduleRefresh();
  }

  /** The tokens as a plain object (what setSession takes and persistSession stores), or null. */
  get session() {
    return this.accessToken ? { ...this._session } : null;
  }

  /** What persistSession stores: the tokens, or with refreshCookie only who is signed
   * in (the access token stays in memory; a reload refreshes through the cookie). */
  _persisted() {
    if (!this.refreshCookie) return this.session;
    return this.userId ? { user_id: this.userId, cookie: true } : null;
  }

  /** Whether a refresh can be tried: a refresh token in hand, or the cookie's. */
  _canRefresh() {
    return this.refreshCookie ? !!(this.userId || this.refreshToken) : !!this.refreshToken;
  }

  /** A refresh token still in memory (cookie mode: one saved by an older version) moves
   * to the cookie with this refresh; otherwise the cookie is sent by the browser. */
  _refreshBody(token = this.refreshToken) {
    if (!this.refreshCookie) return { refresh_token: token };
    return token ? { refresh_token: token, cookie: true } : {};
  }

  _takeTokens(data) {
    this.setSession({ ...data, obtained_at: Date.now() });
    if (this.persistSession) this._saveJSON("session", this._persisted());
    this._emit("tokens", this.session);
  }

  _scheduleRefresh() {
    if (this._refreshTimer) clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    if (!this.expiresAt || !this._canRefresh() || this._closing) return;
    // Refresh at 80 % of the lifetime, so HTTP calls rarely meet an expired token.
    const now = Date.now();
    const start = this._session.obtained_at;
    const due = start + (this.expiresAt - start) * 0.8;
    const delay = Math.max(5000, due - now);
    if (delay > 2 ** 31 - 1) return;
    this._refreshTimer = setTimeout(() => {
      this._refreshTimer = null;
      this.refresh().catch((e) => this._report(e, "refresh"));
    }, delay);
    if (this._refreshTimer.unref) this._refreshTimer.unref();
  }

  _sessionExpired(error) {
    if (this.persistSession) this._saveJSON("session", null);
    this._emit("session_expired", { error });
  }

  /**
   * Log out: close the connection, end this login on the server (its refresh token
   * chain is revoked, so a copy of the token left in storage or stolen is useless), and
   * forget the tokens (and the persisted session). Messages still in the outbox are
   * dropped (their send() promises reject with ClientClosed).
   *
   * The server call is best effort: if the server cannot be reached, or does not answer
   * within `timeout` ms, the client is logged out locally all the same. Resolves with
   * whether the server confirmed the revocation.
   */
  async logout({ timeout = 5000 } = {}) {
    const dropped = this._outbox.map((it) => it.cid);
    this._outbox = [];
    await this.close(); // also saves last_seq and the (now empty) outbox
    if (this._refreshTimer) clearTimeout(this._refreshTimer);
    let revoked = false;
    let tokens = { access: this.accessToken, refresh: this.refreshToken };
    if (this.persistSession && !this.refreshCookie) {
      // another tab sharing the storage may have rotated the pair: revoke the live one
      const s = this._loadJSON("session");
      if (s && s.user_id === this.userId && s.refresh_token && s.access_token) tokens = { access: s.access_token, refresh: s.refresh_token };
    }
    if (tokens.refresh || (this.refreshCookie && this.userId)) {
      let timer;
      const giveUp = new Promise((r) => (timer = setTimeout(() => r(false), timeout)));
      revoked = await Promise.race([this._revoke(tokens).catch(() => false), giveUp]);
      clearTimeout(timer);
    }
    if (this.persistSession) this._saveJSON("session", null);
    if (this._refreshTimer) clearTimeout(this._refreshTimer);
    this.accessToken = this.refreshToken = null;
    this._session = null;
    this.userId = null;
    this.lastSeq = {};
    this._changes.cursors = {};
    this.peerReads = {};
    // last, so that whoever awaits logout() can still handle these rejections
    for (const cid of dropped) this._settle(cid, null, new ClientClosed("logged out"));
    return revoked;
  }

  /**
   * `POST /api/v1/auth/logout` for this pair of tokens; true once revoked. Works on the
   * given tokens only, never on the client's, which logout() forgets meanwhile.
   */
  async _revoke({ access, refresh }) {
    // with refreshCookie and no token in hand, the server ends the cookie's login (and clears it)
    const body = (token) => (token ? { refresh_token: token } : {});
    const logout = (bearer, token) => this.http("POST", "/api/v1/auth/logout", body(token), { token: bearer, retry: false });
    if (access) {
      try {
        await logout(access, refresh);
        return true;
      } catch (error) {
        if (!(error instanceof SemotAPIError && error.status === 401)) throw error;
      }
    }
    // The access token has expired: trade the refresh token for a fresh pair (quietly,
    // not through refresh(): no "tokens" or "session_expired" events while leaving) and
    // revoke that pair's chain, which is the same login.
    const data = await this.http("POST", "/api/v1/auth/refresh", this._refreshBody(refresh), { auth: false });
    await logout(data.access_token, data.refresh_token);
    return true;
  }

  /** The current user ({user_id, username, display_name, ...}). */
  me() {
    return this.http("GET", "/api/v1/me");
  }

  /**
   * Public profiles ({user_id, username, display_name}) of any number of users, for
   * showing names of people who are not friends. Ids are de-duplicated and asked for in
   * as few `GET /api/v1/users?ids=` calls as the server's limits allow (at most
   * MAX_PROFILE_IDS ids, and a request line it accepts, per call). Unknown and invalid
   * ids are left out of the result.
   */
  async users(ids) {
    const wanted = [...new Set(ids || [])].filter((id) => typeof id === "string" && ID_RE.test(id));
    const batches = [];
    let batch = [];
    let chars = 0;
    for (const id of wanted) {
      if (batch.length && (batch.length >= MAX_PROFILE_IDS || chars + id.length + 1 > MAX_PROFILE_QUERY)) {
        batches.push(batch);
        batch = [];
        chars = 0;
      }
      batch.push(id);
      chars += id.length + 1;
    }
    if (batch.length) batches.push(batch);
    const out = [];
    for (const b of batches) {
      const r = await this.http("GET", `/api/v1/users?ids=${b.join(",")}`); // ids need no escaping
      out.push(...((r && r.users) || []));
    }
    return out;
  }

  // ---------------------------------------------------------------- files
  /**
   * Upload a File or Blob (resumable, tus; see uploads.js): returns a handle with
   * `promise` (resolves with the file info), `pause()`, `resume()`, `abort()`, `sent`,
   * `total`, `state`. opts: {name?, onProgress?(sent, total), onState?(handle),
   * chunkSize?, checksum? (default true)}.
   */
  upload(file, opts = {}) {
    return new UploadHandle(this, file, opts);
  }

  /** upload(file, opts) and wait: resolves with the file info. */
  uploadFile(file, opts = {}) {
    return this.upload(file, opts).promise;
  }

  /** `GET /api/v1/files/<id>/info`: {file_id, name, size, mime, sha256, w?, h?, duration_ms?}. */
  fileInfo(fileId) {
    return this.http("GET", `/api/v1/files/${encodeURIComponent(fileId)}/info`);
  }

  /** The file's bytes URL (needs the Bearer header; message bodies carry signed URLs for <img>). */
  fileUrl(fileId) {
    return `${this.baseUrl}/api/v1/files/${encodeURIComponent(fileId)}/content`;
  }

  /** Download a file with the access token; resolves with a Blob. */
  async downloadFile(fileId) {
    if (!this.accessToken && this.refreshCookie && this.userId) await this.refresh();
    const get = () => this._fetch(this.fileUrl(fileId), { headers: { Authorization: `Bearer ${this.accessToken}` } });
    let resp = await get();
    if (resp.status === 401 && this._canRefresh()) {
      await this.refresh();
      resp = await get();
    }
    if (!resp.ok) throw new SemotAPIError(resp.status === 404 ? "not_found" : resp.status === 403 ? "forbidden" : "bad_request", `download failed (${resp.status})`, resp.status);
    return resp.blob();
  }

  /**
   * Send an uploaded file as a message of `kind` (image | voice | video | file) through
   * send() (outbox, cid): the server fills size, name, mime, w and h from the file.
   * `extra`: {duration_ms} for voice and video. `sendOpts`: send()'s {cid, opts}.
   */
  sendFile(to, kind, fileId, extra = {}, sendOpts = {}) {
    if (!FILE_KINDS.has(kind)) return Promise.reject(new SemotAPIError("bad_request", `not a file kind: ${kind}`));
    const body = { file_id: fileId };
    if (Number.isFinite(extra && extra.duration_ms)) body.duration_ms = Math.round(extra.duration_ms);
    return this.send(to, kind, body, sendOpts);
  }

  /** Create a group; returns {group_id, conv}. */
  createGroup(name, members) {
    return this.http("POST", "/api/v1/groups", { name, members });
  }

  /**
   * Find groups to join: an exact group id finds any group that takes joiners, part of
   * a name finds groups set searchable. Returns [{group_id, name, type, member_count,
   * join: "open"|"approval", my_role}].
   */
  async searchGroups(q, limit = 20) {
    const qs = new URLSearchParams({ q, limit: String(limit) });
    return (await this.http("GET", `/api/v1/groups/search?${qs}`)).groups;
  }

  /** Join (open groups) or ask to join (approval); returns {joined, request_id}. */
  joinGroup(groupId, message = "") {
    return this.http("POST", `/api/v1/groups/${encodeURIComponent(groupId)}/join`, { message });
  }

  // ---- groups: info, join requests, announcement (issue 11; docs/protocol.md, Groups)
  /** A group as you may see it: members get every field (`announcement`, `my_role`,
   * `pending_requests` for owner and admins...), others what they need to ask to join. */
  getGroup(groupId) {
    return this.http("GET", `/api/v1/groups/${encodeURIComponent(groupId)}`);
  }

  /** Owner and admins: the join requests and invitations waiting for review. */
  async groupRequests(groupId) {
    return (await this.http("GET", `/api/v1/groups/${encodeURIComponent(groupId)}/requests`)).requests;
  }

  /** Owner and admins: accept (the user joins) or decline a request; settled once (409 after). */
  decideGroupRequest(groupId, requestId, accept) {
    const path = `/api/v1/groups/${encodeURIComponent(groupId)}/requests/${encodeURIComponent(requestId)}`;
    return this.http("POST", path, { action: accept ? "accept" : "decline" });
  }

  /** Owner and admins: set the announcement ("" clears it); members get it in the notice. */
  setGroupAnnouncement(groupId, text) {
    return this.http("PATCH", `/api/v1/groups/${encodeURIComponent(groupId)}`, { announcement: text });
  }

  /** Owner and admins over lower roles: mute until `until` (ms), or unmute (null). */
  muteGroupMember(groupId, userId, until) {
    return this.http("PUT", `/api/v1/groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(userId)}/mute`, { until });
  }
  // ---- end of groups (issue 11)

  // ---------------------------------------------------------------- people (read receipts, search)
  /**
   * Every member's read position in a conversation: {user_id: read_seq}. For the sender's
   * "N unread" under group messages; members only, and only for groups within the
   * server's read_receipts_max_group (403 `forbidden` beyond). `evt read` keeps it current.
   */
  async conversationReads(conv) {
    return (await this.conversationReadMarks(conv)).reads;
  }

  /**
   * The same with when each member joined: {reads: {user_id: read_seq}, joined:
   * {user_id: joined_at ms}}. A member who joined after a message was sent is neither
   * a reader nor a non-reader of it (servers before the extension send no `joined`: {}).
   */
  async conversationReadMarks(conv) {
    const out = await this.http("GET", `/api/v1/conversations/${encodeURIComponent(conv)}/reads`);
    return { reads: out.reads || {}, joined: out.joined || {} };
  }

  /**
   * Find people in the org directory by display name, username, full pinyin or pinyin
   * initials (best first): [{user_id, username, display_name, departments:[{name,title}], avatar_url}].
   */
  async searchPeople(q, limit = 20) {
    const qs = new URLSearchParams({ q, limit: String(limit) });
    return (await this.http("GET", `/api/v1/directory/search?${qs}`)).results || [];
  }

  /**
   * Find places for a location message (docs/protocol.md, "Place search"): the
   * organisation's places first (an empty `q` lists them), then cities by Chinese name,
   * English name or pinyin, then the server's geocoder if it has one:
   * [{kind: "place"|"city"|"geocoder", title, address, lat, lng, country?, population?, distance_m?}].
   * `near`: {lat, lng} or "lat,lng" (nearer first, with distances); `lang`: "zh" or "en".
   */
  async searchPlaces(q, { near, lang, limit } = {}) {
    const qs = new URLSearchParams({ q: q || "" });
    if (near) qs.set("near", typeof near === "string" ? near : `${near.lat},${near.lng}`);
    if (lang) qs.set("lang", lang);
    if (limit) qs.set("limit", String(limit));
    return (await this.http("GET", `/api/v1/geo/search?${qs}`)).results || [];
  }

  /**
   * Search one's own messages (docs/search.md): across every conversation one is in, or
   * in `conv`; `sender`, `kind`, `since`/`until` (ms) narrow it (`q` may be empty when
   * another filter is given); `cursor` is the previous reply's `next`. Resolves with
   * {hits: [<msg>...] newest first, next: cursor or null}. Over the WebSocket (`search`
   * request) when connected, else GET /api/v1/messages/search.
   */
  async search(q, { conv, sender, kind, since, until, limit, cursor } = {}) {
    const f = { q: q || "" };
    for (const [k, v] of Object.entries({ conv, sender, kind, since, until, limit, cursor })) {
      if (v !== undefined && v !== null && v !== "") f[k] = v;
    }
    const r = this.connected
      ? await this.request("search", f)
      : await this.http("GET", `/api/v1/messages/search?${new URLSearchParams(Object.entries(f).map(([k, v]) => [k, String(v)]))}`);
    return { hits: r.hits || [], next: r.next ?? null };
  }

  // ---------------------------------------------------------------- connection
  _setState(state, extra = {}) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this._emit("state", { state, previous, ...extra });
  }

  get connected() {
    return this.state === "open" && this._ws !== null;
  }

  /**
   * Open the WebSocket, authenticate and catch up. Resolves once the session is up and
   * the first catch-up is done; afterwards the client reconnects by itself. Rejects with
   * SemotAPIError if the server refuses the session (after one refresh attempt), or
   * ClientClosed if the server cannot be reached (see start() for an app that should
   * keep trying instead).
   */
  async connect() {
    // refreshCookie after a page reload: the access token is gone, the cookie is not
    if (!this.accessToken && this.refreshCookie && this.userId) await this.refresh();
    if (!this.accessToken) throw new SemotAPIError("unauthorized", "log in first");
    if (!this._WebSocket) throw new Error("no WebSocket implementation (Node 20: node --experimental-websocket)");
    if (this._ws) return;
    this._closing = false;
    this._scheduleRefresh();
    const gen = ++this._gen;
    this._watchNetwork();
    this._setState(this.reconnects || this.state === "reconnecting" ? "reconnecting" : "connecting");
    try {
      await this._openWithRefresh(gen);
    } catch (error) {
      if (gen === this._gen) this._setState("closed");
      throw error;
    }
    this._afterOpen();
    this._keepAlive(gen);
    await this.catchUp();
  }

  /**
   * Like connect(), but if the server cannot be reached now the client keeps trying in
   * the background (state "reconnecting" or "offline") instead of failing. Still rejects
   * when the server refuses the session.
   */
  async start() {
    try {
      await this.connect();
    } catch (error) {
      if (error instanceof SemotAPIError && (error.code === "unauthorized" || error.code === "forbidden")) throw error;
      if (this._closing) throw error;
      const gen = ++this._gen;
      this._setState(this._isOffline() ? "offline" : "reconnecting");
      this._keepAlive(gen);
    }
  }

  async _openWithRefresh(gen) {
    try {
      await this._open(gen);
    } catch (error) {
      if (error instanceof SemotAPIError && error.code === "unauthorized") {
        if (!this._canRefresh()) {
          this._sessionExpired(error);
          throw new SemotAPIError("unauthorized", error.serverMessage, 401);
        }
        await this.refresh(); // a refused refresh token throws (status 401)
        await this._open(gen);
        return;
      }
      throw error;
    }
  }

  /** Open a socket and authenticate; resolves with the auth reply data. */
  _open(gen) {
    return new Promise((resolve, reject) => {
      if (gen !== this._gen || this._closing) {
        reject(new ClientClosed("client closed"));
        return;
      }
      let ws;
      try {
        ws = new this._WebSocket(this.wsUrl);
      } catch (error) {
        reject(new ClientClosed(`cannot open WebSocket: ${error.message}`));
        return;
      }
      const rid = ++this._rid;
      let settled = false;
      const timer = setTimeout(() => fail(new RequestTimeout("no auth reply")), this.requestTimeout);
      const fail = (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        detach();
        try {
          ws.close();
        } catch {
          /* already closed */
        }
        reject(error);
      };
      const onOpen = () => {
        ws.send(JSON.stringify({ t: "auth", rid, token: this.accessToken, device: { id: this.deviceId, platform: this.platform } }));
      };
      const onMessage = (ev) => {
        let frame;
        try {
          frame = JSON.parse(typeof ev.data === "string" ? ev.data : new TextDecoder().decode(ev.data));
        } catch {
          return;
        }
        if (frame.t !== "res" || frame.rid !== rid) return;
        if (!frame.ok) {
          const e = frame.error || {};
          fail(new SemotAPIError(e.code || "unauthorized", e.message || "auth refused", null, e.details || null));
          return;
        }
        settled = true;
        clearTimeout(timer);
        detach();
        if (gen !== this._gen || this._closing) {
          try {
            ws.close(1000, "client closed");
          } catch {
            /* gone */
          }
          reject(new ClientClosed("client closed"));
          return;
        }
        const data = frame.data || {};
        this.sessionId = data.session_id;
        this.serverConfig = data.config || {};
        this.heartbeatS = data.heartbeat_s || null;
        this._attach(ws);
        resolve(data);
      };
      const onClose = (ev) => {
        this.closeCode = ev && ev.code;
        fail(ev && ev.code === 4401
          ? new SemotAPIError("unauthorized", "connection refused (4401)")
          : new ClientClosed(`connection closed during auth (${ev && ev.code})`));
      };
      const onError = () => {
        // Browsers follow with a close event; Node 20's WebSocket may not, when the
        // connection could not be made at all.
        fail(new ClientClosed("cannot connect"));
      };
      const detach = () => {
        ws.removeEventListener("open", onOpen);
        ws.removeEventListener("message", onMessage);
        ws.removeEventListener("close", onClose);
        ws.removeEventListener("error", onError);
      };
      ws.addEventListener("open", onOpen);
      ws.addEventListener("message", onMessage);
      ws.addEventListener("close", onClose);
      ws.addEventListener("error", onError);
    });
  }

  /** Take over an authenticated socket: route its frames, watch its end. */
  _attach(ws) {
    this._ws = ws;
    const onMessage = (ev) => this._onFrame(ev.data);
    const onClose = (ev) => {
      if (ws._semotDetach) ws._semotDetach();
      this._lost(ws, ev ? ev.code : 1006);
    };
    // An error is normally followed by a close event; if none comes, treat it as one.
    const onError = () => setTimeout(() => {
      if (this._ws === ws && ws.readyState >= 2) onClose({ code: 1006 });
    }, 1000);
    ws.addEventListener("message", onMessage);
    ws.addEventListener("close", onClose);
    ws.addEventListener("error", onError);
    ws._semotDetach = () => {
      ws.removeEventListener("message", onMessage);
      ws.removeEventListener("close", onClose);
      ws.removeEventListener("error", onError);
    };
  }

  _afterOpen() {
    this._attempt = 0;
    this._setState("open");
    for (const w of this._openWaiters.splice(0)) w.resolve();
    this._startPing();
    this._pump();
  }

  /** The socket ended (closed by the server, the network, or by us). */
  _lost(ws, code) {
    if (this._ws !== ws) return;
    this._ws = null;
    this.closeCode = code;
    this._stopPing();
    this._failPending(new ClientClosed(`connection lost (${code})`));
    for (const it of this._outbox) it.inflight = false;
    if (this._closing) return;
    if (!this.reconnect || TERMINAL_CLOSE_CODES.has(code)) {
      this._setState("closed", { code });
      for (const w of this._openWaiters.splice(0)) w.reject(new ClientClosed(`connection closed (${code})`));
    } else {
      this._setState(this._isOffline() ? "offline" : "reconnecting", { code });
    }
    this._kick();
  }

  /** Forget a socket now (it may be dead without knowing it) and reconnect. */
  _abandon(reason) {
    const ws = this._ws;
    if (!ws) return;
    if (ws._semotDetach) ws._semotDetach();
    try {
      ws.close(4000, reason);
    } catch {
      /* nothing to close */
    }
    this._lost(ws, 1006);
  }

  /**
   * The reconnect loop of one connect()/start() generation: sleeps while the socket is
   * up; when it is lost, waits a full-jitter backoff and reconnects, then catches up.
   */
  async _keepAlive(gen) {
    const alive = () => gen === this._gen && !this._closing;
    while (alive()) {
      if (this._ws) {
        await new Promise((r) => (this._wakeReconnect = r));
        continue;
      }
      if (!this.reconnect || this.state === "closed") return;
      this._attempt += 1;
      const delay = backoffDelay(this._attempt, this.backoffBase, this.backoffMax, this._random);
      await new Promise((r) => {
        this._wakeReconnect = r;
        this._reconnectTimer = setTimeout(r, delay);
      });
      clearTimeout(this._reconnectTimer);
      if (!alive() || this._ws) continue;
      if (this._isOffline()) {
        this._setState("offline");
        continue;
      }
      this._setState("reconnecting");
      try {
        await this._openWithRefresh(gen);
      } catch (error) {
        if (!alive()) return;
        if (error instanceof SemotAPIError && error.code === "unauthorized" && error.status === 401) {
          this._setState("closed", { code: 4401 }); // session_expired was emitted
          return;
        }
        if (error instanceof SemotAPIError && error.code === "forbidden") {
          this._setState("closed", { code: 1008 });
          return;
        }
        if (this._isOffline()) this._setState("offline");
        continue;
      }
      this.reconnects += 1;
      this._afterOpen();
      this.catchUp().catch((e) => this._report(e, "catch-up"));
    }
  }

  _kick() {
    const wake = this._wakeReconnect;
    this._wakeReconnect = null;
    if (wake) wake();
  }

  /** Reconnect now instead of waiting for the backoff (e.g. the network came back, or
   * the user chose to take over after close code 4409). */
  reconnectNow() {
    this._attempt = 0;
    if (this._ws || this._closing || !this.accessToken) return;
    if (this.state === "closed") {
      this.closeCode = null;
      this._setState("reconnecting");
      this._keepAlive(++this._gen);
      return;
    }
    this._kick();
  }

  _isOffline() {
    const nav = globalThis.navigator;
    return !!(nav && nav.onLine === false);
  }

  _watchNetwork() {
    const g = globalThis;
    if (this._netListeners || typeof g.addEventListener !== "function" || !g.navigator || !("onLine" in g.navigator)) return;
    const onOffline = () => {
      if (this._closing) return;
      if (this._ws) this._abandon("offline");
      this._setState("offline");
    };
    const onOnline = () => {
      if (this._closing) return;
      this.reconnectNow();
    };
    g.addEventListener("offline", onOffline);
    g.addEventListener("online", onOnline);
    this._netListeners = { onOffline, onOnline };
  }

  _unwatchNetwork() {
    if (!this._netListeners) return;
    globalThis.removeEventListener("offline", this._netListeners.onOffline);
    globalThis.removeEventListener("online", this._netListeners.onOnline);
    this._netListeners = null;
  }

  /** Wait until the session is (re)authenticated. */
  waitOpen(timeout = undefined) {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      this._openWaiters.push(w);
      if (timeout !== undefined) {
        setTimeout(() => {
          const i = this._openWaiters.indexOf(w);
          if (i >= 0) {
            this._openWaiters.splice(i, 1);
            reject(new RequestTimeout("not connected in time"));
          }
        }, timeout);
      }
    });
  }

  /** End everything: no reconnect; pending requests fail with ClientClosed. */
  async close() {
    this._closing = true;
    this._unwatchNetwork();
    this._stopPing();
    if (this._refreshTimer) clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    clearTimeout(this._reconnectTimer);
    this._gen += 1;
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      if (ws._semotDetach) ws._semotDetach();
      try {
        ws.close(1000, "bye");
      } catch {
        /* already closed */
      }
    }
    this._failPending(new ClientClosed("client closed"));
    for (const it of this._outbox) it.inflight = false;
    this._kick();
    for (const w of this._openWaiters.splice(0)) w.reject(new ClientClosed("client closed"));
    this.saveState();
    this._saveOutbox();
    this._setState("closed");
  }

  /** Close the socket as a network failure would; the client reconnects (tests, demos). */
  dropConnection() {
    if (this._ws) this._ws.close(4000, "client dropped");
  }

  // ---------------------------------------------------------------- liveness
  _startPing() {
    this._stopPing();
    if (!this.pingInterval) return;
    const tick = async () => {
      const ws = this._ws;
      if (!ws) return;
      try {
        await this.request("ping", {}, { timeout: this.pingTimeout });
      } catch (error) {
        if (error instanceof RequestTimeout && this._ws === ws) this._abandon("ping timeout");
      }
      if (this._ws === ws) this._pingTimer = setTimeout(tick, this.pingInterval);
    };
    this._pingTimer = setTimeout(tick, this.pingInterval);
  }

  _stopPing() {
    if (this._pingTimer) clearTimeout(this._pingTimer);
    this._pingTimer = null;
  }

  // ---------------------------------------------------------------- frames
  _onFrame(raw) {
    let frame;
    try {
      frame = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.t === "res") {
      const p = this._pending.get(frame.rid);
      if (p) {
        this._pending.delete(frame.rid);
        clearTimeout(p.timer);
        p.resolve(frame);
      }
    } else if (frame.t === "msg") {
      this._ingest(frame).catch((e) => this._report(e, "ingest"));
    } else if (frame.t === "evt") {
      if (frame.evt === "read" && frame.conv && frame.user !== this.userId && Number.isInteger(frame.seq)) {
        this._peerRead(frame.conv, frame.seq, false);
      }
      if (frame.evt === "resync") this._resync(frame.spread_ms); // the node may have missed pushes
      if (frame.evt === "edit" || frame.evt === "reaction") this._changes.onEvent(frame); // in change_seq order
      else this._emit("event", frame);
    }
  }

  /** `evt resync`: catch up after a random wait of up to `spread_ms` (docs/protocol.md). */
  _resync(spreadMs) {
    const wait = Math.random() * Math.min(Number(spreadMs) || 0, 60000);
    setTimeout(() => {
      this.resyncs += 1;
      if (this.connected) this.catchUp().catch((e) => this._report(e, "catch-up"));
    }, wait);
  }

  _failPending(error) {
    for (const p of this._pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this._pending.clear();
  }

  /**
   * Send one request and wait for its reply's data; throws SemotAPIError on `ok:false`,
   * ClientClosed if the connection is not open or is lost first, RequestTimeout after
   * `timeout` ms (default: the client's requestTimeout).
   */
  request(t, fields = {}, { timeout } = {}) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return Promise.reject(new ClientClosed("not connected"));
    const rid = ++this._rid;
    return new Promise((resolve, reject) => {
      const ms = timeout ?? this.requestTimeout;
      const timer = setTimeout(() => {
        this._pending.delete(rid);
        reject(new RequestTimeout(`no reply to ${t} within ${ms} ms`));
      }, ms);
      this._pending.set(rid, {
        timer,
        resolve: (frame) => {
          if (frame.ok) resolve(frame.data || {});
          else {
            const e = frame.error || {};
            const err = new SemotAPIError(e.code || "internal", e.message || "", null, e.details || null);
            if (e.mid) err.mid = e.mid; // pending_review: the held message's id (docs/moderation.md)
            reject(err);
          }
        },
        reject,
      });
      try {
        ws.send(JSON.stringify({ ...fields, t, rid }));
      } catch (error) {
        clearTimeout(timer);
        this._pending.delete(rid);
        reject(new ClientClosed(`send failed: ${error.message}`));
      }
    });
  }

  history(conv, { after, before, limit = 50 } = {}) {
    const f = { conv, limit };
    if (after !== undefined && after !== null) f.after = after;
    if (before !== undefined && before !== null) f.before = before;
    return this.request("history", f);
  }

  /** The `sync` request; also learns the peers' read positions (`peer_read_seq`). */
  async sync(convs = {}) {
    const states = (await this.request("sync", { convs, changes: this._changes.syncField() })).convs;
    for (const st of states) {
      if (Number.isInteger(st.peer_read_seq)) this._peerRead(st.conv, st.peer_read_seq, true);
    }
    return states;
  }

  /**
   * The other party of a direct chat read up to `seq`. A position learnt from `sync`
   * (a device that was offline, or new) that moves it is announced like a live read:
   * as an "event" {t:"evt", evt:"read", conv, seq, user, source:"sync"}, so an app that
   * keeps read marks from `evt read` needs nothing else.
   */
  _peerRead(conv, seq, fromSync) {
    const peer = peerOf(conv, this.userId);
    if (!peer || !(seq > (this.peerReads[conv] || 0))) return;
    this.peerReads[conv] = seq;
    if (fromSync) this._emit("event", { t: "evt", evt: "read", conv, seq, user: peer, source: "sync" });
  }

  read(conv, seq) {
    return this.request("read", { conv, seq });
  }

  typing(conv) {
    return this.request("typing", { conv });
  }

  recall(conv, seq) {
    return this.request("recall", { conv, seq });
  }

  async ping() {
    return (await this.request("ping")).server_time;
  }

  // ---------------------------------------------------------------- edits and reactions (extension; changes.js)
  /** Replace the text of one's own text message: {conv, seq, edited_ts, change_seq?, changed}. */
  async edit(conv, seq, text) {
    const r = await this.request("edit", { conv, seq, text });
    if (r.changed) this._changes.own(conv, r.change_seq);
    return r;
  }

  /** Put (on) or take back one's emoji reaction: {conv, seq, reactions, change_seq?, changed}. */
  async react(conv, seq, emoji, on = true) {
    const r = await this.request("react", { conv, seq, emoji, on });
    if (r.changed) this._changes.own(conv, r.change_seq);
    return r;
  }

  /** Messages edited or reacted to after change cursor `after`: {messages, change_seq, more}. */
  changes(conv, { after = 0, limit = 100 } = {}) {
    return this.request("changes", { conv, after, limit });
  }

  // ---------------------------------------------------------------- conversation settings (extension)
  /**
   * Pin, mute (do not disturb) or hide a conversation for this user, on all of their
   * devices (the `conv_set` request, docs/protocol.md "Conversation settings"): pass only
   * what changes, e.g. {pinned: true}. Resolves with {conv, pinned_at, dnd, hidden,
   * hidden_seq}; the user's other devices get `evt conv_settings` with the same fields
   * on "event", and `sync` carries them on each conversation. Hiding a conversation the
   * user is no longer in (a group they left) resolves with hidden_seq null: drop it.
   */
  setConversation(conv, { pinned, dnd, hidden } = {}) {
    const f = { conv };
    if (typeof pinned === "boolean") f.pinned = pinned;
    if (typeof dnd === "boolean") f.dnd = dnd;
    if (typeof hidden === "boolean") f.hidden = hidden;
    return this.request("conv_set", f);
  }

  /**
   * Follow these users' presence (the `presence_sub` request, a Semot extension): the
   * list REPLACES the one this connection gave before (`[]` follows no one; other
   * connections of the same user keep theirs). Resolves with the current
   * status of those you may see ([{user, status, text}]: friends, or colleagues in the
   * organisation directory; the others are left out); afterwards their changes arrive
   * as `evt presence` on "event". Friends' changes arrive whether followed or not.
   * Ids are de-duplicated and invalid ones dropped; more than MAX_PRESENCE_SUB is a
   * RangeError. The list ends with the connection, and this client does not send it
   * again by itself: call it again after every reconnect (state "open").
   */
  async subscribePresence(users) {
    const ids = [...new Set(users || [])].filter((id) => typeof id === "string" && ID_RE.test(id));
    if (ids.length > MAX_PRESENCE_SUB) throw new RangeError(`at most ${MAX_PRESENCE_SUB} users, not ${ids.length}`);
    return (await this.request("presence_sub", { users: ids })).users || [];
  }

  // ---------------------------------------------------------------- sending
  /**
   * Send a message. It goes through the outbox: while the client is not connected it
   * waits there (persisted in the storage) and is sent after the next (re)connect, with
   * the same cid, so it is stored once however often it is tried. Resolves with the ack
   * {conv, seq, mid, ts}; the message itself is also delivered to "message" listeners
   * (the server does not push a send back to the device that made it).
   * Rejects with SemotAPIError when the server refuses it (the item leaves the outbox;
   * send again with the same cid to retry, unless isPermanentSendError(error)), with
   * RequestTimeout when connected but no ack came in time (likewise), and with
   * ClientClosed on close().
   * `replyTo`: the seq of the message this one answers (any kind): sent as
   * `body.reply_to = {seq}`; the server stores a quote of the original ({seq, from, kind,
   * text?}), returned in the ack and in the own copy delivered to "message" listeners.
   */
  send(to, kind, body, { cid, opts, replyTo } = {}) {
    if (!this.userId) return Promise.reject(new SemotAPIError("unauthorized", "log in first"));
    if (replyTo !== undefined && replyTo !== null) {
      const seq = typeof replyTo === "object" ? replyTo.seq : replyTo;
      if (!Number.isInteger(seq) || seq < 1) return Promise.reject(new RangeError(`replyTo: a seq (an integer >= 1), not ${seq}`));
      body = { ...body, reply_to: typeof replyTo === "object" ? { ...replyTo } : { seq } };
    }
    cid = cid || newCid();
    let item = this._outbox.find((it) => it.cid === cid);
    if (!item) {
      item = { cid, to, kind, body, conv: convFor(to, this.userId), created: Date.now(), inflight: false };
      if (opts && Object.keys(opts).length) item.opts = opts;
      this._outbox.push(item);
      this._saveOutbox();
      this._emit("outbox", { items: this.outbox });
    }
    const p = new Promise((resolve, reject) => {
      if (!this._outboxWaiters.has(cid)) this._outboxWaiters.set(cid, []);
      this._outboxWaiters.get(cid).push({ resolve, reject });
    });
    this._pump();
    return p;
  }

  sendText(to, text, extra = {}) {
    const { mentions, mentionAll, ...rest } = extra;
    const body = { text };
    if (mentions && mentions.length) body.mentions = mentions;
    if (mentionAll) body.mention_all = true;
    return this.send(to, "text", body, rest);
  }

  /** The outbox: messages not acknowledged yet, oldest first (copies). */
  get outbox() {
    return this._outbox.map((it) => ({ ...it }));
  }

  /** Drop an outbox item (the user gave up on it). Its send() promise rejects. */
  discard(cid) {
    const i = this._outbox.findIndex((it) => it.cid === cid);
    if (i < 0) return false;
    this._outbox.splice(i, 1);
    this._saveOutbox();
    this._settle(cid, null, new ClientClosed("discarded"));
    this._emit("outbox", { items: this.outbox });
    return true;
  }

  _settle(cid, ack, error) {
    const ws = this._outboxWaiters.get(cid) || [];
    this._outboxWaiters.delete(cid);
    for (const w of ws) (error ? w.reject(error) : w.resolve(ack));
  }

  /** Send every outbox item not yet in flight, in order, pipelined on this connection. */
  _pump() {
    if (!this.connected) return;
    for (const item of this._outbox) {
      if (item.inflight) continue;
      item.inflight = true;
      this._sendItem(item);
    }
  }

  async _sendItem(item) {
    const fields = { cid: item.cid, to: item.to, kind: item.kind, body: item.body };
    if (item.opts) fields.opts = item.opts;
    let ack;
    try {
      ack = await this.request("send", fields);
    } catch (error) {
      if (error instanceof ClientClosed) {
        item.inflight = false; // stays queued: resent with the same cid after reconnect
        return;
      }
      if (error instanceof SemotAPIError && (error.code === "unavailable" || error.code === "rate_limited")) {
        item.inflight = false;
        setTimeout(() => this._pump(), error.code === "rate_limited" ? 1000 : 500);
        return;
      }
      this._removeItem(item);
      this._emit("send_failed", { cid: item.cid, error, item: { ...item }, permanent: isPermanentSendError(error) });
      this._settle(item.cid, null, error);
      return;
    }
    this._removeItem(item);
    const own = {
      t: "msg", conv: ack.conv, seq: ack.seq, mid: ack.mid, cid: item.cid, from: this.userId,
      kind: item.kind, body: ack.reply_to ? { ...item.body, reply_to: ack.reply_to } : item.body, ts: ack.ts, opts: item.opts || {},
    };
    await this._ingest(own).catch((e) => this._report(e, "ingest"));
    this._emit("sent", { cid: item.cid, ack, item: { ...item } });
    this._settle(item.cid, ack, null);
  }

  _removeItem(item) {
    const i = this._outbox.indexOf(item);
    if (i >= 0) {
      this._outbox.splice(i, 1);
      this._saveOutbox();
      this._emit("outbox", { items: this.outbox });
    }
  }

  // ---------------------------------------------------------------- gap filling
  /**
   * Ask which conversations moved since lastSeq and fetch what is missing. A
   * conversation never seen starts at the user's read position (a new device gets
   * what is unread, not years of history).
   */
  async catchUp() {
    const known = { ...this.lastSeq };
    const states = await this.sync(known);
    for (const st of states) {
      if (!(st.conv in this.lastSeq)) this.lastSeq[st.conv] = st.read_seq || 0;
    }
    this._emit("synced", { convs: states });
    for (const st of states) await this._fill(st.conv, st.max_seq);
    await this._changes.afterSync(states, known); // edits and reactions made meanwhile
    this.saveState();
  }

  _fill(conv, upTo) {
    return this._locks.run(conv, () => this._fillLocked(conv, upTo));
  }

  async _fillLocked(conv, upTo) {
    while ((this.lastSeq[conv] || 0) < upTo) {
      const after = this.lastSeq[conv] || 0;
      const page = await this.history(conv, { after, limit: this.historyPage });
      for (const m of page.messages) this._deliver(m);
      if (!page.more || !page.messages.length) break;
    }
  }

  /** A message from a push or an ack: deliver it, drop it as a duplicate, or fill the gap first. */
  _ingest(msg) {
    const { conv, seq } = msg;
    return this._locks.run(conv, async () => {
      const last = this.lastSeq[conv];
      if (last === undefined || seq === last + 1) {
        if (last === undefined && seq > 1) this.lastSeq[conv] = seq - 1; // first sight: from this push on
        this._deliver(msg);
        return;
      }
      if (seq <= last) return; // a duplicate
      try {
        await this._fillLocked(conv, seq);
      } catch (error) {
        if (!(error instanceof ClientClosed || error instanceof RequestTimeout || error instanceof SemotAPIError)) throw error;
        // the next catch-up repairs it
      }
    });
  }

  _deliver(msg) {
    const { conv, seq } = msg;
    if (seq <= (this.lastSeq[conv] || 0)) return;
    this.lastSeq[conv] = seq;
    this._emit("message", msg);
    this._saveSoon();
  }

  _saveSoon() {
    if (this._saveTimer) return;
    this._saveTimer = setTimeout(() => {
      this._saveTimer = null;
      this.saveState();
    }, 250);
    if (this._saveTimer.unref) this._saveTimer.unref();
  }

  // ---------------------------------------------------------------- dispatch
  /** Queue an event for the listeners; they run one at a time, outside the read loop. */
  _emit(name, value) {
    if (!this.listenerCount(name)) return;
    this._dispatchQueue.push([name, value]);
    if (!this._dispatching) {
      this._dispatching = true;
      setTimeout(() => this._drain(), 0);
    }
  }

  async _drain() {
    while (this._dispatchQueue.length) {
      const [name, value] = this._dispatchQueue.shift();
      for (const fn of this._listenersOf(name)) {
        try {
          const r = fn(value);
          if (r && typeof r.then === "function") await r;
        } catch (error) {
          if (name === "error") {
            if (this.logger) this.logger.error("semot: error listener failed", error);
          } else this._report(error, `${name} listener`);
        }
      }
    }
    this._dispatching = false;
  }
}

// ---------------------------------------------------------------- profile (PROTOCOL.md §6, last bullet)
/**
 * `PATCH /api/v1/me`: change the display name and/or the avatar ({display_name?,
 * avatar_file_id?}: an uploaded JPEG/PNG/WebP/GIF you may read; null removes it).
 * Resolves with the new `GET /api/v1/me` ({..., avatar_url}).
 */
SemotClient.prototype.updateMe = function updateMe(fields) {
  return this.http("PATCH", "/api/v1/me", fields);
};

/** `POST /api/v1/me/password`: every other login of the user ends; this one goes on. */
SemotClient.prototype.changePassword = function changePassword(oldPassword, newPassword) {
  return this.http("POST", "/api/v1/me/password", { old_password: oldPassword, new_password: newPassword });
};
