"""The live protocol log over a real server and real WebSocket clients: an administrator
watches one user; every frame in and out of that user's connections (those already
open and new ones) is captured with its direction, device, node, time and size, the
auth token redacted; nothing is captured for anyone else, nor before the start, after
a stop or after the session expired; only administrators whose role grants devtools.*
may use it, and starting and stopping are audited. A two-node cluster (PostgreSQL +
Redis) captures on the node holding the connection and serves the frames from the other.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from tests.integration.harness import PASSWORD, Account, Api, Clients, ServerProcess, unique
from tests.support.cluster import two_nodes

BASE = "/api/admin/v1/protocol-log"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("plog") / "data")
    srv.start()
    yield srv
    if srv.running:
        srv.stop()


@pytest.fixture(scope="module")
def admin_name(server: ServerProcess) -> str:
    name = f"padm{uuid.uuid4().hex[:6]}"
    server.create_admin(name)
    return name


@pytest.fixture
async def admin(api: Api, server: ServerProcess, admin_name: str) -> str:
    status, body = await api.login(server, admin_name)
    assert status == 200, body
    return str(body["access_token"])


async def read_until(
    api: Api,
    server: ServerProcess,
    token: str,
    user_id: str,
    done: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 10.0,
) -> list[dict[str, Any]]:
    """Poll GET /protocol-log with the cursor, as the console does, until `done(frames)`."""
    frames: list[dict[str, Any]] = []
    after = 0
    deadline = time.monotonic() + timeout
    while True:
        status, body = await api.call(server, "GET", f"{BASE}?user_id={user_id}&after={after}", token=token)
        assert status == 200, body
        frames.extend(body["frames"])
        after = body["cursor"]
        if done(frames):
            return frames
        if time.monotonic() > deadline:
            raise AssertionError(f"not captured within {timeout}s: {[(f['dir'], f['text'][:80]) for f in frames]}")
        await asyncio.sleep(0.2)


def parsed(frames: list[dict[str, Any]], direction: str) -> list[dict[str, Any]]:
    return [json.loads(f["text"]) for f in frames if f["dir"] == direction]


def has(frames: list[dict[str, Any]], direction: str, **fields: Any) -> bool:
    return any(all(p.get(k) == v for k, v in fields.items()) for p in parsed(frames, direction))


async def start(api: Api, server: ServerProcess, token: str, user_id: str, minutes: float = 5) -> dict[str, Any]:
    status, body = await api.call(
        server, "POST", f"{BASE}/sessions", {"user_id": user_id, "minutes": minutes}, token=token
    )
    assert status == 201, body
    return dict(body)


async def test_frames_both_ways_on_every_connection_token_redacted(
    api: Api, clients: Clients, server: ServerProcess, admin: str
) -> None:
    ann, bob = await api.accounts(server, 2, "pl")
    early = await clients.connect(server, ann, device="ann-early")  # open before the session starts
    await early.call("ping", rid=1001)
    session = await start(api, server, admin, ann.user_id, minutes=2)
    assert session["user_id"] == ann.user_id and session["username"] == ann.user_id
    assert 110_000 < session["until"] - session["started_at"] <= 120_000
    status, body = await api.call(server, "GET", f"{BASE}/sessions", token=admin)
    assert status == 200 and ann.user_id in [s["user_id"] for s in body["sessions"]]

    await early.call("ping", rid=1002)
    late = await clients.connect(server, ann, device="ann-late", platform="web")
    wb = await clients.connect(server, bob)
    ack = await late.send_text(bob.user_id, "hello bob")
    await wb.send_text(ann.user_id, "hi ann")
    await late.wait_for(lambda f: f.get("t") == "msg" and f.get("body") == {"text": "hi ann"})

    def complete(fr: list[dict[str, Any]]) -> bool:
        return (
            has(fr, "in", t="auth")
            and has(fr, "out", t="res", rid=1002)
            and has(fr, "in", t="send")
            and has(fr, "out", t="res", ok=True, data=ack)
            and any(
                p.get("t") == "msg" and p.get("body") == {"text": "hi ann"} and p.get("from") == bob.user_id
                for p in parsed(fr, "out")
            )
        )

    frames = await read_until(api, server, admin, ann.user_id, complete)
    assert not has(frames, "in", rid=1001) and not has(frames, "out", rid=1001)  # before the start: nothing
    (auth,) = [p for p in parsed(frames, "in") if p.get("t") == "auth"]
    assert auth["token"] == "[redacted]" and auth["device"] == {"id": "ann-late", "platform": "web"}
    assert all(ann.access_token not in f["text"] for f in frames)
    auth_ok = [p for p in parsed(frames, "out") if p.get("t") == "res" and p.get("data", {}).get("user_id")]
    assert auth_ok and auth_ok[0]["data"]["session_id"] == late.session_id
    devices = {f["device_id"] for f in frames}
    assert devices == {"ann-early", "ann-late"}, devices
    for f in frames:
        assert f["node"] and f["ts"] > 0 and f["size"] >= len(f["text"].encode()) - 64 and not f["truncated"]
        assert f["session_id"] in (early.session_id, late.session_id)
    send_in = next(f for f in frames if f["dir"] == "in" and json.loads(f["text"]).get("t") == "send")
    assert send_in["platform"] == "web" and send_in["session_id"] == late.session_id
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # nobody else is captured: bob's frames are not there
    status, body = await api.call(server, "GET", f"{BASE}?user_id={bob.user_id}", token=admin)
    assert status == 200 and body["frames"] == [] and body["session"] is None and body["cursor"] == 0
    # polling from the last cursor returns nothing new until something happens
    status, body = await api.call(server, "GET", f"{BASE}?user_id={ann.user_id}&after={ids[-1]}", token=admin)
    assert status == 200 and body["cursor"] == ids[-1] and body["session"]["user_id"] == ann.user_id

    # stopped: captured no more, on either connection
    status, body = await api.call(server, "DELETE", f"{BASE}/sessions/{ann.user_id}", token=admin)
    assert status == 200 and body == {"stopped": True}
    status, body = await api.call(server, "DELETE", f"{BASE}/sessions/{ann.user_id}", token=admin)
    assert status == 200 and body == {"stopped": False}
    await early.call("ping", rid=1003)
    await late.call("ping", rid=1004)
    await asyncio.sleep(1.5)  # two flush intervals
    status, body = await api.call(server, "GET", f"{BASE}?user_id={ann.user_id}&after={ids[-1]}", token=admin)
    assert status == 200 and body["session"] is None
    assert not any(json.loads(f["text"]).get("rid") in (1003, 1004) for f in body["frames"])

    # every start and stop is in the audit log
    status, body = await api.call(server, "GET", "/api/admin/v1/audit-log?limit=200", token=admin)
    if status == 200:
        actions = [(e["action"], e["target"]) for e in body["entries"]]
        assert ("protocol_log.start", ann.user_id) in actions and ("protocol_log.stop", ann.user_id) in actions


async def test_session_expires_by_itself(api: Api, clients: Clients, server: ServerProcess, admin: str) -> None:
    (cat,) = await api.accounts(server, 1, "pl")
    ws = await clients.connect(server, cat)
    session = await start(api, server, admin, cat.user_id, minutes=0.05)  # 3 s
    assert session["until"] - session["started_at"] == 3000
    await ws.call("ping", rid=2001)
    await read_until(api, server, admin, cat.user_id, lambda fr: has(fr, "out", t="res", rid=2001))
    await asyncio.sleep(max(0.0, session["until"] / 1000 - time.time()) + 0.3)
    await ws.call("ping", rid=2002)
    again = await clients.connect(server, cat)  # a connection made after the end is not tapped either
    await again.call("ping", rid=2003)
    await asyncio.sleep(1.5)
    status, body = await api.call(server, "GET", f"{BASE}?user_id={cat.user_id}", token=admin)
    assert status == 200 and body["session"] is None
    rids = [json.loads(f["text"]).get("rid") for f in body["frames"]]
    assert 2001 in rids and 2002 not in rids and 2003 not in rids
    status, body = await api.call(server, "GET", f"{BASE}/sessions", token=admin)
    assert cat.user_id not in [s["user_id"] for s in body["sessions"]]


async def test_off_by_default_nothing_captured(api: Api, clients: Clients, server: ServerProcess, admin: str) -> None:
    dan, eve = await api.accounts(server, 2, "pl")
    wd = await clients.connect(server, dan)
    we = await clients.connect(server, eve)
    await wd.send_text(eve.user_id, "unwatched")
    await we.wait_for(lambda f: f.get("t") == "msg")
    await asyncio.sleep(1.2)
    for uid in (dan.user_id, eve.user_id):
        status, body = await api.call(server, "GET", f"{BASE}?user_id={uid}", token=admin)
        assert status == 200 and body == {"frames": [], "cursor": 0, "more": False, "session": None}


async def test_validation_and_permissions(api: Api, clients: Clients, server: ServerProcess, admin: str) -> None:
    (fay,) = await api.accounts(server, 1, "pl")
    for bad in (
        {"user_id": fay.user_id, "minutes": 61},
        {"user_id": fay.user_id, "minutes": 0},
        {"user_id": fay.user_id, "minutes": "5"},
        {"user_id": "bad id"},
        {"minutes": 5},
        {"user_id": fay.user_id, "extra": 1},
    ):
        status, body = await api.call(server, "POST", f"{BASE}/sessions", bad, token=admin)
        assert status == 400 and body["error"]["code"] == "bad_request", (bad, body)
    status, body = await api.call(server, "POST", f"{BASE}/sessions", {"user_id": "nobody_here"}, token=admin)
    assert status == 404, body
    status, body = await api.call(server, "POST", f"{BASE}/sessions", {"user_id": fay.user_id}, token=admin)
    assert status == 201 and body["until"] - body["started_at"] == 10 * 60_000  # the default: 10 minutes
    await api.call(server, "DELETE", f"{BASE}/sessions/{fay.user_id}", token=admin)
    for path in (
        BASE,
        f"{BASE}?user_id=a%00b",
        f"{BASE}?user_id={fay.user_id}&limit=201",
        f"{BASE}?user_id={fay.user_id}&after=-1",
    ):
        status, body = await api.call(server, "GET", path, token=admin)
        assert status == 400, (path, body)

    # a user is not an administrator; an administrator needs devtools.view / devtools.write
    calls = [
        ("GET", f"{BASE}?user_id={fay.user_id}", None),
        ("GET", f"{BASE}/sessions", None),
        ("POST", f"{BASE}/sessions", {"user_id": fay.user_id}),
        ("DELETE", f"{BASE}/sessions/{fay.user_id}", None),
    ]
    for method, path, body_in in calls:
        status, body = await api.call(server, method, path, body_in, token=fay.access_token)
        assert status == 403, (method, path, body)
        status, body = await api.call(server, method, path, body_in)
        assert status == 401, (method, path, body)
    viewer = await _admin_with_perms(api, server, admin, ["devtools.view"])
    user_admin = await _admin_with_roles(api, server, admin, ["user_admin"])
    for method, path, body_in in calls:
        status, body = await api.call(server, method, path, body_in, token=user_admin)
        assert status == 403, ("user_admin", method, path, body)
        status, body = await api.call(server, method, path, body_in, token=viewer)
        assert status == (200 if method == "GET" else 403), ("viewer", method, path, body)


async def _admin_with_roles(api: Api, server: ServerProcess, admin: str, roles: list[str]) -> str:
    acc = await api.account(server, "pla")
    status, body = await api.call(server, "PUT", f"/api/admin/v1/admins/{acc.user_id}", {"roles": roles}, token=admin)
    assert status == 200, body
    status, body = await api.login(server, acc.user_id)
    return str(body["access_token"])


async def _admin_with_perms(api: Api, server: ServerProcess, admin: str, perms: list[str]) -> str:
    status, body = await api.call(
        server, "POST", "/api/admin/v1/roles", {"name": unique("devtools"), "perms": perms}, token=admin
    )
    assert status == 201, body
    return await _admin_with_roles(api, server, admin, [body["role_id"]])


# --------------------------------------------------------------------------- two nodes


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess, str]]:
    # one after the other: the first one migrates
    with two_nodes(tmp_path_factory.mktemp("plog_cluster"), "plog", server=ServerProcess) as c:
        name = f"cadm{uuid.uuid4().hex[:6]}"
        c.a.create_admin(name)
        yield c.a, c.b, name


@pytest.fixture
async def cluster(nodes: tuple[ServerProcess, ServerProcess, str], api: Api) -> AsyncIterator[tuple[Any, ...]]:
    a, b, name = nodes
    status, body = await api.login(a, name, PASSWORD)
    assert status == 200, body
    yield a, b, body["access_token"]


async def test_cluster_capture_on_one_node_read_on_the_other(
    api: Api, clients: Clients, cluster: tuple[ServerProcess, ServerProcess, str]
) -> None:
    a, b, admin = cluster
    gus: Account = await api.account(a, "plc")
    on_b = await clients.connect(b, gus, device="gus-b")  # open on node B before the start on node A
    await start(api, a, admin, gus.user_id, minutes=1)
    # the start reaches node B over the bus a moment later: ping until B's tap has one
    rid, deadline = 3001, time.monotonic() + 15
    while True:
        await on_b.call("ping", rid=rid)
        try:
            await read_until(api, a, admin, gus.user_id, lambda fr, r=rid: has(fr, "out", rid=r), timeout=1.0)  # type: ignore[misc]
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            rid += 1
    late_b = await clients.connect(b, gus, device="gus-b2")  # and one made after, also on B
    await late_b.call("ping", rid=4001)
    frames = await read_until(
        api, a, admin, gus.user_id, lambda fr: has(fr, "out", rid=rid) and has(fr, "out", rid=4001), timeout=15
    )
    assert {f["device_id"] for f in frames} == {"gus-b", "gus-b2"}
    assert len({f["node"] for f in frames}) == 1
    assert all(gus.access_token not in f["text"] for f in frames)
    # stopped on node B: node A's capture of nothing, B's tap gone
    status, _ = await api.call(b, "DELETE", f"{BASE}/sessions/{gus.user_id}", token=admin)
    assert status == 200
    await on_b.call("ping", rid=3003)
    await asyncio.sleep(1.5)
    status, body = await api.call(a, "GET", f"{BASE}?user_id={gus.user_id}&after={frames[-1]['id']}", token=admin)
    assert status == 200 and body["session"] is None
    assert not any(json.loads(f["text"]).get("rid") == 3003 for f in body["frames"])
