"""The storage interface of administrator roles, grants and the admin audit log.

Custom roles and grants are few (tens to hundreds of rows) and read through a short
per-node cache (services/admin_access.py); the audit log grows with every change an
administrator makes and is read by filters (who, what, on what, when), newest first.
The built-in roles live in code (domain/admin_perms.py), never in the database.

Who is an administrator at all stays the `users.is_admin` flag (`semot create-admin`
sets it); a grant row narrows what that administrator may do. An administrator without
a grant is a super administrator, so `set_admin` changes the flag and the grant in one
transaction and refuses to leave the server without an enabled super administrator.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from semot.domain.admin_perms import Grant, Role
from semot.domain.records import User

MAX_AUDIT_JSON = 64 * 1024  # bytes of one before/after value; larger ones are summarised
LAST_SUPER = "the last super administrator cannot be removed, demoted or limited to departments"


def to_json(value: Any) -> str | None:
    """A JSON text for the audit log; over MAX_AUDIT_JSON bytes a summary that says so
    (a bulk action must not put megabytes in one row)."""
    if value is None:
        return None
    raw = orjson.dumps(value, default=str)
    if len(raw) > MAX_AUDIT_JSON:
        raw = orjson.dumps({"truncated": True, "bytes": len(raw)})
    return raw.decode()


def from_json(raw: str | None) -> Any:
    return None if raw is None else orjson.loads(raw)


@dataclass(slots=True)
class AuditEntry:
    """One administrator's change: who, what, on what, from where, when, before/after."""

    admin: str
    action: str
    target: str
    ip: str
    ts: int
    before: Any = None
    after: Any = None
    id: int = 0  # assigned by the store


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of the audit log list, all optional; `action` ending in "." matches the
    actions it starts ("user." finds user.create, user.update...); `since`/`until`
    bound `ts` (ms, inclusive)."""

    admin: str | None = None
    action: str | None = None
    target: str | None = None
    since: int | None = None
    until: int | None = None
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class AdminState:
    """A user's administrator state before a `set_admin` (for the audit log)."""

    is_admin: bool
    grant: Grant | None


class AdminRbacStorage(abc.ABC):
    # --- custom roles
    @abc.abstractmethod
    async def create_role(self, role: Role) -> None:
        """Conflict when the id or the name is taken."""

    @abc.abstractmethod
    async def get_role(self, role_id: str) -> Role | None: ...

    @abc.abstractmethod
    async def list_roles(self) -> list[Role]:
        """Every custom role, oldest first."""

    @abc.abstractmethod
    async def update_role(
        self, role_id: str, *, name: str | None, description: str | None, perms: frozenset[str] | None, now: int
    ) -> Role | None:
        """Change what is given; None if there is no such role; Conflict on a name taken."""

    @abc.abstractmethod
    async def delete_role(self, role_id: str) -> bool:
        """False if there is no such role; Conflict while an administrator holds it."""

    # --- administrators
    @abc.abstractmethod
    async def admins(self) -> list[tuple[User, Grant | None]]:
        """Every user with `is_admin`, with their grant (None: unlimited), by username."""

    @abc.abstractmethod
    async def get_grant(self, user_id: str) -> Grant | None: ...

    @abc.abstractmethod
    async def grants(self) -> list[Grant]:
        """Every grant row (including stale ones of users no longer administrators)."""

    @abc.abstractmethod
    async def set_admin(self, user_id: str, grant: Grant | None, *, admin: bool) -> AdminState:
        """In one transaction: `admin=True` makes the user an administrator holding
        `grant` (None: no grant, i.e. a super administrator); `admin=False` takes the
        flag and the grant away. NotFound for an unknown user; Conflict (nothing
        changed) when afterwards no enabled user would be a full super administrator
        (domain/admin_perms.py is_full_super). Returns the state before."""

    @abc.abstractmethod
    async def drop_grant(self, user_id: str) -> bool:
        """Forget a grant, leaving the `is_admin` flag alone (`semot create-admin` makes
        an existing administrator a super administrator again this way)."""

    @abc.abstractmethod
    async def department_user_ids(self, dept_ids: Iterable[str]) -> set[str]:
        """Everyone directly in one of these departments (the caller expands subtrees)."""

    # --- the audit log
    @abc.abstractmethod
    async def add_audit(self, entry: AuditEntry) -> None:
        """Append; before/after are stored as JSON (over MAX_AUDIT_JSON: a summary)."""

    @abc.abstractmethod
    async def audit_entries(self, query: AuditQuery) -> tuple[list[AuditEntry], int]:
        """One page, newest first, and how many entries match in all."""
