"""The public side of one-time set-password links (services/password_links.py).

The web client opens `/#/set-password?token=...` (the token travels in the URL's
fragment, which browsers never send to a server or in a Referer), asks whose link it
is (`check`), then sets the password (`POST /api/v1/auth/set-password`) and signs in
with it as with any login. The token is sent in a JSON body, never in a URL, so it
stays out of access logs. Both answer an unknown, used or expired link alike (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.errors import BadRequest
from semot.services.password_links import MAX_TOKEN
from semot.services.user_admin import UserAdmin

from .http import Call
from .routing import Route, RouteTable

Token = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkCheckIn(_In):
    token: Token


class LinkCheckOut(BaseModel):
    user_id: str
    username: str = Field(description="sign in with it once the password is set")
    display_name: str
    expires_at: int


class SetPasswordIn(_In):
    token: Token
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]


class SetPasswordOut(BaseModel):
    user_id: str
    username: str


def _service(call: Call) -> UserAdmin:
    ua = call.services.user_admin
    if ua is None:
        raise BadRequest("set-password links are not available on this server")
    return ua


async def check_password_link(call: Call) -> dict[str, Any]:
    b: LinkCheckIn = call.body
    user, link = await _service(call).links.check(b.token)
    return {
        "user_id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "expires_at": link.expires_at,
    }


async def set_password_by_link(call: Call) -> dict[str, Any]:
    b: SetPasswordIn = call.body
    user = await _service(call).links.use(b.token, b.password)
    return {"user_id": user.id, "username": user.username}


def routes() -> RouteTable:
    t = RouteTable()
    tag = "auth"
    t.add(
        Route(
            "POST",
            "/api/v1/auth/set-password/check",
            check_password_link,
            "Whose one-time set-password link this is (404: invalid, expired or used; 403: account disabled)",
            tag,
            LinkCheckIn,
            LinkCheckOut,
            auth=None,
        )
    )
    t.add(
        Route(
            "POST",
            "/api/v1/auth/set-password",
            set_password_by_link,
            "Set the password with a one-time link (used up; every login of the user ends); then log in",
            tag,
            SetPasswordIn,
            SetPasswordOut,
            auth=None,
        )
    )
    return t
