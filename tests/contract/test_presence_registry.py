"""The presence registry contract: in memory (one node) and in Redis (several nodes).

Two Redis registries with distinct node ids stand for two nodes of one cluster; the
in-memory one plays both parts, as a single node does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from semot.bus.local_presence import LocalPresence
from semot.bus.presence import PresenceRegistry, Seen, Settled
from semot.bus.redis_presence import RedisPresence
from tests.contract.test_bus import REDIS_URL, _redis_or_skip


class Lost:
    def __init__(self) -> None:
        self.users: set[str] = set()

    def __call__(self, users: set[str]) -> None:
        self.users |= users


@pytest.fixture(params=["local", "redis"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[tuple[PresenceRegistry, PresenceRegistry, Lost]]:
    lost = Lost()
    if request.param == "local":
        one = LocalPresence()
        await one.start(lost)
        yield one, one, lost
        await one.stop()
        return
    await _redis_or_skip()
    ns = f"test{uuid.uuid4().hex[:8]}"
    a = RedisPresence(REDIS_URL, "nodea", namespace=ns, node_timeout_s=1.0)
    b = RedisPresence(REDIS_URL, "nodeb", namespace=ns, node_timeout_s=1.0)
    await a.start(Lost())
    await b.start(lost)
    yield a, b, lost
    await a.stop()
    await b.stop()
    r = aioredis.from_url(REDIS_URL)
    keys = [k async for k in r.scan_iter(f"{ns}:*")]
    if keys:
        await r.delete(*keys)
    await r.aclose()


async def test_devices_count_across_nodes_and_one_push_per_change(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    await a.session_up("ann", "s1", "phone")
    await b.session_up("ann", "s2", "laptop")
    await b.session_up("ann", "s3", "laptop")  # the same device twice (a reconnect racing the old session)
    assert await a.devices("ann") == await b.devices("ann") == {"phone", "laptop"}
    assert (await b.lookup(["ann", "nobody"])) == {"ann": Seen(2, None), "nobody": Seen(0, None)}

    assert await a.settle(["ann"]) == {"ann": Settled("online", "", 1)}
    assert await b.settle(["ann"]) == {}  # already pushed, by the other node
    await a.session_down("ann", "s1")
    await b.session_down("ann", "s2")
    assert await a.settle(["ann"]) == {}  # still online on the laptop
    await b.session_down("ann", "s3")
    assert await b.devices("ann") == set()
    assert await a.settle(["ann", "nobody"]) == {"ann": Settled("offline", "", 2)}
    assert await b.settle(["ann"]) == {}


async def test_chosen_status_and_its_text(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    await a.set_manual("bo", "busy", "in a meeting")
    await b.set_manual("bo", "away", "", only_if_unset=True)  # a later connect does not overwrite it
    assert (await b.lookup(["bo"]))["bo"] == Seen(0, ("busy", "in a meeting"))
    assert await a.settle(["bo"]) == {}  # offline: the text is not shown, nothing to push
    await b.session_up("bo", "s1", "web")
    assert await a.settle(["bo"]) == {"bo": Settled("busy", "in a meeting", 1)}
    await a.set_manual("bo", "online", "back \x1f soon")  # the separator inside a text survives
    assert await b.settle(["bo"]) == {"bo": Settled("online", "back \x1f soon", 2)}
    await b.set_manual("bo", "away", "")
    assert await a.settle(["bo"]) == {"bo": Settled("away", "", 3)}


async def test_concurrent_settles_push_once(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    users = [f"c{i}" for i in range(50)]
    for i, u in enumerate(users):
        await (a if i % 2 else b).session_up(u, f"s{i}", "d")
    got_a, got_b = await asyncio.gather(a.settle(users), b.settle(users))
    if a is b:
        assert len(got_a) + len(got_b) == 50
    else:
        assert set(got_a) | set(got_b) == set(users) and not set(got_a) & set(got_b)


async def test_follows(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    await a.subscribe("viewer", {"t1", "t2"})
    assert await b.subscribers("t1") == {"viewer"} and await b.subscribers("t2") == {"viewer"}
    await b.subscribe("viewer", {"t2", "t3"})  # replaces
    assert await a.subscribers("t1") == set() and await a.subscribers("t3") == {"viewer"}
    await a.subscribe("other", {"t3"})
    await a.drop_viewer("viewer")
    assert await b.subscribers("t2") == set() and await b.subscribers("t3") == {"other"}


async def test_a_silent_node_stops_counting_and_is_reaped() -> None:
    await _redis_or_skip()
    ns = f"test{uuid.uuid4().hex[:8]}"
    lost = Lost()
    a = RedisPresence(REDIS_URL, "nodea", namespace=ns, node_timeout_s=1.0)
    b = RedisPresence(REDIS_URL, "nodeb", namespace=ns, node_timeout_s=1.0)
    await a.start(Lost())
    await b.start(lost)
    try:
        await a.session_up("dee", "s1", "phone")
        await b.session_up("eve", "s2", "phone")
        assert await b.settle(["dee", "eve"]) == {"dee": Settled("online", "", 1), "eve": Settled("online", "", 1)}
        # node A "crashes": its heartbeat stops and it never says goodbye
        assert a._task is not None
        a._task.cancel()
        await asyncio.sleep(1.3)
        await b.beat()
        assert lost.users == {"dee"}
        assert await b.devices("dee") == set() and await b.devices("eve") == {"phone"}
        assert await b.settle(["dee", "eve"]) == {"dee": Settled("offline", "", 2)}
        # reaped: the dead node's keys are gone, and it is reaped once
        r = aioredis.from_url(REDIS_URL, decode_responses=True)
        assert await r.hkeys(f"{ns}:pres:u:dee") == ["v"]
        assert await r.zscore(f"{ns}:pres:nodes", "nodea") is None
        await r.aclose()
        lost.users.clear()
        await b.beat()
        assert lost.users == set()
    finally:
        await a.stop()
        await b.stop()


async def test_a_node_that_stops_cleanly_is_reaped_at_the_next_beat() -> None:
    await _redis_or_skip()
    ns = f"test{uuid.uuid4().hex[:8]}"
    lost = Lost()
    a = RedisPresence(REDIS_URL, "nodea", namespace=ns, node_timeout_s=30.0)
    b = RedisPresence(REDIS_URL, "nodeb", namespace=ns, node_timeout_s=30.0)
    await a.start(Lost())
    await b.start(lost)
    await a.session_up("fay", "s1", "phone")
    await a.stop()
    await b.beat()  # no 30 s wait: a stopping node marks itself gone
    assert lost.users == {"fay"} and await b.devices("fay") == set()
    await b.stop()


async def test_a_node_taken_for_dead_registers_its_sessions_again() -> None:
    await _redis_or_skip()
    ns = f"test{uuid.uuid4().hex[:8]}"
    a_lost, b_lost = Lost(), Lost()
    a = RedisPresence(REDIS_URL, "nodea", namespace=ns, node_timeout_s=1.0)
    b = RedisPresence(REDIS_URL, "nodeb", namespace=ns, node_timeout_s=1.0)
    await a.start(a_lost)
    await b.start(b_lost)
    try:
        await a.session_up("gus", "s1", "phone")
        assert a._task is not None
        a._task.cancel()  # a long stall: A's heartbeat stops, its connections do not
        await asyncio.sleep(1.3)
        await b.beat()
        assert b_lost.users == {"gus"} and await b.devices("gus") == set()
        await a.beat()  # A wakes up and finds itself reaped
        assert a_lost.users == {"gus"}
        await b.beat()
        assert await b.devices("gus") == {"phone"}
    finally:
        await a.stop()
        await b.stop()
