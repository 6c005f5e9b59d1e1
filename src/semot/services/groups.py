"""Groups (basic): creation with members; the creator is the owner."""

from __future__ import annotations

from semot.domain.conversations import group_conv
from semot.domain.records import Group
from semot.errors import BadRequest, NotFound
from semot.ids import is_valid_id, new_group_id, now_ms
from semot.protocol.replies import event
from semot.services.membership import MembershipCache
from semot.services.messaging import MessageService
from semot.storage.base import Storage


class GroupService:
    def __init__(
        self, storage: Storage, messages: MessageService, membership: MembershipCache, *, max_members: int
    ) -> None:
        self._storage = storage
        self._messages = messages
        self._membership = membership
        self._max_members = max_members

    async def create(self, owner_id: str, name: str, members: list[str]) -> Group:
        name = name.strip()
        if not 1 <= len(name) <= 128:
            raise BadRequest("name: 1-128 characters")
        wanted = list(dict.fromkeys(m for m in members if m != owner_id))
        bad = [m for m in wanted if not is_valid_id(m)]
        if bad:
            raise BadRequest(f"invalid user ids: {bad[:10]}")
        if len(wanted) + 1 > self._max_members:
            raise BadRequest(f"a group has at most {self._max_members} members")
        found = await self._storage.existing_user_ids(wanted)
        missing = [m for m in wanted if m not in found]
        if missing:
            raise NotFound(f"no such users: {missing[:20]}")
        now = now_ms()
        group = Group(new_group_id(), name, owner_id, now, {})
        await self._storage.create_group(group, wanted, now)
        conv = group_conv(group.id)
        everyone = [owner_id, *wanted]
        self._membership.remember(conv, frozenset(everyone))
        await self._messages.store_system(
            conv, owner_id, f"sys.{group.id}.created", {"type": "group_created", "by": owner_id, "name": name}
        )
        self._messages.push(
            everyone,
            event("group", group_id=group.id, conv=conv, change={"type": "created", "by": owner_id, "name": name}),
        )
        return group
