"""Who is in a conversation, cached per node.

Every send, history page and fan-out asks this, so group member lists are loaded once
and kept in memory; services that change membership call `invalidate` (and, in a
cluster, the bus tells the other nodes). Direct chats need no lookup: the conv id names
both parties.
"""

from __future__ import annotations

from semot.domain.conversations import ConvRef
from semot.errors import NotFound
from semot.storage.base import Storage


class MembershipCache:
    def __init__(self, storage: Storage, *, max_groups: int = 20000) -> None:
        self._storage = storage
        self._groups: dict[str, frozenset[str]] = {}
        self._max = max_groups
        self._users: set[str] = set()

    async def members(self, ref: ConvRef) -> frozenset[str]:
        if ref.kind == "d":
            return frozenset(ref.users)  # type: ignore[arg-type]
        cached = self._groups.get(ref.conv)
        if cached is not None:
            return cached
        users = await self._storage.conv_members(ref.conv)
        if not users:
            raise NotFound(f"no group {ref.group_id!r}")
        members = frozenset(users)
        self.remember(ref.conv, members)
        return members

    def remember(self, conv: str, members: frozenset[str]) -> None:
        """Prime the cache with a list just written (a new group), saving a read."""
        if len(self._groups) >= self._max:
            self._groups.pop(next(iter(self._groups)))
        self._groups[conv] = members

    def cached(self, conv: str) -> frozenset[str] | None:
        return self._groups.get(conv)

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
