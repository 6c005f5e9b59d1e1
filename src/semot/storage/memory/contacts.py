"""MemoryContacts: friends, friend requests, tags, blacklist and settings in memory."""

from __future__ import annotations

from typing import Any

from semot.domain.records import BlockEntry, ContactTag, Friend, FriendRequest
from semot.errors import Conflict
from semot.storage.contacts import ContactsStorage
from semot.storage.memory.db import MemoryDb, clone


class MemoryContacts(ContactsStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db

    # --- settings
    async def user_settings(self, user_id: str) -> dict[str, Any]:
        return clone(self._db.settings.get(user_id, {}))

    async def set_user_settings(self, user_id: str, settings: dict[str, Any]) -> None:
        if user_id in self._db.users:
            self._db.settings[user_id] = clone(settings)

    # --- friends
    def _friend(self, user_id: str, friend_id: str) -> Friend | None:
        row = self._db.friends.get(user_id, {}).get(friend_id)
        other = self._db.users.get(friend_id)
        return Friend(friend_id, other.display_name, row[0], row[1]) if row and other else None

    async def friends(self, user_id: str) -> list[Friend]:
        found = (self._friend(user_id, f) for f in sorted(self._db.friends.get(user_id, {})))
        return [f for f in found if f is not None]

    async def friend(self, user_id: str, friend_id: str) -> Friend | None:
        return self._friend(user_id, friend_id)

    async def friend_ids(self, user_id: str) -> set[str]:
        return set(self._db.friends.get(user_id, {}))

    async def add_friendship(self, a: str, b: str, now: int) -> None:
        for x, y in ((a, b), (b, a)):
            self._db.friends.setdefault(x, {}).setdefault(y, ("", now))
        for r in self._db.friend_requests.values():
            if r.status == "pending" and {r.from_user, r.to_user} == {a, b}:
                r.status, r.handled_at = "accepted", now

    async def remove_friendship(self, a: str, b: str) -> bool:
        removed = False
        for owner, other in ((a, b), (b, a)):
            removed = self._db.friends.get(owner, {}).pop(other, None) is not None or removed
            for tag in self._db.tags.get(owner, {}).values():
                tag.members = [m for m in tag.members if m != other]
        return removed

    async def set_remark(self, user_id: str, friend_id: str, remark: str) -> bool:
        mine = self._db.friends.get(user_id, {})
        if friend_id not in mine:
            return False
        mine[friend_id] = (remark, mine[friend_id][1])
        return True

    # --- friend requests
    async def add_friend_request(self, request: FriendRequest) -> None:
        if request.id in self._db.friend_requests:
            raise Conflict(f"request {request.id!r} exists")
        self._db.friend_requests[request.id] = clone(request)

    async def friend_request(self, request_id: str) -> FriendRequest | None:
        r = self._db.friend_requests.get(request_id)
        return clone(r) if r else None

    async def pending_request(self, from_user: str, to_user: str) -> FriendRequest | None:
        for r in self._db.friend_requests.values():
            if r.from_user == from_user and r.to_user == to_user and r.status == "pending":
                return clone(r)
        return None

    async def pending_requests(self, user_id: str) -> tuple[list[FriendRequest], list[FriendRequest]]:
        pending = sorted(
            (r for r in self._db.friend_requests.values() if r.status == "pending"), key=lambda r: (r.created_at, r.id)
        )
        return (
            [clone(r) for r in pending if r.to_user == user_id],
            [clone(r) for r in pending if r.from_user == user_id],
        )

    async def settle_friend_request(self, request_id: str, status: str, now: int) -> bool:
        r = self._db.friend_requests.get(request_id)
        if r is None or r.status != "pending":
            return False
        r.status, r.handled_at = status, now
        return True

    # --- tags
    async def tags(self, user_id: str) -> list[ContactTag]:
        return [clone(t) for t in sorted(self._db.tags.get(user_id, {}).values(), key=lambda t: (t.name, t.id))]

    def _name_taken(self, user_id: str, name: str, tag_id: str | None) -> bool:
        return any(t.name == name and t.id != tag_id for t in self._db.tags.get(user_id, {}).values())

    async def create_tag(self, user_id: str, tag: ContactTag) -> None:
        if self._name_taken(user_id, tag.name, None) or any(tag.id in tags for tags in self._db.tags.values()):
            raise Conflict(f"you already have a tag named {tag.name!r}")
        stored = clone(tag)
        stored.members = list(dict.fromkeys(tag.members))
        self._db.tags.setdefault(user_id, {})[tag.id] = stored

    async def update_tag(self, user_id: str, tag_id: str, *, name: str | None, members: list[str] | None) -> bool:
        tag = self._db.tags.get(user_id, {}).get(tag_id)
        if tag is None:
            return False
        if name is not None and self._name_taken(user_id, name, tag_id):
            raise Conflict(f"you already have a tag named {name!r}")
        if name is not None:
            tag.name = name
        if members is not None:
            tag.members = list(dict.fromkeys(members))
        return True

    async def delete_tag(self, user_id: str, tag_id: str) -> bool:
        return self._db.tags.get(user_id, {}).pop(tag_id, None) is not None

    # --- blacklist
    async def block(self, user_id: str, target: str, now: int) -> bool:
        mine = self._db.blocks.setdefault(user_id, {})
        if target in mine:
            return False
        mine[target] = now
        return True

    async def unblock(self, user_id: str, target: str) -> bool:
        return self._db.blocks.get(user_id, {}).pop(target, None) is not None

    async def blacklist(self, user_id: str) -> list[BlockEntry]:
        return [BlockEntry(u, at) for u, at in sorted(self._db.blocks.get(user_id, {}).items())]

    async def blockers(self, user_id: str, among: list[str]) -> set[str]:
        return {u for u in among if user_id in self._db.blocks.get(u, {})}
