"""Who is in a conversation, and on what terms, cached per node.

Every send, history page and fan-out asks this, so a group's members (with roles and
mutes) and settings are loaded once and kept in memory. Services that change a group
publish `Invalidate` on the bus, which drops the copy on every node; the next use
reloads it. Direct chats need no lookup: the conv id names both parties.

Loads are single-flight: callers that miss while a group is being loaded wait for that
load instead of starting their own (a change to a 10,000-member group is followed by
its notice's fan-out and its event, and by every send into the group: one read of
10,000 rows, not one per caller). An invalidation during a load detaches it: callers
already waiting get its result (they asked before the change), later callers start a
fresh load, and the detached result is not cached.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from semot.domain.conversations import ConvRef
from semot.domain.records import GroupState
from semot.errors import NotFound
from semot.storage.base import GroupStorage, Storage, UserStorage


@dataclass(slots=True)
class _Entry:
    state: GroupState
    ids: frozenset[str]


def _retrieve(fut: asyncio.Future[_Entry]) -> None:
    if not fut.cancelled():
        fut.exception()


class MembershipCache:
    def __init__(self, storage: Storage, *, max_groups: int = 20000) -> None:
        self._store: GroupStorage = storage.groups
        self._user_store: UserStorage = storage.users
        self._groups: dict[str, _Entry] = {}
        self._loading: dict[str, asyncio.Future[_Entry]] = {}  # conv -> the load in flight
        self._max = max_groups
        self._users: set[str] = set()
        self.loads = 0  # reads of a whole group from storage (for tests and metrics)

    async def state(self, group_id: str) -> GroupState:
        return (await self._entry(group_id)).state

    async def members(self, ref: ConvRef) -> frozenset[str]:
        if ref.kind == "d":
            return frozenset(ref.users)
        return (await self._entry(ref.group_id)).ids

    async def _entry(self, group_id: str) -> _Entry:
        conv = f"g:{group_id}"
        entry = self._groups.get(conv)
        if entry is not None:
            return entry
        load = self._loading.get(conv)
        if load is None:
            load = asyncio.ensure_future(self._load(conv, group_id))
            load.add_done_callback(_retrieve)  # no "exception never retrieved" if all waiters left
            self._loading[conv] = load
        # shielded: a caller that gives up (its request was cancelled) must not cancel
        # the load the other callers wait for
        return await asyncio.shield(load)

    async def _load(self, conv: str, group_id: str) -> _Entry:
        me = asyncio.current_task()
        try:
            self.loads += 1
            state = await self._store.group_state(group_id)
            if state is None:
                raise NotFound(f"no group {group_id!r}")
            entry = _Entry(state, frozenset(state.members))
            if self._loading.get(conv) is me:  # not invalidated meanwhile
                self._put(conv, entry)
            return entry
        finally:
            if self._loading.get(conv) is me:
                del self._loading[conv]

    def _put(self, conv: str, entry: _Entry) -> None:
        if conv not in self._groups and len(self._groups) >= self._max:
            self._groups.pop(next(iter(self._groups)))
        self._groups[conv] = entry

    def remember(self, state: GroupState) -> None:
        """Prime the cache with a state just written (a new group), saving a read."""
        conv = f"g:{state.group.id}"
        self._loading.pop(conv, None)
        self._put(conv, _Entry(state, frozenset(state.members)))

    def cached(self, conv: str) -> frozenset[str] | None:
        entry = self._groups.get(conv)
        return entry.ids if entry is not None else None

    def invalidate(self, conv: str) -> None:
        self._groups.pop(conv, None)
        self._loading.pop(conv, None)  # a load in flight may predate the change

    def invalidate_all(self) -> None:
        """This node may have missed invalidations (a Redis outage): forget every group."""
        self._groups.clear()
        self._loading.clear()

    async def user_exists(self, user_id: str) -> bool:
        """Users are never deleted, so a positive answer can be remembered for good."""
        if user_id in self._users:
            return True
        if await self._user_store.existing_user_ids([user_id]):
            self._users.add(user_id)
            return True
        return False
