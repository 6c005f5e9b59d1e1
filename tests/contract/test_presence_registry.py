"""The presence registry contract: in memory (one node) and in Redis (several nodes).

Two Redis registries with distinct node ids stand for two nodes of one cluster; the
in-memory one plays both parts, as a single node does."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from semot.bus.local_presence import LocalPresence
from semot.bus.presence import PresenceRegistry, Seen, Settled
from semot.bus.redis_presence import RedisPresence
from tests.contract.test_bus import REDIS_URL, _redis_or_skip


def changes(settled: dict[str, Settled]) -> dict[str, tuple[str, str]]:
    return {u: (x.status, x.text) for u, x in settled.items()}


class Lost:
    def __init__(self) -> None:
        self.users: set[str] = set()

    def __call__(self, users: set[str]) -> None:
        self.users |= users


@contextlib.asynccontextmanager
async def redis_nodes(
    timeout_s: float, a_lost: Lost | None = None, b_lost: Lost | None = None
) -> AsyncIterator[tuple[RedisPresence, RedisPresence, str]]:
    """Two nodes of one cluster, in a namespace of their own (deleted afterwards)."""
    await _redis_or_skip()
    ns = f"test{uuid.uuid4().hex[:8]}"
    a = RedisPresence(REDIS_URL, "nodea", namespace=ns, node_timeout_s=timeout_s)
    b = RedisPresence(REDIS_URL, "nodeb", namespace=ns, node_timeout_s=timeout_s)
    await a.start(a_lost or Lost())
    await b.start(b_lost or Lost())
    try:
        yield a, b, ns
    finally:
        await a.stop()
        await b.stop()
        r = aioredis.from_url(REDIS_URL)
        keys = [k async for k in r.scan_iter(f"{ns}:*")]
        if keys:
            await r.delete(*keys)
        await r.aclose()


@pytest.fixture(params=["local", "redis"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[tuple[PresenceRegistry, PresenceRegistry, Lost]]:
    lost = Lost()
    if request.param == "local":
        one = LocalPresence()
        await one.start(lost)
        yield one, one, lost
        await one.stop()
        return
    async with redis_nodes(1.0, b_lost=lost) as (a, b, _):
        yield a, b, lost


async def test_devices_count_across_nodes_and_one_push_per_change(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    await a.session_up("ann", "s1", "phone")
    await b.session_up("ann", "s2", "laptop")
    await b.session_up("ann", "s3", "laptop")  # the same device twice (a reconnect racing the old session)
    assert await a.devices("ann") == await b.devices("ann") == {"phone", "laptop"}
    assert (await b.lookup(["ann", "nobody"])) == {"ann": Seen(2, None), "nobody": Seen(0, None)}

    assert changes(await a.settle(["ann"])) == {"ann": ("online", "")}
    assert changes(await b.settle(["ann"])) == {}  # already pushed, by the other node
    await a.session_down("ann", "s1")
    await b.session_down("ann", "s2")
    assert changes(await a.settle(["ann"])) == {}  # still online on the laptop
    await b.session_down("ann", "s3")
    assert await b.devices("ann") == set()
    assert changes(await a.settle(["ann", "nobody"])) == {"ann": ("offline", "")}
    assert changes(await b.settle(["ann"])) == {}


async def test_chosen_status_and_its_text(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    await a.set_manual("bo", "busy", "in a meeting")
    await b.set_manual("bo", "away", "", only_if_unset=True)  # a later connect does not overwrite it
    assert (await b.lookup(["bo"]))["bo"] == Seen(0, ("busy", "in a meeting"))
    assert changes(await a.settle(["bo"])) == {}  # offline: the text is not shown, nothing to push
    await b.session_up("bo", "s1", "web")
    assert changes(await a.settle(["bo"])) == {"bo": ("busy", "in a meeting")}
    await a.set_manual("bo", "online", "back \x1f soon")  # the separator inside a text survives
    assert changes(await b.settle(["bo"])) == {"bo": ("online", "back \x1f soon")}
    await b.set_manual("bo", "away", "")
    assert changes(await a.settle(["bo"])) == {"bo": ("away", "")}


async def test_versions_grow_and_start_from_the_clock(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    before = int(time.time() * 1000) - 5000  # Redis' clock may differ a little
    versions = []
    for i in range(4):
        await (a if i % 2 else b).set_manual("vic", ("busy", "away")[i % 2], "")
        await a.session_up("vic", "s1", "web")
        versions.append((await b.settle(["vic"]))["vic"].version)
    assert versions == sorted(set(versions)) and versions[0] >= before  # a restart cannot go back to 1


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


async def test_follows_are_per_session(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    await a.subscribe("viewer", "tab1", {"t1", "t2"})
    await b.subscribe("viewer", "tab2", {"t2"})  # another tab of the same user adds, not replaces
    assert await b.subscribers("t1") == {"viewer"} and await a.subscribers("t2") == {"viewer"}
    await a.subscribe("viewer", "tab1", {"t3"})  # the same tab replaces its own list
    assert await a.subscribers("t1") == set() and await b.subscribers("t3") == {"viewer"}
    await a.subscribe("other", "tab9", {"t3"})
    await b.unsubscribe("viewer", "tab2")
    assert await a.subscribers("t2") == set()
    await a.unsubscribe("viewer", "tab1")
    assert await b.subscribers("t3") == {"other"}


async def test_device_limit_is_checked_and_recorded_at_once(nodes: tuple[PresenceRegistry, PresenceRegistry, Lost]) -> None:
    a, b, _ = nodes
    admitted = await asyncio.gather(
        *((a if i % 2 else b).session_up("lim", f"s{i}", f"dev{i}", max_devices=2) for i in range(6))
    )
    assert sum(admitted) == 2 and len(await a.devices("lim")) == 2
    # a device already online replaces itself: not one more
    online = sorted(await a.devices("lim"))
    assert await b.session_up("lim", "again", online[0], max_devices=2)
    assert not await b.session_up("lim", "third", "other", max_devices=2)
    assert await b.session_up("lim", "nolimit", "other")


async def test_a_silent_node_stops_counting_and_is_reaped() -> None:
    lost = Lost()
    async with redis_nodes(1.0, b_lost=lost) as (a, b, ns):
        await a.session_up("dee", "s1", "phone")
        await b.session_up("eve", "s2", "phone")
        assert changes(await b.settle(["dee", "eve"])) == {"dee": ("online", ""), "eve": ("online", "")}
        # node A "crashes": its heartbeat stops and it never says goodbye; B beats by hand
        assert a._task is not None and b._task is not None
        a._task.cancel()
        b._task.cancel()
        await b.beat()
        await asyncio.sleep(1.3)
        await b.beat()  # A is stale, but B itself has a gap behind it: nobody is dead yet
        assert lost.users == set() and await b.devices("dee") == {"phone"}
        await b.beat()  # stale twice: dead, reaped
        assert lost.users == {"dee"}
        assert await b.devices("dee") == set() and await b.devices("eve") == {"phone"}
        got = await b.settle(["dee", "eve"])
        assert list(got) == ["dee"] and (got["dee"].status, got["dee"].text) == ("offline", "")
        # reaped: the dead node's keys are gone, and it is reaped once
        r = aioredis.from_url(REDIS_URL, decode_responses=True)
        assert sorted(await r.hkeys(f"{ns}:pres:u:dee")) == ["p", "v"]
        assert await r.zscore(f"{ns}:pres:nodes", "nodea") is None
        await r.aclose()
        lost.users.clear()
        await b.beat()
        assert lost.users == set()


async def test_a_node_that_stops_cleanly_is_reaped_at_the_next_beat() -> None:
    lost = Lost()
    async with redis_nodes(30.0, b_lost=lost) as (a, b, _):
        await a.session_up("fay", "s1", "phone")
        await a.stop()
        await b.beat()
        await b.beat()  # no 30 s wait: a stopping node marks itself stale at once
        assert lost.users == {"fay"} and await b.devices("fay") == set()


async def test_a_node_taken_for_dead_registers_its_sessions_again() -> None:
    a_lost, b_lost = Lost(), Lost()
    async with redis_nodes(1.0, a_lost, b_lost) as (a, b, _):
        await a.session_up("gus", "s1", "phone")
        assert a._task is not None
        a._task.cancel()  # a long stall: A's heartbeat stops, its connections do not
        await asyncio.sleep(1.3)
        await b.beat()
        await b.beat()
        assert b_lost.users == {"gus"} and await b.devices("gus") == set()
        await a.beat()  # A wakes up and finds itself reaped
        assert a_lost.users == {"gus"}
        await b.beat()
        assert await b.devices("gus") == {"phone"}


async def test_a_redis_outage_makes_no_node_reap_the_others() -> None:
    """All heartbeats stop when Redis is down; the first node back must not take the
    others for dead before they had a chance to beat again."""
    a_lost, b_lost = Lost(), Lost()
    async with redis_nodes(1.0, a_lost, b_lost) as (a, b, _):
        for reg in (a, b):
            assert reg._task is not None
            reg._task.cancel()
        await b.beat()
        await a.session_up("hal", "s1", "phone")
        await asyncio.sleep(1.4)  # "Redis down": nobody beats for longer than the timeout
        await b.beat()  # B is back first: it saw nothing for too long, so it reaps nobody
        await a.beat()
        await b.beat()
        assert b_lost.users == set() and await b.devices("hal") == {"phone"}


async def test_lost_writes_are_repaired() -> None:
    """A removal that failed is retried at the next beat, and the periodic reconcile makes
    Redis hold exactly this node's sessions (ghosts removed, missing ones written)."""
    async with redis_nodes(30.0) as (a, _, ns):
        r = aioredis.from_url(REDIS_URL, decode_responses=True)
        await a.session_up("ivy", "s1", "phone")
        real = a._redis
        a._redis = aioredis.from_url("redis://127.0.0.1:1/0")  # unreachable
        with pytest.raises(Exception):
            await a.session_down("ivy", "s1")
        await a._redis.aclose()
        a._redis = real
        assert await a.devices("ivy") == {"phone"}  # a ghost, for now
        await a.beat()
        assert await a.devices("ivy") == set()  # retried
        # a ghost nobody knows about, and a session whose write was lost
        await r.hset(f"{ns}:pres:u:ivy", "s:nodea:ghost", "tablet")
        a._mine.setdefault("jon", {})["s9"] = "laptop"
        await a._reconcile()
        assert await a.devices("ivy") == set() and await a.devices("jon") == {"laptop"}
        assert "ivy" not in await r.smembers(f"{ns}:pres:n:nodea")  # no longer listed for reaping
        await r.aclose()
