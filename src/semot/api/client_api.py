"""The client HTTP API (PROTOCOL.md §3): accounts, groups, message history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.errors import BadRequest, NotFound, SemotError, Unauthorized
from semot.ids import ID_PATTERN
from semot.protocol.frames import Platform

from .auth_http import (
    REFRESH_COOKIE,
    clear_refresh_cookie,
    cookie_token,
    error_response,
    login_attempt,
    request_ip,
    require_json,
    token_response,
)
from .http import Call, bearer_token
from .models import id_list_pattern
from .profile_api import MeOut, me_wire, profile_service
from .routing import Query, Route, RouteTable, json_response


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_In):
    username: Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]
    display_name: Annotated[str, StringConstraints(max_length=128)] | None = None


class RegisterOut(BaseModel):
    user_id: str


class LoginDeviceIn(_In):
    id: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    platform: Platform


class LoginIn(_In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    cookie: bool = Field(False, description="Browsers: put the refresh token in an HttpOnly cookie, not in the reply")
    device: LoginDeviceIn | None = Field(
        None, description="The device logging in, as in the WebSocket auth frame (shown in the login log)"
    )


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str | None = Field(None, description="Absent in cookie mode (the token is in the cookie)")
    expires_in: int = Field(description="Access token lifetime in seconds")
    user_id: str
    token_type: str = "Bearer"


class RefreshIn(_In):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        None, description="Omitted: the refresh-token cookie is used (and the reply is in cookie mode)"
    )
    cookie: bool = Field(False, description="Move this login to cookie mode (the new refresh token goes in the cookie)")


class ReactionOut(BaseModel):
    emoji: str
    count: int = Field(description="How many reacted with this emoji")
    users: list[str] = Field(description="Who, in the order they reacted (the first 100)")


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
    # edits and reactions (docs/protocol.md): only on a message that has them
    edited_ts: int | None = Field(None, description="When the sender last edited this text message (ms)")
    reactions: list[ReactionOut] | None = Field(None, description="Emoji reactions, first used first")
    # who recalled a recalled message (docs/protocol.md, recall by group managers and administrators)
    recalled_by: str | None = Field(None, description="A recalled message: who recalled it")
    recalled_role: Literal["sender", "group_admin", "admin"] | None = Field(
        None, description="A recalled message: as what it was recalled"
    )


class HistoryOut(BaseModel):
    messages: list[MessageOut]
    more: bool


class ReadsOut(BaseModel):
    reads: dict[str, int] = Field(description="user_id -> read_seq (how far that member has read) for every member")
    joined: dict[str, int] = Field(
        default_factory=dict, description="user_id -> joined_at (ms): when each member joined (Semot extension)"
    )


async def register(call: Call) -> dict[str, Any] | web.Response:
    b: RegisterIn = call.body
    try:
        if call.services.login_methods is not None:  # no new local passwords while password sign-in is off
            call.services.login_methods.check_registration()
        user = await call.services.accounts.register(
            b.username, b.password, b.display_name, ip=request_ip(call.request, call.services.settings)
        )
    except SemotError as exc:
        return error_response(exc)
    return {"user_id": user.id}


async def login(call: Call) -> web.Response:
    b: LoginIn = call.body
    settings = call.services.settings
    try:
        if b.cookie:
            require_json(call.request)
        device = (b.device.id, b.device.platform) if b.device else None
        attempt = login_attempt(call.request, settings, b.username, device)  # for the login log
        # password sign-in may be off (docs/sso.md): the switch is asked after the password
        gate = call.services.login_methods.gate if call.services.login_methods is not None else None
        pair = await call.services.accounts.login(b.username, b.password, ip=attempt.ip, attempt=attempt, gate=gate)
    except SemotError as exc:
        return error_response(exc)
    return token_response(pair, call.request, settings, cookie=b.cookie)


async def refresh(call: Call) -> web.Response:
    b: RefreshIn = call.body
    settings = call.services.settings
    token = b.refresh_token or cookie_token(call.request)
    from_cookie = not b.refresh_token
    try:
        if token is None:
            raise Unauthorized("no refresh token: send refresh_token, or the cookie of a cookie-mode login")
        if from_cookie or b.cookie:
            require_json(call.request)
        pair = await call.services.accounts.refresh(token)
    except SemotError as exc:
        resp = error_response(exc)
        if exc.http_status == 401 and from_cookie and REFRESH_COOKIE in call.request.cookies:
            clear_refresh_cookie(resp, call.request, settings)  # a dead cookie: stop sending it
        return resp
    return token_response(pair, call.request, settings, cookie=from_cookie or b.cookie)


class LogoutOut(BaseModel):
    status: str = Field(description="`logged_out`")


class LogoutIn(_In):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        None, description="The login to end; omitted: the cookie's login, else the bearer token's own login"
    )


class ProfileOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    avatar_url: str | None = Field(None, description="load it in <img> without a token (signed, expires); null: none")


class ProfilesOut(BaseModel):
    users: list[ProfileOut]


async def logout(call: Call) -> web.Response:
    accounts = call.services.accounts
    token = call.body.refresh_token or cookie_token(call.request)
    await accounts.logout(call.me.id, accounts.login_of(bearer_token(call.request)), token)
    resp = json_response({"status": "logged_out"})
    if REFRESH_COOKIE in call.request.cookies:
        clear_refresh_cookie(resp, call.request, call.services.settings)
    return resp


async def profile(call: Call) -> dict[str, Any]:
    uid = call.request.match_info["user_id"]
    found = await profile_service(call).profiles([uid])
    if not found:
        raise NotFound(f"no user {uid!r}")
    return found[0]


async def profiles(call: Call) -> dict[str, Any]:
    ids = [u for u in call.request.query.get("ids", "").split(",") if u]
    if not ids or len(ids) > 200:
        raise BadRequest("ids: 1-200 comma-separated user ids")
    if (cs := call.services.customer_service) is not None:  # customers and visitors: only whom they talk to
        ids = await cs.visible_profiles(call.me.id, ids)
    return {"users": await profile_service(call).profiles(ids) if ids else []}


async def me(call: Call) -> dict[str, Any]:
    # asked by the web client at each connect: whether to show the agent workbench, or
    # only what a restricted user (visitor, customer) may use (its customer mode)
    cs = call.services.customer_service
    return {**me_wire(call), "cs_agent": cs is not None and await cs.is_agent(call.me.id),
            "restricted": cs is not None and await cs.is_restricted(call.me.id)}


def _conv_param(call: Call) -> str:
    conv = call.request.match_info["conv"]
    if conv.startswith("d:"):  # well formed (the route checked), but only one order of the two ids names it
        lo, _, hi = conv[2:].partition(":")
        if not lo.encode() < hi.encode():
            raise NotFound(f"no conversation {conv!r} (a direct one is d:<id>:<id>, the ids in byte order)")
    return conv


async def conversation_messages(call: Call) -> dict[str, Any]:
    conv = _conv_param(call)
    limit = call.query_int("limit")
    msgs, more = await call.services.messages.history(
        call.me.id,
        conv,
        after=call.query_int("after"),
        before=call.query_int("before"),
        limit=50 if limit is None else limit,
    )
    return {"messages": [m.to_wire() for m in msgs], "more": more}


async def conversation_reads(call: Call) -> dict[str, Any]:
    conv = _conv_param(call)
    reads, joined = await call.services.messages.read_marks(call.me.id, conv)
    return {"reads": reads, "joined": joined}


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("POST", "/api/v1/auth/register", register, "Create an account (429 + Retry-After past the per-IP limit)", "auth", RegisterIn, RegisterOut, 201, None))
    t.add(Route("POST", "/api/v1/auth/login", login, "Log in: access + refresh token (429 + Retry-After while locked out)", "auth", LoginIn, TokenOut, 200, None))
    t.add(Route("POST", "/api/v1/auth/refresh", refresh, "Rotate the refresh token (from the body or the cookie)", "auth", RefreshIn, TokenOut, 200, None))
    t.add(Route("POST", "/api/v1/auth/logout", logout, "Log out: end this login (its tokens and sockets)", "auth", LogoutIn, LogoutOut))
    t.add(Route("GET", "/api/v1/me", me, "The current user", "users", None, MeOut))
    t.add(Route("GET", "/api/v1/users/{user_id}", profile, "A user's public profile", "users", None, ProfileOut))
    t.add(
        Route(
            "GET", "/api/v1/users", profiles, "Public profiles of up to 200 users (?ids=a,b)", "users", None, ProfilesOut,
            # ids are ASCII: 7,000 characters (and the commas' %2C) fit the 8 KiB request line
            query={
                "ids": Query(
                    "1-200 comma-separated user ids", "string", max_length=7000, min_length=1,
                    pattern=id_list_pattern(200), required=True,
                )
            },
        )
    )
    t.add(
        Route(
            "GET", "/api/v1/conversations/{conv}/reads", conversation_reads,
            "Every member's read position (read_seq) for group read receipts; members only, and only "
            "for direct chats and groups within read_receipts_max_group (403 beyond); `evt read` keeps it current",
            "messages", None, ReadsOut,
        )
    )
    t.add(
        Route(
            "GET",
            "/api/v1/conversations/{conv}/messages",
            conversation_messages,
            "Message history of a conversation (as WebSocket `history`)",
            "messages",
            None,
            HistoryOut,
            query={
                "after": Query("messages with seq > after"),
                "before": Query("messages with seq < before"),
                "limit": Query("1-200, default 50", minimum=1, maximum=200),
            },
        )
    )
    return t
