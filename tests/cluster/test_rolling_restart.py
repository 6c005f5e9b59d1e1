"""A rolling restart under load: each of three nodes in turn gets SIGTERM (it finishes
the writes in flight, closes every WebSocket with 1001 and exits 0), its clients move to
the other nodes, and it comes back before the next one goes. Nothing is lost."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tests.cluster.node_loss_support import (
    FailoverClient,
    Load,
    check_everything,
    three_nodes,
    until,
    user,
    warm_up,
)

PER_NODE = 2


@pytest.mark.timeout(300)  # three node starts (and restarts) on a loaded 2-core machine
async def test_rolling_restart_under_load_loses_nothing(tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    with three_nodes(tmp_path, "rolling") as cluster:
        bases = cluster.bases
        clients = [await user(bases, i % 3, f"r{i}{s}") for i in range(3 * PER_NODE)]
        try:
            group = (await clients[0].create_group("rolling", [str(c.user_id) for c in clients[1:]]))["conv"]
            await warm_up(clients, group)
            load = Load(clients, group)
            load.start()
            await asyncio.sleep(3)
            for i, node in enumerate(cluster.nodes):
                on_it = [c for c in clients if c.at == i]
                assert on_it, f"no client on node {i}"
                closes_before = {id(c): len(c.closes) for c in on_it}
                assert node.stop(timeout=30) == 0  # SIGTERM: a clean exit

                async def moved(on_it: list[FailoverClient] = on_it, i: int = i) -> bool:
                    return all(c.connected and c.at != i for c in on_it)

                await until(f"node {i}'s clients move", moved, 30)
                for c in on_it:
                    assert c.closes[closes_before[id(c)]] == 1001, c.closes  # "going away", not a broken socket
                node.start()  # same port and data: back in the cluster
                await asyncio.sleep(2)
            await load.finish()
            figures = await check_everything(clients, load)
            assert figures["messages"] > 100, figures
            print(f"rolling restart: {figures}")
        finally:
            for c in clients:
                await c.close()
