"""Customer service (docs/customer-service.md): queues, agents, visitor sessions (pure rules).

A session is a service conversation between one visitor (an anonymous visitor user or a
signed-in buyer) and at most one agent at a time: a group conversation of its own, so
sends, history, sync, receipts and files work as in any chat, and an agent it is
transferred to reads what was said before. Routing picks, in a queue, the connected
agent in state `online` with the fewest active sessions below their `max_concurrent`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from semot.errors import BadRequest

AGENT_STATES = ("online", "busy", "offline")
SESSION_STATES = ("waiting", "left_message", "active", "closed")
OPEN_STATES = ("waiting", "left_message", "active")
POSITIONS = ("right", "left")
MAX_QUEUES = 100
MAX_CONCURRENT = 100
MAX_CONTEXT_BYTES = 4096
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
FORGOTTEN = -1  # a forgotten visitor's last_seen_at
FORGOTTEN_NAME = "已清除的访客"  # a forgotten visitor's display name (what they typed is erased)
SESSION_GROUP_PREFIX = "cs_"  # the session's group id: `cs_<hex>`, its conversation `g:cs_<hex>`


@dataclass(slots=True, frozen=True)
class Queue:
    queue_id: str
    name: str
    description: str
    position: int
    created_at: int

    def to_wire(self) -> dict[str, Any]:
        return {"queue_id": self.queue_id, "name": self.name, "description": self.description,
                "position": self.position, "created_at": self.created_at}


@dataclass(slots=True, frozen=True)
class Agent:
    user_id: str
    queues: tuple[str, ...]
    field: str  # what they answer ("订单咨询"), shown to visitors
    max_concurrent: int
    state: str  # chosen: online | busy | offline (a disconnected agent counts as offline)
    created_at: int

    def to_wire(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "queues": list(self.queues), "field": self.field,
                "max_concurrent": self.max_concurrent, "state": self.state, "created_at": self.created_at}


@dataclass(slots=True, frozen=True)
class Visitor:
    """An anonymous visitor's user, found again by the hash of its secret `visitor_key`;
    forgotten when idle for `cs_visitor_idle_days` (services/customer_service.py)."""

    user_id: str
    key_hash: str
    created_at: int
    last_seen_at: int = 0  # its key last used, or a session started; -1: forgotten (its key dropped)


@dataclass(slots=True, frozen=True)
class Session:
    session_id: str
    conv: str
    visitor_id: str
    queue_id: str | None
    agent_id: str | None
    state: str
    context: dict[str, Any] | None
    created_at: int
    assigned_at: int | None = None
    first_response_at: int | None = None
    closed_at: int | None = None
    closed_by: str | None = None
    rating: int | None = None
    comment: str | None = None

    @property
    def group_id(self) -> str:
        return self.conv[2:]

    def to_wire(self, visitor: dict[str, Any]) -> dict[str, Any]:
        return {
            "session_id": self.session_id, "conv": self.conv, "state": self.state, "queue_id": self.queue_id,
            "visitor": visitor, "agent_id": self.agent_id, "context": self.context, "created_at": self.created_at,
            "assigned_at": self.assigned_at, "first_response_at": self.first_response_at,
            "closed_at": self.closed_at,
            "rating": None if self.rating is None else {"score": self.rating, "comment": self.comment or ""},
        }


# --- routing


@dataclass(slots=True, frozen=True)
class Load:
    """An agent as routing sees them: chosen state, connected or not, active sessions."""

    agent: Agent
    connected: bool
    active: int

    @property
    def state(self) -> str:
        return self.agent.state if self.connected else "offline"

    @property
    def available(self) -> bool:
        return self.state == "online" and self.active < self.agent.max_concurrent


def pick_agent(loads: list[Load], *, exclude: str | None = None) -> Agent | None:
    """The available agent with the fewest active sessions (ties: the earliest made)."""
    free = [x for x in loads if x.available and x.agent.user_id != exclude]
    if not free:
        return None
    return min(free, key=lambda x: (x.active, x.agent.created_at, x.agent.user_id)).agent


def anyone_online(loads: list[Load]) -> bool:
    return any(x.state == "online" for x in loads)


# --- the widget's settings


@dataclass(slots=True, frozen=True)
class Hours:
    """Open on `day` from `start`; until `end` that day, or, when `end` is not after
    `start`, until `end` the next day ("22:00"-"02:00"; equal: 24 hours)."""

    day: int  # ISO weekday, 1 = Monday
    start: str  # "HH:MM"
    end: str

    def covers(self, weekday: int, t: time) -> bool:
        start, end = time.fromisoformat(self.start), time.fromisoformat(self.end)
        if start < end:
            return weekday == self.day and start <= t < end
        return (weekday == self.day and t >= start) or (weekday == self.day % 7 + 1 and t < end)

    def to_wire(self) -> dict[str, Any]:
        return {"day": self.day, "from": self.start, "to": self.end}


@dataclass(slots=True, frozen=True)
class WidgetSettings:
    title: str = "在线客服"
    greeting: str = "您好，有什么可以帮您？"
    color: str = "#1677ff"
    position: str = "right"
    offline_message: str = "客服暂时不在线，请留言，我们会尽快回复。"
    timezone: str = "Asia/Shanghai"
    hours: tuple[Hours, ...] = ()  # none: always open
    allowed_origins: tuple[str, ...] = ()  # sites whose pages may call the visitor API (CORS)
    frame_ancestors: tuple[str, ...] = ()  # sites that may frame the widget page (CSP)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {
            "title": self.title, "greeting": self.greeting, "color": self.color, "position": self.position,
            "offline_message": self.offline_message, "timezone": self.timezone,
            "hours": [h.to_wire() for h in self.hours], "allowed_origins": list(self.allowed_origins),
            "frame_ancestors": list(self.frame_ancestors),
        }


def widget_settings(stored: dict[str, Any] | None) -> WidgetSettings:
    """Stored JSON (already validated when saved) over the defaults."""
    if not stored:
        return WidgetSettings()
    s = stored
    base = WidgetSettings()
    return replace(
        base,
        title=s.get("title", base.title), greeting=s.get("greeting", base.greeting), color=s.get("color", base.color),
        position=s.get("position", base.position), offline_message=s.get("offline_message", base.offline_message),
        timezone=s.get("timezone", base.timezone),
        hours=tuple(Hours(h["day"], h["from"], h["to"]) for h in s.get("hours", [])),
        allowed_origins=tuple(s.get("allowed_origins", [])), frame_ancestors=tuple(s.get("frame_ancestors", [])),
    )


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"timezone: unknown time zone {name!r}") from None


def open_now(settings: WidgetSettings, now_ms: int) -> bool:
    """Within the opening hours (in the settings' time zone); no hours: always open."""
    if not settings.hours:
        return True
    local = datetime.fromtimestamp(now_ms / 1000, tz=check_timezone(settings.timezone))
    t = local.time().replace(second=0, microsecond=0)
    return any(h.covers(local.isoweekday(), t) for h in settings.hours)


# --- statistics


def percentile(values: list[int], p: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p * (len(ordered) - 1))))
    return ordered[k]


def summarize(sessions: list[Session]) -> dict[str, Any]:
    """Counts, first-response time (ms from the session's start to the agent's first
    message; p50 and average over the sessions answered) and the rating distribution."""
    waits = [s.first_response_at - s.created_at for s in sessions if s.first_response_at is not None]
    ratings = [s.rating for s in sessions if s.rating is not None]
    return {
        "conversations": len(sessions),
        "answered": len(waits),
        "left_messages": sum(1 for s in sessions if s.state == "left_message"),
        "waiting": sum(1 for s in sessions if s.state == "waiting"),
        "closed": sum(1 for s in sessions if s.state == "closed"),
        "first_response_p50_ms": percentile(waits, 0.5),
        "first_response_avg_ms": round(sum(waits) / len(waits)) if waits else None,
        "ratings": {str(n): ratings.count(n) for n in range(1, 6)},
        "rating_avg": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }
