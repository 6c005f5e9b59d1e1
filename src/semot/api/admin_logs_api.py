"""Admin API of the login log (PROTOCOL.md §7): every login attempt, filtered and paged,
and the same filters exported as CSV.

`GET /api/admin/v1/login-logs` answers `{"logs":[...],"total","offset"}`, newest first;
`GET /api/admin/v1/login-logs.csv` streams every matching row (up to a million) as a
UTF-8 CSV that spreadsheets open as they are (a byte-order mark, so Excel reads
Chinese names right), with every cell that a spreadsheet would take for a formula
(= + - @, tab, carriage return first) prefixed with `'`. Both need `login_logs.view`
and see only the users inside the administrator's departments (services/admin_access).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from semot.ids import ID_PATTERN, now_ms
from semot.services.login_log import LoginLog
from semot.storage.login_logs import REASONS, LoginLogEntry, LoginLogQuery

from .http import Call
from .models import MAX_SAFE_INT
from .routing import Query, Route, RouteTable

MAX_PAGE = 200
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = [
    "time",
    "user_id",
    "username",
    "display_name",
    "ok",
    "reason",
    "ip",
    "device",
    "platform",
    "method",
    "user_agent",
]


class LoginLogOut(BaseModel):
    id: int = Field(description="increases with every entry")
    ts: int = Field(description="when the attempt was made (ms since the epoch)")
    user_id: str | None = Field(description="the account the username matched; null when it matched none")
    username: str = Field(description="the username as typed")
    display_name: str | None = Field(description="the account's display name now (null: no such account)")
    ip: str = Field(description="the client's address (X-Forwarded-For believed from trusted proxies only)")
    device: str = Field(description="the device id the client declared, else its browser and system")
    platform: str = Field(description="web, desktop, android, ios, bot or sdk; empty when unknown")
    user_agent: str
    ok: bool
    reason: str = Field(description=f"why it failed: {', '.join(REASONS)}; empty on success")
    method: str = Field(description="password (single sign-on later: sso)")


class LoginLogsOut(BaseModel):
    logs: list[LoginLogOut]
    total: int
    offset: int


FILTERS: dict[str, Query | str] = {
    "user_id": Query("only this user's attempts", "string", max_length=64, min_length=1, pattern=ID_PATTERN),
    "from": Query("from this time (ms, inclusive)", maximum=MAX_SAFE_INT),
    "to": Query("up to this time (ms, inclusive)", maximum=MAX_SAFE_INT),
    "ok": Query(
        "true: successful logins only; false: failed ones only", "string", max_length=5, pattern="^(true|false)$"
    ),
    "ip": Query(
        "a whole address, or the start of addresses (10.0.)",
        "string",
        max_length=64,
        min_length=1,
        pattern="^[0-9A-Fa-f.:]+$",
    ),
    "q": Query("a part of the username or user id (any case)", "string", max_length=64, min_length=1),
}
PAGE: dict[str, Query | str] = {
    "offset": Query("skip this many (default 0)"),
    "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
}
CSV_QUERY: dict[str, Query | str] = {
    "tz": Query("the times' zone, in minutes east of UTC (480: UTC+8); default 0", minimum=-840, maximum=840),
}


async def _query(call: Call) -> LoginLogQuery:
    since, to = call.query_int("from"), call.query_int("to")  # from after to: nothing matches
    ok = call.query_str("ok")
    scope = None
    if call.grant is not None:
        ids = await call.services.admin.scope_user_ids(call.grant)
        scope = None if ids is None else frozenset(ids)
    return LoginLogQuery(
        user_id=call.query_str("user_id"),
        since=since,
        until=None if to is None else to + 1,
        ok=None if ok is None else ok == "true",
        ip=call.query_str("ip"),
        q=call.query_str("q"),
        user_ids=scope,
    )


async def _names(call: Call, entries: list[LoginLogEntry]) -> dict[str, str]:
    ids = {e.user_id for e in entries if e.user_id}
    return {u.id: u.display_name for u in await call.services.storage.users.users_by_ids(ids)} if ids else {}


def _login_log(call: Call) -> LoginLog:
    log = call.services.login_log
    assert log is not None, "the composition root sets it"
    return log


async def login_logs(call: Call) -> dict[str, Any]:
    query = await _query(call)
    offset = call.query_int("offset") or 0
    entries, total = await _login_log(call).page(query, offset=offset, limit=call.query_int("limit") or 50)
    names = await _names(call, entries)
    logs = [{**e.to_wire(), "display_name": names.get(e.user_id) if e.user_id else None} for e in entries]
    return {"logs": logs, "total": total, "offset": offset}


def safe_cell(value: object) -> str:
    """A CSV cell no spreadsheet runs as a formula (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_rows(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([[safe_cell(c) for c in row] for row in rows])
    return buf.getvalue().encode("utf-8")


def _row(e: LoginLogEntry, names: dict[str, str], zone: timezone) -> list[object]:
    when = datetime.fromtimestamp(e.ts / 1000, zone).strftime("%Y-%m-%d %H:%M:%S")
    name = names.get(e.user_id, "") if e.user_id else ""
    return [
        when,
        e.user_id or "",
        e.username,
        name,
        "true" if e.ok else "false",
        e.reason,
        e.ip,
        e.device,
        e.platform,
        e.method,
        e.user_agent,
    ]


async def login_logs_csv(call: Call) -> web.StreamResponse:
    query = await _query(call)
    tz = call.query_int("tz") or 0
    zone = timezone(timedelta(minutes=tz)) if tz else UTC
    batches = _login_log(call).export(query)
    first: list[LoginLogEntry] = await anext(batches, [])  # before any byte is sent: a failure is still a JSON error
    await call.audit(
        "login_logs.export",
        "login-logs",
        after={
            k: v
            for k, v in {
                "user_id": query.user_id,
                "from": call.query_int("from"),
                "to": call.query_int("to"),
                "ok": query.ok,
                "ip": query.ip,
                "q": query.q,
            }.items()
            if v is not None
        },
    )
    stamp = datetime.fromtimestamp(now_ms() / 1000, zone).strftime("%Y%m%d-%H%M")
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="login-logs-{stamp}.csv"',
            "Cache-Control": "no-store",
        }
    )
    await resp.prepare(call.request)
    offset = datetime.now(zone).strftime("%z")
    header: list[object] = [f"time (UTC{offset[:3]}:{offset[3:]})", *CSV_HEADER[1:]]
    await resp.write(b"\xef\xbb\xbf" + csv_rows([header]))
    batch = first
    while batch:
        names = await _names(call, batch)
        await resp.write(csv_rows([_row(e, names, zone) for e in batch]))
        batch = await anext(batches, [])
    await resp.write_eof()
    return resp


def routes() -> RouteTable:
    t = RouteTable()
    t.add(
        Route(
            "GET",
            "/api/admin/v1/login-logs",
            login_logs,
            "Login attempts, successful and failed (with why), newest first",
            "admin: login logs",
            None,
            LoginLogsOut,
            auth="admin",
            perm="login_logs.view",
            query={**FILTERS, **PAGE},
        )
    )
    t.add(
        Route(
            "GET",
            "/api/admin/v1/login-logs.csv",
            login_logs_csv,
            "The login attempts matching the filters as CSV (UTF-8 with a BOM; formula-safe cells), newest first",
            "admin: login logs",
            None,
            None,
            auth="admin",
            perm="login_logs.view",
            query={**FILTERS, **CSV_QUERY},
            reply_media="text/csv",
        )
    )
    return t
