"""The client HTTP API (PROTOCOL.md §3): accounts, groups, message history."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.errors import BadRequest, NotFound

from .http import Call
from .routing import Route, RouteTable


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_In):
    username: Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]
    display_name: Annotated[str, StringConstraints(max_length=128)] | None = None


class RegisterOut(BaseModel):
    user_id: str


class LoginIn(_In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int = Field(description="Access token lifetime in seconds")
    user_id: str
    token_type: str = "Bearer"


class RefreshIn(_In):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class MeOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    is_admin: bool
    created_at: int


class MessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    t: str = "msg"
    conv: str
    seq: int
    mid: str
    cid: str
    from_: str = Field(alias="from")
    kind: str
    body: dict[str, Any]
    ts: int
    opts: dict[str, Any]


class HistoryOut(BaseModel):
    messages: list[MessageOut]
    more: bool


async def register(call: Call) -> dict[str, Any]:
    b: RegisterIn = call.body
    user = await call.services.accounts.register(b.username, b.password, b.display_name)
    return {"user_id": user.id}


async def login(call: Call) -> dict[str, Any]:
    b: LoginIn = call.body
    return (await call.services.accounts.login(b.username, b.password)).to_wire()


async def refresh(call: Call) -> dict[str, Any]:
    return (await call.services.accounts.refresh(call.body.refresh_token)).to_wire()


class LogoutIn(_In):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ProfileOut(BaseModel):
    user_id: str
    username: str
    display_name: str


class ProfilesOut(BaseModel):
    users: list[ProfileOut]


async def logout(call: Call) -> dict[str, Any]:
    await call.services.accounts.logout(call.me.id, call.body.refresh_token)
    return {"status": "logged_out"}


async def profile(call: Call) -> dict[str, Any]:
    uid = call.request.match_info["user_id"]
    found = await call.services.accounts.profiles([uid])
    if not found:
        raise NotFound(f"no user {uid!r}")
    return found[0]


async def profiles(call: Call) -> dict[str, Any]:
    ids = [u for u in call.request.query.get("ids", "").split(",") if u]
    if not ids or len(ids) > 200:
        raise BadRequest("ids: 1-200 comma-separated user ids")
    return {"users": await call.services.accounts.profiles(ids)}


async def me(call: Call) -> dict[str, Any]:
    u = call.me
    return {**u.public(), "is_admin": u.is_admin, "created_at": u.created_at}


async def conversation_messages(call: Call) -> dict[str, Any]:
    conv = call.request.match_info["conv"]
    limit = call.query_int("limit")
    msgs, more = await call.services.messages.history(
        call.me.id,
        conv,
        after=call.query_int("after"),
        before=call.query_int("before"),
        limit=50 if limit is None else limit,
    )
    return {"messages": [m.to_wire() for m in msgs], "more": more}


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("POST", "/api/v1/auth/register", register, "Create an account", "auth", RegisterIn, RegisterOut, 201, None))
    t.add(Route("POST", "/api/v1/auth/login", login, "Log in: access + refresh token", "auth", LoginIn, TokenOut, 200, None))
    t.add(Route("POST", "/api/v1/auth/refresh", refresh, "Rotate the refresh token", "auth", RefreshIn, TokenOut, 200, None))
    t.add(Route("POST", "/api/v1/auth/logout", logout, "Log out: revoke this login's refresh token", "auth", LogoutIn, None))
    t.add(Route("GET", "/api/v1/me", me, "The current user", "users", None, MeOut))
    t.add(Route("GET", "/api/v1/users/{user_id}", profile, "A user's public profile", "users", None, ProfileOut))
    t.add(Route("GET", "/api/v1/users", profiles, "Public profiles of up to 200 users (?ids=a,b)", "users", None, ProfilesOut))
    t.add(
        Route(
            "GET",
            "/api/v1/conversations/{conv}/messages",
            conversation_messages,
            "Message history of a conversation (as WebSocket `history`)",
            "messages",
            None,
            HistoryOut,
            query={"after": "messages with seq > after", "before": "messages with seq < before", "limit": "1-200, default 50"},
        )
    )
    return t
