"""The storage interface of the login log: one row per login attempt, success or not.

Rows are written in batches by services/login_log.py (never on the login's own path)
and read by the admin console, newest first, through filters that the indexes serve:
time (`ts`), one user (`user_id`, `ts`) and one address (`ip`, `ts`). Old rows are
purged by time, so the table stays bounded by the retention setting.
"""

from __future__ import annotations

import abc
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

# What a failed attempt's `reason` says (an empty reason: it succeeded)
UNKNOWN_USER = "unknown_user"
WRONG_PASSWORD = "wrong_password"
DISABLED = "disabled"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"  # the server could not check the password (hashing queue full)
ERROR = "error"  # anything else went wrong
REASONS = (UNKNOWN_USER, WRONG_PASSWORD, DISABLED, RATE_LIMITED, UNAVAILABLE, ERROR)

MAX_USERNAME = 64
MAX_IP = 64
MAX_DEVICE = 128
MAX_PLATFORM = 16
MAX_USER_AGENT = 512
MAX_METHOD = 16


@dataclass(slots=True, frozen=True)
class LoginLogEntry:
    """One login attempt. `user_id` is None when the username matched nobody;
    `username` is what was typed (bounded), `device` the device the client declared or
    what its User-Agent says, `method` how it logged in (`password`; `sso` later)."""

    ts: int
    user_id: str | None
    username: str
    ip: str
    device: str
    platform: str
    user_agent: str
    ok: bool
    reason: str
    method: str = "password"
    id: int = 0  # assigned by the store: with `ts`, the order of the log

    def to_wire(self) -> dict[str, object]:
        return {
            "id": self.id,
            "ts": self.ts,
            "user_id": self.user_id,
            "username": self.username,
            "ip": self.ip,
            "device": self.device,
            "platform": self.platform,
            "user_agent": self.user_agent,
            "ok": self.ok,
            "reason": self.reason,
            "method": self.method,
        }


@dataclass(slots=True, frozen=True)
class LoginLogQuery:
    """Filters, all optional. `since` is inclusive, `until` exclusive (ms); `ip` matches
    addresses starting with it (a whole address: that one); `q` a part of the username or user id (any case);
    `user_ids` is the administrator's scope (None: everyone; attempts that matched no
    user are outside every limited scope)."""

    user_id: str | None = None
    since: int | None = None
    until: int | None = None
    ok: bool | None = None
    ip: str | None = None
    q: str | None = None
    user_ids: frozenset[str] | None = None

    def matches(self, e: LoginLogEntry) -> bool:
        """The same filter in Python (the memory store, and the contract tests)."""
        if self.user_id is not None and e.user_id != self.user_id:
            return False
        if self.user_ids is not None and (e.user_id is None or e.user_id not in self.user_ids):
            return False
        if self.since is not None and e.ts < self.since:
            return False
        if self.until is not None and e.ts >= self.until:
            return False
        if self.ok is not None and e.ok != self.ok:
            return False
        if self.ip and not (e.ip == self.ip if is_address(self.ip) else e.ip.startswith(self.ip)):
            return False
        if self.q:
            q = self.q.lower()
            return q in e.username.lower() or q in (e.user_id or "").lower()
        return True


def is_address(text: str) -> bool:
    """A whole IP address (the `ip` filter then matches it exactly, else as a prefix)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def newest_first(e: LoginLogEntry) -> tuple[int, int]:
    """The log's order, as a key to sort on (descending) and to page after."""
    return (e.ts, e.id)


class LoginLogStorage(abc.ABC):
    @abc.abstractmethod
    async def add_login_logs(self, entries: Sequence[LoginLogEntry]) -> None:
        """Append these attempts in one transaction (their `id` is assigned here)."""

    @abc.abstractmethod
    async def login_logs(self, query: LoginLogQuery, *, offset: int, limit: int) -> tuple[list[LoginLogEntry], int]:
        """A page of matching attempts, newest first (`ts`, then `id`), and how many match."""

    @abc.abstractmethod
    async def login_logs_before(
        self, query: LoginLogQuery, *, before: tuple[int, int] | None, limit: int
    ) -> list[LoginLogEntry]:
        """Matching attempts older than `before` (`ts`, `id`; None: the newest), newest
        first: the export walks the whole log with this, without OFFSET."""

    @abc.abstractmethod
    async def purge_login_logs(self, before_ts: int) -> int:
        """Delete the attempts older than `before_ts`; returns how many."""
