// The administration API as the console's pages call it.
//
//   api.get(path, query?, opts?)         api.post(path, body?, opts?)
//   api.put(path, body?, opts?)          api.patch(path, body?, opts?)
//   api.del(path, opts?)                 api.upload(path, file|blob, contentType?, opts?)
//   api.download(path, query?, filename?, opts?)
//
// `path` is relative to /api/admin/v1 ("/users", "users/u1") unless it starts with
// "/api/" (then it is used as it is: "/api/v1/me"). `query` values that are undefined,
// null or "" are left out; arrays repeat the parameter. Replies are parsed JSON (null
// for 204). A failure throws a SemotAPIError: `code`, `serverMessage` (the server's
// message), `status`, `details`; and shows an Element Plus message unless `opts.quiet`.
// A 401 is answered by refreshing the login once (through the HttpOnly cookie) and
// trying again; when the login is gone the SDK says "session_expired" and the console
// shows the login page (session.js), with no error message on top.
import { ElMessage } from "element-plus";
import { SemotAPIError } from "semot";
import { client } from "./client.js";
import { i18n, t } from "./i18n.js";

export const API_BASE = "/api/admin/v1";
const KNOWN = new Set([
  "unauthorized", "forbidden", "not_found", "bad_request", "conflict", "rate_limited", "too_large", "internal", "unavailable",
]);

export function apiPath(path) {
  const p = String(path || "");
  if (p.startsWith("/api/")) return p;
  return API_BASE + (p.startsWith("/") ? p : "/" + p);
}

export function withQuery(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, String(x)));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}${path.includes("?") ? "&" : "?"}${s}` : path;
}

/** What to tell the administrator about an error: the code in their language, and in
 * English also the server's own (more specific) message. */
export function describeError(error) {
  if (!(error instanceof SemotAPIError)) return t("error.unknown");
  if (error.status === 0) return t("error.network");
  const generic = KNOWN.has(error.code) ? t(`error.${error.code}`) : t("error.unknown");
  const detail = error.serverMessage && !/^\d+$/.test(error.serverMessage) ? error.serverMessage : "";
  if (!detail) return generic;
  return i18n.locale === "en" ? `${generic}: ${detail}` : `${generic}：${detail}`;
}

export function notifyError(error) {
  ElMessage({ type: "error", message: describeError(error), grouping: true, showClose: true, duration: 5000 });
}

async function parse(resp) {
  const text = await resp.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** One authenticated request; `init(headers)` gives the fetch options. */
async function authed(method, url, init) {
  if (!client.accessToken && client.userId) await client.refresh();
  for (let attempt = 0; ; attempt++) {
    const headers = { ...(init.headers || {}) };
    if (client.accessToken) headers.Authorization = `Bearer ${client.accessToken}`;
    let resp;
    try {
      resp = await fetch(url, { method, credentials: "same-origin", cache: "no-store", ...init, headers });
    } catch (error) {
      throw new SemotAPIError("unavailable", "", 0, { cause: String(error && error.message) });
    }
    if (resp.status === 401 && attempt === 0 && client.userId) {
      await client.refresh(); // a refused refresh throws (401) and ends the session
      continue;
    }
    return resp;
  }
}

async function request(method, path, { query, body, raw, contentType, quiet = false, blob = false } = {}) {
  const url = withQuery(apiPath(path), query);
  const headers = { Accept: blob ? "*/*" : "application/json" };
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || (raw && raw.type) || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  try {
    const resp = await authed(method, url, { headers, body: payload });
    if (resp.status >= 400) {
      const data = await parse(resp);
      const err = (data && data.error) || {};
      throw new SemotAPIError(
        err.code || (resp.status >= 500 ? "internal" : "bad_request"),
        err.message || "",
        resp.status,
        err.details || null,
      );
    }
    if (blob) return resp;
    return resp.status === 204 ? null : await parse(resp);
  } catch (error) {
    const expired = error instanceof SemotAPIError && error.status === 401;
    if (!quiet && !expired) notifyError(error);
    throw error;
  }
}

function filenameOf(resp, fallback) {
  const cd = resp.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      /* fall through */
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  return (plain && plain[1]) || fallback || "download";
}

export const api = {
  request,
  get: (path, query, opts = {}) => request("GET", path, { ...opts, query }),
  post: (path, body, opts = {}) => request("POST", path, { ...opts, body }),
  put: (path, body, opts = {}) => request("PUT", path, { ...opts, body }),
  patch: (path, body, opts = {}) => request("PATCH", path, { ...opts, body }),
  del: (path, opts = {}) => request("DELETE", path, opts),
  /** Send a file (or Blob, or string) as the raw request body. */
  upload: (path, file, contentType, opts = {}) => request("POST", path, { ...opts, raw: file, contentType, query: opts.query }),
  /** Fetch a file with the caller's token and save it (the name from Content-Disposition
   * when the server gives one, else `filename`). Resolves with the saved name. */
  async download(path, query, filename, opts = {}) {
    const resp = await request("GET", path, { ...opts, query, blob: true });
    const name = filenameOf(resp, filename);
    const url = URL.createObjectURL(await resp.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.rel = "noopener";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return name;
  },
};

export { SemotAPIError };
export default api;
