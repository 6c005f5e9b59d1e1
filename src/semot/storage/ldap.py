"""LdapStorage: what Semot keeps about the LDAP directory (services/ldap_*.py).

A user with a row in `ldap_users` is directory-managed: their password is checked only
against the directory, and a directory sync that no longer finds them disables them.
The row also keeps what the directory says beyond the account (e-mail, phone), the
administrator roles its groups gave (so leaving the group takes exactly those away,
never a role granted by hand) and whether the sync disabled the account (so only such
accounts are enabled again when they come back). Sync runs are kept for the console
(status, counts, errors); a lease lets one node at a time run the scheduled sync; the
console's changes (the group -> role mapping) are stored as named JSON values.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

MAX_DN = 1024
MAX_EMAIL = 256
MAX_PHONE = 64
MAX_ERRORS = 50  # errors kept per sync run
RUNS_KEPT = 50


@dataclass(slots=True, frozen=True)
class LdapUser:
    user_id: str
    dn: str
    email: str = ""
    phone: str = ""
    roles: tuple[str, ...] = ()  # administrator roles given by directory groups
    disabled_by_sync: bool = False
    seen_at: int = 0  # last found in the directory (a login or a sync), ms
    created_at: int = 0

    def to_wire(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "dn": self.dn, "email": self.email, "phone": self.phone,
                "roles": list(self.roles), "disabled_by_sync": self.disabled_by_sync, "seen_at": self.seen_at,
                "created_at": self.created_at}


@dataclass(slots=True)
class LdapSyncRun:
    trigger: str  # "schedule" | "manual"
    started_at: int
    by: str | None = None  # the administrator who pressed "sync now"
    finished_at: int | None = None
    ok: bool | None = None  # None: still running
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    id: int = 0  # assigned by the store

    def to_wire(self) -> dict[str, Any]:
        return {"run_id": self.id, "trigger": self.trigger, "by": self.by, "started_at": self.started_at,
                "finished_at": self.finished_at, "ok": self.ok, "counts": dict(self.counts),
                "errors": list(self.errors)}


class LdapStorage(abc.ABC):
    @abc.abstractmethod
    async def ldap_user(self, user_id: str) -> LdapUser | None: ...

    @abc.abstractmethod
    async def ldap_users(self) -> list[LdapUser]:
        """Every directory-managed user (a sync compares them with the directory)."""

    @abc.abstractmethod
    async def put_ldap_user(self, user: LdapUser) -> None:
        """Insert or replace the row of `user.user_id`."""

    @abc.abstractmethod
    async def touch_ldap_users(self, user_ids: list[str], seen_at: int) -> None:
        """Set `seen_at` of these users (a sync found them unchanged)."""

    @abc.abstractmethod
    async def add_sync_run(self, run: LdapSyncRun) -> int:
        """Store a started run; its id. Only the newest RUNS_KEPT runs are kept."""

    @abc.abstractmethod
    async def finish_sync_run(self, run: LdapSyncRun) -> None: ...

    @abc.abstractmethod
    async def sync_runs(self, limit: int) -> list[LdapSyncRun]:
        """Newest first."""

    @abc.abstractmethod
    async def claim_lease(self, name: str, holder: str, now: int, until: int) -> bool:
        """Take the lease `name` until `until` if it is free (expired) or already
        `holder`'s; False when another holder has it."""

    @abc.abstractmethod
    async def release_lease(self, name: str, holder: str) -> None: ...

    @abc.abstractmethod
    async def get_config(self, name: str) -> Any:
        """A stored console setting (JSON), None when never set."""

    @abc.abstractmethod
    async def set_config(self, name: str, value: Any) -> None: ...
