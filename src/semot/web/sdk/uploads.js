// Semot JavaScript SDK: resumable file uploads (tus 1.0.0, PROTOCOL.md section 6).
//
// The tus protocol itself is tus-js-client's (vendored: web/vendor/tus-js-client, its
// self-contained bundle, loaded on the first upload so that pages which never upload
// never pay for it). This module adds what a Semot client needs around it:
//
// - Bearer auth on every tus request, taken from the SDK when the request leaves, so a
//   token refreshed meanwhile is used; a 401 refreshes the token and retries;
// - resuming: the upload URL is remembered under a fingerprint of the file (name, type,
//   size, date, and a sha256 of its first and last 64 KiB, so two pasted screenshots of
//   the same size are never mistaken for each other) in the SDK's storage, per user; a
//   page reload or a new process with the same storage continues where the server is;
// - network drops: retries with growing delays, and in browsers, when the browser says
//   it is offline, the upload pauses and continues on the `online` event (however long
//   the network was gone) instead of failing;
// - integrity: tus-js-client does not implement the tus `checksum` extension, so every
//   chunk carries `Upload-Checksum: sha256 <base64>` computed here (WebCrypto; pages on
//   plain http to a host other than localhost have no WebCrypto and send none). The
//   server discards a chunk that does not match, or that was cut, so chunks are finite
//   (4 MiB by default): a cut costs at most one chunk;
// - Node.js: there is no XMLHttpRequest, so requests go through fetch (progress then
//   moves a chunk at a time).

export const FILES_PATH = "/api/v1/files/";
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
/** Delays (ms) between the retries of a failed request; the count restarts after progress. */
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
const FINGERPRINT_SAMPLE = 64 * 1024;
const RESUME_MAX_AGE_MS = 24 * 3600 * 1000; // the server's default upload expiry
const TUS_BUNDLE = "../vendor/tus-js-client/tus.min.js";

/** The upload was aborted (abort()); nothing of it stays on the server. */
export class UploadAborted extends Error {
  constructor(message = "upload aborted") {
    super(message);
    this.name = "UploadAborted";
  }
}

/** The server refused the upload (e.g. 413 too large or over quota) or it failed for good. */
export class UploadFailed extends Error {
  constructor(message, status = 0, code = null) {
    super(message);
    this.name = "UploadFailed";
    this.status = status;
    this.code = code;
  }
}

let bundle = null;

/** Where the vendored bundle is, seen from this module: /web/sdk/ next to /web/vendor/, and
 * /sdk/uploads.js (the server's short path) whose vendor folder is /web/vendor/. */
function bundleUrl() {
  const here = new URL(import.meta.url);
  if (here.protocol.startsWith("http") && !here.pathname.includes("/web/sdk/")) {
    return new URL("/web/vendor/tus-js-client/tus.min.js", here).href;
  }
  return new URL(TUS_BUNDLE, here).href;
}

/** tus-js-client: the one passed as the client's `tus` option, else the vendored bundle. */
export async function loadTus(override = null) {
  if (override) return override;
  if (!bundle) {
    bundle = import(bundleUrl()).then((ns) => {
      // Node loads the UMD bundle as CommonJS (default export); browsers run it as a
      // script that sets globalThis.tus.
      const tus = (ns && ns.default && ns.default.Upload ? ns.default : null) || globalThis.tus;
      if (!tus || !tus.Upload) throw new Error("tus-js-client did not load");
      return tus;
    });
    bundle.catch(() => (bundle = null));
  }
  return bundle;
}

function b64(bytes) {
  let s = "";
  const u = new Uint8Array(bytes);
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}

function hex(bytes) {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function subtle() {
  const c = globalThis.crypto;
  return c && c.subtle ? c.subtle : null;
}

/** Blob-like -> ArrayBuffer (Blobs, ArrayBuffers and typed arrays). */
async function bytesOf(body) {
  if (body instanceof ArrayBuffer) return body;
  if (ArrayBuffer.isView(body)) return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  if (body && typeof body.arrayBuffer === "function") return body.arrayBuffer();
  return null;
}

/**
 * A file's identity for resuming: its name, type, size and date, the user and endpoint,
 * and a sha256 of its first and last 64 KiB (cheap, and it tells apart blobs that have
 * no name or date, like pasted images). Without WebCrypto: the sizes and names only.
 */
export async function fingerprintOf(file, endpoint, userId) {
  const parts = ["semot", userId || "_", endpoint, file.name || "", file.type || "", file.size, file.lastModified || ""];
  const s = subtle();
  if (s && typeof file.slice === "function") {
    const head = await bytesOf(file.slice(0, FINGERPRINT_SAMPLE));
    const tail = await bytesOf(file.slice(Math.max(0, file.size - FINGERPRINT_SAMPLE), file.size));
    const both = new Uint8Array(head.byteLength + tail.byteLength);
    both.set(new Uint8Array(head), 0);
    both.set(new Uint8Array(tail), head.byteLength);
    parts.push(hex(await s.digest("SHA-256", both)));
  }
  return parts.join("|");
}

/**
 * tus-js-client's URL storage over the SDK's Storage-like object (localStorage in
 * browsers, a MemoryStorage or the application's own elsewhere), which cannot list
 * its keys: one key per fingerprint holds that file's unfinished uploads.
 */
export class StorageUrlStorage {
  constructor(storage, prefix) {
    this._storage = storage;
    this._prefix = prefix;
  }
  _key(fingerprint) {
    return this._prefix + fingerprint;
  }
  _read(key) {
    try {
      const v = JSON.parse(this._storage.getItem(key) || "[]");
      return Array.isArray(v) ? v : [];
    } catch {
      return [];
    }
  }
  _write(key, list) {
    try {
      if (list.length) this._storage.setItem(key, JSON.stringify(list));
      else this._storage.removeItem(key);
    } catch {
      /* storage full or gone: resuming after a reload is lost, the upload itself is not */
    }
  }
  async findAllUploads() {
    return []; // a Storage cannot list its keys; tus-js-client does not need this one
  }
  async findUploadsByFingerprint(fingerprint) {
    const key = this._key(fingerprint);
    const now = Date.now();
    const fresh = this._read(key).filter((u) => now - Date.parse(u.creationTime) < RESUME_MAX_AGE_MS);
    return fresh.map((u) => ({ ...u, urlStorageKey: `${key}#${u.id}` })).reverse(); // newest first
  }
  async removeUpload(urlStorageKey) {
    const i = urlStorageKey.lastIndexOf("#");
    const key = urlStorageKey.slice(0, i);
    const id = urlStorageKey.slice(i + 1);
    this._write(key, this._read(key).filter((u) => u.id !== id));
  }
  async addUpload(fingerprint, upload) {
    const key = this._key(fingerprint);
    const id = Math.random().toString(36).slice(2, 10);
    const list = this._read(key).slice(-4);
    const { urlStorageKey, ...rest } = upload;
    list.push({ ...rest, id });
    this._write(key, list);
    return `${key}#${id}`;
  }
}

class FetchRequest {
  constructor(method, url, fetchFn) {
    this._method = method;
    this._url = url;
    this._fetch = fetchFn;
    this._headers = {};
    this._ctl = new AbortController();
    this._onProgress = () => {};
  }
  getMethod() {
    return this._method;
  }
  getURL() {
    return this._url;
  }
  setHeader(name, value) {
    this._headers[name] = value;
  }
  getHeader(name) {
    return this._headers[name];
  }
  setProgressHandler(fn) {
    this._onProgress = fn;
  }
  async send(body = null) {
    const init = { method: this._method, headers: this._headers, signal: this._ctl.signal };
    if (body !== null && body !== undefined) init.body = body;
    const resp = await this._fetch(this._url, init);
    const text = await resp.text();
    if (init.body) this._onProgress(init.body.byteLength ?? init.body.size ?? 0);
    return {
      getStatus: () => resp.status,
      getHeader: (name) => resp.headers.get(name) ?? undefined,
      getBody: () => text,
      getUnderlyingObject: () => resp,
    };
  }
  abort() {
    this._ctl.abort();
    return Promise.resolve();
  }
  getUnderlyingObject() {
    return this._ctl;
  }
}

/** An HTTP stack on fetch, for runtimes without XMLHttpRequest (Node.js). */
export class FetchHttpStack {
  constructor(fetchFn) {
    this._fetch = fetchFn;
  }
  createRequest(method, url) {
    return new FetchRequest(method, url, this._fetch);
  }
  getName() {
    return "semot-fetch";
  }
}

/** Wraps an HTTP stack: every request with a body gets `Upload-Checksum: sha256 ...`. */
export class ChecksumHttpStack {
  constructor(inner) {
    this._inner = inner;
  }
  createRequest(method, url) {
    const req = this._inner.createRequest(method, url);
    const send = req.send.bind(req);
    req.send = async (body = null) => {
      const s = subtle();
      if (body === null || body === undefined || !s) return send(body);
      const bytes = await bytesOf(body);
      if (!bytes) return send(body);
      req.setHeader("Upload-Checksum", "sha256 " + b64(await s.digest("SHA-256", bytes)));
      return send(bytes);
    };
    return req;
  }
  getName() {
    return `semot-checksum+${this._inner.getName()}`;
  }
}

/**
 * One upload: `promise` resolves with the file info ({file_id, name, size, mime, sha256,
 * w?, h?, duration_ms?}) once the server has every byte; `pause()`, `resume()` and
 * `abort()` (which deletes the partial upload on the server). `state`: "starting",
 * "uploading", "paused", "offline" (waiting for the network), "done", "failed",
 * "aborted"; `sent`/`total` bytes; `url` and `fileId` once the server has made the upload.
 * `onState(handle)` (an option) is called on every state change.
 */
export class UploadHandle {
  constructor(client, file, opts = {}) {
    if (!file || typeof file.slice !== "function" || typeof file.size !== "number") {
      throw new TypeError("upload() takes a File or a Blob");
    }
    this.client = client;
    this.file = file;
    this.name = opts.name || file.name || "file";
    this.total = file.size;
    this.sent = 0;
    this.state = "starting";
    this.url = null;
    this.fileId = null;
    this.resumedFrom = null; // the server's offset when an earlier upload was picked up
    this.error = null;
    this._opts = opts;
    this._tus = null;
    this._userPaused = false;
    this._net = null;
    this.promise = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.promise.catch(() => {}); // the caller may never look; abort() must not be "unhandled"
    this._begin().catch((error) => this._fail(error));
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    if (typeof this._opts.onState === "function") {
      try {
        this._opts.onState(this);
      } catch {
        /* the caller's problem */
      }
    }
  }

  get _finished() {
    return this.state === "done" || this.state === "failed" || this.state === "aborted";
  }

  async _begin() {
    const c = this.client;
    const tus = await loadTus(c.tus);
    if (this._finished) return;
    const endpoint = c.baseUrl + FILES_PATH;
    const inner = typeof XMLHttpRequest === "function" ? new tus.DefaultHttpStack({}) : new FetchHttpStack(c._fetch);
    const checksum = this._opts.checksum ?? true;
    const fingerprint = await fingerprintOf(this.file, endpoint, c.userId);
    this._tus = new tus.Upload(this.file, {
      endpoint,
      chunkSize: this._opts.chunkSize || DEFAULT_CHUNK_SIZE,
      retryDelays: this._opts.retryDelays || RETRY_DELAYS,
      metadata: { filename: this.name, filetype: this.file.type || "application/octet-stream" },
      fingerprint: () => Promise.resolve(fingerprint),
      urlStorage: new StorageUrlStorage(c.storage, `${c.storagePrefix}tus:${c.userId || "_"}:`),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      httpStack: checksum ? new ChecksumHttpStack(inner) : inner,
      onBeforeRequest: async (req) => {
        const token = await this._token();
        if (token) req.setHeader("Authorization", `Bearer ${token}`);
      },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === "HEAD" && res.getStatus() === 200 && this.resumedFrom === null) {
          this.resumedFrom = Number(res.getHeader("Upload-Offset")) || 0;
        }
      },
      onUploadUrlAvailable: () => {
        this.url = this._tus.url;
        this.fileId = decodeURIComponent(this._tus.url.replace(/\/+$/, "").split("/").pop());
        if (typeof this._opts.onUrl === "function") this._opts.onUrl(this);
      },
      onShouldRetry: (err, attempt) => this._shouldRetry(err, attempt),
      onProgress: (sent, total) => {
        this.sent = sent;
        this.total = total;
        if (typeof this._opts.onProgress === "function") this._opts.onProgress(sent, total);
      },
      onSuccess: () => this._succeeded(),
      onError: (err) => this._failed(err),
    });
    const previous = await this._tus.findPreviousUploads();
    if (this._finished) return;
    if (previous.length) this._tus.resumeFromPreviousUpload(previous[0]);
    this._watchNetwork();
    if (this._userPaused) {
      this._setState("paused");
      return;
    }
    if (c._isOffline()) {
      this._setState("offline");
      return;
    }
    this._setState("uploading");
    this._tus.start();
  }

  /** The current access token; waits for a refresh in progress (or one a reload needs). */
  async _token() {
    const c = this.client;
    if (c._refreshing) await c._refreshing.catch(() => {});
    if (!c.accessToken && c.refreshCookie && c.userId) await c.refresh();
    return c.accessToken;
  }

  _status(err) {
    return err && err.originalResponse ? err.originalResponse.getStatus() : 0;
  }

  _shouldRetry(err, attempt) {
    const status = this._status(err);
    if (status === 401) {
      if (attempt >= 2 || !this.client._canRefresh()) return false;
      this.client.refresh().catch(() => {});
      return true;
    }
    // 409: the offset moved (another tab?); 460: a chunk was damaged; 423: locked
    if (status === 409 || status === 460 || status === 423) return true;
    if (status >= 400 && status < 500) return false;
    return !this.client._isOffline();
  }

  _watchNetwork() {
    const g = globalThis;
    if (typeof g.addEventListener !== "function" || !g.navigator || !("onLine" in g.navigator)) return;
    const offline = () => {
      if (this.state !== "uploading") return;
      this._tus.abort(false);
      this._setState("offline");
    };
    const online = () => {
      if (this.state !== "offline" || this._userPaused) return;
      this._setState("uploading");
      this._tus.start();
    };
    g.addEventListener("offline", offline);
    g.addEventListener("online", online);
    this._net = { offline, online };
  }

  _unwatchNetwork() {
    if (!this._net) return;
    globalThis.removeEventListener("offline", this._net.offline);
    globalThis.removeEventListener("online", this._net.online);
    this._net = null;
  }

  async _succeeded() {
    this.url = this._tus.url;
    this.fileId = decodeURIComponent(this.url.replace(/\/+$/, "").split("/").pop());
    this.sent = this.total;
    this._unwatchNetwork();
    try {
      const info = await this.client.fileInfo(this.fileId);
      this._setState("done");
      this._resolve(info);
    } catch (error) {
      this._fail(error);
    }
  }

  _failed(err) {
    if (this._finished) return;
    const status = this._status(err);
    // A network error with the browser offline: wait for the network, not a failure.
    if (!status && this.client._isOffline() && this._net) {
      this._setState("offline");
      return;
    }
    let message = (err && err.message) || String(err);
    let code = null;
    if (err && err.originalResponse) {
      try {
        const body = JSON.parse(err.originalResponse.getBody() || "{}");
        if (body && body.error) {
          code = body.error.code || null;
          message = body.error.message || message;
        }
      } catch {
        /* not JSON */
      }
    }
    this._fail(new UploadFailed(message, status, code));
  }

  _fail(error) {
    if (this._finished) return;
    this.error = error;
    this._unwatchNetwork();
    this._setState(error instanceof UploadAborted ? "aborted" : "failed");
    this._reject(error);
  }

  /** Stop sending; what the server has stays there (resume() continues, also after a reload). */
  pause() {
    if (this._finished) return Promise.resolve();
    this._userPaused = true;
    this._setState("paused");
    return this._tus ? this._tus.abort(false) : Promise.resolve();
  }

  /** Continue after pause() (or now, without waiting for the next retry). */
  resume() {
    if (this._finished) return;
    this._userPaused = false;
    if (!this._tus) {
      this._setState("starting");
      return;
    }
    if (this.client._isOffline()) {
      this._setState("offline");
      return;
    }
    this._setState("uploading");
    this._tus.abort(false).then(() => this._tus.start());
  }

  /** Give up: stop, delete the partial upload on the server, reject `promise` with UploadAborted. */
  async abort() {
    if (this._finished) return;
    const tusUpload = this._tus;
    this._fail(new UploadAborted());
    if (tusUpload) {
      try {
        await tusUpload.abort(!!tusUpload.url);
      } catch {
        /* the server will expire it */
      }
    }
  }
}
