"""Presence over HTTP: read the status of users you may see, set your own."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from semot.errors import BadRequest

from .http import Call
from .routing import Route, RouteTable


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
    raw = call.request.query.get("users", "")
    users = [u for u in raw.split(",") if u]
    if not users or len(users) > 500:
        raise BadRequest("users: 1-500 comma-separated user ids")
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
            PresenceListOut, query={},
        )
    )
    t.add(Route("PUT", "/api/v1/me/presence", set_presence, "Set your status (online/busy/away) and text", "presence", SetPresenceIn, PresenceOut))
    return t
