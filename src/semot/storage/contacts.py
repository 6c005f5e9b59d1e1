"""The storage interface of contacts: friends, friend requests, tags, blacklist, settings."""

from __future__ import annotations

import abc
from typing import Any

from semot.domain.records import BlockEntry, ContactTag, Friend, FriendRequest


class ContactsStorage(abc.ABC):
    @abc.abstractmethod
    async def user_settings(self, user_id: str) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def set_user_settings(self, user_id: str, settings: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    async def friends(self, user_id: str) -> list[Friend]: ...

    @abc.abstractmethod
    async def friend(self, user_id: str, friend_id: str) -> Friend | None: ...

    @abc.abstractmethod
    async def friend_ids(self, user_id: str) -> set[str]: ...

    @abc.abstractmethod
    async def add_friendship(self, a: str, b: str, now: int) -> None:
        """Both directions, in one transaction; settles pending requests between them."""

    @abc.abstractmethod
    async def remove_friendship(self, a: str, b: str) -> bool:
        """Both directions, and each side's tag memberships of the other."""

    @abc.abstractmethod
    async def set_remark(self, user_id: str, friend_id: str, remark: str) -> bool: ...

    @abc.abstractmethod
    async def add_friend_request(self, request: FriendRequest) -> None: ...

    @abc.abstractmethod
    async def friend_request(self, request_id: str) -> FriendRequest | None: ...

    @abc.abstractmethod
    async def pending_request(self, from_user: str, to_user: str) -> FriendRequest | None: ...

    @abc.abstractmethod
    async def pending_requests(self, user_id: str) -> tuple[list[FriendRequest], list[FriendRequest]]:
        """(incoming, outgoing) pending requests, oldest first."""

    @abc.abstractmethod
    async def settle_friend_request(self, request_id: str, status: str, now: int) -> bool: ...

    @abc.abstractmethod
    async def tags(self, user_id: str) -> list[ContactTag]: ...

    @abc.abstractmethod
    async def create_tag(self, user_id: str, tag: ContactTag) -> None:
        """Raise Conflict when the user already has a tag of that name."""

    @abc.abstractmethod
    async def update_tag(self, user_id: str, tag_id: str, *, name: str | None, members: list[str] | None) -> bool:
        """Rename and/or replace the members; False when the user has no such tag."""

    @abc.abstractmethod
    async def delete_tag(self, user_id: str, tag_id: str) -> bool: ...

    @abc.abstractmethod
    async def block(self, user_id: str, target: str, now: int) -> bool:
        """False when already blocked."""

    @abc.abstractmethod
    async def unblock(self, user_id: str, target: str) -> bool: ...

    @abc.abstractmethod
    async def blacklist(self, user_id: str) -> list[BlockEntry]: ...

    @abc.abstractmethod
    async def blockers(self, user_id: str, among: list[str]) -> set[str]:
        """Those of `among` who have blocked `user_id`."""

    # --- in bulk, for presence (services/presence.py): one query for many users where
    # the storage can; these defaults ask one user at a time
    async def contact_sets(self, user_ids: list[str], *, friends: bool = True) -> dict[str, tuple[set[str], set[str]]]:
        """Each user's (friend ids, ids they blocked); every user given has an entry.
        With `friends` False the friend sets are left empty (not read)."""
        return {
            u: (await self.friend_ids(u) if friends else set(), {b.user_id for b in await self.blacklist(u)})
            for u in user_ids
        }

    async def user_settings_many(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        """user_settings of each user given ({} for an unknown one)."""
        return {u: await self.user_settings(u) for u in user_ids}
