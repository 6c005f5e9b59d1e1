"""Customer service's pure rules (domain/customer_service.py): routing picks the least
busy available agent, opening hours in the settings' time zone, statistics."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from semot.domain.customer_service import (
    Agent,
    Hours,
    Load,
    Session,
    WidgetSettings,
    anyone_online,
    open_now,
    pick_agent,
    summarize,
    widget_settings,
)
from semot.errors import BadRequest


def _agent(uid: str, state: str = "online", limit: int = 2, at: int = 0) -> Agent:
    return Agent(uid, ("q",), "", limit, state, at)


def test_pick_agent_least_busy_available() -> None:
    loads = [Load(_agent("a", at=1), True, 1), Load(_agent("b", at=2), True, 0), Load(_agent("c", at=0), True, 0)]
    assert pick_agent(loads).user_id == "c"  # type: ignore[union-attr]  # fewest, then the earliest made
    assert pick_agent(loads, exclude="c").user_id == "b"  # type: ignore[union-attr]
    full = [Load(_agent("a", limit=1), True, 1), Load(_agent("b", "busy"), True, 0), Load(_agent("c"), False, 0)]
    assert pick_agent(full) is None
    assert anyone_online(full)  # a is online (at its limit): a new visitor waits rather than leaves a message
    assert not anyone_online([Load(_agent("b", "busy"), True, 0), Load(_agent("c"), False, 0)])
    assert Load(_agent("c"), False, 0).state == "offline"  # chosen online but not connected


def test_opening_hours_in_the_time_zone() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    monday_10 = int(datetime(2026, 11, 30, 10, 0, tzinfo=tz).timestamp() * 1000)
    monday_20 = int(datetime(2026, 11, 30, 20, 0, tzinfo=tz).timestamp() * 1000)
    sunday_10 = int(datetime(2026, 11, 29, 10, 0, tzinfo=tz).timestamp() * 1000)
    s = WidgetSettings(timezone="Asia/Shanghai", hours=(Hours(1, "09:00", "18:00"),))
    assert open_now(s, monday_10) and not open_now(s, monday_20) and not open_now(s, sunday_10)
    assert open_now(WidgetSettings(), sunday_10)  # no hours: always open
    night = WidgetSettings(timezone="Asia/Shanghai", hours=(Hours(7, "22:00", "02:00"),))  # Sunday night
    monday_1 = int(datetime(2026, 11, 30, 1, 0, tzinfo=tz).timestamp() * 1000)
    assert open_now(night, monday_1) and not open_now(night, monday_10) and not open_now(night, sunday_10)
    assert open_now(WidgetSettings(hours=(Hours(1, "00:00", "00:00"),)), monday_20)  # equal: the whole day
    other = WidgetSettings(timezone="Europe/Paris", hours=(Hours(1, "09:00", "18:00"),))
    assert not open_now(other, monday_10)  # 03:00 in Paris
    with pytest.raises(BadRequest):
        open_now(WidgetSettings(timezone="Mars/Base", hours=(Hours(1, "09:00", "18:00"),)), monday_10)
    stored = widget_settings({"title": "T", "hours": [{"day": 2, "from": "08:00", "to": "12:00"}]})
    assert stored.title == "T" and stored.hours == (Hours(2, "08:00", "12:00"),) and stored.color == "#1677ff"


def test_summary() -> None:
    def s(n: int, first: int | None, rating: int | None, state: str = "closed") -> Session:
        return Session(f"s{n}", f"g:cs_{n}", "v", "q", "a", state, None, 1000, first_response_at=first, rating=rating)

    out = summarize([s(1, 1010, 5), s(2, 1030, 4), s(3, 1020, None), s(4, None, None, "left_message")])
    assert out["conversations"] == 4 and out["answered"] == 3 and out["left_messages"] == 1
    assert out["first_response_p50_ms"] == 20 and out["first_response_avg_ms"] == 20
    assert out["ratings"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1} and out["rating_avg"] == 4.5
    assert summarize([])["first_response_p50_ms"] is None
