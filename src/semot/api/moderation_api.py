"""Pre-moderation over HTTP (PROTOCOL.md §7, docs/moderation.md).

Reviewers (perm `moderation.review`):
- `GET /api/admin/v1/moderation?status=pending&conv=&sender=&offset=&limit=` ->
  `{"items":[{"mid","conv","from","kind","body","ts", ...extras}],"total","offset"}`;
- `POST /api/admin/v1/moderation/{mid}` `{"action":"approve"|"reject","reason"?}` -> `{}`
  (409 `conflict` when it was decided already: two reviewers never both act);
- `POST /api/admin/v1/moderation` `{"mids":[...],"action","reason"?}` (bulk) ->
  `{"decided":[mid...],"skipped":[{"mid","code","message"}]}`;
- `GET` / `PUT /api/admin/v1/moderation/settings` `{"timeout_s","timeout_action"}`: what
  happens to a message left unreviewed (stored, shared by every node).
Every decision and settings change is audited (`moderation.approve`, `moderation.reject`,
`moderation.settings`).

The sender (any user): `GET /api/v1/moderation/mine` -> `{"items":[...]}`: their messages
under review and those rejected in the last days, so a reloaded client shows them again.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.domain.moderation import MAX_BULK, MAX_REASON, MAX_TIMEOUT_S, STATUSES, HeldMessage
from semot.errors import NotFound
from semot.ids import ID_PATTERN, ID_RE
from semot.services.moderation import ModerationService

from .http import Call
from .models import INTEGRAL
from .routing import CONV, ID, Query, Route, RouteTable

MAX_PAGE = 200
MidStr = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
Reason = Annotated[str, StringConstraints(max_length=MAX_REASON)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModerationDecideIn(_In):
    action: Literal["approve", "reject"]
    reason: Reason | None = Field(None, description="shown to the sender on a rejection")


class ModerationBulkIn(ModerationDecideIn):
    mids: list[MidStr] = Field(min_length=1, max_length=MAX_BULK)


class ModerationSettingsIn(_In):
    timeout_s: Annotated[int, Field(ge=0, le=MAX_TIMEOUT_S), INTEGRAL] = Field(
        description="decide a message left unreviewed this many seconds (0: never; the console edits minutes)"
    )
    timeout_action: Literal["approve", "reject"]


class ModerationDecidedOut(BaseModel):
    """`{}` (the contract's reply)."""


class ModerationSkippedOut(BaseModel):
    mid: str
    code: str = Field(description="not_found or conflict (decided already)")
    message: str


class ModerationBulkOut(BaseModel):
    decided: list[str]
    skipped: list[ModerationSkippedOut]


class HeldMessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    mid: str
    cid: str
    conv: str
    sender: str = Field(alias="from")
    kind: str
    body: dict[str, Any]
    opts: dict[str, Any]
    ts: int = Field(description="when it was sent (ms)")
    status: str = Field(description=", ".join(STATUSES))
    reason: str | None
    reviewer: str | None = Field(description='who decided: an administrator\'s user_id, or "system" (the timeout)')
    reviewed_at: int | None
    seq: int | None = Field(description="its seq in the conversation once approved")


class ModerationItemOut(HeldMessageOut):
    ip: str | None
    group_id: str | None
    group_name: str | None
    sender_name: str | None
    sender_username: str | None
    reviewer_name: str | None


class ModerationQueueOut(BaseModel):
    items: list[ModerationItemOut]
    total: int
    offset: int


class HeldMineOut(BaseModel):
    items: list[HeldMessageOut]


class ModerationSettingsOut(BaseModel):
    timeout_s: int = Field(description="0: messages wait for a reviewer for ever")
    timeout_action: str = Field(description="approve or reject")
    updated_at: int | None
    updated_by: str | None


def _service(call: Call) -> ModerationService:
    service = call.services.moderation
    assert service is not None, "the composition root sets it"
    return service


def _mid(call: Call) -> str:
    mid = call.request.match_info["mid"]
    if len(mid) > 64 or not ID_RE.fullmatch(mid):
        raise NotFound(f"no held message {mid!r}")
    return mid


async def moderation_queue(call: Call) -> dict[str, Any]:
    return await _service(call).queue(
        status=call.query_str("status"),
        conv=call.query_str("conv"),
        sender=call.query_str("sender"),
        offset=call.query_int("offset") or 0,
        limit=call.query_int("limit") or 50,
    )


def _audit_of(held: HeldMessage) -> dict[str, Any]:
    return {"mid": held.mid, "sender": held.sender, "status": held.status, "reason": held.reason, "seq": held.seq}


async def moderation_decide(call: Call) -> dict[str, Any]:
    b: ModerationDecideIn = call.body
    held = await _service(call).decide(call.me.id, _mid(call), b.action, b.reason)
    await _audit(call, held)
    return {}


async def _audit(call: Call, held: HeldMessage, **extra: Any) -> None:
    before = {"mid": held.mid, "status": "pending"}
    after = {**_audit_of(held), **extra}
    if held.status == "approved":
        await call.audit("moderation.approve", held.conv, before=before, after=after)
    else:
        await call.audit("moderation.reject", held.conv, before=before, after=after)


async def moderation_decide_many(call: Call) -> dict[str, Any]:
    b: ModerationBulkIn = call.body
    done, skipped = await _service(call).decide_many(call.me.id, b.mids, b.action, b.reason)
    for held in done:
        await _audit(call, held, bulk=True)
    return {"decided": [h.mid for h in done], "skipped": skipped}


async def moderation_get_settings(call: Call) -> dict[str, Any]:
    return (await _service(call).settings()).to_wire()


async def moderation_put_settings(call: Call) -> dict[str, Any]:
    b: ModerationSettingsIn = call.body
    service = _service(call)
    before = await service.settings()
    after = await service.set_settings(call.me.id, timeout_s=b.timeout_s, timeout_action=b.timeout_action)
    await call.audit(
        "moderation.settings", "moderation",
        before={"timeout_s": before.timeout_s, "timeout_action": before.timeout_action},
        after={"timeout_s": after.timeout_s, "timeout_action": after.timeout_action},
    )
    return after.to_wire()


async def moderation_mine(call: Call) -> dict[str, Any]:
    items = await _service(call).mine(call.me.id)
    return {"items": [{k: v for k, v in i.to_wire().items() if k != "ip"} for i in items]}


def routes() -> RouteTable:
    t = RouteTable()
    base = "/api/admin/v1/moderation"
    tag = "admin: moderation"
    perm = "moderation.review"
    page: dict[str, Query | str] = {
        "status": Query(f"one of {', '.join(STATUSES)} (default: every status)", "string", max_length=16,
                        min_length=1, pattern="^(" + "|".join(STATUSES) + ")$"),
        "conv": CONV,
        "sender": ID,
        "offset": Query("skip this many (default 0)"),
        "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
    }
    t.add(Route("GET", base, moderation_queue, "The moderation queue: pending oldest first, decided newest first", tag,
                None, ModerationQueueOut, auth="admin", perm=perm, query=page))
    t.add(Route("POST", base, moderation_decide_many, f"Approve or reject up to {MAX_BULK} held messages", tag,
                ModerationBulkIn, ModerationBulkOut, auth="admin", perm=perm))
    t.add(Route("GET", base + "/settings", moderation_get_settings, "What happens to messages left unreviewed", tag,
                None, ModerationSettingsOut, auth="admin", perm=perm))
    t.add(Route("PUT", base + "/settings", moderation_put_settings, "Set the review timeout and what it does", tag,
                ModerationSettingsIn, ModerationSettingsOut, auth="admin", perm=perm))
    t.add(Route("POST", base + "/{mid}", moderation_decide, "Approve (stored with the next seq, delivered) or reject one message",
                tag, ModerationDecideIn, ModerationDecidedOut, auth="admin", perm=perm))
    t.add(Route("GET", "/api/v1/moderation/mine", moderation_mine,
                "Your messages under review, and those rejected in the last days", "messages", None, HeldMineOut))
    return t

