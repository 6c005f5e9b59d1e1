// The page an SSO ticket URL opens: /#/sso?ticket=... (an integrator's server asked the
// server API for it: POST /api/server/v1/users/{user_id}/tokens {"type":"sso_ticket"}).
// The ticket is traded at once for a cookie-mode login (POST /api/v1/auth/sso), which
// signs this tab in as that user; a tab signed in as someone else signs out first. The
// ticket lives in the URL's fragment (never sent to a server, never in a Referer) and
// leaves the address bar before anything else happens: it works once, within 60 s.
import { MESSAGES, t } from "../i18n.js";
import { client, describeError, enterApp, logout, state } from "../store.js";

Object.assign(MESSAGES["zh-CN"], {
  "sso.failed": "单点登录链接无效、已过期或已被使用，请从原系统重新进入。",
});
Object.assign(MESSAGES.en, {
  "sso.failed": "This sign-in link is invalid, has expired or was already used. Open it again from the system that sent you.",
});

const ROUTE = /^#\/sso\?(.*)$/;

/** The ticket in the address bar, or "". */
export function ssoTicket() {
  const m = ROUTE.exec(location.hash || "");
  return m ? new URLSearchParams(m[1]).get("ticket") || "" : "";
}

/** Sign in with the ticket in the address bar; false when there is none. */
export async function landSso() {
  const ticket = ssoTicket();
  if (!ticket) return false;
  history.replaceState(history.state, "", location.pathname + location.search);
  if (state.phase === "app") {
    try {
      await logout();
    } catch {
      /* signing in as the ticket's user matters more */
    }
  }
  try {
    await client.loginWithTicket(ticket);
    await enterApp();
  } catch (error) {
    state.phase = "login";
    state.loginNotice = error && error.status === 401 ? t("sso.failed") : describeError(error);
  }
  return true;
}

// a ticket link opened in a tab that already shows the client (only the fragment changes:
// no page load) signs in too
window.addEventListener("hashchange", () => {
  if (ssoTicket()) landSso();
});
