"""Managing administrators: custom roles and who holds which roles over which departments.

Nobody hands out more than they hold: a role's permissions, and a grant's roles and
departments, must lie within the caller's own (a super administrator holds everything).
An administrator limited to departments may grant and revoke within them but not
define roles (a role is shared by administrators everywhere). The last enabled super
administrator can be neither removed, demoted nor limited (the store checks it inside
the transaction). Every change drops the grant caches on every node (AdminAccess.changed).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from semot.domain import admin_perms as rules
from semot.domain.admin_perms import Grant, Role
from semot.domain.records import User
from semot.errors import BadRequest, Conflict, Forbidden, NotFound
from semot.ids import is_valid_id, now_ms
from semot.services.admin_access import AdminAccess, AdminGrant
from semot.storage.base import UserStorage

MAX_PAGE = 200


def new_role_id() -> str:
    return f"role_{secrets.token_hex(6)}"


def role_out(role: Role, holders: int = 0) -> dict[str, Any]:
    labels = {"zh-CN": role.zh, "en": role.en} if role.built_in else {"zh-CN": role.name, "en": role.name}
    return {
        "role_id": role.id,
        "name": role.name,
        "labels": labels,
        "description": role.description,
        "perms": None if role.perms is None else rules.sorted_perms(role.perms),
        "built_in": role.built_in,
        "admin_count": holders,
        "created_at": role.created_at,
        "updated_at": role.updated_at,
    }


def grant_state(is_admin: bool, grant: Grant | None) -> dict[str, Any]:
    """An administrator's state as the audit log records it (before / after)."""
    if not is_admin:
        return {"is_admin": False}
    if grant is None:
        return {"is_admin": True, "roles": [rules.SUPER_ADMIN], "departments": None}
    return {"is_admin": True, "roles": list(grant.roles), "departments": _list(grant.departments)}


def _list(xs: Iterable[str] | None) -> list[str] | None:
    return None if xs is None else list(xs)


@dataclass(slots=True)
class RbacAdmin:
    access: AdminAccess
    users: UserStorage

    # --- helpers
    async def _names(self) -> dict[str, str]:
        return {d.id: d.name for d in await self.access.directory.all_departments()}

    def _depts_out(self, ids: Iterable[str] | None, names: dict[str, str]) -> list[dict[str, str]] | None:
        if ids is None:
            return None
        return [{"department_id": d, "name": names.get(d, "")} for d in ids]

    async def _holders(self) -> dict[str, int]:
        admins = await self.access.rbac.admins()
        counts: dict[str, int] = {}
        for _, grant in admins:
            for rid in grant.roles if grant is not None else (rules.SUPER_ADMIN,):
                counts[rid] = counts.get(rid, 0) + 1
        return counts

    async def _power_over(self, me: AdminGrant, is_admin: bool, grant: Grant | None) -> None:
        """403 unless `me` holds at least what this administrator holds (you cannot
        demote or remove someone who may do more than you)."""
        if not is_admin or me.unlimited:
            return
        perms = None if grant is None else rules.grant_perms(grant.roles, await self.access.roles())
        depts = None if grant is None else grant.departments
        scope = await self.access.scope_departments(me)
        if not rules.within(me.perms, perms) or not rules.departments_within(scope, depts):
            raise Forbidden("this administrator holds more than you do")

    @staticmethod
    def _perms_out(grant: Grant | None, roles: dict[str, Role]) -> list[str] | None:
        perms = None if grant is None else rules.grant_perms(grant.roles, roles)
        return None if perms is None else rules.sorted_perms(perms)

    @staticmethod
    def _unlimited_only(me: AdminGrant) -> None:
        if me.departments is not None:
            raise Forbidden("roles apply everywhere: administrators limited to departments cannot define them")

    # --- what the caller holds
    async def me(self, user: User, grant: AdminGrant) -> dict[str, Any]:
        names = await self._names()
        return {
            "user_id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "roles": list(grant.roles),
            "perms": None if grant.perms is None else rules.sorted_perms(grant.perms),
            "departments": None if grant.departments is None else sorted(grant.departments),
            "department_names": {d: names.get(d, "") for d in sorted(grant.departments or ())},
            "super_admin": grant.unlimited,
        }

    # --- roles
    async def list_roles(self) -> list[dict[str, Any]]:
        holders = await self._holders()
        return [role_out(r, holders.get(r.id, 0)) for r in (await self.access.roles()).values()]

    async def _check_name(self, name: str, exclude: str | None = None) -> str:
        name = rules.clean_role_name(name)
        folded = name.casefold()
        for r in (await self.access.roles()).values():
            if r.id != exclude and folded in {r.name.casefold(), r.zh.casefold(), r.en.casefold()} - {""}:
                raise Conflict(f"a role named {name!r} already exists")
        return name

    async def _custom(self, role_id: str) -> Role:
        if role_id in rules.BUILT_IN_ROLES:
            raise Forbidden("built-in roles are read-only")
        role = await self.access.rbac.get_role(role_id)
        if role is None:
            raise NotFound(f"no role {role_id!r}")
        return role

    async def create_role(self, me: AdminGrant, name: str, description: str, perms: list[str]) -> Role:
        self._unlimited_only(me)
        wanted = rules.check_perms(perms)
        if not rules.within(me.perms, wanted):
            raise Forbidden("a role cannot carry permissions you do not hold")
        now = now_ms()
        role = Role(
            new_role_id(),
            await self._check_name(name),
            rules.clean_description(description),
            wanted,
            created_at=now,
            updated_at=now,
        )
        await self.access.rbac.create_role(role)
        self.access.changed()
        return role

    async def update_role(
        self, me: AdminGrant, role_id: str, *, name: str | None, description: str | None, perms: list[str] | None
    ) -> tuple[Role, Role]:
        """The role before and after."""
        self._unlimited_only(me)
        old = await self._custom(role_id)
        wanted = None if perms is None else rules.check_perms(perms)
        if not rules.within(me.perms, old.perms) or (wanted is not None and not rules.within(me.perms, wanted)):
            raise Forbidden("a role cannot carry permissions you do not hold")
        clean_name = None if name is None else await self._check_name(name, exclude=role_id)
        clean_desc = None if description is None else rules.clean_description(description)
        new = await self.access.rbac.update_role(
            role_id, name=clean_name, description=clean_desc, perms=wanted, now=now_ms()
        )
        self.access.changed()
        if new is None:
            raise NotFound(f"no role {role_id!r}")
        return old, new

    async def delete_role(self, me: AdminGrant, role_id: str) -> Role:
        self._unlimited_only(me)
        old = await self._custom(role_id)
        if not rules.within(me.perms, old.perms):
            raise Forbidden("a role cannot carry permissions you do not hold")
        if not await self.access.rbac.delete_role(role_id):
            raise NotFound(f"no role {role_id!r}")
        self.access.changed()
        return old

    # --- administrators
    async def list_admins(self, me: AdminGrant, *, offset: int, limit: int) -> dict[str, Any]:
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit: 1-{MAX_PAGE}")
        admins = await self.access.rbac.admins()
        visible = await self.access.scope_user_ids(me)
        if visible is not None:
            admins = [(u, g) for u, g in admins if u.id in visible]
        page = admins[offset : offset + limit]
        names = await self._names()
        roles = await self.access.roles()
        out = []
        for u, g in page:
            out.append(
                {
                    "user_id": u.id,
                    "username": u.username,
                    "display_name": u.display_name,
                    "disabled": u.disabled,
                    "roles": list(g.roles) if g is not None else [rules.SUPER_ADMIN],
                    "departments": self._depts_out(g.departments if g is not None else None, names),
                    "super_admin": rules.is_full_super(True, False, g),
                    "perms": self._perms_out(g, roles),
                    "updated_at": g.updated_at if g is not None else 0,
                    "updated_by": g.updated_by if g is not None else "",
                }
            )
        return {"admins": out, "total": len(admins), "offset": offset}

    async def _target(self, me: AdminGrant, user_id: str) -> User:
        if not is_valid_id(user_id):
            raise BadRequest(f"invalid user id {user_id!r}")
        user = await self.users.get_user(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        await self.access.check_user_scope(me, user_id)
        return user

    async def set_grant(
        self, me: AdminGrant, user_id: str, role_ids: list[str], departments: list[str] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Make `user_id` an administrator holding these roles (over these departments);
        the state before and after (for the audit log)."""
        await self._target(me, user_id)
        roles = list(dict.fromkeys(role_ids))
        if not 1 <= len(roles) <= rules.MAX_GRANT_ROLES:
            raise BadRequest(f"roles: 1-{rules.MAX_GRANT_ROLES} role ids")
        defined = await self.access.roles()
        unknown = [r for r in roles if r not in defined]
        if unknown:
            raise NotFound(f"unknown roles: {', '.join(unknown[:10])}")
        depts: list[str] | None = None
        if departments is not None:
            depts = list(dict.fromkeys(departments))
            if not 1 <= len(depts) <= rules.MAX_GRANT_DEPARTMENTS:
                raise BadRequest(f"departments: 1-{rules.MAX_GRANT_DEPARTMENTS} department ids, or null for all")
            known = await self.access.parents()
            missing = [d for d in depts if d not in known]
            if missing:
                raise NotFound(f"unknown departments: {', '.join(missing[:10])}")
        if not rules.within(me.perms, rules.grant_perms(roles, defined)):
            raise Forbidden("you cannot grant permissions you do not hold")
        if not rules.departments_within(await self.access.scope_departments(me), depts):
            raise Forbidden("you can only grant departments you administer")
        current = await self.access.rbac.get_grant(user_id)
        user = await self.users.get_user(user_id)
        await self._power_over(me, bool(user and user.is_admin), current)
        grant = Grant(user_id, tuple(roles), None if depts is None else tuple(depts), now_ms(), me.user_id)
        try:
            before = await self.access.rbac.set_admin(user_id, grant, admin=True)
        finally:
            self.access.changed()
        return grant_state(before.is_admin, before.grant), grant_state(True, grant)

    async def revoke(self, me: AdminGrant, user_id: str) -> dict[str, Any]:
        """Take away everything administrative from `user_id`; the state before."""
        user = await self._target(me, user_id)
        if not user.is_admin:
            raise NotFound(f"{user_id!r} is not an administrator")
        await self._power_over(me, True, await self.access.rbac.get_grant(user_id))
        try:
            before = await self.access.rbac.set_admin(user_id, None, admin=False)
        finally:
            self.access.changed()
        return grant_state(before.is_admin, before.grant)
