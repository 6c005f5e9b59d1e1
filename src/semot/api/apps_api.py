"""Apps inside the client (docs/apps.md): identity tokens for the custom pages.

- `POST /api/v1/apps/identity-token` (the signed-in user): a short-lived token naming the
  user, for the configured page `url` (a page of the client configuration opened as a
  tab); the web client hands it to the page over the bridge (web/app/bridge/).
- `POST /api/server/v1/apps/verify-identity` (a server API key with the `users` scope):
  the page's backend presents the token and its own origin, and gets the user.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.errors import Unavailable
from semot.services.app_identity import AppIdentity, check_origin

from .http import Call
from .models import NUL_FREE
from .routing import Route, RouteTable

APP_IDENTITY: web.AppKey[AppIdentity] = web.AppKey("app_identity", AppIdentity)
TAG = "apps"
# scheme://host[:port], a trailing slash tolerated. Control characters and ASCII spaces are
# spelled out: `\s` differs between JSON Schema (ECMA) and pydantic's regex (Unicode: U+0085)
ORIGIN = "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\x00-\\x20\\x7f-\\x9f]+/?$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityTokenIn(_In):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=NUL_FREE)] = Field(
        description="The url of a custom page of the client configuration opened in the client (open: tab)"
    )


class IdentityTokenOut(BaseModel):
    token: str = Field(description="A JWT for the page's backend to verify with the server API")
    expires_in: int = Field(description="seconds it stays valid")
    audience: str = Field(description="the page's origin: the only backend the token is good for")


class VerifyIdentityIn(_In):
    token: Annotated[str, StringConstraints(min_length=1, max_length=8192, pattern=NUL_FREE)]
    audience: Annotated[str, StringConstraints(min_length=8, max_length=300, pattern=ORIGIN)] = Field(
        description="Your page's origin (scheme://host[:port]) as configured in Semot: a token issued for "
        "another page is refused"
    )


class IdentityDepartmentOut(BaseModel):
    department_id: str
    name: str
    title: str


class VerifiedIdentityOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    departments: list[IdentityDepartmentOut] = Field(description="as when the token was issued")
    audience: str
    issued_at: int
    expires_at: int = Field(description="Unix seconds; ask the bridge for a new token after this")


def _identity(call: Call) -> AppIdentity:
    service = call.request.app.get(APP_IDENTITY)
    if service is None or call.services.client_settings is None:
        raise Unavailable("apps are not available on this server")
    return service


async def identity_token(call: Call) -> dict[str, Any]:
    b: IdentityTokenIn = call.body
    service = _identity(call)
    assert call.services.client_settings is not None
    audience = service.page_origin(call.services.client_settings.public, b.url)
    issued = await service.issue(call.me.id, audience)
    return {"token": issued.token, "expires_in": issued.expires_in, "audience": issued.audience}


async def verify_identity(call: Call) -> dict[str, Any]:
    b: VerifyIdentityIn = call.body
    return await _identity(call).verify(b.token, check_origin(b.audience))


def install(app: web.Application, service: AppIdentity) -> None:
    app[APP_IDENTITY] = service


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("POST", "/api/v1/apps/identity-token", identity_token,
                "A short-lived identity token of the signed-in user for a custom page (app) of the client", TAG,
                IdentityTokenIn, IdentityTokenOut))
    t.add(Route("POST", "/api/server/v1/apps/verify-identity", verify_identity,
                "Verify an app identity token (its signature, expiry and audience) and get the user it names",
                "server", VerifyIdentityIn, VerifiedIdentityOut, auth="server", perm="users"))
    return t
