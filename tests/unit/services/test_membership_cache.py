"""MembershipCache: one load of a group at a time, shared by everyone who asks."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from semot.domain.conversations import parse_conv
from semot.domain.records import Group, GroupState
from semot.errors import NotFound
from semot.services.membership import MembershipCache
from semot.storage.base import Storage
from semot.storage.memory import memory_storage
from semot.storage.memory.groups import MemoryGroups


class GatedGroups(MemoryGroups):
    """Memory groups whose `group_state` waits for the test to open a gate."""

    def __init__(self, base: MemoryGroups) -> None:
        super().__init__(base._db, base._messages)
        self.gate = asyncio.Event()
        self.reads = 0

    async def group_state(self, group_id: str) -> GroupState | None:
        self.reads += 1
        state = await super().group_state(group_id)  # read now, answer when the gate opens
        await self.gate.wait()
        return state


@pytest.fixture
async def setup() -> tuple[Storage, GatedGroups, MembershipCache]:
    base = memory_storage()
    assert isinstance(base.groups, MemoryGroups)
    gated = GatedGroups(base.groups)
    storage = dataclasses.replace(base, groups=gated)
    await storage.groups.create_group(Group("g1", "G", "ann", 1), ["bob"], 1)
    return storage, gated, MembershipCache(storage)


async def test_concurrent_misses_share_one_load(setup: tuple[Storage, GatedGroups, MembershipCache]) -> None:
    _, groups, cache = setup
    waiters = [asyncio.ensure_future(cache.members(parse_conv("g:g1"))) for _ in range(50)]
    state = asyncio.ensure_future(cache.state("g1"))
    await asyncio.sleep(0)
    groups.gate.set()
    results = await asyncio.gather(*waiters)
    assert groups.reads == 1 and cache.loads == 1
    assert all(r == frozenset({"ann", "bob"}) for r in results) and set((await state).members) == {"ann", "bob"}
    assert cache.cached("g:g1") == frozenset({"ann", "bob"})


async def test_an_invalidation_during_a_load_detaches_it(setup: tuple[Storage, GatedGroups, MembershipCache]) -> None:
    storage, groups, cache = setup
    early = asyncio.ensure_future(cache.members(parse_conv("g:g1")))
    while groups.reads == 0:  # until the load has read the old members (it waits at the gate)
        await asyncio.sleep(0)
    await storage.groups.add_members("g1", ["cat"], 2, limit=10)
    cache.invalidate("g:g1")  # the change: whoever asks from now on must see cat
    late = asyncio.ensure_future(cache.members(parse_conv("g:g1")))
    await asyncio.sleep(0)
    groups.gate.set()
    assert await early == frozenset({"ann", "bob"})  # asked before the change
    assert await late == frozenset({"ann", "bob", "cat"})
    assert groups.reads == 2
    assert cache.cached("g:g1") == frozenset({"ann", "bob", "cat"})  # the stale load was not kept


async def test_a_caller_that_gives_up_does_not_cancel_the_others(
    setup: tuple[Storage, GatedGroups, MembershipCache],
) -> None:
    _, groups, cache = setup
    quitter = asyncio.ensure_future(cache.state("g1"))
    stayer = asyncio.ensure_future(cache.state("g1"))
    await asyncio.sleep(0)
    quitter.cancel()
    await asyncio.sleep(0)
    groups.gate.set()
    assert set((await stayer).members) == {"ann", "bob"}
    assert quitter.cancelled() and groups.reads == 1


async def test_a_missing_group_fails_every_waiter_and_is_not_cached(
    setup: tuple[Storage, GatedGroups, MembershipCache],
) -> None:
    _, groups, cache = setup
    groups.gate.set()
    results = await asyncio.gather(*(cache.state("nope") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, NotFound) for r in results) and groups.reads == 1
    with pytest.raises(NotFound):
        await cache.state("nope")
    assert groups.reads == 2
