"""Admin API of the dashboard (信息中心): `GET /api/admin/v1/dashboard`.

One call answers everything the dashboard shows (services/stats.py says how each figure
is kept without scanning tables); the console polls it every few seconds. `tz` (the
browser's offset, minutes east of UTC) decides where "today" and each day of the
new-users chart begin; `minutes` how far back the per-minute series go.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from semot.services.stats import StatsService

from .http import Call
from .routing import Query, Route, RouteTable


class OnlineOut(BaseModel):
    users: int = Field(description="distinct users with at least one connected device, on any node")
    connections: int = Field(description="open WebSocket sessions on every live node")


class SeriesOut(BaseModel):
    start: int = Field(description="the first minute's start (ms since the epoch)")
    step_ms: int = Field(description="60000: one count per minute")
    counts: list[int] = Field(description="one count per minute, oldest first; the last is the current minute")


class LoginsOut(BaseModel):
    ok: SeriesOut
    failed: SeriesOut


class DayOut(BaseModel):
    day: int = Field(description="the local day's start (ms since the epoch)")
    date: str = Field(description="the local date, YYYY-MM-DD")
    n: int


class UsersOut(BaseModel):
    total: int
    today: int = Field(description="created since local midnight")
    per_day: list[DayOut] = Field(description="the last 30 local days, oldest first")


class StorageOut(BaseModel):
    files: int = Field(description="stored files and unfinished uploads")
    files_bytes: int
    database_bytes: int | None = Field(description="the database's size on disk (null where unknown)")


class DatabaseOut(BaseModel):
    dialect: str = Field(description="sqlite or postgresql")
    ok: bool
    latency_ms: float | None = Field(description="a ping's round trip now")
    error: str | None = None


class NodeOut(BaseModel):
    node_id: str
    sessions: int
    users: int
    seen_ms: int = Field(description="its last heartbeat (ms since the epoch)")


class HealthOut(BaseModel):
    node_id: str = Field(description="the node that answered")
    version: str
    started_at: int
    uptime_s: int
    database: DatabaseOut
    nodes: list[NodeOut] = Field(description="the live nodes of the cluster")
    nodes_alive: int | None


class DashboardOut(BaseModel):
    ts: int
    online: OnlineOut | None = Field(description="null while the presence registry cannot be reached")
    messages: SeriesOut | None = Field(description="messages stored per minute, summed over the nodes")
    logins: LoginsOut | None = Field(description="login attempts per minute")
    users: UsersOut | None
    storage: StorageOut | None
    health: HealthOut
    errors: list[str] = Field(description="the figures that could not be read now, and why")


QUERY: dict[str, Query | str] = {
    "tz": Query("the browser's zone, in minutes east of UTC (480: UTC+8); default 0", minimum=-840, maximum=840),
    "minutes": Query("how many minutes the series cover, 10-1440 (default 1440: 24 hours)", minimum=10, maximum=1440),
}


async def dashboard(call: Call) -> dict[str, Any]:
    stats: StatsService | None = call.services.stats
    assert stats is not None, "the composition root sets it"
    return await stats.dashboard(tz_offset_min=call.query_int("tz") or 0, minutes=call.query_int("minutes") or 1440)


def routes() -> RouteTable:
    t = RouteTable()
    t.add(
        Route(
            "GET",
            "/api/admin/v1/dashboard",
            dashboard,
            "The dashboard: who is online now, messages and logins per minute, new users, storage, health",
            "admin: dashboard",
            None,
            DashboardOut,
            auth="admin",
            perm="dashboard.view",
            query=QUERY,
        )
    )
    return t
