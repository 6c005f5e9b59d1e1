"""Three nodes on loopback (the machine's PostgreSQL, a Redis of the test's own) under
load from clients on every node, direct and group messages: one node is SIGKILLed
mid-load, its clients reconnect to the others and catch up; then Redis is killed and
restarted. Nothing acknowledged is lost or doubled, seqs stay gap-free, every client
converges, and presence is right again within a bounded time."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tests.cluster.node_loss_support import (
    Load,
    befriend_all,
    check_everything,
    statuses,
    three_nodes,
    until,
    user,
    warm_up,
)

PER_NODE = 3
PRESENCE_BOUND_S = 20.0  # node_timeout_s (3 s) + two beats + the reap, with a margin for a loaded machine


@pytest.mark.timeout(300)  # three node starts (and restarts) on a loaded 2-core machine
async def test_losing_a_node_then_redis_loses_nothing(tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    with three_nodes(tmp_path, "nodeloss") as cluster:
        bases = cluster.bases
        clients = [await user(bases, i % 3, f"u{i}{s}") for i in range(3 * PER_NODE)]
        lonely = await user(bases, 2, f"lonely{s}", reconnect=False)  # one device, gone with node 2
        watcher = await user(bases, 0, f"watch{s}")
        everyone = [str(c.user_id) for c in clients]
        try:
            await befriend_all(watcher, [*clients, lonely])
            group = (await clients[0].create_group("load", everyone[1:]))["conv"]
            await warm_up(clients, group)
            load = Load(clients, group)
            load.start()
            await asyncio.sleep(6)

            # SIGKILL node 2 mid-load: no goodbye, no flush
            cluster.nodes[2].kill()
            moved = [c for c in clients if c.at == 2]
            assert len(moved) == PER_NODE

            async def reconnected() -> bool:
                return all(c.connected and c.at != 2 for c in moved)

            took = await until("node 2's clients reconnect elsewhere", reconnected, 30)

            async def presence_after_loss() -> bool:
                got = await statuses(watcher, [*everyone, str(lonely.user_id)])
                return got[str(lonely.user_id)] == "offline" and all(got[u] == "online" for u in everyone)

            seen_offline = await until("the lost node's users settle", presence_after_loss, PRESENCE_BOUND_S)
            await asyncio.sleep(3)

            # Redis dies: sends still commit (PostgreSQL); pushes between nodes pause
            cluster.redis.kill()
            await asyncio.sleep(3)
            cluster.redis.start()  # empty: the nodes write their sessions into it again

            async def presence_after_redis() -> bool:
                got = await statuses(watcher, [*everyone, str(lonely.user_id)])
                return got[str(lonely.user_id)] == "offline" and all(got[u] == "online" for u in everyone)

            restored = await until("presence rebuilt in the new Redis", presence_after_redis, PRESENCE_BOUND_S)
            await asyncio.sleep(5)
            await load.finish()
            figures = await check_everything(clients, load)
            assert figures["messages"] > 200, figures  # the load really ran through both failures
            print(f"node loss: {figures}, reconnected in {took:.1f}s, offline seen in {seen_offline:.1f}s, "
                  f"presence after Redis restart in {restored:.1f}s")
        finally:
            for c in [*clients, lonely, watcher]:
                await c.close()
