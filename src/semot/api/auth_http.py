"""HTTP details of the auth routes: the client IP, the refresh-token cookie, Retry-After.

The refresh-token cookie keeps a browser's 30-day credential out of reach of scripts:
HttpOnly (no JavaScript reads it), SameSite=Strict (no other site's page sends it),
Secure over HTTPS, and scoped to Path=/api/v1/auth, so it travels with login, refresh
and logout only, never with the rest of the API. It is opt-in per request
(`"cookie": true` on login), so non-browser SDKs keep receiving the token in JSON.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from semot.config import Settings
from semot.errors import BadRequest, SemotError
from semot.services.accounts import TokenPair
from semot.services.client_ip import client_ip, forwarded_https
from semot.services.login_log import LoginAttempt

from .routing import json_response

REFRESH_COOKIE = "semot_refresh"
COOKIE_PATH = "/api/v1/auth"


def request_ip(request: web.Request, settings: Settings) -> str:
    """The client's address (X-Forwarded-For believed from trusted proxies only)."""
    return client_ip(request.remote, request.headers.getall("X-Forwarded-For", []), settings.trusted_proxies)


def login_attempt(
    request: web.Request, settings: Settings, username: str, device: tuple[str, str] | None = None
) -> LoginAttempt:
    """A login attempt as the login log sees the client: its address (through trusted
    proxies), its User-Agent, and the device (id, platform) it declared, if any. The
    login code fills in the outcome; an SSO login builds its attempt the same way."""
    return LoginAttempt(
        username,
        ip=request_ip(request, settings),
        user_agent=request.headers.get("User-Agent", ""),
        device=device[0] if device else "",
        platform=device[1] if device else "",
    )


def _https(request: web.Request, settings: Settings) -> bool:
    return request.secure or forwarded_https(
        request.remote, request.headers.get("X-Forwarded-Proto"), settings.trusted_proxies
    )


def cookie_token(request: web.Request) -> str | None:
    value = request.cookies.get(REFRESH_COOKIE)
    return value if value and len(value) <= 256 else None


def require_json(request: web.Request) -> None:
    """Cookie-mode calls must be `Content-Type: application/json`: an HTML form on another
    site cannot send that (only a script, which CORS stops), so no page elsewhere can log
    a browser in to an account of its choosing or rotate its cookie (login CSRF)."""
    if request.content_type != "application/json":
        raise BadRequest("cookie mode needs Content-Type: application/json")


def set_refresh_cookie(resp: web.StreamResponse, request: web.Request, settings: Settings, token: str) -> None:
    resp.set_cookie(
        REFRESH_COOKIE,
        token,
        path=COOKIE_PATH,
        max_age=settings.refresh_token_ttl_s,
        httponly=True,
        samesite="Strict",
        secure=_https(request, settings),
    )


def clear_refresh_cookie(resp: web.StreamResponse, request: web.Request, settings: Settings) -> None:
    resp.set_cookie(
        REFRESH_COOKIE, "", path=COOKIE_PATH, max_age=0, httponly=True, samesite="Strict", secure=_https(request, settings)
    )


def token_response(pair: TokenPair, request: web.Request, settings: Settings, *, cookie: bool) -> web.Response:
    """The login/refresh reply; in cookie mode the refresh token is in the cookie only."""
    data: dict[str, Any] = pair.to_wire()
    if not cookie:
        return json_response(data)
    data.pop("refresh_token")
    resp = json_response(data)
    set_refresh_cookie(resp, request, settings, pair.refresh_token)
    return resp


def error_response(exc: SemotError) -> web.Response:
    """An error reply, with Retry-After when the error says how long to wait."""
    resp = json_response({"error": exc.to_wire()}, exc.http_status)
    retry = exc.details.get("retry_after")
    if isinstance(retry, int):
        resp.headers["Retry-After"] = str(retry)
    return resp
