"""Admin API of message retention (docs/retention.md).

`GET/PUT /api/admin/v1/retention`: the policy (days kept per conversation type; 0 or
null: forever) with the last sweep's outcome; `POST /api/admin/v1/retention/run`: sweep
now (waits for it). `GET/POST /api/admin/v1/legal-holds`, `DELETE .../{hold_id}`: the
users and conversations the sweep leaves alone. Reads need `retention.view`, changes
`retention.write`; every change is audited (retention.update, retention.run,
legal_hold.add, legal_hold.remove).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.domain.retention import MAX_DAYS, MAX_REASON, LegalHold, RetentionPolicy, RetentionRun
from semot.errors import Unavailable
from semot.services.retention import RetentionService

from .http import Call
from .models import INTEGRAL, NUL_FREE
from .routing import Query, Route, RouteTable

HOLDS_PAGE = 200

Days = Annotated[int, Field(ge=0, le=MAX_DAYS), INTEGRAL]


class RetentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direct_days: Days | None = Field(None, description="days messages of direct chats are kept; 0 or null: forever")
    group_days: Days | None = Field(None, description="days messages of groups are kept; 0 or null: forever")


class RetentionRunOut(BaseModel):
    started_at: int | None = Field(description="when the last sweep started (ms); null: never")
    finished_at: int | None = Field(description="when it ended (ms)")
    deleted: int = Field(description="messages it deleted")
    error: str | None = Field(description="why it stopped, if it failed")


class RetentionOut(BaseModel):
    enabled: bool = Field(description="whether any message expires at all")
    direct_days: int | None
    group_days: int | None
    updated_at: int | None
    updated_by: str | None
    interval_s: float = Field(description="how often the sweep runs (the server's retention_interval_s)")
    batch_size: int = Field(description="messages deleted per transaction (retention_batch_size)")
    last_run: RetentionRunOut


class LegalHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["user", "conv"] = Field(description="user: the user's conversations and messages; conv: one conversation")
    target: Annotated[str, StringConstraints(min_length=1, max_length=140, pattern=NUL_FREE)] = Field(
        description="a user_id, or a conv (d:<a>:<b>, g:<group_id>)"
    )
    reason: Annotated[str, StringConstraints(max_length=MAX_REASON, pattern=NUL_FREE)] = ""


class LegalHoldOut(BaseModel):
    hold_id: str
    kind: Literal["user", "conv"]
    target: str
    reason: str
    created_at: int
    created_by: str | None


class LegalHoldsOut(BaseModel):
    holds: list[LegalHoldOut]
    total: int


def service(call: Call) -> RetentionService:
    svc = call.services.retention
    if svc is None:
        raise Unavailable("retention is not available on this server")
    return svc


def _run(run: RetentionRun) -> dict[str, Any]:
    return {"started_at": run.started_at, "finished_at": run.finished_at, "deleted": run.deleted, "error": run.error}


def _hold(h: LegalHold) -> dict[str, Any]:
    return {"hold_id": h.id, "kind": h.kind, "target": h.target, "reason": h.reason, "created_at": h.created_at,
            "created_by": h.created_by}


def _policy(p: RetentionPolicy) -> dict[str, Any]:
    return {"direct_days": p.direct_days, "group_days": p.group_days}


async def _view(call: Call, policy: RetentionPolicy | None = None) -> dict[str, Any]:
    svc = service(call)
    p = policy or await svc.policy()
    s = call.services.settings
    return {
        "enabled": p.enabled, **_policy(p), "updated_at": p.updated_at, "updated_by": p.updated_by,
        "interval_s": s.retention_interval_s, "batch_size": s.retention_batch_size,
        "last_run": _run(await svc.last_run()),
    }


async def get_retention(call: Call) -> dict[str, Any]:
    return await _view(call)


async def put_retention(call: Call) -> dict[str, Any]:
    body: RetentionIn = call.body
    svc = service(call)
    before = await svc.policy()
    after = await svc.set_policy(body.direct_days, body.group_days, call.me.id)
    await call.audit("retention.update", "retention", before=_policy(before), after=_policy(after))
    return await _view(call, after)


async def run_retention(call: Call) -> dict[str, Any]:
    run = await service(call).run()
    await call.audit("retention.run", "retention", after=_run(run))
    return _run(run)


async def list_holds(call: Call) -> dict[str, Any]:
    holds = await service(call).holds()  # few: paged here (PROTOCOL.md §7: lists take offset and limit <= 200)
    offset, limit = call.query_int("offset") or 0, call.query_int("limit") or HOLDS_PAGE
    return {"holds": [_hold(h) for h in holds[offset:offset + limit]], "total": len(holds)}


async def add_hold(call: Call) -> dict[str, Any]:
    body: LegalHoldIn = call.body
    hold, new = await service(call).add_hold(body.kind, body.target, body.reason, call.me.id)
    if new:
        await call.audit("legal_hold.add", f"{hold.kind}:{hold.target}", after=_hold(hold))
    return _hold(hold)


async def remove_hold(call: Call) -> dict[str, Any]:
    hold = await service(call).remove_hold(call.request.match_info["hold_id"])
    await call.audit("legal_hold.remove", f"{hold.kind}:{hold.target}", before=_hold(hold))
    return {"status": "removed"}


class LegalHoldRemovedOut(BaseModel):
    status: str = Field(description="removed")


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("GET", "/api/admin/v1/retention", get_retention,
                "The retention policy, the sweep's settings and its last run", "admin", None, RetentionOut,
                perm="retention.view", auth="admin"))
    t.add(Route("PUT", "/api/admin/v1/retention", put_retention,
                "Set the retention policy (days per conversation type; 0 or null keeps forever)", "admin",
                RetentionIn, RetentionOut, perm="retention.write", auth="admin"))
    t.add(Route("POST", "/api/admin/v1/retention/run", run_retention,
                "Sweep now (answers when the sweep is done, with its outcome)", "admin", None, RetentionRunOut,
                perm="retention.write", auth="admin"))
    t.add(Route("GET", "/api/admin/v1/legal-holds", list_holds, "Every legal hold, newest first", "admin",
                None, LegalHoldsOut, perm="retention.view", auth="admin",
                query={"offset": Query("skip this many (default 0)"),
                       "limit": Query(f"1-{HOLDS_PAGE}, default {HOLDS_PAGE}", minimum=1, maximum=HOLDS_PAGE)}))
    t.add(Route("POST", "/api/admin/v1/legal-holds", add_hold,
                "Put a user or a conversation on legal hold (an existing hold on it is returned)", "admin",
                LegalHoldIn, LegalHoldOut, perm="retention.write", responses={404: "No such user or conversation"}, auth="admin"))
    t.add(Route("DELETE", "/api/admin/v1/legal-holds/{hold_id}", remove_hold, "Lift a legal hold", "admin",
                None, LegalHoldRemovedOut, perm="retention.write", responses={404: "No such hold"}, auth="admin"))
    return t
