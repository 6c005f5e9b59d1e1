// The console's SDK client: HTTP only (the console never opens the WebSocket).
//
// Sessions are the web client's, on purpose. The refresh token is the HttpOnly,
// SameSite=Strict `semot_refresh` cookie scoped to /api/v1/auth (no script reads it);
// the access token stays in memory; localStorage keeps only who is signed in
// (`semot.session` = {user_id, cookie: true}), so a reload signs in again through the
// cookie. A browser holds one cookie, so the chat client and the console share one
// login: signing in to either signs in both, and signing out of either ends both.
// Sharing the storage prefix also shares the Web Lock the SDK takes around a refresh
// ("semot.refresh"): two tabs must never spend the same single-use refresh token,
// which the server would treat as theft and end the login.
import { MemoryStorage, SemotClient } from "semot";

export const SESSION_KEY = "semot.session";

/** localStorage for the session marker only; the rest of the SDK's state (last seqs,
 * outbox, change cursors: the chat client's) stays in memory, so the console never
 * writes back an older copy of what the chat client keeps there. */
function sessionOnlyStorage() {
  const mem = new MemoryStorage();
  const real = (fn) => {
    try {
      return fn(globalThis.localStorage);
    } catch {
      return null;
    }
  };
  return {
    getItem: (k) => (k === SESSION_KEY ? real((s) => s.getItem(k)) : mem.getItem(k)),
    setItem: (k, v) => (k === SESSION_KEY ? real((s) => s.setItem(k, v)) : mem.setItem(k, v)),
    removeItem: (k) => (k === SESSION_KEY ? real((s) => s.removeItem(k)) : mem.removeItem(k)),
  };
}

export const client = new SemotClient(location.origin, {
  platform: "admin",
  persistSession: true,
  refreshCookie: true,
  storagePrefix: "semot.",
  storage: sessionOnlyStorage(),
  reconnect: false,
  logger: null,
});
