"""Developer tools: the live protocol log of one user, and client error reports.

- `POST /api/admin/v1/protocol-log/sessions` {user_id, minutes}: capture every frame of
  the user, in and out, on every node, for `minutes` (default 10, at most 60);
  `DELETE .../sessions/{user_id}` stops it; `GET .../sessions` lists the running ones;
  `GET /api/admin/v1/protocol-log?user_id=&after=` reads the captured frames after a
  cursor (poll with the `cursor` of the previous reply). Tokens, passwords and URL
  signatures are redacted before anything is stored (services/frame_redact.py).
- `POST /api/v1/client-errors`: a browser's uncaught error, signed in or not
  (services/client_errors.py), listed at `GET /api/admin/v1/client-errors`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.domain.devtools import ClientErrorFilter, LogSession
from semot.errors import RateLimited, SemotError, Unavailable
from semot.services.client_errors import ClientErrorService
from semot.services.client_ip import client_ip
from semot.services.protocol_log import DEFAULT_MINUTES, MAX_MINUTES, ProtocolLog

from .auth_http import error_response
from .http import Call
from .models import UserId
from .routing import ID, Query, Route, RouteTable

MAX_MESSAGE = 2000
MAX_STACK = 16_000
MAX_URL = 2000
MAX_VERSION = 64
MAX_USER_AGENT = 512


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogSessionIn(_In):
    user_id: UserId
    minutes: float = Field(
        DEFAULT_MINUTES,
        gt=0,
        le=MAX_MINUTES,
        description=f"how long to capture, in minutes (default {DEFAULT_MINUTES}, at most {MAX_MINUTES}; "
        "fractions allowed, at least one second is used)",
    )


class LogSessionOut(BaseModel):
    user_id: str
    username: str | None = Field(description="null: no such user any more")
    display_name: str | None
    until: int = Field(description="ms since the epoch: capture ends then")
    started_by: str
    started_at: int


class LogSessionsOut(BaseModel):
    sessions: list[LogSessionOut]


class LogStoppedOut(BaseModel):
    stopped: bool = Field(description="false: no session was running")


class LogFrameOut(BaseModel):
    id: int = Field(description="the cursor: ask with after=<the last id seen>")
    ts: int
    dir: Literal["in", "out"] = Field(description="in: from the client; out: to the client")
    node: str = Field(description="the server node that holds the connection")
    device_id: str
    platform: str
    session_id: str
    size: int = Field(description="the payload's size in bytes")
    text: str = Field(description="the payload, redacted and cut to a bound")
    truncated: bool


class LogFramesOut(BaseModel):
    frames: list[LogFrameOut]
    cursor: int = Field(description="pass as `after` next time")
    more: bool = Field(description="more frames are waiting: ask again at once")
    session: LogSessionOut | None = Field(description="the running session, null when capture is off")


class ClientErrorIn(_In):
    app: Literal["web", "admin"]
    message: Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE)]
    stack: Annotated[str, StringConstraints(max_length=MAX_STACK)] = ""
    url: Annotated[str, StringConstraints(max_length=MAX_URL)] = ""
    version: Annotated[str, StringConstraints(max_length=MAX_VERSION)] = ""
    user_agent: Annotated[str, StringConstraints(max_length=MAX_USER_AGENT)] = Field(
        "", description="default: the request's User-Agent header"
    )


class ClientErrorReportedOut(BaseModel):
    id: int


class ClientErrorOut(BaseModel):
    id: int
    ts: int
    user_id: str | None = Field(description="null: reported before signing in (or with an expired token)")
    ip: str
    app: str
    version: str
    message: str
    stack: str
    url: str
    user_agent: str


class ClientErrorsOut(BaseModel):
    errors: list[ClientErrorOut]
    total: int


def _plog(call: Call) -> ProtocolLog:
    plog = call.services.protocol_log
    if plog is None:
        raise Unavailable("the protocol log is not running on this node")
    return plog


def _reports(call: Call) -> ClientErrorService:
    svc = call.services.client_errors
    if svc is None:
        raise Unavailable("client error reports are not collected on this node")
    return svc


def _ip(call: Call) -> str:
    req = call.request
    return client_ip(req.remote, req.headers.getall("X-Forwarded-For", []), call.services.settings.trusted_proxies)


async def _sessions_out(call: Call, sessions: list[LogSession]) -> list[dict[str, Any]]:
    users = {u.id: u for u in await call.services.storage.users.users_by_ids([s.user_id for s in sessions])}
    out = []
    for s in sessions:
        u = users.get(s.user_id)
        out.append(
            {**s.to_wire(), "username": u.username if u else None, "display_name": u.display_name if u else None}
        )
    return out


# --- protocol log
async def plog_start(call: Call) -> dict[str, Any]:
    b: LogSessionIn = call.body
    assert call.grant is not None
    await call.services.accounts.get(b.user_id)  # 404 for no such user
    await call.services.admin.check_user_scope(call.grant, b.user_id)
    session = await _plog(call).start_session(b.user_id, b.minutes, call.me.id)
    await call.audit("protocol_log.start", b.user_id, after={"until": session.until, "minutes": b.minutes})
    return (await _sessions_out(call, [session]))[0]


async def plog_stop(call: Call) -> dict[str, Any]:
    uid = call.request.match_info["user_id"]
    assert call.grant is not None
    await call.services.admin.check_user_scope(call.grant, uid)
    ended = await _plog(call).stop_session(uid)
    if ended is not None:
        await call.audit("protocol_log.stop", uid, before={"until": ended.until})
    return {"stopped": ended is not None}


async def plog_sessions(call: Call) -> dict[str, Any]:
    assert call.grant is not None
    sessions = await _plog(call).sessions()
    scope = await call.services.admin.scope_user_ids(call.grant)
    if scope is not None:
        sessions = [s for s in sessions if s.user_id in scope]
    return {"sessions": await _sessions_out(call, sessions)}


async def plog_frames(call: Call) -> dict[str, Any]:
    uid = call.query_str("user_id") or ""
    assert call.grant is not None
    await call.services.admin.check_user_scope(call.grant, uid)
    after = call.query_int("after") or 0
    limit = call.query_int("limit") or 200
    plog = _plog(call)
    frames = await plog.frames(uid, after=after, limit=limit)
    session = await plog.session(uid)
    return {
        "frames": [f.to_wire() for f in frames],
        "cursor": frames[-1].id if frames else after,
        "more": len(frames) == limit,
        "session": (await _sessions_out(call, [session]))[0] if session is not None else None,
    }


# --- client errors
async def client_error_report(call: Call) -> Any:
    b: ClientErrorIn = call.body
    user_id = None
    scheme, _, token = call.request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:  # a token that expired meanwhile: the report is filed anonymously, not lost
            user_id = (await call.services.accounts.authenticate(token.strip())).id
        except SemotError:
            user_id = None
    ua = b.user_agent or call.request.headers.get("User-Agent", "")[:MAX_USER_AGENT]
    try:
        report_id = await _reports(call).report(
            user_id=user_id,
            ip=_ip(call),
            app=b.app,
            version=b.version,
            message=b.message,
            stack=b.stack,
            url=b.url,
            user_agent=ua,
        )
    except RateLimited as exc:
        return error_response(exc)  # with Retry-After
    return {"id": report_id}


async def client_errors_list(call: Call) -> dict[str, Any]:
    assert call.grant is not None
    scope = await call.services.admin.scope_user_ids(call.grant)
    where = ClientErrorFilter(
        app=call.query_str("app"),
        user_id=call.query_str("user_id"),
        q=call.query_str("q") or None,
        since=call.query_int("from"),
        until=call.query_int("to"),
        user_ids=frozenset(scope) if scope is not None else None,
    )
    errors, total = await _reports(call).list(
        where, offset=call.query_int("offset") or 0, limit=call.query_int("limit") or 50
    )
    return {"errors": [e.to_wire() for e in errors], "total": total}


def routes() -> RouteTable:
    t = RouteTable()
    base = "/api/admin/v1/protocol-log"
    t.add(
        Route(
            "POST",
            f"{base}/sessions",
            plog_start,
            "Start capturing a user's WebSocket frames on every node (devtools.write; audited)",
            "admin",
            LogSessionIn,
            LogSessionOut,
            status=201,
            auth="admin",
            perm="devtools.write",
        )
    )
    t.add(
        Route(
            "GET",
            f"{base}/sessions",
            plog_sessions,
            "The running protocol log sessions",
            "admin",
            None,
            LogSessionsOut,
            auth="admin",
            perm="devtools.view",
        )
    )
    t.add(
        Route(
            "DELETE",
            f"{base}/sessions/{{user_id}}",
            plog_stop,
            "Stop capturing a user's frames (devtools.write; audited)",
            "admin",
            None,
            LogStoppedOut,
            auth="admin",
            perm="devtools.write",
        )
    )
    t.add(
        Route(
            "GET",
            base,
            plog_frames,
            "A user's captured frames after a cursor, oldest first (poll with the reply's cursor)",
            "admin",
            None,
            LogFramesOut,
            auth="admin",
            perm="devtools.view",
            query={
                "user_id": Query(
                    "the watched user", "string", max_length=64, min_length=1, pattern=ID.pattern, required=True
                ),
                "after": Query("frames with a higher id than this (the previous reply's cursor); default 0"),
                "limit": Query("at most this many frames (1-200, default 200)", minimum=1, maximum=200),
            },
        )
    )
    t.add(
        Route(
            "POST",
            "/api/v1/client-errors",
            client_error_report,
            "Report an uncaught error of the web client or the console (a bearer token is optional; "
            "rate-limited per user and per address)",
            "devtools",
            ClientErrorIn,
            ClientErrorReportedOut,
            status=202,
            auth=None,
        )
    )
    t.add(
        Route(
            "GET",
            "/api/admin/v1/client-errors",
            client_errors_list,
            "Client error reports, newest first (devtools.view)",
            "admin",
            None,
            ClientErrorsOut,
            auth="admin",
            perm="devtools.view",
            query={
                "app": Query("web or admin", "string", max_length=5, pattern="^(web|admin)$"),
                "user_id": Query("reported by this user", "string", max_length=64, min_length=1, pattern=ID.pattern),
                "q": Query("a part of the message (case-insensitive)", "string", max_length=200),
                "from": Query("reported at or after (ms since the epoch)"),
                "to": Query("reported before (ms since the epoch)"),
                "offset": Query("skip this many", maximum=1_000_000),
                "limit": Query("at most this many (1-200, default 50)", minimum=1, maximum=200),
            },
        )
    )
    return t
