"""Presence over HTTP: read the status of users you may see, set your own."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from semot.errors import BadRequest
from semot.ids import is_valid_id

from .http import Call
from .models import id_list_pattern
from .routing import Query, Route, RouteTable


class PresenceOut(BaseModel):
    user: str
    status: str
    text: str


class PresenceListOut(BaseModel):
    users: list[PresenceOut]


class SetPresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["online", "busy", "away"]
    text: Annotated[str, StringConstraints(max_length=100)] | None = None


async def get_presence(call: Call) -> dict[str, Any]:
    raw = call.query_str("users", "") or ""
    users = [u for u in raw.split(",") if u]
    if not users or len(users) > 500:
        raise BadRequest("users: 1-500 comma-separated user ids")
    bad = [u for u in users if not is_valid_id(u)]
    if bad:  # as presence_sub on the WebSocket: never a lookup (or a cache entry) for garbage
        raise BadRequest(f"users: invalid user ids {bad[:5]}")
    if (cs := call.services.customer_service) is not None and await cs.is_restricted(call.me.id):
        users = [u for u in users if u == call.me.id]  # customers and visitors: their own only
    return {"users": await call.services.presence.query(call.me.id, users)}


async def set_presence(call: Call) -> dict[str, Any]:
    b: SetPresenceIn = call.body
    return await call.services.presence.set_manual(call.me.id, b.status, b.text)


def routes() -> RouteTable:
    t = RouteTable()
    t.add(
        Route(
            "GET", "/api/v1/presence", get_presence,
            "Presence of users you may see (friends, colleagues); others are left out", "presence", None,
            PresenceListOut,
            # ids are ASCII: 7,000 characters (and the commas' %2C) fit the 8 KiB request line
            query={
                "users": Query(
                    "1-500 comma-separated user ids", "string", max_length=7000, min_length=1,
                    pattern=id_list_pattern(500), required=True,
                )
            },
        )
    )
    t.add(Route("PUT", "/api/v1/me/presence", set_presence, "Set your status (online/busy/away) and text", "presence", SetPresenceIn, PresenceOut))
    return t
