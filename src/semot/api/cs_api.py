"""Customer service over HTTP, visitors and agents (docs/customer-service.md, "Server API").

Visitors (the widget): `POST /api/v1/cs/visitors` (no auth; new visitors counted per
address), `GET /api/v1/cs/widget` (no auth), `POST /api/v1/cs/sessions`,
`GET /api/v1/cs/sessions/mine`, `POST /api/v1/cs/sessions/{id}/rating`.
Agents (the workbench): `PUT /api/v1/cs/agent/state`, `GET /api/v1/cs/agent/workbench`,
`POST /api/v1/cs/sessions/{id}/accept|transfer|close`, `GET /api/v1/cs/visitors/{user_id}/sessions`.
Messages of a session go over the WebSocket `send` to its `conv`, like any chat.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.domain.customer_service import MAX_CONTEXT_BYTES
from semot.errors import TooLarge
from semot.services.customer_service import CustomerService
from semot.services.customer_service_admin import CustomerServiceAdmin

from .auth_http import request_ip
from .http import Call
from .models import INTEGRAL
from .routing import ID, Route, RouteTable

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Text = Annotated[str, StringConstraints(max_length=2048)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CsVisitorIn(_In):
    visitor_key: Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")] | None = (
        Field(None, description="the key a previous call returned: resumes that visitor")
    )
    name: Annotated[str, StringConstraints(max_length=64)] | None = Field(None, description="shown to agents")


class CsVisitorOut(BaseModel):
    user_id: str
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"
    visitor_key: str = Field(description="keep it (the widget: localStorage) to come back as the same visitor")


class CsAgentCardOut(BaseModel):
    user_id: str
    display_name: str
    avatar_url: str | None
    field: str
    state: Literal["online", "busy", "offline"]


class CsQueueCardOut(BaseModel):
    queue_id: str
    name: str
    description: str
    agents: list[CsAgentCardOut]


class CsWidgetOut(BaseModel):
    title: str
    greeting: str
    color: str
    position: str
    offline_message: str
    open_now: bool = Field(description="within opening hours and an agent online")
    queues: list[CsQueueCardOut]


class CsContextIn(BaseModel):
    """What the visitor is looking at; more string/number/boolean fields may be added
    (4 KiB of JSON at most: larger is 413)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, str | int | float | bool] = Field(init=False)

    type: Literal["product", "order"]
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    url: Text = ""
    image_url: Text = ""
    price: Annotated[str, StringConstraints(max_length=64)] | float | None = None
    order_no: Annotated[str, StringConstraints(max_length=64)] | None = None

    def checked(self) -> dict[str, Any]:
        out = self.model_dump(exclude_none=True)
        if len(orjson.dumps(out)) > MAX_CONTEXT_BYTES:
            raise TooLarge(f"context: at most {MAX_CONTEXT_BYTES} bytes as JSON")
        return out


class CsSessionIn(_In):
    queue_id: Id | None = None
    agent_id: Id | None = Field(None, description="a chosen agent (with queue_id: filed under that queue); "
                                "else the queue, else the first queue")
    context: CsContextIn | None = Field(None, description="posted as a `custom` card (type cs_context) at the start")


class CsVisitorInfoOut(BaseModel):
    user_id: str
    display_name: str
    signed_in: bool = Field(description="a user of the site (ticket SSO), not an anonymous visitor")


class CsRatingOut(BaseModel):
    score: int
    comment: str


class CsSessionOut(BaseModel):
    session_id: str
    conv: str
    state: Literal["waiting", "left_message", "active", "closed"]
    queue_id: str | None
    visitor: CsVisitorInfoOut
    agent_id: str | None
    agent: CsAgentCardOut | None = None
    context: dict[str, Any] | None
    created_at: int
    assigned_at: int | None
    first_response_at: int | None
    closed_at: int | None
    rating: CsRatingOut | None


class CsSessionListOut(BaseModel):
    sessions: list[CsSessionOut]


class CsRatingIn(_In):
    score: Annotated[int, Field(ge=1, le=5), INTEGRAL]
    comment: Annotated[str, StringConstraints(max_length=500)] = ""


class CsStateIn(_In):
    state: Literal["online", "busy", "offline"]


class CsMeOut(BaseModel):
    state: str
    connected: bool
    queues: list[str]
    field: str
    max_concurrent: int
    active_count: int


class CsWorkbenchOut(BaseModel):
    me: CsMeOut
    waiting: list[CsSessionOut]
    left_messages: list[CsSessionOut]
    active: list[CsSessionOut]
    recent: list[CsSessionOut]


class CsTransferIn(_In):
    agent_id: Id | None = Field(None, description="to this agent")
    queue_id: Id | None = Field(None, description="to the best available agent of this queue (default: the "
                                "session's), else it waits there; with agent_id: the queue it is filed under")


def service(call: Call) -> CustomerService:
    s = call.services.customer_service
    assert s is not None, "the composition root sets it"
    return s


def admin(call: Call) -> CustomerServiceAdmin:
    s = call.services.customer_service_admin
    assert s is not None, "the composition root sets it"
    return s


def _sid(call: Call) -> str:
    return call.request.match_info["session_id"]


async def _with_agent(call: Call, session: dict[str, Any]) -> dict[str, Any]:
    """The session with its agent's card (what the widget shows)."""
    if not session.get("agent_id"):
        return {**session, "agent": None}
    widget = await admin(call).widget()
    card = next((a for q in widget["queues"] for a in q["agents"] if a["user_id"] == session["agent_id"]), None)
    if card is None:
        users = await call.services.storage.users.users_by_ids([session["agent_id"]])
        name = users[0].display_name if users else session["agent_id"]
        card = {"user_id": session["agent_id"], "display_name": name, "avatar_url": None, "field": "", "state": "offline"}
    return {**session, "agent": card}


async def cs_visitor(call: Call) -> dict[str, Any]:
    b: CsVisitorIn = call.body
    pair, key = await service(call).visitor(b.visitor_key, b.name, request_ip(call.request, call.services.settings))
    return {**pair.to_wire(), "visitor_key": key}


async def cs_widget(call: Call) -> dict[str, Any]:
    return await admin(call).widget()


async def cs_start_session(call: Call) -> dict[str, Any]:
    b: CsSessionIn = call.body
    s = await service(call).start_session(
        call.me, queue_id=b.queue_id, agent_id=b.agent_id,
        context=b.context.checked() if b.context else None,
    )
    return await _with_agent(call, s)


async def cs_mine(call: Call) -> dict[str, Any]:
    return {"sessions": await service(call).mine(call.me.id)}


async def cs_rate(call: Call) -> dict[str, Any]:
    b: CsRatingIn = call.body
    return await service(call).rate(call.me.id, _sid(call), b.score, b.comment)


async def cs_set_state(call: Call) -> dict[str, Any]:
    b: CsStateIn = call.body
    return await service(call).set_state(call.me.id, b.state)


async def cs_workbench(call: Call) -> dict[str, Any]:
    return await service(call).workbench(call.me.id)


async def cs_accept(call: Call) -> dict[str, Any]:
    return await service(call).accept(call.me.id, _sid(call))


async def cs_transfer(call: Call) -> dict[str, Any]:
    b: CsTransferIn = call.body
    return await service(call).transfer(call.me.id, _sid(call), to_agent=b.agent_id, to_queue=b.queue_id)


async def cs_close(call: Call) -> dict[str, Any]:
    return await service(call).close(call.me.id, _sid(call))


async def cs_visitor_sessions(call: Call) -> dict[str, Any]:
    return {"sessions": await service(call).visitor_sessions(call.me.id, call.request.match_info["user_id"])}


def routes() -> RouteTable:
    t = RouteTable()
    tag = "customer service"
    base = "/api/v1/cs"
    sid = {"session_id": ID}
    t.add(Route("POST", base + "/visitors", cs_visitor, "An anonymous visitor's login (new, or resumed by its key)", tag,
                CsVisitorIn, CsVisitorOut, auth=None))
    t.add(Route("GET", base + "/widget", cs_widget, "What the widget shows: texts, colors, queues and agents", tag,
                None, CsWidgetOut, auth=None))
    t.add(Route("POST", base + "/sessions", cs_start_session, "Start (or resume) my service session", tag,
                CsSessionIn, CsSessionOut))
    t.add(Route("GET", base + "/sessions/mine", cs_mine, "My service sessions, newest first", tag, None, CsSessionListOut))
    t.add(Route("POST", base + "/sessions/{session_id}/rating", cs_rate, "Rate my closed session", tag, CsRatingIn,
                CsSessionOut, path_specs=sid))
    t.add(Route("PUT", base + "/agent/state", cs_set_state, "Agents: my state", tag, CsStateIn, CsMeOut))
    t.add(Route("GET", base + "/agent/workbench", cs_workbench, "Agents: my queues' waiting sessions and left messages, "
                "my active and recent sessions", tag, None, CsWorkbenchOut))
    t.add(Route("POST", base + "/sessions/{session_id}/accept", cs_accept, "Agents: take a waiting session or left message",
                tag, None, CsSessionOut, path_specs=sid))
    t.add(Route("POST", base + "/sessions/{session_id}/transfer", cs_transfer, "Agents: hand my session to an agent or "
                "a queue", tag, CsTransferIn, CsSessionOut, path_specs=sid))
    t.add(Route("POST", base + "/sessions/{session_id}/close", cs_close, "Close a session (its agent or visitor)", tag,
                None, CsSessionOut, path_specs=sid))
    t.add(Route("GET", base + "/visitors/{user_id}/sessions", cs_visitor_sessions, "Agents: a visitor's sessions", tag,
                None, CsSessionListOut))
    return t
