"""Identity tokens for the custom pages (apps) shown inside the client (docs/apps.md).

A page of the client configuration opened as a tab (an approval form, a portal) learns
who is using it from a short-lived signed token the client asks for on its behalf and
hands it over the bridge (web/app/bridge/). The page's backend does not trust what the
browser says: it sends the token to the server API (`POST /api/server/v1/apps/verify-identity`,
with its API key), which checks the signature, the expiry, the audience and that the
account is still enabled, and answers with the user.

The token is a JWT (HS256) whose audience is the page's origin: a token handed to one
app is refused when another app's backend presents it (the backend names its own
origin). It is signed with a key derived from the server secret for this use only, so it
is never mistaken for an access token (whose key and `typ` differ) and cannot be used
against the client API. It carries the user's id, username, display name and departments
as they were when it was issued.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from semot.errors import BadRequest, Forbidden, NotFound, Unauthorized
from semot.protocol.client_config import PublicClientConfig, origin
from semot.storage.base import Storage

TYP = "app_identity"
ISSUER = "semot"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int
    audience: str


class AppIdentity:
    """Issues the identity tokens of the configured pages and verifies them."""

    def __init__(self, storage: Storage, secret: str, *, ttl_s: int = 300) -> None:
        self._storage = storage
        # a key of its own, derived from the server secret: never an access token's key
        self._key = hmac.new(secret.encode(), b"semot app identity token v1", hashlib.sha256).hexdigest()
        self.ttl_s = ttl_s

    @staticmethod
    def page_origin(config: PublicClientConfig, url: str) -> str:
        """The origin of the configured page `url` opened in the client (a tab), or 404."""
        for page in config.pages:
            if page.url == url and page.open == "tab":
                return normal_origin(origin(page.url))
        raise NotFound("no custom page opened in the client has this url (client configuration, pages)")

    async def _departments(self, user_id: str) -> list[dict[str, str]]:
        memberships = (await self._storage.org.user_memberships([user_id])).get(user_id, [])
        out: list[dict[str, str]] = []
        for m in memberships:
            dept = await self._storage.org.get_department(m.department_id)
            if dept is not None:
                out.append({"department_id": dept.id, "name": dept.name, "title": m.title})
        return out

    async def issue(self, user_id: str, audience: str) -> IssuedToken:
        """A token for `user_id`, to be handed to the page at `audience` (its origin)."""
        user = await self._storage.users.get_user(user_id)
        if user is None or user.disabled:
            raise Forbidden("this account is disabled")
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "typ": TYP,
            "aud": audience,
            "sub": user.id,
            "username": user.username,
            "name": user.display_name,
            "departments": await self._departments(user.id),
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": secrets.token_urlsafe(12),
        }
        return IssuedToken(jwt.encode(claims, self._key, algorithm="HS256"), self.ttl_s, audience)

    async def verify(self, token: str, audience: str) -> dict[str, Any]:
        """The user a token names, if it is genuine, current, for `audience`, and the
        account is still enabled; else 401 (the token) or 403 (the account)."""
        try:
            claims = jwt.decode(
                token, self._key, algorithms=["HS256"], audience=audience.lower(), issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("identity token expired: ask the bridge for a new one") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("identity token issued for another page (audience)") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid identity token") from None
        if claims.get("typ") != TYP or not isinstance(claims.get("sub"), str):
            raise Unauthorized("invalid identity token")
        user = await self._storage.users.get_user(claims["sub"])
        if user is None or user.disabled:
            raise Forbidden("this account is disabled or gone")
        return {
            "user_id": user.id,
            "username": claims.get("username", user.username),
            "display_name": claims.get("name", user.display_name),
            "departments": claims.get("departments", []),
            "audience": claims["aud"],
            "issued_at": claims["iat"],
            "expires_at": claims["exp"],
        }


DEFAULT_PORTS = {"http": 80, "https": 443}


def normal_origin(text: str) -> str:
    """scheme://host[:port] without the scheme's default port, as a browser writes an
    origin: a page configured as https://x:443/ and its backend naming itself https://x
    are the same audience."""
    scheme, _, rest = text.partition("://")
    host, sep, port = rest.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")  # an IPv6 address
    if sep and port.isdigit() and (bracketed or ":" not in host) and int(port) == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return text


def check_origin(value: str) -> str:
    """An audience as a backend names itself: scheme://host[:port], lower-case."""
    text = value.strip(" \t\r\n").lower().rstrip("/")  # as the schema: other spaces belong to the host
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("http", "https") or not rest or any(c in rest for c in "/?#@ "):
        raise BadRequest("audience: your page's origin, scheme://host[:port] (no path)")
    return normal_origin(text)
