"""Message search over HTTP (docs/search.md):

- `GET /api/v1/messages/search`: a user's own search (as the WebSocket `search` frame);
- `GET /api/admin/v1/messages`: the audit search over every conversation (PROTOCOL.md §7),
  each <msg> with the sending device's `ip`;
- `GET /api/admin/v1/conversations/{conv}/messages?around=&limit=`: the conversation
  around a hit;
- `GET /api/admin/v1/messages.csv`: the audit search's matches as CSV (UTF-8 with a BOM,
  formula-safe cells, at most services.search.CSV_MAX_ROWS rows), audited.

The admin routes need `messages.audit`; an administrator limited to departments finds
only messages sent by users inside them, and sees the context of a conversation only
when one of its members is inside them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from semot.errors import NotFound
from semot.ids import now_ms
from semot.services.search import CSV_MAX_ROWS, MAX_AUDIT_LIMIT, MAX_USER_LIMIT, SearchService
from semot.storage.search import COUNT_CAP, SearchHit, SearchQuery

from .admin_logs_api import csv_rows
from .client_api import MessageOut
from .http import Call
from .models import MAX_SAFE_INT
from .routing import CONV, ID, Query, Route, RouteTable

KIND = Query("a message kind (text, image, file, ...)", "string", max_length=32, min_length=1, pattern="^[a-z_]{1,32}$")
Q = Query("keywords: every word must occur; Chinese is found inside longer text", "string", max_length=200)


class MessageSearchOut(BaseModel):
    hits: list[MessageOut] = Field(description="matching messages, newest first")
    next: str | None = Field(description="pass as `cursor` for the next page; null: no more")


class AuditMessageOut(MessageOut):
    ip: str | None = Field(description="the IP of the device that sent it (null: not recorded)")


class AuditSearchOut(BaseModel):
    messages: list[AuditMessageOut]
    total: int = Field(description=f"how many match (exact up to {COUNT_CAP})")
    total_capped: bool = Field(description=f"true: more than {COUNT_CAP} match and `total` stopped there")


class ContextOut(BaseModel):
    messages: list[AuditMessageOut] = Field(description="oldest first, centred on `around`")
    more_before: bool
    more_after: bool


USER_QUERY: dict[str, Query | str] = {
    "q": Q,
    "conv": CONV,
    "sender": ID,
    "kind": KIND,
    "since": Query("sent at or after (ms)", maximum=MAX_SAFE_INT),
    "until": Query("sent at or before (ms)", maximum=MAX_SAFE_INT),
    "limit": Query(f"1-{MAX_USER_LIMIT}, default 20", minimum=1, maximum=MAX_USER_LIMIT),
    "cursor": Query("the `next` of the previous page", "string", max_length=18, min_length=1, pattern="^[0-9]{1,18}$"),
}
AUDIT_FILTERS: dict[str, Query | str] = {
    "q": Q,
    "user_id": Query("sent by this user", "string", max_length=64, min_length=1, pattern=ID.pattern),
    "receiver": Query(
        "in this user's conversations, sent by others", "string", max_length=64, min_length=1, pattern=ID.pattern
    ),
    "conv": CONV,
    "kind": KIND,
    "from": Query("sent at or after (ms)", maximum=MAX_SAFE_INT),
    "to": Query("sent at or before (ms)", maximum=MAX_SAFE_INT),
    "ip": Query(
        "a whole address, or the start of addresses (10.0.)", "string", max_length=64, min_length=1,
        pattern="^[0-9A-Fa-f.:]+$",
    ),
}
PAGE: dict[str, Query | str] = {
    "offset": Query("skip this many (default 0)", maximum=1_000_000),
    "limit": Query(f"1-{MAX_AUDIT_LIMIT}, default 50", minimum=1, maximum=MAX_AUDIT_LIMIT),
}
CSV_QUERY: dict[str, Query | str] = {
    "tz": Query("the times' zone, in minutes east of UTC (480: UTC+8); default 0", minimum=-840, maximum=840),
}
CONTEXT_QUERY: dict[str, Query | str] = {
    "around": Query("the seq to centre on", minimum=1, required=True),
    "limit": Query(f"1-{MAX_AUDIT_LIMIT}, default 20", minimum=1, maximum=MAX_AUDIT_LIMIT),
}
CSV_HEADER = ["time", "conv", "seq", "from", "username", "kind", "text", "ip", "mid"]


def _search(call: Call) -> SearchService:
    search = call.services.search
    assert search is not None, "the composition root sets it"
    return search


async def user_search(call: Call) -> dict[str, Any]:
    return await _search(call).user_search(
        call.me.id,
        q=call.query_str("q"),
        conv=call.query_str("conv"),
        sender=call.query_str("sender"),
        kind=call.query_str("kind"),
        since=call.query_int("since"),
        until=call.query_int("until"),
        limit=call.query_int("limit") or 20,
        cursor=call.query_str("cursor"),
    )


async def _scope(call: Call) -> frozenset[str] | None:
    if call.grant is None:
        return None
    ids = await call.services.admin.scope_user_ids(call.grant)
    return None if ids is None else frozenset(ids)


async def _audit_query(call: Call) -> SearchQuery | None:
    return _search(call).audit_query(
        q=call.query_str("q"),
        user_id=call.query_str("user_id"),
        receiver=call.query_str("receiver"),
        conv=call.query_str("conv"),
        kind=call.query_str("kind"),
        since=call.query_int("from"),
        until=call.query_int("to"),
        ip=call.query_str("ip"),
        scope=await _scope(call),
    )


async def audit_search(call: Call) -> dict[str, Any]:
    return await _search(call).audit_search(
        await _audit_query(call), offset=call.query_int("offset") or 0, limit=call.query_int("limit") or 50
    )


async def context(call: Call) -> dict[str, Any]:
    conv = call.request.match_info["conv"]
    scope = await _scope(call)
    if scope is not None:
        members = await call.services.storage.messages.conv_members(conv)
        if not scope.intersection(members):
            raise NotFound("no such conversation within your departments")
    around = call.query_int("around") or 1
    return await _search(call).context(conv, around, call.query_int("limit") or 20)


def _text(kind: str, body: dict[str, Any]) -> str:
    for key in ("text", "name", "title"):
        value = body.get(key)
        if isinstance(value, str):
            return value
    return ""


async def audit_csv(call: Call) -> web.StreamResponse:
    query = await _audit_query(call)
    tz = call.query_int("tz") or 0
    zone = timezone(timedelta(minutes=tz)) if tz else UTC
    batches = _search(call).export(query)
    first: list[SearchHit] = await anext(batches, [])  # before any byte: a failure is still a JSON error
    filters = {k: call.request.query.get(k) for k in AUDIT_FILTERS if call.request.query.get(k)}
    await call.audit("messages.export", "messages", after=filters)
    stamp = datetime.fromtimestamp(now_ms() / 1000, zone).strftime("%Y%m%d-%H%M")
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="messages-{stamp}.csv"',
            "Cache-Control": "no-store",
        }
    )
    await resp.prepare(call.request)
    offset = datetime.now(zone).strftime("%z")
    await resp.write(b"\xef\xbb\xbf" + csv_rows([[f"time (UTC{offset[:3]}:{offset[3:]})", *CSV_HEADER[1:]]]))
    batch = first
    while batch:
        senders = {h.message.sender for h in batch}
        names = {u.id: u.username for u in await call.services.storage.users.users_by_ids(senders)}
        rows: list[list[object]] = []
        for h in batch:
            m = h.message
            when = datetime.fromtimestamp(m.ts / 1000, zone).strftime("%Y-%m-%d %H:%M:%S")
            rows.append([when, m.conv, m.seq, m.sender, names.get(m.sender, ""), m.kind, _text(m.kind, m.body), h.ip or "", m.mid])
        await resp.write(csv_rows(rows))
        batch = await anext(batches, [])
    await resp.write_eof()
    return resp


def routes() -> RouteTable:
    t = RouteTable()
    t.add(
        Route(
            "GET", "/api/v1/messages/search", user_search,
            "Search your own messages (conversations you are in now), newest first (as WebSocket `search`)",
            "messages", None, MessageSearchOut, query=USER_QUERY,
        )
    )
    t.add(
        Route(
            "GET", "/api/admin/v1/messages", audit_search,
            "Audit search over every conversation, newest first, with the sending device's IP",
            "admin: messages", None, AuditSearchOut, auth="admin", perm="messages.audit",
            query={**AUDIT_FILTERS, **PAGE},
        )
    )
    t.add(
        Route(
            "GET", "/api/admin/v1/messages.csv", audit_csv,
            f"The audit search's matches as CSV (UTF-8 with a BOM; formula-safe cells; at most {CSV_MAX_ROWS} rows)",
            "admin: messages", None, None, auth="admin", perm="messages.audit",
            query={**AUDIT_FILTERS, **CSV_QUERY}, reply_media="text/csv",
        )
    )
    t.add(
        Route(
            "GET", "/api/admin/v1/conversations/{conv}/messages", context,
            "The messages of a conversation around one seq (an audit hit's context), with IPs",
            "admin: messages", None, ContextOut, auth="admin", perm="messages.audit", query=CONTEXT_QUERY,
        )
    )
    return t
