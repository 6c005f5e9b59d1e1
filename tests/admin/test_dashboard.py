"""The dashboard over a real server: online users and connections follow real WebSocket
clients, stored messages are counted per minute (and survive a restart: flushed on
shutdown), logins per minute, new users today, storage and health; permissions."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest

from semot.client import SemotClient
from tests.admin.rbac_support import A, create_admin, grant, login, person, refused, tag
from tests.support.server import ServerProcess

pytestmark = pytest.mark.asyncio

ROOT = f"dbroot{uuid.uuid4().hex[:6]}"
ENV = {"SEMOT_DASHBOARD_CACHE_S": "0", "SEMOT_STATS_FLUSH_S": "0.5"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("dashboard") / "data", ENV).start()
    create_admin(srv, ROOT)
    yield srv
    if srv.proc is not None and srv.proc.poll() is None:
        srv.stop()


@pytest.fixture
async def root(server: ServerProcess) -> AsyncIterator[SemotClient]:
    c = await login(server, ROOT)
    yield c
    await c.close()


async def dash(admin: SemotClient, **query: Any) -> dict[str, Any]:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    d: dict[str, Any] = await admin.http("GET", f"{A}/dashboard?{q}")
    return d


async def until(admin: SemotClient, check: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
    """The dashboard once `check` holds (what it shows follows within a second or two)."""
    deadline = time.monotonic() + timeout
    while True:
        d = await dash(admin)
        if check(d):
            return d
        assert time.monotonic() < deadline, d
        await asyncio.sleep(0.2)


async def connected(server: ServerProcess, name: str, device: str) -> SemotClient:
    c = SemotClient(server.base, device_id=device, reconnect=False)
    await c.login(name, "password123")
    await c.connect()
    return c


async def test_online_users_and_connections_follow_sockets(server: ServerProcess, root: SemotClient) -> None:
    before = (await dash(root))["online"]
    ann, ben = f"ann{tag()}", f"ben{tag()}"
    for n in (ann, ben):
        await (await person(server, n)).close()
    phone, laptop, other = (
        await connected(server, ann, "phone"),
        await connected(server, ann, "laptop"),
        await connected(server, ben, "web"),
    )
    d = await until(root, lambda d: d["online"]["connections"] == before["connections"] + 3)
    assert d["online"]["users"] == before["users"] + 2  # ann counts once with two devices
    (node,) = d["health"]["nodes"]
    assert node["sessions"] == d["online"]["connections"] and node["node_id"] == d["health"]["node_id"]
    await laptop.close()
    await other.close()
    d = await until(root, lambda d: d["online"]["connections"] == before["connections"] + 1)
    assert d["online"]["users"] == before["users"] + 1
    await phone.close()
    await until(root, lambda d: d["online"] == before)


def last_minutes(series: dict[str, Any], n: int = 3) -> int:
    return sum(series["counts"][-n:])


async def test_messages_are_counted_per_minute_and_kept_across_a_restart(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    srv = ServerProcess(tmp_path_factory.mktemp("dashboard_restart") / "data", {"SEMOT_STATS_FLUSH_S": "60"}).start()
    create_admin(srv, ROOT)
    try:
        admin = await login(srv, ROOT)
        d = await dash(admin, minutes=60)
        assert len(d["messages"]["counts"]) == 60 and d["messages"]["step_ms"] == 60_000
        start_ms = d["messages"]["start"]
        assert start_ms % 60_000 == 0 and start_ms + 60 * 60_000 > d["ts"] >= start_ms + 59 * 60_000
        ann, ben = f"ann{tag()}", f"ben{tag()}"
        for n in (ann, ben):
            await (await person(srv, n)).close()
        a = await connected(srv, ann, "d1")
        for i in range(7):
            await a.send_text(ben, f"hello {i}")
        await a.close()
        # unflushed yet (every 60 s here): this node adds what it holds in memory
        assert last_minutes((await dash(admin, minutes=60))["messages"]) == 7
        await admin.close()
        assert srv.stop() == 0  # SIGTERM: the counts are written on the way out
        srv.start()
        admin = await login(srv, ROOT)
        d = await dash(admin, minutes=60)
        assert last_minutes(d["messages"]) == 7
        assert sum(d["logins"]["ok"]["counts"]) >= 3 and sum(d["logins"]["failed"]["counts"]) == 0
        await admin.close()
    finally:
        srv.stop()


async def test_logins_new_users_storage_and_health(server: ServerProcess, root: SemotClient) -> None:
    d0 = await dash(root, tz=480)
    users0 = d0["users"]
    assert len(users0["per_day"]) == 30 and users0["per_day"][-1]["n"] == users0["today"]
    assert users0["total"] >= 1
    names = [f"nu{tag()}" for _ in range(3)]
    for n in names:
        await (await person(server, n)).close()
    async with aiohttp.ClientSession() as s:
        for _ in range(2):
            async with s.post(
                f"{server.base}/api/v1/auth/login", json={"username": names[0], "password": "nope-nope"}
            ) as r:
                assert r.status == 401
    d = await until(root, lambda d: d["users"]["today"] >= users0["today"] + 3)
    assert d["users"]["total"] == users0["total"] + 3
    d = await dash(root, tz=480, minutes=10)
    assert last_minutes(d["logins"]["failed"], 10) >= 2 and last_minutes(d["logins"]["ok"], 10) >= 3
    assert len(d["logins"]["ok"]["counts"]) == 10
    today = d["users"]["per_day"][-1]
    assert today["n"] == d["users"]["today"]
    assert today["date"] == time.strftime("%Y-%m-%d", time.gmtime(d["ts"] / 1000 + 8 * 3600))  # UTC+8's date
    assert today["day"] <= d["ts"] < today["day"] + 86_400_000

    storage = d["storage"]
    assert storage["database_bytes"] > 0 and storage["files"] >= 0 and storage["files_bytes"] >= 0
    health = d["health"]
    assert health["database"]["dialect"] == "sqlite" and health["database"]["ok"] is True
    assert 0 <= health["database"]["latency_ms"] < 5000
    assert health["nodes_alive"] == 1 and health["uptime_s"] >= 0 and health["version"]
    assert d["errors"] == []


async def test_only_with_dashboard_view(server: ServerProcess, root: SemotClient) -> None:
    plain = await person(server, f"pl{tag()}")
    await refused(plain.http("GET", f"{A}/dashboard"))
    async with aiohttp.ClientSession() as s, s.get(f"{server.base}{A}/dashboard") as r:
        assert r.status == 401
    custom = await root.http("POST", f"{A}/roles", {"name": f"Viewers {tag()}", "perms": ["users.view"]})
    viewer = await person(server, f"vw{tag()}")
    assert viewer.user_id is not None
    await grant(root, viewer.user_id, [custom["role_id"]])
    await refused(viewer.http("GET", f"{A}/dashboard"))
    auditor = await person(server, f"au{tag()}")
    assert auditor.user_id is not None
    await grant(root, auditor.user_id, ["auditor"])
    assert (await dash(auditor))["online"] is not None
    await refused(root.http("GET", f"{A}/dashboard?minutes=5"), 400)
    await refused(root.http("GET", f"{A}/dashboard?tz=900"), 400)
    for c in (plain, viewer, auditor):
        await c.close()
