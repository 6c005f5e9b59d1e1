"""A three-node cluster under load, for the failure tests (node loss, Redis loss,
rolling restart): its own Redis server, a fresh PostgreSQL schema, clients that fail
over to another node as a load balancer would send them, senders that resend with the
same `cid` until acknowledged, and the end checks (exactly once, gap-free, converged)."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from semot.client import ClientClosed, SemotAPIError, SemotClient
from tests.support.cluster import PG_URL, _sync, require_cluster
from tests.support.server import ServerProcess, free_port

PASSWORD = "password123"
RETRY_CODES = {"unavailable", "rate_limited", "internal_timeout", "timeout"}


class RedisServer:
    """Debian's redis-server on a free loopback port, without persistence (like the
    deployment's: nothing durable lives in Redis), killed and restarted at will."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI") == "true":
                pytest.fail("redis-server is not installed (.ci/run installs it)")
            pytest.skip("redis-server is not installed")
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=out, stderr=subprocess.STDOUT,
            )
        import socket

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not listen")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


async def _drop_schema(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@dataclass
class Cluster3:
    nodes: list[ServerProcess]
    redis: RedisServer

    @property
    def bases(self) -> list[str]:
        return [n.base for n in self.nodes]


@contextmanager
def three_nodes(root: Path, prefix: str, extra: dict[str, str] | None = None, count: int = 3) -> Iterator[Cluster3]:
    """Three nodes (or `count`) sharing a fresh schema of the machine's PostgreSQL and a
    Redis of their own; everything killed and dropped afterwards."""
    require_cluster()
    root.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(root / "redis.log").start()
    schema = f"semot_{prefix}_{os.urandom(5).hex()}"
    env = {
        "SEMOT_DATABASE_URL": PG_URL,
        "SEMOT_DATABASE_SCHEMA": schema,
        "SEMOT_REDIS_URL": redis.url,
        "SEMOT_REDIS_NAMESPACE": schema,
        "SEMOT_SECRET_KEY": os.urandom(32).hex(),
        "SEMOT_RATE_PER_S": "1000",
        "SEMOT_RATE_BURST": "1000",
        "SEMOT_NODE_TIMEOUT_S": "3",
        "SEMOT_DB_POOL_SIZE": "5",
        **(extra or {}),
    }
    nodes = [ServerProcess(root / f"node{i}", env) for i in range(count)]
    try:
        nodes[0].start()  # migrates the schema; the others join it, both at once
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda n: n.start(), nodes[1:]))
        yield Cluster3(nodes, redis)
    finally:
        for n in nodes:
            n.kill()
        redis.kill()
        _sync(_drop_schema(schema))


class FailoverClient(SemotClient):
    """The SDK client with a list of nodes: a reconnect that cannot reach its node tries
    the next, as a load balancer would route it. Records each connection's close code."""

    def __init__(self, bases: list[str], first: int, device_id: str) -> None:
        super().__init__(bases[first], device_id=device_id, backoff_base=0.2, backoff_max=1.0, request_timeout=15)
        self.bases = bases
        self.at = first
        self.closes: list[int | None] = []

    def point(self, i: int) -> None:
        self.at = i % len(self.bases)
        self.base_url = self.bases[self.at]
        self.ws_url = self.base_url.replace("http://", "ws://") + "/ws"

    async def _open(self) -> None:
        try:
            await super()._open()
        except (TimeoutError, aiohttp.ClientError, OSError):
            self.point(self.at + 1)
            raise

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            await super()._read_loop(ws)
        finally:
            self.closes.append(ws.close_code)


async def user(bases: list[str], node: int, name: str, *, reconnect: bool = True) -> FailoverClient:
    c = FailoverClient(bases, node, f"dev-{name}")
    c.reconnect = reconnect
    await c.register(name, PASSWORD)
    await c.login(name, PASSWORD)
    await c.connect()
    return c


@dataclass
class Ack:
    conv: str
    seq: int
    sender: str


@dataclass
class Load:
    """Senders on every client: every other message to the group, the others to a
    neighbour on the ring of direct chats; an unanswered send is resent with its cid."""

    clients: list[FailoverClient]
    group: str
    interval: float = 0.08
    acked: dict[str, Ack] = field(default_factory=dict)  # cid -> ack
    resends: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._sender(i)) for i in range(len(self.clients))]

    async def finish(self, timeout: float = 60.0) -> None:
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout)

    async def _sender(self, i: int) -> None:
        c, rng, n = self.clients[i], random.Random(i), 0
        ring = [self.clients[(i + 1) % len(self.clients)].user_id, self.clients[i - 1].user_id]
        while not self.stop.is_set():
            n += 1
            to = self.group if n % 2 else rng.choice(ring)
            cid = f"{c.user_id}-{n}"
            assert to is not None
            ack = await self._send(c, to, cid)
            self.acked[cid] = Ack(ack["conv"], ack["seq"], str(c.user_id))
            await asyncio.sleep(self.interval * rng.uniform(0.5, 1.5))

    async def _send(self, c: FailoverClient, to: str, cid: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while True:
            try:
                return await c.send_text(to, cid, cid=cid)
            except (ClientClosed, TimeoutError) as exc:
                problem: BaseException = exc
            except SemotAPIError as exc:
                if exc.code not in RETRY_CODES:
                    raise
                problem = exc
            if time.monotonic() > deadline:
                raise AssertionError(f"{cid} never acknowledged: {problem!r}")
            self.resends += 1
            try:
                await c.wait_connected(5)
            except TimeoutError:
                pass
            await asyncio.sleep(0.05)


async def until(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> float:
    """Poll `check` until true; returns the seconds it took (fails after `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if await check():
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


async def history(c: SemotClient, conv: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await c.history(conv, after=after, limit=200)
        out += page["messages"]
        if not page["more"] or not page["messages"]:
            return out
        after = page["messages"][-1]["seq"]


async def befriend_all(watcher: SemotClient, others: list[SemotClient]) -> None:
    """Make `watcher` a friend of everyone, so that it may read their presence."""
    for o in others:
        await o.http("PATCH", "/api/v1/me/settings", {"friend_approval": False})
        await watcher.http("POST", "/api/v1/friends/requests", {"user_id": o.user_id})


async def statuses(watcher: SemotClient, users: list[str]) -> dict[str, str]:
    """Everyone's status as `watcher` sees it; "unknown" for all while the node cannot
    answer (Redis down, or a dead pooled connection right after it restarts: 503)."""
    try:
        got = await watcher.http("GET", "/api/v1/presence?users=" + ",".join(users))
    except SemotAPIError as exc:
        if exc.status != 503 or exc.code != "unavailable":  # never a 500 (test_redis_outage.py)
            raise
        return dict.fromkeys(users, "unknown")
    return {u["user"]: u["status"] for u in got["users"]}


async def warm_up(clients: list[FailoverClient], group: str) -> None:
    """One message on each direct chat of the ring, so that every client knows all its
    conversations from seq 1 before the load starts."""
    for i, c in enumerate(clients):
        assert clients[(i + 1) % len(clients)].user_id is not None
        await c.send_text(str(clients[(i + 1) % len(clients)].user_id), f"hello {i}")

    async def known() -> bool:
        return all(len(c.last_seq) == 3 and group in c.last_seq for c in clients)

    await until("every client knows its three conversations", known, 30)


async def check_everything(clients: list[FailoverClient], load: Load) -> dict[str, int]:
    """Every acknowledged message stored exactly once at its acked seq, seqs gap-free,
    and every client converged: its position equals the stored end of each of its
    conversations, and what it delivered is exactly 1..end, in order, once each."""
    convs = {a.conv for a in load.acked.values()}
    stored: dict[str, list[dict[str, Any]]] = {}
    for conv in convs:
        member = next(c for c in clients if conv in c.last_seq)
        msgs = await history(member, conv)
        seqs = [m["seq"] for m in msgs]
        assert seqs == list(range(1, len(seqs) + 1)), f"{conv}: seqs not gap-free"
        cids = [m["cid"] for m in msgs if m.get("cid")]
        assert len(cids) == len(set(cids)), f"{conv}: a message stored twice"
        stored[conv] = msgs
    by_cid = {m["cid"]: (conv, m["seq"]) for conv, msgs in stored.items() for m in msgs if m.get("cid")}
    for cid, ack in load.acked.items():
        assert by_cid.get(cid) == (ack.conv, ack.seq), f"acknowledged {cid} missing or moved"
    ends = {conv: len(msgs) for conv, msgs in stored.items()}

    async def converged() -> bool:
        return all(c.last_seq.get(conv, 0) >= end for c in clients for conv, end in ends.items() if conv in c.last_seq)

    await until("every client caught up with every conversation", converged, 45)
    for c in clients:
        seen: dict[str, list[int]] = defaultdict(list)
        while not c._inbox.empty():
            m = c._inbox.get_nowait()
            seen[m["conv"]].append(m["seq"])
        for conv in c.last_seq:
            assert c.last_seq[conv] == ends[conv], f"{c.user_id} is past the end of {conv}"
            assert seen[conv] == list(range(1, ends[conv] + 1)), f"{c.user_id} delivered gaps or repeats in {conv}"
        sync = {s["conv"]: s["max_seq"] for s in await c.sync(dict.fromkeys(c.last_seq, 0))}
        assert all(sync[conv] == ends[conv] for conv in c.last_seq), f"sync disagrees with history: {sync} {ends}"
    return {"messages": len(load.acked), "resends": load.resends, "conversations": len(convs)}
