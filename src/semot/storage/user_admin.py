"""UserAdminStorage: what user administration reads and writes beyond the account itself.

The user list for the admin console (search, filters, one page and its total, fast at
100,000 users), one-time set-password links (stored hashed, single use, expiring) and
the record of which device used which login from where (kept so an administrator sees a
user's logins with their platform, address and last use, and which of them are online
now on any node). Kept apart from UserStorage so the chat core's interface stays small.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from semot.domain.records import User

UserSort = Literal["-created_at", "created_at", "username", "-username"]


@dataclass(frozen=True, slots=True)
class UserQuery:
    """One page of the admin user list. `text` matches username or display name (any
    part, case-insensitively), `compact` the start of a pinyin word or initials of
    people in the directory. `departments` and `scope`, when set, keep only users who
    belong to at least one of those departments (each given as its whole subtree)."""

    text: str | None = None
    compact: str | None = None
    disabled: bool | None = None
    admin: bool | None = None
    departments: frozenset[str] | None = None
    scope: frozenset[str] | None = None
    sort: UserSort = "-created_at"
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class PasswordLink:
    token_hash: str
    user_id: str
    created_by: str
    created_at: int
    expires_at: int
    used_at: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceSeen:
    """A device that authenticated a socket with one login (from the gateway)."""

    user_id: str
    login_id: str
    device_id: str
    platform: str
    ip: str
    seen_at: int


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    user_id: str
    login_id: str
    device_id: str
    platform: str
    ip: str
    first_seen: int
    last_seen: int


@dataclass(frozen=True, slots=True)
class LoginRecord:
    """A login (refresh-token family) as its tokens show it: when its first and latest
    tokens expire (each is issued `refresh_ttl` before), and whether it still lives."""

    login_id: str
    user_id: str
    first_expires: int
    last_expires: int
    alive: bool


class UserAdminStorage(abc.ABC):
    # --- the list
    @abc.abstractmethod
    async def list_users(self, query: UserQuery) -> tuple[list[User], int]:
        """One page in `query.sort` order (ties by id) and the number of all matches."""

    @abc.abstractmethod
    async def users_in_departments(self, user_ids: Iterable[str], departments: Iterable[str]) -> set[str]:
        """Which of `user_ids` belong to at least one of `departments` (scope checks)."""

    @abc.abstractmethod
    async def last_seen(self, user_ids: Iterable[str]) -> dict[str, int]:
        """When each user's devices were last seen connecting (users never seen are left out)."""

    # --- set-password links
    @abc.abstractmethod
    async def add_password_link(self, link: PasswordLink) -> None:
        """Store a link; the user's earlier unused links stop working (one at a time)."""

    @abc.abstractmethod
    async def peek_password_link(self, token_hash: str, now: int) -> PasswordLink | None:
        """The link if it is unused and unexpired, without using it."""

    @abc.abstractmethod
    async def use_password_link(self, token_hash: str, now: int) -> PasswordLink | None:
        """Mark the link used, atomically: of two concurrent uses one gets it, the other
        None; None also for an unknown, used or expired link."""

    @abc.abstractmethod
    async def drop_password_links(self, user_id: str) -> int:
        """Forget the user's unused links (their password was set another way)."""

    # --- devices and logins
    @abc.abstractmethod
    async def record_devices(self, seen: list[DeviceSeen]) -> None:
        """Insert or refresh (login, device) rows: last_seen, platform and address move
        on, first_seen stays."""

    @abc.abstractmethod
    async def user_devices(self, user_id: str) -> list[DeviceRecord]:
        """The user's recorded devices, most recently seen first."""

    @abc.abstractmethod
    async def prune_devices(self, before: int) -> int:
        """Drop device rows last seen before `before` (their logins have expired)."""

    @abc.abstractmethod
    async def user_logins(self, user_id: str) -> list[LoginRecord]:
        """Every login of the user that still has tokens stored, newest first."""
