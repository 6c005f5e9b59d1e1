"""Admin recall (PROTOCOL.md §7): `POST /api/admin/v1/conversations/{conv}/messages/{seq}/recall`.

Needs `messages.recall`. Any chat message, at any time: the stored message becomes a
tombstone (kind `recalled`, body `{}`) with `recalled_by` = the administrator and
`recalled_role` = `admin` (docs/protocol.md), `evt recall` with `by` = the
administrator reaches the members online, and the `system` notice that every recall
stores tells devices that were offline (services/messaging.py). Audited as
`message.recall`. Recalling a recalled message again answers `{}` and changes nothing;
a system notice or a burned message is a 409.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from semot.domain.conversations import parse_conv
from semot.errors import BadRequest, NotFound

from .http import Call
from .routing import Route, RouteTable


class AdminRecallOut(BaseModel):
    """`{}`: the contract's reply."""

    model_config = ConfigDict(extra="forbid")


async def admin_recall(call: Call) -> dict[str, Any]:
    conv = call.request.match_info["conv"]
    seq = int(call.request.match_info["seq"])
    try:  # well-formed (the path's pattern) but impossible, e.g. d:a:a or d:b:a: no such conversation
        parse_conv(conv)
    except BadRequest:
        raise NotFound(f"no conversation {conv}") from None
    if await call.services.messages.admin_recall(call.me.id, conv, seq):
        await call.audit("message.recall", f"{conv}#{seq}", after={"conv": conv, "seq": seq})
    return {}


def routes() -> RouteTable:
    t = RouteTable()
    t.add(
        Route(
            "POST",
            "/api/admin/v1/conversations/{conv}/messages/{seq}/recall",
            admin_recall,
            "Recall any message (no time window): it becomes a tombstone and evt recall is pushed with by = you",
            "admin",
            None,
            AdminRecallOut,
            auth="admin",
            perm="messages.recall",
            responses={404: "No such message", 409: "A system notice or a burned message"},
        )
    )
    return t
