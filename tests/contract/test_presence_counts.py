"""The dashboard's figures from the presence registry (`counts`): distinct users online
and sessions open across the cluster, per live node; in memory (one node) and in Redis
(two nodes, one of which stops or dies)."""

from __future__ import annotations

import asyncio

import pytest

from semot.bus.local_presence import LocalPresence
from tests.contract.test_presence_registry import Lost, redis_nodes

pytestmark = pytest.mark.asyncio


async def test_one_node_counts_at_once() -> None:
    one = LocalPresence("n1")
    await one.start(Lost())
    assert (await one.counts()).users == 0
    await one.session_up("ann", "s1", "phone")
    await one.session_up("ann", "s2", "laptop")
    await one.session_up("ben", "s3", "web")
    c = await one.counts()
    assert (c.users, c.sessions) == (2, 3)
    assert [(n.node_id, n.sessions, n.users) for n in c.nodes] == [("n1", 3, 2)]
    await one.session_down("ann", "s1")
    await one.session_down("ben", "s3")
    c = await one.counts()
    assert (c.users, c.sessions) == (1, 1)
    await one.stop()


async def test_a_cluster_counts_each_user_once() -> None:
    async with redis_nodes(1.0) as (a, b, _):
        # ann on both nodes (phone on a, laptop on b): one user, two sessions
        await a.session_up("ann", "s1", "phone")
        await b.session_up("ann", "s2", "laptop")
        await b.session_up("ben", "s3", "web")
        await a.settle(["ann", "ben"])  # what the presence service does each second
        await a.beat()
        await b.beat()
        for node in (a, b):
            c = await node.counts()
            assert (c.users, c.sessions) == (2, 3)
            assert [(n.node_id, n.sessions, n.users) for n in c.nodes] == [("nodea", 1, 1), ("nodeb", 2, 2)]
        await b.session_down("ann", "s2")
        await b.session_down("ben", "s3")
        await b.settle(["ann", "ben"])
        await b.beat()
        c = await a.counts()
        assert (c.users, c.sessions) == (1, 1)  # ann is still online on her phone


async def test_a_stopped_node_stops_counting() -> None:
    lost = Lost()
    async with redis_nodes(0.6, a_lost=lost) as (a, b, _):
        await b.session_up("cy", "s1", "web")
        await b.settle(["cy"])
        await b.beat()
        assert (await a.counts()).users == 1
        await b.stop()  # marks itself gone: its load goes at once, its users once reaped
        c = await a.counts()
        assert c.sessions == 0 and [n.node_id for n in c.nodes] == ["nodea"]
        for _ in range(20):
            if "cy" in lost.users:
                break
            await asyncio.sleep(0.25)
        assert "cy" in lost.users  # a reaped b: the presence service settles cy again
        await a.settle(lost.users)
        assert (await a.counts()).users == 0
