"""Admin API for the admin audit log (GET /api/admin/v1/audit-log, PROTOCOL.md §7).

Every change an administrator makes is an entry: who (`admin`), what (`action`, e.g.
user.update), on what (`target`), from where (`ip`), when (`ts`, ms), and the state
`before` and `after` as JSON. Filtered by any of these, newest first, paged.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from semot.ids import ID_PATTERN
from semot.storage.admin_rbac import AuditEntry, AuditQuery

from .http import Call
from .models import MAX_SAFE_INT
from .routing import Query, Route, RouteTable

MAX_PAGE = 200
ACTION = "^[a-z_]+(\\.[a-z_]+)*\\.?$"


class AuditEntryOut(BaseModel):
    id: int = Field(description="increases with every entry")
    admin: str = Field(description="the administrator's user id")
    admin_name: str = Field(description="their username (empty if the account is gone)")
    action: str = Field(description="e.g. user.update, role.create, admin.grant, department.move")
    target: str = Field(description="what the action was on: a user, role, department, group id...")
    ip: str
    ts: int = Field(description="ms since the epoch")
    before: Any = Field(None, description="the state before (JSON), null if none")
    after: Any = Field(None, description="the state after (JSON), null if none")


class AuditLogOut(BaseModel):
    entries: list[AuditEntryOut]
    total: int
    offset: int


QUERY: dict[str, Query | str] = {
    "admin": Query(
        "only this administrator's actions (user id)", "string", max_length=64, min_length=1, pattern=ID_PATTERN
    ),
    "action": Query(
        "only this action; ending in '.', every action it starts (user.)",
        "string",
        max_length=64,
        min_length=1,
        pattern=ACTION,
    ),
    "target": Query(
        "only actions on this (a user, group, role, department id...)", "string", max_length=256, min_length=1
    ),
    "from": Query("from this time (ms, inclusive)", maximum=MAX_SAFE_INT),
    "to": Query("up to this time (ms, inclusive)", maximum=MAX_SAFE_INT),
    "offset": Query("skip this many (default 0)"),
    "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
}


def entry_out(e: AuditEntry, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": e.id,
        "admin": e.admin,
        "admin_name": names.get(e.admin, ""),
        "action": e.action,
        "target": e.target,
        "ip": e.ip,
        "ts": e.ts,
        "before": e.before,
        "after": e.after,
    }


async def admin_audit_log(call: Call) -> dict[str, Any]:
    since, until = call.query_int("from"), call.query_int("to")  # from after to: nothing matches
    query = AuditQuery(
        admin=call.query_str("admin"),
        action=call.query_str("action"),
        target=call.query_str("target"),
        since=since,
        until=until,
        offset=call.query_int("offset") or 0,
        limit=call.query_int("limit") or 50,
    )
    entries, total = await call.services.admin.audit_log(query)
    users = await call.services.storage.users.users_by_ids({e.admin for e in entries})
    names = {u.id: u.username for u in users}
    return {"entries": [entry_out(e, names) for e in entries], "total": total, "offset": query.offset}


def routes() -> RouteTable:
    t = RouteTable()
    t.add(
        Route(
            "GET",
            "/api/admin/v1/audit-log",
            admin_audit_log,
            "What administrators changed, newest first, with the state before and after",
            "admin: audit log",
            None,
            AuditLogOut,
            auth="admin",
            perm="audit.view",
            query=QUERY,
        )
    )
    return t
