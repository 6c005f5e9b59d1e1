"""The storage interface the services depend on.

Services never see SQL: they call these methods, and `app.py` picks the implementation.
Every method is one transaction; `append_messages` is the group-commit unit, so seq
assignment and the rows it numbers are committed together or not at all.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

from semot.domain.messages import Message
from semot.storage.contacts import ContactsStorage
from semot.domain.records import (
    AppendResult,
    ConvState,
    Group,
    GroupRequest,
    GroupState,
    Member,
    NewMessage,
    ReadResult,
    RefreshToken,
    User,
)


class Storage(ContactsStorage, abc.ABC):
    # --- lifecycle
    @abc.abstractmethod
    async def migrate(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> None: ...

    # --- users
    @abc.abstractmethod
    async def create_user(self, user: User) -> None:
        """Raise Conflict when the id or username is taken."""

    @abc.abstractmethod
    async def get_user(self, user_id: str) -> User | None: ...

    @abc.abstractmethod
    async def get_user_by_username(self, username: str) -> User | None: ...

    @abc.abstractmethod
    async def existing_user_ids(self, user_ids: Iterable[str]) -> set[str]: ...

    @abc.abstractmethod
    async def users_by_ids(self, user_ids: Iterable[str]) -> list[User]: ...

    @abc.abstractmethod
    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool: ...

    @abc.abstractmethod
    async def set_user_admin(self, user_id: str, is_admin: bool) -> bool: ...

    # --- refresh tokens
    @abc.abstractmethod
    async def add_refresh_token(self, token: RefreshToken) -> None: ...

    @abc.abstractmethod
    async def consume_refresh_token(self, token_hash: str, now: int) -> RefreshToken | None:
        """Mark the token used and return it as it was before; a token already used
        revokes its whole family (a stolen token was replayed) and is returned as is."""

    @abc.abstractmethod
    async def revoke_user_tokens(self, user_id: str) -> None: ...

    @abc.abstractmethod
    async def revoke_token_family(self, token_hash: str, user_id: str) -> str | None:
        """Revoke the login (token family) of a refresh token, if it is `user_id`'s;
        returns the token's owner (None for an unknown token)."""

    # --- messages
    @abc.abstractmethod
    async def append_messages(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        """Store a batch in one transaction, giving each the next seq of its conversation."""

    @abc.abstractmethod
    async def get_message(self, conv: str, seq: int) -> Message | None: ...

    @abc.abstractmethod
    async def history(
        self, conv: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], bool]: ...

    @abc.abstractmethod
    async def sync(self, user_id: str, known: dict[str, int]) -> list[ConvState]: ...

    @abc.abstractmethod
    async def set_read(self, conv: str, user_id: str, seq: int, now: int) -> ReadResult:
        """Advance (never move back) the read position; schedule burns it covers."""

    @abc.abstractmethod
    async def recall(self, conv: str, seq: int) -> None: ...

    @abc.abstractmethod
    async def claim_due_burns(self, now: int, limit: int) -> list[tuple[str, int]]:
        """Erase bodies whose burn time has come; return the (conv, seq) erased."""

    @abc.abstractmethod
    async def conversation_max_seq(self, conv: str) -> int | None: ...

    # --- membership
    @abc.abstractmethod
    async def conv_members(self, conv: str) -> list[str]: ...

    @abc.abstractmethod
    async def is_member(self, conv: str, user_id: str) -> bool: ...

    # --- groups
    @abc.abstractmethod
    async def create_group(self, group: Group, members: list[str], now: int) -> None: ...

    @abc.abstractmethod
    async def get_group(self, group_id: str) -> Group | None: ...

    @abc.abstractmethod
    async def group_state(self, group_id: str) -> GroupState | None:
        """The group with every member's role and mute, in one read."""

    @abc.abstractmethod
    async def user_groups(self, user_id: str) -> list[tuple[Group, str]]:
        """The groups a user is in, with the user's role in each."""

    @abc.abstractmethod
    async def search_groups(self, name_part: str, *, limit: int) -> list[tuple[Group, int]]:
        """Listed groups (live, taking joiners, searchable) whose name contains `name_part`
        case-insensitively (Unicode-wide), newest first, with their member counts."""

    @abc.abstractmethod
    async def group_members(self, group_id: str, *, after: str | None, limit: int) -> list[Member]:
        """Members ordered by user id, after the cursor `after`."""

    @abc.abstractmethod
    async def update_group(self, group_id: str, **values: Any) -> None:
        """Change name, settings, kind, announcement, owner_id or dismissed_at."""

    @abc.abstractmethod
    async def add_members(self, group_id: str, user_ids: list[str], now: int, *, limit: int) -> list[str]:
        """Add those not yet members (role member); return who was added. Raises
        BadRequest, adding nobody, when the group would pass `limit` members."""

    @abc.abstractmethod
    async def remove_member(self, group_id: str, user_id: str) -> bool: ...

    @abc.abstractmethod
    async def set_member(self, group_id: str, user_id: str, **values: Any) -> bool:
        """Change a member's role or muted_until."""

    @abc.abstractmethod
    async def transfer_ownership(self, group_id: str, old_owner: str, new_owner: str) -> None:
        """new_owner becomes owner and old_owner an admin, in one transaction."""

    @abc.abstractmethod
    async def add_group_request(self, request: GroupRequest) -> None: ...

    @abc.abstractmethod
    async def get_group_request(self, request_id: str) -> GroupRequest | None: ...

    @abc.abstractmethod
    async def group_requests(self, group_id: str, status: str = "pending") -> list[GroupRequest]: ...

    @abc.abstractmethod
    async def close_group_request(self, request_id: str, status: str, by: str, now: int) -> bool:
        """Settle a pending request; False if it was not pending any more."""

    # --- counters
    @abc.abstractmethod
    async def count_messages(self) -> int: ...
