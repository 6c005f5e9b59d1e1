"""OpenID Connect sign-in over HTTP (docs/sso.md, "OpenID Connect").

- `GET /api/v1/auth/oidc/start?to=app|admin` -> 302 to the provider, with the signed
  state cookie `semot_oidc` (HttpOnly, SameSite=Lax: it must come back with the
  provider's top-level redirect, which Strict would drop; Path=/api/v1/auth/oidc).
- `GET /api/v1/auth/oidc/callback?code&state` (the provider sends the browser here) ->
  302 to the web client's `/#/sso?ticket=...` or the console's `/admin/#/sso?ticket=...`
  (a single-use ticket those pages redeem in cookie mode), or to the login page with
  `#/login?sso_error=<reason>` when the sign-in fails.
Both 404 while OIDC sign-in is off (not configured, or switched off on the console).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from aiohttp import web

from semot.config import Settings
from semot.errors import NotFound, SemotError, Unavailable
from semot.services.client_ip import forwarded_https
from semot.services.oidc import OidcError
from semot.services.oidc_login import OidcLogin, SignInRefused

from .auth_http import login_attempt
from .http import Call
from .routing import Query, Route, RouteTable

log = logging.getLogger(__name__)

COOKIE = "semot_oidc"
COOKIE_PATH = "/api/v1/auth/oidc"
CALLBACK = "/api/v1/auth/oidc/callback"
LANDING = {"app": "/", "admin": "/admin/"}


def _https(request: web.Request, settings: Settings) -> bool:
    return request.secure or forwarded_https(
        request.remote, request.headers.get("X-Forwarded-Proto"), settings.trusted_proxies
    )


def _base(request: web.Request, settings: Settings) -> str:
    """Where browsers reach this server: public_url, else this request's scheme and Host."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"{'https' if _https(request, settings) else 'http'}://{request.host}"


def redirect_uri(request: web.Request, settings: Settings) -> str:
    """The callback URL (register it at the provider)."""
    return _base(request, settings) + CALLBACK


def _landing_base(settings: Settings) -> str:
    """Browsers are sent back relative to this server unless public_url names its address."""
    return settings.public_url.rstrip("/") if settings.public_url else ""


def _oidc(call: Call) -> OidcLogin:
    methods, oidc = call.services.login_methods, call.services.oidc
    if oidc is None or methods is None or not methods.oidc:
        raise NotFound("OpenID Connect sign-in is not switched on")
    return oidc


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


async def start(call: Call) -> web.Response:
    oidc = _oidc(call)
    settings = call.services.settings
    target = call.query_str("to") or "app"
    try:
        begun = await oidc.start(target, redirect_uri(call.request, settings))
    except (Unavailable, OidcError) as exc:  # a browser navigated here: back to its login page, told why
        log.warning("OIDC sign-in cannot start: %s", exc.message)
        reason = "unavailable" if isinstance(exc, Unavailable) else "failed"
        return _redirect(f"{_landing_base(settings)}{LANDING[target]}#/login?sso_error={reason}")
    resp = _redirect(begun.url)
    resp.set_cookie(COOKIE, begun.cookie, path=COOKIE_PATH, max_age=600, httponly=True, samesite="Lax",
                    secure=_https(call.request, settings))
    return resp


async def callback(call: Call) -> web.Response:
    oidc = _oidc(call)
    settings = call.services.settings
    request = call.request
    cookie = request.cookies.get(COOKIE)
    target = oidc.target_of(cookie)
    base = _landing_base(settings)
    error, code, state = call.query_str("error"), call.query_str("code"), call.query_str("state")
    reason = ""
    if error:  # the person cancelled, or the provider refused
        reason = "denied" if error in ("access_denied", "login_required", "consent_required") else "failed"
        log.info("OIDC provider answered %r: %s", error, call.query_str("error_description") or "")
    elif not code or not state:
        reason = "failed"
    else:
        attempt = login_attempt(request, settings, "")
        try:
            done = await oidc.finish(code, state, cookie, redirect_uri(request, settings), attempt,
                                     iss=call.query_str("iss"))
        except SignInRefused as exc:
            reason = exc.reason
            log.info("OIDC sign-in refused (%s): %s", exc.reason, exc.message)
        except Unavailable as exc:
            reason = "unavailable"
            log.warning("OIDC sign-in failed: %s", exc.message)
        except (OidcError, SemotError) as exc:
            reason = "failed"
            log.warning("OIDC sign-in failed: %s", exc.message)
        except Exception:  # a browser navigated here: it goes back to its login page, never to a traceback
            reason = "failed"
            log.exception("OIDC sign-in failed unexpectedly")
        else:
            resp = _redirect(f"{base}{LANDING[done.target]}#/sso?ticket={quote(done.ticket)}")
            resp.del_cookie(COOKIE, path=COOKIE_PATH)
            return resp
    resp = _redirect(f"{base}{LANDING[target]}#/login?sso_error={reason}")
    resp.del_cookie(COOKIE, path=COOKIE_PATH)
    return resp


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("GET", "/api/v1/auth/oidc/start", start,
                "Begin an OpenID Connect sign-in: 302 to the provider (404 while OIDC sign-in is off)", "auth",
                None, None, status=302, auth=None,
                query={"to": Query("app (the web client, default) or admin (the console): where the browser lands",
                                   "string", max_length=8, pattern="^(app|admin)$")},
                reply_headers={"Location": Query("the provider's authorization endpoint", "string")},
                responses={404: "OpenID Connect sign-in is off"}))
    t.add(Route("GET", CALLBACK, callback,
                "The provider's redirect back: 302 to the web client or console, signed in (a single-use ticket) "
                "or with #/login?sso_error=<reason>", "auth", None, None, status=302, auth=None,
                query={
                    "code": Query("the authorization code", "string", max_length=2048),
                    "state": Query("the state this sign-in started with", "string", max_length=256),
                    "error": Query("the provider's error code", "string", max_length=256),
                    "error_description": Query("the provider's error text", "string", max_length=2048),
                    "iss": Query("the issuer (RFC 9207)", "string", max_length=1024),
                    "session_state": Query("the provider's session state (OIDC session management)", "string",
                                           max_length=1024),
                },
                reply_headers={"Location": Query("where the browser goes next", "string")},
                responses={404: "OpenID Connect sign-in is off"}))
    return t
