"""Two nodes sharing PostgreSQL and Redis behind no load balancer at all: clients pick
a node each, and every guarantee of one node must hold across the pair."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.support.cluster import two_nodes
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    extra = {
        "SEMOT_RATE_PER_S": "1000",
        "SEMOT_RATE_BURST": "1000",
        "SEMOT_NODE_TIMEOUT_S": "2",
        "SEMOT_MAX_DEVICES_PER_USER": "2",
    }
    # both at once: migrations must not race
    with two_nodes(tmp_path_factory.mktemp("cluster"), "cluster", extra, together=True) as c:
        yield c.a, c.b


async def _client(node: ServerProcess, username: str, *, device: str | None = None, register: bool = True) -> SemotClient:
    c = SemotClient(node.base, device_id=device)
    if register:
        try:
            await c.register(username, "password123")
        except SemotAPIError as exc:
            if exc.code != "conflict":
                raise
    await c.login(username, "password123")
    await c.connect()
    return c


@pytest.fixture
async def names() -> AsyncIterator[list[str]]:
    suffix = uuid.uuid4().hex[:6]
    yield [f"{n}{suffix}" for n in ("alice", "bob", "carol", "dave")]


async def test_direct_messages_cross_nodes_both_ways(nodes: tuple[ServerProcess, ServerProcess], names: list[str]) -> None:
    a, b = nodes
    alice = await _client(a, names[0])
    bob = await _client(b, names[1])
    try:
        ack = await alice.send_text(names[1], "from node A")
        got = await bob.next_message(5)
        assert got["body"] == {"text": "from node A"} and got["seq"] == ack["seq"] == 1
        ack2 = await bob.send_text(names[0], "from node B")
        own = await alice.next_message(5)  # the SDK hands the app its own sends too
        assert own["seq"] == 1 and own["from"] == names[0]
        got2 = await alice.next_message(5)
        assert got2["seq"] == ack2["seq"] == 2 and got2["from"] == names[1]
    finally:
        await alice.close()
        await bob.close()


async def test_concurrent_group_senders_on_both_nodes_get_gap_free_seqs(
    nodes: tuple[ServerProcess, ServerProcess], names: list[str]
) -> None:
    a, b = nodes
    clients = [await _client(node, n) for node, n in zip((a, b, a, b), names, strict=True)]
    try:
        group = await clients[0].create_group("cluster", names[1:])
        conv = group["conv"]
        per_sender = 40

        async def blast(c: SemotClient, tag: str) -> list[int]:
            acks = await asyncio.gather(*(c.send_text(conv, f"{tag}-{i}") for i in range(per_sender)))
            return [x["seq"] for x in acks]

        seqs = await asyncio.gather(*(blast(c, n) for c, n in zip(clients, names, strict=True)))
        total = 1 + per_sender * len(clients)  # seq 1 is the group-created system message
        assert sorted(s for ss in seqs for s in ss) == list(range(2, total + 1))

        # every member, whichever node it is on, ends with exactly seqs 1..total
        for c in clients:
            async def complete(c: SemotClient = c) -> None:
                while c.last_seq.get(conv, 0) < total:
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(complete(), 10)
            seen: list[int] = []
            while not c._inbox.empty():
                m = c._inbox.get_nowait()
                if m["conv"] == conv:
                    seen.append(m["seq"])
            assert seen == list(range(1, total + 1)), f"{c.user_id} saw gaps or repeats"
    finally:
        for c in clients:
            await c.close()


async def test_same_device_on_another_node_replaces_the_first(
    nodes: tuple[ServerProcess, ServerProcess], names: list[str]
) -> None:
    a, b = nodes
    first = await _client(a, names[0], device="phone")
    first.reconnect = False
    second = await _client(b, names[0], device="phone", register=False)
    try:
        for _ in range(100):
            if first.close_code is not None:
                break
            await asyncio.sleep(0.05)
        assert first.close_code == 4409
        assert await second.ping() > 0
    finally:
        await first.close()
        await second.close()


async def test_group_changes_on_one_node_reach_the_other_nodes_cache(
    nodes: tuple[ServerProcess, ServerProcess], names: list[str]
) -> None:
    a, b = nodes
    owner = await _client(a, names[0])
    bob = await _client(b, names[1])
    try:
        g = await owner.create_group("cluster-admin", [names[1]])
        await bob.send_text(g["conv"], "warm node B's cache")  # node B now caches the group
        await owner.http("DELETE", f"/api/v1/groups/{g['group_id']}/members/{names[1]}")
        with pytest.raises(SemotAPIError) as info:
            for _ in range(50):  # the invalidation crosses Redis asynchronously
                await bob.send_text(g["conv"], "am I still in?")
                await asyncio.sleep(0.05)
        assert info.value.code == "forbidden"
    finally:
        await owner.close()
        await bob.close()


class PresenceLog:
    """The presence pushes one client receives, per user."""

    def __init__(self, client: SemotClient) -> None:
        self.events: list[dict[str, object]] = []
        client.on_event(lambda e: self.events.append(e) if e.get("evt") == "presence" else None)

    def of(self, user: str) -> list[tuple[object, object]]:
        return [(e["status"], e["text"]) for e in self.events if e["user"] == user]

    async def until(self, user: str, status: str, timeout: float = 8.0) -> None:
        for _ in range(int(timeout / 0.05)):
            got = self.of(user)
            if got and got[-1][0] == status:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {status!r} for {user}: {self.of(user)}")


async def _befriend(watcher: SemotClient, other: SemotClient, other_name: str) -> None:
    await watcher.http("PATCH", "/api/v1/me/settings", {"friend_approval": False})
    await other.http("POST", "/api/v1/friends/requests", {"user_id": watcher.user_id})


async def test_presence_counts_devices_on_every_node_and_pushes_each_change_once(
    nodes: tuple[ServerProcess, ServerProcess], names: list[str]
) -> None:
    a, b = nodes
    alice = await _client(a, names[0])
    seen = PresenceLog(alice)
    phone = SemotClient(a.base, device_id="phone")
    await phone.register(names[1], "password123")
    await phone.login(names[1], "password123")
    await _befriend(alice, phone, names[1])  # friends first: each change of bob's reaches alice
    await phone.connect()
    laptop = await _client(b, names[1], device="laptop", register=False)
    try:
        await seen.until(names[1], "online")
        await phone.close()  # bob is still online on node B
        await asyncio.sleep(1.5)
        assert seen.of(names[1]) == [("online", "")]
        await laptop.request("presence", status="busy", text="on node B")
        await seen.until(names[1], "busy")
        # anyone asking either node gets the cluster-wide status
        for node_client in (alice,):
            got = await node_client.http("GET", f"/api/v1/presence?users={names[1]}")
            assert got["users"] == [{"user": names[1], "status": "busy", "text": "on node B"}]
        await laptop.close()
        await seen.until(names[1], "offline")
        await asyncio.sleep(1.2)
        # each change pushed once (not once per node), versions in order
        assert seen.of(names[1]) == [("online", ""), ("busy", "on node B"), ("offline", "")]
        versions = [e["v"] for e in seen.events if e["user"] == names[1]]
        assert versions == sorted(versions) and len(set(versions)) == 3
    finally:
        await alice.close()
        await phone.close()
        await laptop.close()


async def test_device_limit_counts_devices_on_every_node(
    nodes: tuple[ServerProcess, ServerProcess], names: list[str]
) -> None:
    a, b = nodes
    one = await _client(a, names[2], device="one")
    two = await _client(b, names[2], device="two", register=False)
    third = SemotClient(a.base, device_id="three")
    third.reconnect = False
    await third.login(names[2], "password123")
    try:
        with pytest.raises(SemotAPIError) as info:
            await third.connect()
        assert info.value.code == "forbidden" and "2 devices" in str(info.value)
        # the same device moving to the other node replaces itself: not a third device
        again = await _client(b, names[2], device="one", register=False)
        assert await again.ping() > 0
        await again.close()
    finally:
        for c in (one, two, third):
            await c.close()


async def test_a_crashed_node_users_go_offline_on_the_others(
    nodes: tuple[ServerProcess, ServerProcess], names: list[str], tmp_path: Path
) -> None:
    a, _ = nodes
    c = ServerProcess(tmp_path / "c", {k: v for k, v in a.env.items() if k.startswith("SEMOT_")}).start()
    try:
        watcher = await _client(a, names[3])
        seen = PresenceLog(watcher)
        doomed = SemotClient(c.base, device_id="desk")
        doomed.reconnect = False
        await doomed.register(names[0], "password123")
        await doomed.login(names[0], "password123")
        await _befriend(watcher, doomed, names[0])
        await doomed.connect()
        await seen.until(names[0], "online")
        c.proc.kill()  # SIGKILL: no goodbye, no cleanup  # type: ignore[union-attr]
        c.proc.wait(10)  # type: ignore[union-attr]
        await seen.until(names[0], "offline", timeout=10)  # node timeout 2 s + one beat + one flush
        await watcher.close()
        await doomed.close()
    finally:
        c.kill()
