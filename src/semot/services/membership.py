"""Who is in a conversation, and on what terms, cached per node.

Every send, history page and fan-out asks this, so a group's members (with roles and
mutes) and settings are loaded once and kept in memory. Services that change a group
publish `Invalidate` on the bus, which drops the copy on every node; the next use
reloads it. Direct chats need no lookup: the conv id names both parties.
"""

from __future__ import annotations

from dataclasses import dataclass

from semot.domain.conversations import ConvRef
from semot.domain.records import GroupState
from semot.errors import NotFound
from semot.storage.base import Storage


@dataclass(slots=True)
class _Entry:
    state: GroupState
    ids: frozenset[str]


class MembershipCache:
    def __init__(self, storage: Storage, *, max_groups: int = 20000) -> None:
        self._storage = storage
        self._groups: dict[str, _Entry] = {}
        self._max = max_groups
        self._users: set[str] = set()

    async def state(self, group_id: str) -> GroupState:
        conv = f"g:{group_id}"
        entry = self._groups.get(conv)
        if entry is None:
            state = await self._storage.group_state(group_id)
            if state is None:
                raise NotFound(f"no group {group_id!r}")
            entry = self._remember(conv, state)
        return entry.state

    async def members(self, ref: ConvRef) -> frozenset[str]:
        if ref.kind == "d":
            return frozenset(ref.users)  # type: ignore[arg-type]
        entry = self._groups.get(ref.conv)
        if entry is None:
            await self.state(ref.group_id)  # type: ignore[arg-type]
            entry = self._groups[ref.conv]
        return entry.ids

    def _remember(self, conv: str, state: GroupState) -> _Entry:
        if len(self._groups) >= self._max:
            self._groups.pop(next(iter(self._groups)))
        entry = _Entry(state, frozenset(state.members))
        self._groups[conv] = entry
        return entry

    def remember(self, state: GroupState) -> None:
        """Prime the cache with a state just written (a new group), saving a read."""
        self._remember(f"g:{state.group.id}", state)

    def cached(self, conv: str) -> frozenset[str] | None:
        entry = self._groups.get(conv)
        return entry.ids if entry is not None else None

    def invalidate(self, conv: str) -> None:
        self._groups.pop(conv, None)

    async def user_exists(self, user_id: str) -> bool:
        """Users are never deleted, so a positive answer can be remembered for good."""
        if user_id in self._users:
            return True
        if await self._storage.existing_user_ids([user_id]):
            self._users.add(user_id)
            return True
        return False
