"""The cluster through a Redis outage of a few seconds (docs/operations.md, "Redis
outages"): publishes that failed go out in order once Redis is back (bounded; beyond
the bound the node says so and everyone syncs), a node whose subscription broke tells
its clients to sync (`evt resync`), and requests that need Redis meanwhile answer 503
`unavailable` with Retry-After over HTTP and `unavailable` over WebSocket, never 500.

The first test drives two buses in this process against a real redis-server, so that
what goes over the wire is checked exactly; the second runs two real nodes."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from semot.bus.base import ALL_CACHES, Delivery, Disconnect, Invalidate
from semot.bus.redis import RedisBus
from semot.client import SemotAPIError
from semot.protocol.events import parse_push
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, _unavailable
from tests.cluster.node_loss_support import RedisServer, three_nodes, until, user

RESYNC = b'{"t":"evt","evt":"resync","spread_ms":0}'


class Recorder:
    """A node's hub as the bus sees it: what it was asked to deliver."""

    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.invalidated: list[str] = []

    def deliver(self, delivery: Delivery) -> int:
        self.payloads.append(delivery.payload)
        return 1

    def disconnect(self, command: Disconnect) -> int:
        return 0

    def invalidate(self, command: Invalidate) -> None:
        self.invalidated.append(command.key)


def _subscribe_now(url: str, channel: str) -> Any:
    """A blocking subscriber, made before the event loop runs again: nothing the buses
    publish after Redis is back can slip past it."""
    ps = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
    ps.subscribe(channel)
    return ps


async def _read(ps: Any, n: int, timeout: float = 20) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        item = await asyncio.to_thread(ps.get_message, timeout=0.5)
        if item and item["type"] == "message":
            got.append(item["data"])
    return got


def _payload(raw: bytes) -> bytes:
    return raw.partition(b"\n")[2]


async def test_bus_keeps_failed_publishes_in_order_then_falls_back_to_resync(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis.log").start()
    ns = f"outage{uuid.uuid4().hex[:6]}"
    channel = f"{ns}:bus:v2"
    a = RedisBus(server.url, node_id="a", namespace=ns, max_pending=5, resync_spread_ms=0)
    b = RedisBus(server.url, node_id="b", namespace=ns, resync_spread_ms=0)
    at_a, at_b = Recorder(), Recorder()
    await a.start(at_a)
    await b.start(at_b)
    try:
        a.publish(Delivery(("u1",), b'{"n":0}'))
        await until("b receives a's publish", lambda: _true(b'{"n":0}' in at_b.payloads), 10)

        # an outage shorter than the bound: every publish goes out once Redis is back, in order
        server.kill()
        for i in range(1, 4):
            a.publish(Delivery(("u1",), b'{"n":%d}' % i))
        await until("a's writer meets the outage", lambda: _true(len(a._pending) == 3 and a._writer is not None), 10)
        await asyncio.sleep(0.5)  # a few failed attempts
        server.start()
        watcher = _subscribe_now(server.url, channel)
        got = await _read(watcher, 3)
        assert [_payload(r) for r in got] == [b'{"n":1}', b'{"n":2}', b'{"n":3}']
        # b's subscription broke: it told its clients to sync, and delivers what it hears again
        await until("b tells its clients to sync", lambda: _true(RESYNC in at_b.payloads), 20)
        assert b.resyncs >= 1 and ALL_CACHES in at_b.invalidated  # it may have missed invalidations too
        b_before = len(at_b.payloads)
        a.publish(Delivery(("u1",), b'{"n":4}'))
        await until("b hears a again", lambda: _true(b'{"n":4}' in at_b.payloads[b_before:]), 20)

        # beyond the bound: the oldest are dropped and a says so first
        await _read(watcher, 1, timeout=1)  # n=4 itself
        watcher.close()
        server.kill()
        for i in range(5, 13):
            a.publish(Delivery(("u1",), b'{"n":%d}' % i))
        assert len(a._pending) == 5
        server.start()
        watcher = _subscribe_now(server.url, channel)
        got = await _read(watcher, 6)
        assert json.loads(got[0].partition(b"\n")[0]) == {"k": "r", "n": "a"}
        assert [_payload(r) for r in got[1:]] == [b'{"n":%d}' % i for i in range(8, 13)]

        # a drop notice from another node makes this node's clients sync
        await until("b resubscribed", lambda: _true(b.resyncs >= 2), 20)
        b_before = len(at_b.payloads)
        redis.Redis.from_url(server.url).publish(channel, b'{"k":"r","n":"c"}\n')
        await until("b relays c's drop notice to its clients", lambda: _true(RESYNC in at_b.payloads[b_before:]), 10)
        watcher.close()
    finally:
        await a.stop()
        await b.stop()
        server.kill()


async def _true(value: bool) -> bool:
    return value


PRESENCE = "/api/v1/presence?users="


async def _presence_status(session: aiohttp.ClientSession, base: str, token: str, who: str) -> tuple[int, str, Any]:
    async with session.get(base + PRESENCE + who, headers={"Authorization": f"Bearer {token}"}) as resp:
        body = await resp.json()
        return resp.status, resp.headers.get("Retry-After", ""), body


async def _web_client(pw: Any, base: str, username: str) -> Any:
    """Chromium signed in to the web client through its login form; the page's SDK
    client is `window.__semot.client`."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = await browser.new_page()
    page.set_default_timeout(20_000)
    await page.goto(base + "/")
    await page.fill("[data-testid=username]", username)
    await page.fill("[data-testid=password]", PASSWORD)
    await page.click("[data-testid=submit]")
    await page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
    return browser, page


@pytest.mark.timeout(240)  # two node starts and Chromium on a loaded 2-core machine
async def test_messages_cross_nodes_through_a_redis_outage_without_reconnecting(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    s = uuid.uuid4().hex[:6]
    with three_nodes(tmp_path, "redisout", count=2) as cluster:
        bases = cluster.bases
        alice = await user(bases, 0, f"al{s}")
        bob = await user(bases, 1, f"bo{s}")
        carol = await user(bases, 1, f"ca{s}")
        raw = aiohttp.ClientSession()
        pw = await async_playwright().start()
        browser = None
        try:
            await alice.http("PATCH", "/api/v1/me/settings", {"friend_approval": False})
            await bob.http("POST", "/api/v1/friends/requests", {"user_id": alice.user_id})
            group = (await alice.create_group("outage", [str(bob.user_id), str(carol.user_id)]))["conv"]
            direct = (await alice.send_text(str(bob.user_id), "before"))["conv"]

            async def bob_knows() -> bool:
                return bob.last_seq.get(direct) == 1 and group in bob.last_seq

            await until("bob has the first message", bob_knows, 20)
            # a bare WebSocket on node 1 (no SDK catch-up): sees what the node pushes
            ws = await raw.ws_connect(bases[1].replace("http", "ws") + "/ws")
            await ws.send_json({"t": "auth", "rid": 1, "token": carol.access_token, "device": {"id": "raw", "platform": "sdk"}})
            assert (await ws.receive_json(timeout=10))["ok"] is True
            frames: list[dict[str, Any]] = []

            async def read_raw() -> None:
                async for m in ws:
                    if m.type == aiohttp.WSMsgType.TEXT:
                        frames.append(json.loads(m.data))

            reader = asyncio.create_task(read_raw())
            # and carol's web client on node 1 too, with the group open
            browser, page = await _web_client(pw, bases[1], str(carol.user_id))
            await page.click(f"[data-testid=conv-item][data-conv='{group}']")
            await page.wait_for_selector(f"[data-testid=chat][data-conv='{group}']")
            web_reconnects = await page.evaluate("window.__semot.client.reconnects")
            bob_reconnects, bob_closes = bob.reconnects, list(bob.closes)

            cluster.redis.kill()
            down = time.monotonic()
            # HTTP that needs Redis: 503 `unavailable` + Retry-After, never a 500
            seen: list[int] = []

            async def refused() -> bool:
                status, retry, body = await _presence_status(raw, bases[1], str(bob.access_token), str(alice.user_id))
                seen.append(status)
                return status == 503 and body["error"]["code"] == "unavailable" and retry.isdigit()

            await until("presence answers 503 while Redis is down", refused, 10)
            with pytest.raises(SemotAPIError) as ws_err:  # the same over WebSocket
                await bob.request("presence_sub", users=[alice.user_id])
            assert ws_err.value.code == "unavailable", ws_err.value

            acked = []  # sends still commit (PostgreSQL); cross-node pushes wait for Redis
            for i in range(6):
                acked.append(await alice.send_text(direct if i % 2 else group, f"during {i}"))
            while time.monotonic() - down < 4:
                await asyncio.sleep(0.2)
            cluster.redis.start()
            back = time.monotonic()
            ends = {direct: max(a["seq"] for a in acked if a["conv"] == direct),
                    group: max(a["seq"] for a in acked if a["conv"] == group)}

            async def bob_caught_up() -> bool:
                return all(bob.last_seq.get(conv, 0) >= end for conv, end in ends.items())

            took = await until("bob receives what alice sent during the outage", bob_caught_up, 20)
            assert bob.reconnects == bob_reconnects and bob.closes == bob_closes, "bob reconnected"
            texts: dict[str, list[str]] = {direct: [], group: []}
            while not bob._inbox.empty():  # each conversation once, in order, no gap
                m = bob._inbox.get_nowait()
                if m["kind"] == "text":
                    texts[m["conv"]].append(m["body"]["text"])
            assert texts == {direct: ["before", "during 1", "during 3", "during 5"],
                             group: ["during 0", "during 2", "during 4"]}, texts

            async def resync_pushed() -> bool:
                return any(f.get("evt") == "resync" for f in frames)

            await until("node 1 pushes evt resync to its clients", resync_pushed, 20)
            for f in frames:  # every push fits its model (protocol/events.py), the resync included
                parse_push(json.dumps(f))
            await until("bob's SDK syncs (after its random spread)", lambda: _true(bob.resyncs >= 1), 10)

            async def carol_group_pushed() -> bool:  # carol's bare socket: the pushes, or a resync
                return {f["seq"] for f in frames if f.get("t") == "msg" and f["conv"] == group} >= set(
                    range(2, ends[group] + 1)) or await resync_pushed()

            await until("carol's socket is pushed to or told to sync", carol_group_pushed, 20)
            # the web client shows them in the open chat, on the same connection
            await page.wait_for_function(
                """exp => {
                    const got = [...document.querySelectorAll('[data-testid=chat] [data-testid=msg-text]')].map(e => e.textContent);
                    return JSON.stringify(got.slice(-exp.length)) === JSON.stringify(exp);
                }""",
                arg=["during 0", "during 2", "during 4"],
            )
            await page.wait_for_function("window.__semot.client.resyncs >= 1")  # it heard evt resync
            assert await page.evaluate("window.__semot.client.reconnects") == web_reconnects
            assert await page.evaluate("window.__semot.state.connection") == "open"

            async def presence_back() -> bool:
                status, _, _body = await _presence_status(raw, bases[1], str(bob.access_token), str(alice.user_id))
                seen.append(status)
                return status == 200

            await until("presence answers again", presence_back, 20)
            assert 500 not in seen, seen
            print(f"redis outage: bob caught up {took:.1f}s after Redis came back "
                  f"({time.monotonic() - back:.1f}s incl. checks), statuses seen {sorted(set(seen))}")
            await ws.close()
            reader.cancel()
        finally:
            if browser is not None:
                await browser.close()
            await pw.stop()
            await raw.close()
            for c in (alice, bob, carol):
                await c.close()
