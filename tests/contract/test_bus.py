"""The bus contract on every backend: in-process, and Redis between two nodes."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from semot.bus.base import Bus, Delivery, Disconnect, Invalidate
from semot.bus.local import LocalBus
from semot.bus.redis import RedisBus, decode, encode

REDIS_URL = os.environ.get("SEMOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Recorder:
    """A receiver that keeps what it was handed, as a hub would deliver it."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.disconnects: list[Disconnect] = []
        self.changed = asyncio.Event()

    def deliver(self, delivery: Delivery) -> int:
        self.deliveries.append(delivery)
        self.changed.set()
        return len(delivery.user_ids)

    def disconnect(self, command: Disconnect) -> int:
        self.disconnects.append(command)
        self.changed.set()
        return 1

    def invalidate(self, command: Invalidate) -> None:
        self.disconnects.append(command)  # type: ignore[arg-type]
        self.changed.set()

    async def wait_for(self, n: int, timeout: float = 5.0) -> None:
        async def until() -> None:
            while len(self.deliveries) + len(self.disconnects) < n:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), timeout)


async def _redis_or_skip() -> None:
    try:
        r = aioredis.from_url(REDIS_URL)
        await r.ping()
        await r.aclose()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable in CI: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")


@pytest.fixture(params=["local", "redis"])
async def two_nodes(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Recorder, Bus | None, Recorder]]:
    """Node A's bus and receiver, and node B's (None for the local bus: one node only)."""
    ra, rb = Recorder(), Recorder()
    if request.param == "local":
        a = LocalBus()
        await a.start(ra)
        yield a, ra, None, rb
        await a.stop()
        return
    await _redis_or_skip()
    ns = f"test{uuid.uuid4().hex[:8]}"  # this run's own channel
    a, b = RedisBus(REDIS_URL, namespace=ns), RedisBus(REDIS_URL, namespace=ns)
    await a.start(ra)
    await b.start(rb)
    await asyncio.sleep(0.05)  # let both subscriptions settle
    yield a, ra, b, rb
    await a.stop()
    await b.stop()


async def test_delivery_reaches_every_node_once(two_nodes: tuple[Bus, Recorder, Bus | None, Recorder]) -> None:
    a, ra, b, rb = two_nodes
    payload = b'{"t":"evt","evt":"typing","conv":"d:alice:bob","user":"alice"}'  # an event, not a frame
    a.publish(Delivery(("alice", "bob"), payload, "s_1"))
    assert ra.deliveries == [Delivery(("alice", "bob"), payload, "s_1")]  # local at once
    if b is not None:
        await rb.wait_for(1)
        assert rb.deliveries == [Delivery(("alice", "bob"), payload, "s_1")]
        await asyncio.sleep(0.2)
        assert len(ra.deliveries) == 1  # a node never gets its own publish twice


async def test_disconnect_commands_cross_nodes(two_nodes: tuple[Bus, Recorder, Bus | None, Recorder]) -> None:
    a, ra, b, _rb = two_nodes
    cmd = Disconnect("alice", 4409, "replaced", "phone", "s_9")
    (b or a).publish(cmd)
    target = ra
    await target.wait_for(1)
    assert target.disconnects == [cmd]


async def test_order_is_kept_between_two_nodes(two_nodes: tuple[Bus, Recorder, Bus | None, Recorder]) -> None:
    a, ra, b, rb = two_nodes
    for i in range(200):
        a.publish(Delivery(("u",), f"{i}".encode(), None))
    if b is not None:
        await rb.wait_for(200)
        assert [d.payload for d in rb.deliveries] == [f"{i}".encode() for i in range(200)]
    assert [d.payload for d in ra.deliveries] == [f"{i}".encode() for i in range(200)]


def test_wire_format_round_trip() -> None:
    payload = bytes(range(256))  # binary-safe, newlines included
    node, env = decode(encode("n1", Delivery(("a", "b"), payload, None)))
    assert node == "n1" and env == Delivery(("a", "b"), payload, None)
    node, env = decode(encode("n2", Disconnect("a", 1008, "disabled")))
    assert node == "n2" and env == Disconnect("a", 1008, "disabled", None, None)
    assert decode(encode("n3", Invalidate("g:team"))) == ("n3", Invalidate("g:team"))


async def test_cache_invalidations_reach_every_node(two_nodes: tuple[Bus, Recorder, Bus | None, Recorder]) -> None:
    a, ra, b, rb = two_nodes
    a.publish(Invalidate("g:team"))
    assert ra.disconnects == [Invalidate("g:team")]
    if b is not None:
        await rb.wait_for(1)
        assert rb.disconnects == [Invalidate("g:team")]
