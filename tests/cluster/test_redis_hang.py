"""A Redis that hangs without dropping its connections (SIGSTOP: its sockets stay open,
nothing answers) is an outage like a Redis that is down (docs/operations.md, "Redis
outages"): commands fail after `redis_socket_timeout_s`, the bus subscription is found
silent within `redis_health_check_s` plus that, publishes wait in the buffer, and after
SIGCONT everything buffered goes out, in order, and clients are told to sync.

The first test drives two buses and a presence registry in this process against a real
redis-server on a free port, so that what goes over the wire is checked exactly; the
second runs a real node and watches it from the outside (HTTP, /metrics, its log)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
import redis.exceptions
from prometheus_client import CollectorRegistry

from semot.bus.base import Delivery
from semot.bus.redis import RedisBus
from semot.bus.redis_conn import RedisTimeouts
from semot.bus.redis_presence import RedisPresence
from tests.cluster.node_loss_support import RedisServer, three_nodes, until, user
from tests.cluster.test_redis_outage import RESYNC, Recorder, _payload, _subscribe_now

TIMEOUTS = RedisTimeouts(socket_timeout_s=1.0, health_check_s=1.0)
SLACK_S = 3.0  # scheduling on a loaded 2-core machine


def _first_occurrences(raws: list[bytes]) -> list[bytes]:
    """Publishes in the order they first went out: a batch that reached the hung Redis
    is run when it resumes and sent again by the bus (at least once, docs/operations.md)."""
    seen: list[bytes] = []
    for raw in raws:
        if _payload(raw) not in seen:
            seen.append(_payload(raw))
    return seen


async def _collect(ps: Any, want: set[bytes], timeout: float) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while not want <= {_payload(r) for r in got} and time.monotonic() < deadline:
        item = await asyncio.to_thread(ps.get_message, timeout=0.5)
        if item and item["type"] == "message":
            got.append(item["data"])
    return got


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in r.getMessage() for r in caplog.records)


async def _true(value: bool) -> bool:
    return value


@pytest.mark.timeout(60)
async def test_bus_and_presence_notice_a_hung_redis_and_lose_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="semot.bus.redis")
    server = RedisServer(tmp_path / "redis.log").start()
    assert server.proc is not None
    ns = f"hang{uuid.uuid4().hex[:6]}"
    metrics_a, metrics_b = CollectorRegistry(), CollectorRegistry()
    a = RedisBus(server.url, node_id="a", namespace=ns, resync_spread_ms=0, timeouts=TIMEOUTS, registry=metrics_a)
    b = RedisBus(server.url, node_id="b", namespace=ns, resync_spread_ms=0, timeouts=TIMEOUTS, registry=metrics_b)
    # c's buffer overflows during the hang: it drops the oldest, counts them, says so once back
    metrics_c = CollectorRegistry()
    c = RedisBus(server.url, node_id="c", namespace=ns, max_pending=2, timeouts=TIMEOUTS, registry=metrics_c)
    presence = RedisPresence(server.url, "a", namespace=ns, timeouts=TIMEOUTS)
    at_a, at_b = Recorder(), Recorder()
    await a.start(at_a)
    await b.start(at_b)
    await c.start(Recorder())
    await presence.start(lambda _users: None)
    watcher = _subscribe_now(server.url, f"{ns}:bus:v2")  # its connection outlives the hang
    stopped = False
    try:
        a.publish(Delivery(("u1",), b'{"n":0}'))
        await until("b receives a's publish", lambda: _true(b'{"n":0}' in at_b.payloads), 10)
        assert _first_occurrences(await _collect(watcher, {b'{"n":0}'}, 5)) == [b'{"n":0}']

        os.kill(server.proc.pid, signal.SIGSTOP)
        stopped, hung = True, time.monotonic()
        for i in range(1, 4):
            a.publish(Delivery(("u1",), b'{"n":%d}' % i))
        for i in range(10, 14):
            c.publish(Delivery(("u1",), b'{"n":%d}' % i))
        assert metrics_c.get_sample_value("semot_redis_bus_dropped_total") == 2
        assert metrics_c.get_sample_value("semot_redis_bus_buffered") == 2
        assert _logged(caplog, "redis bus: buffer full (2 envelopes")
        # a command meets the socket timeout instead of waiting for ever: the 503 path
        with pytest.raises(redis.exceptions.TimeoutError):
            await presence.lookup(["u1"])
        assert time.monotonic() - hung < TIMEOUTS.socket_timeout_s + SLACK_S
        # the publishes wait in a's buffer, and say so
        await until("a's publish times out", lambda: _true(_logged(caplog, "redis bus: publishing failed")),
                    TIMEOUTS.socket_timeout_s + SLACK_S)
        assert metrics_a.get_sample_value("semot_redis_bus_buffered") == 3
        # the subscriptions (blocking reads, no timeout) are found silent after a ping
        await until("the buses notice their silent subscriptions", lambda: _true(_logged(caplog, "subscription silent")),
                    TIMEOUTS.health_check_s + TIMEOUTS.socket_timeout_s + SLACK_S)
        await asyncio.sleep(1.5)  # a few more failed tries on both sides
        assert metrics_a.get_sample_value("semot_redis_bus_buffered") == 3

        os.kill(server.proc.pid, signal.SIGCONT)
        stopped = False
        # nothing lost, in order (a batch that reached the stopped server may come twice)
        got = await _collect(watcher, {b'{"n":1}', b'{"n":2}', b'{"n":3}', b'{"n":12}', b'{"n":13}'}, 15)
        in_order = _first_occurrences(got)
        assert [n for n in in_order if n in (b'{"n":1}', b'{"n":2}', b'{"n":3}')] == [
            b'{"n":1}', b'{"n":2}', b'{"n":3}'], got
        assert b'{"n":10}' not in in_order and b'{"n":11}' not in in_order, got  # c dropped them...
        notice = got.index(b'{"k":"r","n":"c"}\n')  # ...and told the others (whose clients resync) first
        assert notice < min(i for i, r in enumerate(got) if _payload(r) == b'{"n":12}'), got
        assert _logged(caplog, "told the other nodes that 2 publishes were dropped")
        await until("a's buffer drains", lambda: _true(metrics_a.get_sample_value("semot_redis_bus_buffered") == 0), 10)
        assert metrics_a.get_sample_value("semot_redis_bus_dropped_total") == 0
        # b subscribed again: its clients are told to sync (it may have missed a's publishes)
        await until("b tells its clients to sync", lambda: _true(RESYNC in at_b.payloads), 15)
        assert (metrics_b.get_sample_value("semot_redis_bus_resyncs_total") or 0) >= 1
        b_before = len(at_b.payloads)
        a.publish(Delivery(("u1",), b'{"n":4}'))
        await until("b hears a again", lambda: _true(b'{"n":4}' in at_b.payloads[b_before:]), 10)
        await presence.lookup(["u1"])  # answers again
    finally:
        if stopped:
            os.kill(server.proc.pid, signal.SIGCONT)
        watcher.close()
        await presence.stop()
        await a.stop()
        await b.stop()
        await c.stop()
        server.kill()


async def _metric(session: aiohttp.ClientSession, base: str, name: str) -> float | None:
    async with session.get(base + "/metrics") as resp:
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


@pytest.mark.timeout(90)  # a node start on a loaded machine; the hang itself takes seconds
async def test_a_node_answers_503_through_a_hung_redis_and_recovers(tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    env = {"SEMOT_REDIS_SOCKET_TIMEOUT_S": "1", "SEMOT_REDIS_HEALTH_CHECK_S": "1"}
    with three_nodes(tmp_path, "redishang", env, count=1) as cluster:
        base = cluster.bases[0]
        proc = cluster.redis.proc
        assert proc is not None
        alice = await user(cluster.bases, 0, f"al{s}")
        bob = await user(cluster.bases, 0, f"bo{s}")
        raw = aiohttp.ClientSession()
        stopped = False
        try:
            await alice.http("PATCH", "/api/v1/me/settings", {"friend_approval": False})
            await bob.http("POST", "/api/v1/friends/requests", {"user_id": alice.user_id})  # may see her presence
            headers = {"Authorization": f"Bearer {bob.access_token}"}
            presence = f"{base}/api/v1/presence?users={alice.user_id}"
            async with raw.get(presence, headers=headers) as resp:
                assert resp.status == 200 and (await resp.json())["users"], "bob sees alice's presence"
            direct = (await alice.send_text(str(bob.user_id), "before"))["conv"]

            os.kill(proc.pid, signal.SIGSTOP)
            stopped, hung = True, time.monotonic()
            # a request that needs Redis: 503 `unavailable` after the socket timeout, not a hang
            async with raw.get(presence, headers=headers, timeout=aiohttp.ClientTimeout(total=20)) as resp:
                body = await resp.json()
                assert resp.status == 503 and body["error"]["code"] == "unavailable", body
                assert resp.headers.get("Retry-After", "").isdigit()
            assert time.monotonic() - hung < 1 + SLACK_S
            took_503 = time.monotonic() - hung
            # sends still commit (PostgreSQL); their cross-node publishes wait in the buffer
            acked = [await alice.send_text(direct, f"during {i}") for i in range(3)]
            log = cluster.nodes[0].log_path
            await until("the node logs the failed publishes",
                        lambda: _true("redis bus: publishing failed" in log.read_text()), 1 + SLACK_S)
            # the bus subscription (a read without a timeout) is pinged and found silent
            await until("the node notices its silent subscription",
                        lambda: _true("subscription silent" in log.read_text()), max(0.0, hung + 2 + SLACK_S - time.monotonic()))
            took_sub = time.monotonic() - hung
            assert (await _metric(raw, base, "semot_redis_bus_buffered") or 0) >= 3  # still there, nothing sent

            os.kill(proc.pid, signal.SIGCONT)
            stopped = False

            async def drained() -> bool:
                return await _metric(raw, base, "semot_redis_bus_buffered") == 0

            await until("the buffer drains once Redis answers", drained, 10)
            assert await _metric(raw, base, "semot_redis_bus_dropped_total") == 0

            async def presence_back() -> bool:
                async with raw.get(presence, headers=headers) as resp:
                    return resp.status == 200

            await until("presence answers again", presence_back, 10)
            end = max(a["seq"] for a in acked)
            await until("bob has every message", lambda: _true(bob.last_seq.get(direct, 0) >= end), 10)
            print(f"hung redis (1 s timeouts): 503 after {took_503:.1f}s, silent subscription noticed after "
                  f"{took_sub:.1f}s, buffer drained {time.monotonic() - hung:.1f}s after the hang began")
        finally:
            if stopped:
                os.kill(proc.pid, signal.SIGCONT)
            await raw.close()
            for c in (alice, bob):
                await c.close()
