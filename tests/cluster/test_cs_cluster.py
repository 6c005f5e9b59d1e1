"""Customer service on two nodes sharing PostgreSQL and Redis (services/customer_service.py):
visitors arriving on both nodes at once, each asking twice at the same moment (once per
node), get one session each, and routing on both nodes never puts an agent over their
`max_concurrent`, neither at the start nor while closed sessions free places that both
nodes' sweeps hand to the waiting visitors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.customer_service.cs_fixtures import A, V, ok
from tests.integration.harness import Account, Api, Clients, ServerProcess, eventually
from tests.integration_api.webhook_fixtures import ADMIN, ADMIN_PW, FAST
from tests.support.cluster import Cluster, two_nodes

LIMIT = 2
AGENTS = 3
VISITORS = 16


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    extra = {**FAST, "SEMOT_RATE_PER_S": "1000", "SEMOT_RATE_BURST": "1000", "SEMOT_CS_DRAIN_S": "0.3",
             "SEMOT_NODE_TIMEOUT_S": "2"}
    cluster: Cluster[ServerProcess]
    with two_nodes(tmp_path_factory.mktemp("cs"), "cs", extra, server=ServerProcess) as cluster:
        cluster.a.create_admin(ADMIN, ADMIN_PW)
        yield cluster.a, cluster.b


async def _visitor(api: Api, node: ServerProcess) -> Account:
    v = await ok(api, node, "POST", f"{V}/visitors", {}, token=None)
    return Account(v["user_id"], "", v["access_token"], v["refresh_token"])


async def _loads(api: Api, node: ServerProcess, agents: list[Account]) -> dict[str, int]:
    """Each agent's active sessions as the workbench counts them (the store's count)."""
    benches = await asyncio.gather(*(ok(api, node, "GET", f"{V}/agent/workbench", token=a.access_token)
                                     for a in agents))
    for a, b in zip(agents, benches, strict=True):
        assert b["me"]["active_count"] == len(b["active"]), (a.user_id, b["me"])
    return {a.user_id: b["me"]["active_count"] for a, b in zip(agents, benches, strict=True)}


async def test_concurrent_visitors_on_two_nodes(nodes: tuple[ServerProcess, ServerProcess], api: Api,
                                                clients: Clients) -> None:
    a, b = nodes
    status, body = await api.login(a, ADMIN, ADMIN_PW)
    assert status == 200, body
    boss = body["access_token"]
    q = (await ok(api, a, "POST", f"{A}/queues", {"name": "售前咨询", "description": ""}, token=boss, status=201))
    queue_id = q["queue_id"]
    agents = await api.accounts(a, AGENTS, "csag")
    for agent in agents:
        await ok(api, a, "PUT", f"{A}/agents/{agent.user_id}",
                 {"queues": [queue_id], "field": "售前", "max_concurrent": LIMIT}, token=boss)
    conns = []
    for i, agent in enumerate(agents):  # agents on both nodes; each node sees the others connected
        node = (a, b)[i % 2]
        conns.append(await clients.connect(node, agent))
        await ok(api, node, "PUT", f"{V}/agent/state", {"state": "online"}, token=agent.access_token)

    async def connected_everywhere() -> bool:
        seen = await asyncio.gather(*(ok(api, node, "GET", f"{V}/agent/workbench", token=g.access_token)
                                      for node in (a, b) for g in agents))
        return all(x["me"]["connected"] for x in seen)
    await eventually(connected_everywhere, 20, "both nodes see every agent connected")

    # every visitor asks on both nodes at the same moment, all visitors at once
    visitors = await asyncio.gather(*(_visitor(api, (a, b)[i % 2]) for i in range(VISITORS)))

    async def ask(v: Account) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(ok(api, node, "POST", f"{V}/sessions", {"queue_id": queue_id},
                                              token=v.access_token) for node in (a, b))))

    replies = await asyncio.gather(*(ask(v) for v in visitors))
    sessions = {}
    for v, (on_a, on_b) in zip(visitors, replies, strict=True):
        assert on_a["session_id"] == on_b["session_id"], (v.user_id, on_a, on_b)  # one session per visitor
        mine = await ok(api, b, "GET", f"{V}/sessions/mine", token=v.access_token)
        assert [s["session_id"] for s in mine["sessions"]] == [on_a["session_id"]]
        sessions[v.user_id] = on_a["session_id"]

    # nobody over their limit, every place taken, the rest waiting
    loads = await _loads(api, b, agents)
    assert all(n <= LIMIT for n in loads.values()), loads
    assert sum(loads.values()) == AGENTS * LIMIT, loads
    bench = await ok(api, a, "GET", f"{V}/agent/workbench", token=agents[0].access_token)
    assert len(bench["waiting"]) == VISITORS - AGENTS * LIMIT

    # closing sessions on both nodes frees places: both nodes' sweeps hand out the waiting
    # visitors at the same time, still never over a limit
    for round_ in range(2):
        active = [(i, s) for i, agent in enumerate(agents)
                  for s in (await ok(api, a, "GET", f"{V}/agent/workbench", token=agent.access_token))["active"]]
        for n, (i, s) in enumerate(active):
            await ok(api, (a, b)[n % 2], "POST", f"{V}/sessions/{s['session_id']}/close",
                     token=agents[i].access_token)
        left = VISITORS - AGENTS * LIMIT * (round_ + 2)

        async def refilled(left: int = left, node: ServerProcess = (a, b)[round_ % 2]) -> bool:
            loads = await _loads(api, node, agents)
            assert all(n <= LIMIT for n in loads.values()), loads
            return sum(loads.values()) == min(AGENTS * LIMIT, AGENTS * LIMIT + left)
        await eventually(refilled, 30, f"round {round_}: the freed places refilled")

    # one session per visitor in all: 12 closed, the last 4 with agents
    stats = (await ok(api, a, "GET", f"{A}/stats", token=boss))["total"]
    assert (stats["conversations"], stats["closed"], stats["waiting"]) == (VISITORS, 2 * AGENTS * LIMIT, 0), stats
    assert len(set(sessions.values())) == VISITORS
