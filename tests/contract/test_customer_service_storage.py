"""The customer-service storage contract (storage/customer_service.py) on memory, SQLite
and PostgreSQL: queues, agents and settings upserts, visitors by key, session listing
filters, active counts, the conditional session update that lets exactly one of
two racing agents take a visitor, one open session per visitor, and assignments that
never put an agent over their limit, even when they race."""

from __future__ import annotations

import asyncio

from semot.domain.customer_service import Agent, Queue, Session, Visitor
from semot.storage.base import Storage


def _session(n: int, *, state: str = "waiting", queue: str | None = "q1", agent: str | None = None,
             visitor: str | None = None, at: int = 0) -> Session:
    return Session(f"css_{n}", f"g:cs_{n}", visitor or f"v.x{n}", queue, agent, state, {"type": "product", "title": f"#{n}"},
                   1000 + (at or n))


async def test_queues_agents_settings_visitors(storage: Storage) -> None:
    s = storage.customer_service
    await s.put_queue(Queue("q2", "售后问题", "", 2, 10))
    await s.put_queue(Queue("q1", "订单咨询", "orders", 1, 20))
    await s.put_queue(Queue("q2", "售后", "after-sales", 2, 10))  # replaced
    assert [(q.queue_id, q.name) for q in await s.queues()] == [("q1", "订单咨询"), ("q2", "售后")]
    assert await s.delete_queue("q2") and not await s.delete_queue("q2")

    await s.put_agent(Agent("a2", ("q1",), "售后", 3, "offline", 200))
    await s.put_agent(Agent("a1", ("q1", "q9"), "订单", 5, "offline", 100))
    assert [a.user_id for a in await s.agents()] == ["a1", "a2"]
    assert await s.set_agent_state("a1", "online") and not await s.set_agent_state("nobody", "online")
    a1 = await s.get_agent("a1")
    assert a1 is not None and a1.state == "online" and a1.queues == ("q1", "q9") and a1.max_concurrent == 5
    assert await s.delete_agent("a2") and await s.get_agent("a2") is None

    assert await s.settings() is None
    await s.put_settings({"title": "客服", "hours": [{"day": 1, "from": "09:00", "to": "18:00"}]})
    await s.put_settings({"title": "小店客服", "hours": []})
    assert await s.settings() == {"title": "小店客服", "hours": []}

    await s.add_visitor(Visitor("v.1", "h" * 64, 5))
    found = await s.visitor_by_key("h" * 64)
    assert found is not None and found.user_id == "v.1"
    assert await s.visitor_by_key("x" * 64) is None
    assert await s.visitor_ids(["v.1", "alice", "v.1"]) == {"v.1"} and await s.visitor_ids([]) == set()


async def test_sessions_filters_counts_and_conditional_updates(storage: Storage) -> None:
    s = storage.customer_service
    for session in (_session(1), _session(2, state="active", agent="a1", at=5), _session(3, state="left_message"),
                    _session(4, state="active", agent="a1", queue="q2", visitor="v.2"),
                    _session(6, state="closed", agent="a2", visitor="v.2")):
        await s.add_session(session)
    got = await s.get_session("css_2")
    assert got is not None and got.context == {"type": "product", "title": "#2"} and got.conv == "g:cs_2"
    assert (await s.session_by_conv("g:cs_3")) == await s.get_session("css_3")
    assert await s.get_session("css_nope") is None
    ids = lambda found: [x.session_id for x in found]  # noqa: E731
    assert ids(await s.sessions(states=["waiting", "left_message"], queue_ids=["q1"])) == ["css_1", "css_3"]
    assert ids(await s.sessions(visitor_id="v.2", newest_first=True)) == ["css_6", "css_4"]
    assert ids(await s.sessions(agent_id="a1", states=["active"])) == ["css_4", "css_2"]  # created 1004, 1005
    assert ids(await s.sessions(since=1003, until=1005)) == ["css_3", "css_4"]
    assert ids(await s.sessions(limit=2)) == ["css_1", "css_3"]
    assert await s.active_counts(["a1", "a2", "a3"]) == {"a1": 2}

    # two agents accept the same waiting session: one wins
    first = await s.update_session("css_1", {"agent_id": "a1", "state": "active", "assigned_at": 7},
                                   states=("waiting", "left_message"))
    second = await s.update_session("css_1", {"agent_id": "a2", "state": "active", "assigned_at": 8},
                                    states=("waiting", "left_message"))
    assert first is not None and first.agent_id == "a1" and second is None
    # a value set once: the first response, the rating
    assert await s.update_session("css_1", {"first_response_at": 50}, unset="first_response_at") is not None
    assert await s.update_session("css_1", {"first_response_at": 99}, unset="first_response_at") is None
    assert (await s.get_session("css_1")).first_response_at == 50  # type: ignore[union-attr]
    assert await s.update_session("css_6", {"rating": 4, "comment": "好"}, states=("closed",), unset="rating")
    assert await s.update_session("css_6", {"rating": 1}, states=("closed",), unset="rating") is None
    ctx = await s.update_session("css_3", {"context": {"type": "order", "order_no": "A1"}})
    assert ctx is not None and ctx.context == {"type": "order", "order_no": "A1"}
    assert await s.update_session("css_nope", {"state": "closed"}) is None


async def test_one_open_session_per_visitor_and_agent_limits(storage: Storage) -> None:
    s = storage.customer_service
    assert await s.add_session(_session(1, visitor="v.9"))
    assert not await s.add_session(_session(2, visitor="v.9"))  # a second open session: refused
    assert await s.get_session("css_2") is None
    assert await s.update_session("css_1", {"state": "closed", "closed_at": 9}) is not None
    assert await s.add_session(_session(2, visitor="v.9", state="left_message"))  # after the close: fine
    assert await s.update_session("css_1", {"state": "waiting"}) is None  # reopening it would make two
    assert (await s.get_session("css_1")).state == "closed"  # type: ignore[union-attr]

    # routing's assignments stop at the agent's limit, also when they all race at once
    await s.put_agent(Agent("a9", ("q1",), "", 3, "online", 1))
    for n in range(10, 18):
        assert await s.add_session(_session(n))
    assigned = await asyncio.gather(*(
        s.update_session(f"css_{n}", {"agent_id": "a9", "state": "active", "assigned_at": n}, states=("waiting",),
                         within_limit="a9")
        for n in range(10, 18)
    ))
    assert sum(1 for x in assigned if x is not None) == 3
    assert await s.active_counts(["a9"]) == {"a9": 3}
    left = [x for x in await s.sessions(states=["waiting"]) if x.session_id in {f"css_{n}" for n in range(10, 18)}]
    assert len(left) == 5 and all(x.agent_id is None for x in left)
    # a place freed: the next assignment goes through; an unknown agent has no places
    freed = next(x for x in assigned if x is not None)
    assert await s.update_session(freed.session_id, {"state": "closed"}) is not None
    assert await s.update_session(left[0].session_id, {"agent_id": "a9", "state": "active"}, states=("waiting",),
                                  within_limit="a9") is not None
    assert await s.update_session(left[1].session_id, {"agent_id": "zz", "state": "active"}, states=("waiting",),
                                  within_limit="zz") is None


async def test_idle_visitors_are_forgotten_once(storage: Storage) -> None:
    s = storage.customer_service
    await s.add_visitor(Visitor("v.i1", "1" * 64, 100))  # seen at 100 (made)
    await s.add_visitor(Visitor("v.i2", "2" * 64, 100))
    await s.add_visitor(Visitor("v.i3", "3" * 64, 100))
    await s.touch_visitor("v.i2", 500)  # seen since
    assert await s.add_session(_session(40, visitor="v.i3"))  # an open session keeps it
    assert await s.idle_visitors(300, 10) == ["v.i1"]
    assert await s.forget_visitor("v.i1", 300) and not await s.forget_visitor("v.i1", 300)  # once
    assert not await s.forget_visitor("v.i2", 300) and not await s.forget_visitor("v.i3", 300)
    assert await s.visitor_by_key("1" * 64) is None  # its key resumes nobody
    assert await s.visitor_ids(["v.i1"]) == {"v.i1"}  # still a visitor (hidden like one)
    await s.touch_visitor("v.i1", 900)  # a forgotten visitor stays forgotten
    assert await s.idle_visitors(10_000, 10) == ["v.i2"]
    assert await s.update_session("css_40", {"state": "closed"}) is not None
    assert await s.idle_visitors(10_000, 10) == ["v.i3", "v.i2"]  # least recently seen first


async def test_customers_are_marked_and_unmarked(storage: Storage) -> None:
    cs = storage.customer_service
    assert await cs.customer_ids(["c1", "c2"]) == set()
    assert await cs.set_customer("c1", True, 1) is True
    assert await cs.set_customer("c1", True, 2) is False  # already one
    assert await cs.customer_ids(["c1", "c2", "c1"]) == {"c1"}
    assert await cs.set_customer("c2", False, 3) is False  # never one
    assert await cs.set_customer("c1", False, 4) is True
    assert await cs.customer_ids(["c1"]) == set()
