"""Customer service administration over HTTP (docs/customer-service.md, "Administration").

- `GET|POST /api/admin/v1/cs/queues`, `PUT|DELETE /api/admin/v1/cs/queues/{queue_id}`;
- `GET /api/admin/v1/cs/agents`, `PUT|DELETE /api/admin/v1/cs/agents/{user_id}` (queues,
  field, max_concurrent);
- `GET|PUT /api/admin/v1/cs/settings`: the widget (texts, color, position, opening hours,
  allowed origins, frame ancestors);
- `GET /api/admin/v1/cs/stats?since=&until=`: conversations, first response, ratings.
Reading needs cs.view, changing cs.write; every change is audited (`cs.*`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from semot.domain.customer_service import MAX_CONCURRENT

from .cs_api import admin
from .http import Call
from .models import INTEGRAL
from .routing import ID, Query, Route, RouteTable

Name = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
ORIGIN = r"^https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$"
TimeZone = Literal[tuple(sorted(available_timezones()))]  # type: ignore[valid-type]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CsQueueIn(_In):
    name: Name
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    position: Annotated[int, Field(ge=0, le=10_000), INTEGRAL] = 0


class CsQueuePatch(_In):
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    position: Annotated[int, Field(ge=0, le=10_000), INTEGRAL] | None = None


class CsQueueOut(BaseModel):
    queue_id: str
    name: str
    description: str
    position: int
    created_at: int
    agents: int = 0


class CsQueueListOut(BaseModel):
    queues: list[CsQueueOut]


class CsAgentIn(_In):
    queues: list[Id] = Field(default_factory=list, max_length=100)
    field: Annotated[str, StringConstraints(max_length=64)] = Field("", description="shown to visitors: 订单咨询 ...")
    max_concurrent: Annotated[int, Field(ge=1, le=MAX_CONCURRENT), INTEGRAL] = 5


class CsAgentOut(BaseModel):
    user_id: str
    queues: list[str]
    field: str
    max_concurrent: int
    state: str
    created_at: int
    display_name: str | None = None
    connected: bool | None = None
    active_count: int | None = None


class CsAgentListOut(BaseModel):
    agents: list[CsAgentOut]


class CsHoursIn(_In):
    day: Annotated[int, Field(ge=1, le=7), INTEGRAL] = Field(description="ISO weekday: 1 Monday ... 7 Sunday")
    from_: HHMM = Field(alias="from")
    to: HHMM

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class CsSettingsIn(_In):
    title: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    greeting: Annotated[str, StringConstraints(max_length=500)] = ""
    color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] = "#1677ff"
    position: Literal["right", "left"] = "right"
    offline_message: Annotated[str, StringConstraints(max_length=500)] = ""
    timezone: TimeZone = Field("Asia/Shanghai", description="an IANA time zone: the opening hours' clock")  # type: ignore[valid-type]
    hours: list[CsHoursIn] = Field(default_factory=list, max_length=70, description="none: always open; a period "
                                   "whose 'to' is not after its 'from' ends the next day (equal: 24 hours)")
    allowed_origins: list[Annotated[str, StringConstraints(max_length=300, pattern=ORIGIN)]] = Field(
        default_factory=list, max_length=50, description="sites whose pages may call the visitor API (CORS)")
    frame_ancestors: list[Annotated[str, StringConstraints(max_length=300, pattern=ORIGIN)]] = Field(
        default_factory=list, max_length=50, description="sites that may frame the widget page")

    @field_validator("allowed_origins", "frame_ancestors")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(o.rstrip("/") for o in v))


class CsHoursOut(BaseModel):
    day: int
    from_: str = Field(alias="from")
    to: str


class CsSettingsOut(BaseModel):
    title: str
    greeting: str
    color: str
    position: str
    offline_message: str
    timezone: str
    hours: list[CsHoursOut]
    allowed_origins: list[str]
    frame_ancestors: list[str]


class CsSummaryOut(BaseModel):
    conversations: int
    answered: int
    left_messages: int
    waiting: int
    closed: int
    first_response_p50_ms: int | None
    first_response_avg_ms: int | None
    ratings: dict[str, int] = Field(description="score (1-5) -> how many")
    rating_avg: float | None


class CsQueueStatsOut(CsSummaryOut):
    queue_id: str
    name: str


class CsAgentStatsOut(CsSummaryOut):
    user_id: str
    display_name: str


class CsStatsOut(BaseModel):
    since: int
    until: int
    total: CsSummaryOut
    queues: list[CsQueueStatsOut]
    agents: list[CsAgentStatsOut]


class CsDeletedOut(BaseModel):
    """`{}`."""


async def cs_queue_list(call: Call) -> dict[str, Any]:
    return {"queues": await admin(call).queues()}


async def cs_queue_create(call: Call) -> dict[str, Any]:
    b: CsQueueIn = call.body
    q = await admin(call).create_queue(b.name, b.description, b.position)
    await call.audit("cs.queue_create", q.queue_id, after=q.to_wire())
    return {**q.to_wire(), "agents": 0}


async def cs_queue_update(call: Call) -> dict[str, Any]:
    b: CsQueuePatch = call.body
    before, after = await admin(call).update_queue(call.request.match_info["queue_id"], b.model_dump(exclude_none=True))
    await call.audit("cs.queue_update", after.queue_id, before=before.to_wire(), after=after.to_wire())
    return after.to_wire()


async def cs_queue_delete(call: Call) -> dict[str, Any]:
    q = await admin(call).delete_queue(call.request.match_info["queue_id"])
    await call.audit("cs.queue_delete", q.queue_id, before=q.to_wire())
    return {}


async def cs_agent_list(call: Call) -> dict[str, Any]:
    return {"agents": await admin(call).agents()}


async def cs_agent_put(call: Call) -> dict[str, Any]:
    b: CsAgentIn = call.body
    before, after = await admin(call).put_agent(call.request.match_info["user_id"], b.queues, b.field, b.max_concurrent)
    await call.audit("cs.agent_put", after.user_id, before=before.to_wire() if before else None, after=after.to_wire())
    return after.to_wire()


async def cs_agent_delete(call: Call) -> dict[str, Any]:
    a = await admin(call).delete_agent(call.request.match_info["user_id"])
    await call.audit("cs.agent_delete", a.user_id, before=a.to_wire())
    return {}


async def cs_settings_get(call: Call) -> dict[str, Any]:
    return (await admin(call).settings()).to_wire()


async def cs_settings_put(call: Call) -> dict[str, Any]:
    b: CsSettingsIn = call.body
    before = (await admin(call).settings()).to_wire()
    values = b.model_dump(by_alias=True)
    after = (await admin(call).put_settings(values)).to_wire()
    await call.audit("cs.settings_update", "widget", before=before, after=after)
    return after


async def cs_stats(call: Call) -> dict[str, Any]:
    return await admin(call).stats(call.query_int("since"), call.query_int("until"))


def routes() -> RouteTable:
    t = RouteTable()
    base = "/api/admin/v1/cs"
    tag = "admin: customer service"
    view, write = "cs.view", "cs.write"
    qid = {"queue_id": ID}
    t.add(Route("GET", base + "/queues", cs_queue_list, "Service queues", tag, None, CsQueueListOut, auth="admin", perm=view))
    t.add(Route("POST", base + "/queues", cs_queue_create, "Add a service queue", tag, CsQueueIn, CsQueueOut, status=201,
                auth="admin", perm=write))
    t.add(Route("PUT", base + "/queues/{queue_id}", cs_queue_update, "Change a service queue", tag, CsQueuePatch, CsQueueOut,
                auth="admin", perm=write, path_specs=qid))
    t.add(Route("DELETE", base + "/queues/{queue_id}", cs_queue_delete, "Remove a service queue (none open in it)", tag,
                None, CsDeletedOut, auth="admin", perm=write, path_specs=qid))
    t.add(Route("GET", base + "/agents", cs_agent_list, "Agents, their queues, limits, state and load", tag, None,
                CsAgentListOut, auth="admin", perm=view))
    t.add(Route("PUT", base + "/agents/{user_id}", cs_agent_put, "Make a user an agent, or change one", tag, CsAgentIn,
                CsAgentOut, auth="admin", perm=write))
    t.add(Route("DELETE", base + "/agents/{user_id}", cs_agent_delete, "Stop a user being an agent", tag, None,
                CsDeletedOut, auth="admin", perm=write))
    t.add(Route("GET", base + "/settings", cs_settings_get, "The widget's settings", tag, None, CsSettingsOut,
                auth="admin", perm=view))
    t.add(Route("PUT", base + "/settings", cs_settings_put, "Change the widget's settings", tag, CsSettingsIn, CsSettingsOut,
                auth="admin", perm=write))
    t.add(Route("GET", base + "/stats", cs_stats, "Conversations, first-response time and ratings over a period", tag,
                None, CsStatsOut, auth="admin", perm=view,
                query={"since": Query("from (ms since the epoch; default 7 days before until)"),
                       "until": Query("until, excluded (ms since the epoch; default now)")}))
    return t
