"""MemoryAdminRbac: administrator roles, grants and the audit log in memory.

Its own tables live on this object (the users and department members it reads are the
shared MemoryDb's); like every memory store, each method checks before it changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from semot.domain import admin_perms as rules
from semot.domain.admin_perms import Grant, Role
from semot.domain.records import User
from semot.domain.users import username_key
from semot.errors import Conflict, NotFound
from semot.storage.admin_rbac import (
    LAST_SUPER,
    AdminRbacStorage,
    AdminState,
    AuditEntry,
    AuditQuery,
    from_json,
    to_json,
)
from semot.storage.memory.db import MemoryDb, clone


class MemoryAdminRbac(AdminRbacStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db
        self._roles: dict[str, Role] = {}
        self._grants: dict[str, Grant] = {}
        self._audit: list[AuditEntry] = []

    # --- custom roles
    async def create_role(self, role: Role) -> None:
        if role.id in self._roles or any(r.name == role.name for r in self._roles.values()):
            raise Conflict(f"a role named {role.name!r} already exists")
        self._roles[role.id] = role

    async def get_role(self, role_id: str) -> Role | None:
        return self._roles.get(role_id)

    async def list_roles(self) -> list[Role]:
        return sorted(self._roles.values(), key=lambda r: (r.created_at, r.id))

    async def update_role(
        self, role_id: str, *, name: str | None, description: str | None, perms: frozenset[str] | None, now: int
    ) -> Role | None:
        role = self._roles.get(role_id)
        if role is None:
            return None
        if name is not None and any(r.name == name and r.id != role_id for r in self._roles.values()):
            raise Conflict(f"a role named {name!r} already exists")
        role = dataclasses.replace(
            role,
            name=role.name if name is None else name,
            description=role.description if description is None else description,
            perms=role.perms if perms is None else perms,
            updated_at=now,
        )
        self._roles[role_id] = role
        return role

    async def delete_role(self, role_id: str) -> bool:
        holders = sorted(g.user_id for g in self._grants.values() if role_id in g.roles)
        if holders:
            raise Conflict(
                f"{len(holders)} administrator(s) hold this role: take it from them first", holders=holders[:20]
            )
        return self._roles.pop(role_id, None) is not None

    # --- administrators
    async def admins(self) -> list[tuple[User, Grant | None]]:
        found = sorted(
            (u for u in self._db.users.values() if u.is_admin), key=lambda u: (username_key(u.username), u.id)
        )
        return [(clone(u), self._grants.get(u.id)) for u in found]

    async def get_grant(self, user_id: str) -> Grant | None:
        return self._grants.get(user_id)

    async def grants(self) -> list[Grant]:
        return [self._grants[u] for u in sorted(self._grants)]

    async def set_admin(self, user_id: str, grant: Grant | None, *, admin: bool) -> AdminState:
        assert admin or grant is None
        user = self._db.users.get(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        before = AdminState(user.is_admin, self._grants.get(user_id))
        supers = sum(
            rules.is_full_super(u.is_admin, u.disabled, self._grants.get(u.id))
            for u in self._db.users.values()
            if u.id != user_id
        )
        if rules.removes_last_super(supers, user.disabled, (before.is_admin, before.grant), (admin, grant)):
            raise Conflict(LAST_SUPER)
        self._grants.pop(user_id, None)
        if grant is not None:
            self._grants[user_id] = grant
        user.is_admin = admin
        return before

    async def drop_grant(self, user_id: str) -> bool:
        return self._grants.pop(user_id, None) is not None

    async def department_user_ids(self, dept_ids: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for d in dept_ids:
            out.update(self._db.dept_members.get(d, {}))
        return out

    # --- the audit log
    async def add_audit(self, entry: AuditEntry) -> None:
        # through JSON, as a database would keep it (and summarised when too large)
        before, after = to_json(entry.before), to_json(entry.after)
        self._audit.append(
            AuditEntry(
                entry.admin,
                entry.action[:64],
                entry.target[:256],
                entry.ip[:64],
                entry.ts,
                from_json(before),
                from_json(after),
                len(self._audit) + 1,
            )
        )

    async def audit_entries(self, query: AuditQuery) -> tuple[list[AuditEntry], int]:
        def keep(e: AuditEntry) -> bool:
            if query.admin is not None and e.admin != query.admin:
                return False
            if query.action is not None and (
                not e.action.startswith(query.action) if query.action.endswith(".") else e.action != query.action
            ):
                return False
            if query.target is not None and e.target != query.target:
                return False
            if query.since is not None and e.ts < query.since:
                return False
            return query.until is None or e.ts <= query.until

        found = sorted(filter(keep, self._audit), key=lambda e: (e.ts, e.id), reverse=True)
        return [clone(e) for e in found[query.offset : query.offset + query.limit]], len(found)
