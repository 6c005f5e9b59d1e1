"""The storage interface of the server API (docs/integration.md): API keys, the call
log, and single-use SSO tickets.

A key is stored as the SHA-256 of the key (never the key itself) with its name, scopes,
IP allowlist, rate limit, expiry and revocation. The call log holds one row per server
API call, written in batches and purged by time (services/api_keys.py). An SSO ticket
is stored as its SHA-256 with the user it logs in and its expiry; taking it deletes it,
so it works once, on whichever node redeems it first.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_NAME = 64
MAX_PATH = 512
MAX_IP = 64
SCOPES = ("users", "messages", "notifications", "groups", "org")


@dataclass(slots=True, frozen=True)
class ApiKey:
    id: str
    name: str
    key_hash: str  # hex SHA-256 of the whole key
    prefix: str  # the key's first characters, to recognise it in a list
    scopes: tuple[str, ...]
    allow_ips: tuple[str, ...]  # CIDRs (v4 or v6); empty: any address
    rate_per_min: int  # 0: unlimited
    expires_at: int | None  # ms; None: never
    created_at: int
    created_by: str | None
    revoked_at: int | None = None
    last_used_at: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "key_id": self.id, "name": self.name, "prefix": self.prefix, "scopes": list(self.scopes),
            "allow_ips": list(self.allow_ips), "rate_per_min": self.rate_per_min, "expires_at": self.expires_at,
            "created_at": self.created_at, "created_by": self.created_by, "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
        }


@dataclass(slots=True, frozen=True)
class ApiCall:
    key_id: str | None  # None: the call carried no known key
    ip: str
    method: str
    path: str
    status: int
    duration_ms: int
    ts: int
    id: int = 0  # assigned by the store

    def to_wire(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "ip": self.ip, "method": self.method, "path": self.path,
                "status": self.status, "duration_ms": self.duration_ms, "ts": self.ts}


@dataclass(slots=True, frozen=True)
class ApiCallQuery:
    """Filters, all optional: `since` inclusive, `until` exclusive (ms); `path` a prefix;
    `status` exact, or a class (`min_status`..`max_status`)."""

    key_id: str | None = None
    ip: str | None = None
    method: str | None = None
    path: str | None = None
    min_status: int | None = None
    max_status: int | None = None
    since: int | None = None
    until: int | None = None

    def matches(self, c: ApiCall) -> bool:
        return (
            (self.key_id is None or c.key_id == self.key_id)
            and (self.ip is None or c.ip == self.ip)
            and (self.method is None or c.method == self.method)
            and (self.path is None or c.path.startswith(self.path))
            and (self.min_status is None or c.status >= self.min_status)
            and (self.max_status is None or c.status <= self.max_status)
            and (self.since is None or c.ts >= self.since)
            and (self.until is None or c.ts < self.until)
        )


class ApiKeyStorage(abc.ABC):
    @abc.abstractmethod
    async def add_api_key(self, key: ApiKey) -> None: ...

    @abc.abstractmethod
    async def api_keys(self) -> list[ApiKey]:
        """Every key, newest first (revoked ones too)."""

    @abc.abstractmethod
    async def api_key(self, key_id: str) -> ApiKey | None: ...

    @abc.abstractmethod
    async def api_key_by_hash(self, key_hash: str) -> ApiKey | None: ...

    @abc.abstractmethod
    async def update_api_key(self, key_id: str, **values: Any) -> ApiKey | None:
        """Set these columns (name, scopes, allow_ips, rate_per_min, expires_at,
        revoked_at, last_used_at); None when there is no such key."""

    @abc.abstractmethod
    async def add_api_calls(self, calls: Sequence[ApiCall]) -> None: ...

    @abc.abstractmethod
    async def api_calls(self, query: ApiCallQuery, *, offset: int, limit: int) -> tuple[list[ApiCall], int]:
        """A page of matching calls, newest first, and how many match."""

    @abc.abstractmethod
    async def purge_api_calls(self, before_ts: int) -> int: ...

    @abc.abstractmethod
    async def add_sso_ticket(self, ticket_hash: str, user_id: str, expires_at: int) -> None: ...

    @abc.abstractmethod
    async def take_sso_ticket(self, ticket_hash: str, now: int) -> str | None:
        """Delete the ticket and return its user, if it existed and had not expired."""
