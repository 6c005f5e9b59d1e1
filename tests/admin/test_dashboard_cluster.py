"""The dashboard of a cluster: two nodes sharing PostgreSQL and Redis. Either node shows
the whole cluster: a user with a device on each node is one online user with two
connections, both nodes are listed alive, and messages stored on both are summed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from semot.client import SemotClient
from tests.admin.rbac_support import A, create_admin, login, person, tag
from tests.support.cluster import two_nodes
from tests.support.server import ServerProcess

pytestmark = pytest.mark.asyncio

ROOT = f"clroot{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    extra = {
        "SEMOT_NODE_TIMEOUT_S": "3",  # a heartbeat (with its load) every second
        "SEMOT_STATS_FLUSH_S": "0.5",
        "SEMOT_DASHBOARD_CACHE_S": "0",
    }
    # a migrates first; b then finds the schema
    with two_nodes(tmp_path_factory.mktemp("dash_cluster"), "dash", extra) as c:
        create_admin(c.a, ROOT)
        yield c.a, c.b


async def until(admin: SemotClient, check: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        d: dict[str, Any] = await admin.http("GET", f"{A}/dashboard?minutes=10")
        if check(d):
            return d
        assert time.monotonic() < deadline, d
        await asyncio.sleep(0.3)


async def test_either_node_shows_the_whole_cluster(nodes: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = nodes
    admin_a, admin_b = await login(a, ROOT), await login(b, ROOT)
    ann, ben = f"ann{tag()}", f"ben{tag()}"
    for n in (ann, ben):
        await (await person(a, n)).close()
    clients = []
    for node, name, device in ((a, ann, "phone"), (b, ann, "laptop"), (b, ben, "web")):
        c = SemotClient(node.base, device_id=device, reconnect=False)
        await c.login(name, "password123")
        await c.connect()
        clients.append(c)
    try:
        for admin in (admin_a, admin_b):
            d = await until(admin, lambda d: d["online"] == {"users": 2, "connections": 3})
            assert d["health"]["nodes_alive"] == 2
            assert sorted(n["sessions"] for n in d["health"]["nodes"]) == [1, 2]
            assert d["health"]["database"]["dialect"] == "postgresql" and d["health"]["database"]["ok"]
        phone, laptop, web = clients
        for i in range(3):
            await phone.send_text(ben, f"from a {i}")  # stored by node a
        for i in range(4):
            await web.send_text(ann, f"from b {i}")  # stored by node b
        for admin in (admin_a, admin_b):
            await until(admin, lambda d: sum(d["messages"]["counts"][-3:]) == 7)
        await laptop.close()
        await web.close()
        for admin in (admin_a, admin_b):
            await until(admin, lambda d: d["online"] == {"users": 1, "connections": 1})
    finally:
        for c in clients:
            await c.close()
        await admin_a.close()
        await admin_b.close()
