// Who is using the console and what they may do.
//
//   session.phase   "boot" | "login" | "denied" | "app"
//   session.user    {user_id, username, display_name, is_admin, ...} (GET /api/v1/me)
//   session.roles   ["super_admin", ...]
//   session.perms   null (every permission) or an array of permission names
//   session.departments  null (the whole organisation) or department ids
//   can(perm)       perm may be a name, an array (any of them), or empty (any admin)
//
// The caller's grant comes from GET /api/admin/v1/me ({user_id, roles, perms,
// departments}); a server without that route counts an `is_admin` user as a super
// admin. The API enforces every permission; the console only hides what would fail.
import { reactive } from "vue";
import { SemotAPIError } from "semot";
import { api } from "./api.js";
import { client, SESSION_KEY } from "./client.js";
import { t } from "./i18n.js";

export const session = reactive({
  phase: "boot",
  user: null,
  roles: [],
  perms: null,
  departments: null,
  notice: "", // shown above the login form (e.g. the session expired)
  brand: { name: "", logo: "" }, // the product name and logo, when the client configuration sets them
  pageTitle: "", // the open page's title (the window title says it)
});

/** signIn's refusal of an account that is not an administrator. */
export class NotAdminError extends Error {
  constructor() {
    super("not an administrator");
    this.name = "NotAdminError";
  }
}

export function can(perm) {
  if (!perm || (Array.isArray(perm) && perm.length === 0)) return true;
  if (session.phase !== "app") return false;
  if (session.perms === null) return true;
  const want = Array.isArray(perm) ? perm : [perm];
  return want.some((p) => session.perms.includes(p));
}

function clearCaller() {
  session.user = null;
  session.roles = [];
  session.perms = null;
  session.departments = null;
}

/** Ask the server who the caller is and what they may do; sets the phase. */
export async function loadCaller() {
  const me = await api.get("/api/v1/me", null, { quiet: true });
  let grant = null;
  try {
    grant = await api.get("/me", null, { quiet: true });
  } catch (error) {
    if (!(error instanceof SemotAPIError)) throw error;
    if (error.status === 404) grant = me.is_admin ? { roles: ["super_admin"], perms: null, departments: null } : null;
    else if (error.status === 403) grant = null;
    else throw error;
  }
  session.user = me;
  if (!grant) {
    session.roles = [];
    session.perms = [];
    session.departments = null;
    // on the login page the form says so (and signs out); elsewhere the denied page does
    if (session.phase !== "login") session.phase = "denied";
    return false;
  }
  const all = grant.perms === null || grant.perms === undefined || grant.perms === "*";
  session.roles = Array.isArray(grant.roles) ? grant.roles : [];
  session.perms = all ? null : [...grant.perms];
  session.departments = grant.departments ?? null;
  session.phase = "app";
  session.notice = "";
  return true;
}

/** The product name and logo the administrator set for the clients (GET
 * /api/v1/client-config, no sign-in needed); the console shows them too. Call again
 * after changing them. */
export async function loadBrand() {
  try {
    const resp = await fetch("/api/v1/client-config", { headers: { Accept: "application/json" }, cache: "no-cache" });
    if (!resp.ok) return;
    const cfg = await resp.json();
    session.brand = { name: cfg.product_name || "", logo: cfg.logo_url || "" };
  } catch {
    /* the defaults stay */
  }
}

/** On page load: signed in already (this console or the chat client, same login)? */
export async function restore() {
  if (!client.userId) {
    session.phase = "login";
    return;
  }
  try {
    await loadCaller();
  } catch (error) {
    if (session.phase === "login") return; // the login ended meanwhile (session_expired)
    clearCaller();
    session.phase = "login";
    if (!(error instanceof SemotAPIError && error.status === 401)) session.notice = t("error.network");
  }
}

/** Sign in with the login form. A non-administrator is refused and signed out again. */
export async function signIn(username, password) {
  await client.login(username, password);
  let admin = false;
  try {
    admin = await loadCaller();
  } finally {
    if (!admin) await signOut({ quietly: true });
  }
  if (!admin) throw new NotAdminError();
}

/** End this login on the server (best effort, a few seconds at most) and forget it. */
export async function signOut({ quietly = false } = {}) {
  try {
    await client.logout({ timeout: 3000 });
  } finally {
    clearCaller();
    session.phase = "login";
    if (!quietly) session.notice = "";
  }
}

client.on("session_expired", () => {
  if (session.phase === "login") return;
  clearCaller();
  session.phase = "login";
  session.notice = t("login.expired");
});

// A refresh that hands back another user (someone signed in as another account in
// another tab, the cookie is shared): take on the new caller's identity and rights.
client.on("tokens", (tokens) => {
  if (session.phase === "app" && session.user && tokens && tokens.user_id !== session.user.user_id) {
    loadCaller().catch(() => {});
  }
});

// Another tab signed out (the marker is gone) or signed in as someone else.
window.addEventListener("storage", (e) => {
  if (e.key !== SESSION_KEY || session.phase === "login" || session.phase === "boot") return;
  let who = null;
  try {
    who = e.newValue ? JSON.parse(e.newValue).user_id : null;
  } catch {
    who = null;
  }
  if (!who) {
    client.accessToken = null;
    client.userId = null;
    clearCaller();
    session.phase = "login";
    session.notice = t("login.expired");
  } else if (!session.user || who !== session.user.user_id) {
    client.setSession({ user_id: who, cookie: true });
    loadCaller().catch(() => {});
  }
});
