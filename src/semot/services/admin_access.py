"""Who may do what in the administration API, and the record of what they did.

Every admin route names the permission it needs (`Route.perm`, e.g. "users.write");
`authorize` answers with the caller's grant (its permissions and the departments its
scope is limited to) or refuses with 403, so the API enforces roles, not the console.
Every change an administrator makes goes through `audit`, into the audit log store.

Who is an administrator is the `users.is_admin` flag, read fresh with every request
(`authenticate` loads the user); what they may do is their grant (roles + department
limit, storage/admin_rbac.py), and an administrator without one is a super
administrator (`semot create-admin`). Grants and roles are read on every admin request,
so they are cached per node for a few seconds; every change drops the cache on every
node through the bus (`ADMIN_KEY`, app.py NodeReceiver), so a revoked role stops
working at once, and the TTL bounds staleness if a bus message is lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from semot.bus.base import Bus, Invalidate
from semot.domain import admin_perms as rules
from semot.domain.admin_perms import Grant, Role
from semot.domain.records import User
from semot.errors import Conflict, Forbidden
from semot.ids import now_ms
from semot.storage.admin_rbac import LAST_SUPER, AdminRbacStorage, AuditEntry, AuditQuery
from semot.storage.org import OrgStorage

ADMIN_KEY = "admin:"  # bus Invalidate key: roles or grants changed somewhere
CACHE_TTL_S = 5.0

__all__ = ["ADMIN_KEY", "AdminAccess", "AdminGrant", "AuditEntry"]


@dataclass(frozen=True, slots=True)
class AdminGrant:
    """What one administrator may do: `perms` (None: everything) within `departments`
    (None: the whole organisation; else these departments and their subtrees)."""

    user_id: str
    roles: tuple[str, ...] = (rules.SUPER_ADMIN,)
    perms: frozenset[str] | None = None
    departments: frozenset[str] | None = None

    def allows(self, perm: str | None) -> bool:
        return perm is None or self.perms is None or perm in self.perms

    @property
    def unlimited(self) -> bool:
        """Every permission over the whole organisation (a full super administrator)."""
        return self.perms is None and self.departments is None


@dataclass(slots=True)
class _Cached:
    expires: float
    value: Any


@dataclass(slots=True)
class AdminAccess:
    """Authorization, department scopes and the audit log, over the stores app.py picks."""

    store: AdminRbacStorage
    org: OrgStorage
    bus: Bus | None = None
    ttl_s: float = CACHE_TTL_S
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _generation: int = 0

    @property
    def rbac(self) -> AdminRbacStorage:
        return self.store

    @property
    def directory(self) -> OrgStorage:
        return self.org

    # --- the cache
    def invalidate(self) -> None:
        """Roles or grants changed (here or on another node): forget every cached answer."""
        self._cache.clear()
        self._generation += 1

    def changed(self) -> None:
        """After a write: drop this node's cache now and every other node's through the bus."""
        self.invalidate()
        if self.bus is not None:
            self.bus.publish(Invalidate(ADMIN_KEY))

    async def _cached(self, key: str, load: Any) -> Any:
        hit = self._cache.get(key)
        if hit is not None and hit.expires > time.monotonic():
            return hit.value
        generation = self._generation
        value = await load()
        # an invalidation while loading means the value may already be stale: don't keep it
        if generation == self._generation and self.ttl_s > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = _Cached(time.monotonic() + self.ttl_s, value)
        return value

    async def roles(self) -> dict[str, Role]:
        """Every role by id: the built-in ones, then the custom ones."""

        async def load() -> dict[str, Role]:
            return {**rules.BUILT_IN_ROLES, **{r.id: r for r in await self.rbac.list_roles()}}

        found: dict[str, Role] = await self._cached("roles", load)
        return found

    async def stored_grant(self, user_id: str) -> Grant | None:
        async def load() -> Grant | None:
            return await self.rbac.get_grant(user_id)

        found: Grant | None = await self._cached("g:" + user_id, load)
        return found

    # --- authorization
    async def grant_of(self, user: User) -> AdminGrant:
        """The grant of an administrator (403 for anyone else)."""
        if not user.is_admin:
            raise Forbidden("administrators only")
        stored = await self.stored_grant(user.id)
        if stored is None:
            return AdminGrant(user.id)
        perms = rules.grant_perms(stored.roles, await self.roles())
        depts = None if stored.departments is None else frozenset(stored.departments)
        return AdminGrant(user.id, stored.roles, perms, depts)

    async def authorize(self, user: User, perm: str | None) -> AdminGrant:
        grant = await self.grant_of(user)
        if not grant.allows(perm):
            raise Forbidden(f"your role does not allow {perm}")
        return grant

    # --- department scopes
    async def parents(self) -> dict[str, str | None]:
        return {d.id: d.parent_id for d in await self.directory.all_departments()}

    async def scope_departments(self, grant: AdminGrant) -> frozenset[str] | None:
        """The departments the grant may administer, subtrees included (None: all)."""
        if grant.departments is None:
            return None
        return rules.subtrees(grant.departments, await self.parents())

    async def scope_user_ids(self, grant: AdminGrant) -> set[str] | None:
        """Everyone the grant may administer (None: everybody): whoever is in one of its
        departments or below. List routes filter by it (or by scope_departments in SQL)."""
        scope = await self.scope_departments(grant)
        if scope is None:
            return None
        return await self.rbac.department_user_ids(scope) if scope else set()

    async def user_in_scope(self, grant: AdminGrant, user_id: str) -> bool:
        scope = await self.scope_departments(grant)
        if scope is None:
            return True
        memberships = (await self.directory.user_memberships([user_id])).get(user_id, [])
        return any(m.department_id in scope for m in memberships)

    async def check_user_scope(self, grant: AdminGrant, user_id: str) -> None:
        """403 unless `user_id` is inside the grant's departments (or the grant is unlimited)."""
        if not await self.user_in_scope(grant, user_id):
            raise Forbidden("this user is outside the departments you administer")

    async def check_department_scope(self, grant: AdminGrant, dept_id: str | None) -> None:
        """403 unless the department (None: the top level) is inside the grant's subtrees."""
        scope = await self.scope_departments(grant)
        if scope is None:
            return
        if dept_id is None or dept_id not in scope:
            raise Forbidden("this department is outside the departments you administer")

    # --- protecting the last super administrator (also for user administration)
    async def ensure_not_last_super(self, user_id: str) -> None:
        """Conflict if `user_id` is the only enabled full super administrator left: call
        before disabling a user or taking their `is_admin` away elsewhere."""
        admins = await self.rbac.admins()
        supers = [u.id for u, g in admins if rules.is_full_super(u.is_admin, u.disabled, g)]
        if supers == [user_id]:
            raise Conflict(LAST_SUPER)

    async def set_is_admin(self, user_id: str, is_admin: bool) -> None:
        """`is_admin` on or off the way `PATCH /users/{id}` means it: on, a super
        administrator with no grant (as `semot create-admin`); off, no grant either. One
        transaction with the last-super-administrator check (Conflict); caches dropped."""
        try:
            await self.rbac.set_admin(user_id, None, admin=is_admin)
        finally:
            self.changed()

    # --- the audit log
    async def audit(
        self, admin: str, action: str, target: str, ip: str, *, before: Any = None, after: Any = None
    ) -> None:
        await self.rbac.add_audit(AuditEntry(admin, action, target, ip, now_ms(), before, after))

    async def audit_log(self, query: AuditQuery) -> tuple[list[AuditEntry], int]:
        return await self.rbac.audit_entries(query)
