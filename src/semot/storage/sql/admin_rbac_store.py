"""SqlAdminRbac: administrator roles, grants and the audit log on SQL (SQLite or PostgreSQL).

Changes to who is an administrator take one lock (a PostgreSQL advisory lock; SQLite
has a single writer already) and count the super administrators left inside the same
transaction, so two administrators demoting each other at once cannot leave nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from semot.domain import admin_perms as rules
from semot.domain.admin_perms import Grant, Role
from semot.domain.records import User
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
from semot.storage.sql import schema as s
from semot.storage.sql import schema_admin as a
from semot.storage.sql import schema_org as o
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.user_store import _row_to_user

_RBAC_LOCK = 7365678  # pg advisory lock id serialising changes of who administers
_r, _g, _l = a.admin_roles, a.admin_grants, a.admin_audit


def _role(r: Any) -> Role:
    return Role(
        r.id, r.name, r.description, frozenset(orjson.loads(r.perms)), False, "", "", r.created_at, r.updated_at
    )


def _grant(r: Any) -> Grant:
    depts = None if r.departments is None else tuple(orjson.loads(r.departments))
    return Grant(r.user_id, tuple(orjson.loads(r.roles)), depts, r.updated_at, r.updated_by)


def _grant_values(g: Grant) -> dict[str, Any]:
    return {
        "roles": orjson.dumps(list(g.roles)).decode(),
        "departments": None if g.departments is None else orjson.dumps(list(g.departments)).decode(),
        "updated_at": g.updated_at,
        "updated_by": g.updated_by,
    }


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(r.admin, r.action, r.target, r.ip, r.ts, from_json(r.before), from_json(r.after), r.id)


def audit_filters(q: AuditQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.admin is not None:
        where.append(_l.c.admin == q.admin)
    if q.action is not None:
        if q.action.endswith("."):  # a prefix, as a range the (action, ts) index serves
            where.append(and_(_l.c.action >= q.action, _l.c.action < q.action[:-1] + "/"))
        else:
            where.append(_l.c.action == q.action)
    if q.target is not None:
        where.append(_l.c.target == q.target)
    if q.since is not None:
        where.append(_l.c.ts >= q.since)
    if q.until is not None:
        where.append(_l.c.ts <= q.until)
    return where


class SqlAdminRbac(AdminRbacStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._dialect = db.dialect

    async def _lock(self, conn: AsyncConnection) -> None:
        if self._dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _RBAC_LOCK})

    # --- custom roles
    async def create_role(self, role: Role) -> None:
        assert role.perms is not None
        try:
            async with self._engines.write.begin() as conn:
                await conn.execute(
                    _r.insert().values(
                        id=role.id,
                        name=role.name,
                        description=role.description,
                        perms=orjson.dumps(rules.sorted_perms(role.perms)).decode(),
                        created_at=role.created_at,
                        updated_at=role.updated_at,
                    )
                )
        except IntegrityError:
            raise Conflict(f"a role named {role.name!r} already exists") from None

    async def get_role(self, role_id: str) -> Role | None:
        async with self._engines.read.connect() as conn:
            row = (await conn.execute(select(_r).where(_r.c.id == role_id))).first()
        return _role(row) if row else None

    async def list_roles(self) -> list[Role]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_r).order_by(_r.c.created_at, _r.c.id))).all()
        return [_role(r) for r in rows]

    async def update_role(
        self, role_id: str, *, name: str | None, description: str | None, perms: frozenset[str] | None, now: int
    ) -> Role | None:
        values: dict[str, Any] = {"updated_at": now}
        if name is not None:
            values["name"] = name
        if description is not None:
            values["description"] = description
        if perms is not None:
            values["perms"] = orjson.dumps(rules.sorted_perms(perms)).decode()
        try:
            async with self._engines.write.begin() as conn:
                done = await conn.execute(update(_r).where(_r.c.id == role_id).values(**values))
                if done.rowcount == 0:
                    return None
                row = (await conn.execute(select(_r).where(_r.c.id == role_id))).one()
        except IntegrityError:
            raise Conflict(f"a role named {name!r} already exists") from None
        return _role(row)

    async def delete_role(self, role_id: str) -> bool:
        async with self._engines.write.begin() as conn:
            await self._lock(conn)
            holders = [g.user_id for g in map(_grant, (await conn.execute(select(_g))).all()) if role_id in g.roles]
            if holders:
                raise Conflict(
                    f"{len(holders)} administrator(s) hold this role: take it from them first", holders=holders[:20]
                )
            done = await conn.execute(delete(_r).where(_r.c.id == role_id))
        return bool(done.rowcount)

    # --- administrators
    @staticmethod
    async def _admins(conn: AsyncConnection) -> list[tuple[User, Grant | None]]:
        q = (
            select(
                s.users, _g.c.user_id.label("g_user"), _g.c.roles, _g.c.departments, _g.c.updated_at, _g.c.updated_by
            )
            .select_from(s.users.outerjoin(_g, _g.c.user_id == s.users.c.id))
            .where(s.users.c.is_admin.is_(True))
            .order_by(s.users.c.username_key, s.users.c.id)
        )
        out = []
        for r in (await conn.execute(q)).all():
            grant = None
            if r.g_user is not None:
                depts = None if r.departments is None else tuple(orjson.loads(r.departments))
                grant = Grant(r.g_user, tuple(orjson.loads(r.roles)), depts, r.updated_at, r.updated_by)
            out.append((_row_to_user(r), grant))
        return out

    async def admins(self) -> list[tuple[User, Grant | None]]:
        async with self._engines.read.connect() as conn:
            return await self._admins(conn)

    async def get_grant(self, user_id: str) -> Grant | None:
        async with self._engines.read.connect() as conn:
            row = (await conn.execute(select(_g).where(_g.c.user_id == user_id))).first()
        return _grant(row) if row else None

    async def grants(self) -> list[Grant]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_g).order_by(_g.c.user_id))).all()
        return [_grant(r) for r in rows]

    async def set_admin(self, user_id: str, grant: Grant | None, *, admin: bool) -> AdminState:
        assert admin or grant is None
        async with self._engines.write.begin() as conn:
            await self._lock(conn)
            row = (await conn.execute(select(s.users).where(s.users.c.id == user_id))).first()
            if row is None:
                raise NotFound(f"no user {user_id!r}")
            old = (await conn.execute(select(_g).where(_g.c.user_id == user_id))).first()
            before = AdminState(bool(row.is_admin), _grant(old) if old else None)
            user = _row_to_user(row)
            others = [(u, g) for u, g in await self._admins(conn) if u.id != user_id]
            supers = sum(rules.is_full_super(u.is_admin, u.disabled, g) for u, g in others)
            if rules.removes_last_super(supers, user.disabled, (before.is_admin, before.grant), (admin, grant)):
                raise Conflict(LAST_SUPER)
            await conn.execute(delete(_g).where(_g.c.user_id == user_id))
            if grant is not None:
                await conn.execute(_g.insert().values(user_id=user_id, **_grant_values(grant)))
            if bool(row.is_admin) != admin:
                await conn.execute(update(s.users).where(s.users.c.id == user_id).values(is_admin=admin))
        return before

    async def drop_grant(self, user_id: str) -> bool:
        async with self._engines.write.begin() as conn:
            done = await conn.execute(delete(_g).where(_g.c.user_id == user_id))
        return bool(done.rowcount)

    async def department_user_ids(self, dept_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(dept_ids))
        m = o.department_members
        out: set[str] = set()
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), IN_CHUNK):
                q = select(m.c.user_id).where(m.c.department_id.in_(ids[i : i + IN_CHUNK])).distinct()
                out.update(r.user_id for r in (await conn.execute(q)).all())
        return out

    # --- the audit log
    async def add_audit(self, entry: AuditEntry) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(
                _l.insert().values(
                    ts=entry.ts,
                    admin=entry.admin,
                    action=entry.action[:64],
                    target=entry.target[:256],
                    ip=entry.ip[:64],
                    before=to_json(entry.before),
                    after=to_json(entry.after),
                )
            )

    async def audit_entries(self, query: AuditQuery) -> tuple[list[AuditEntry], int]:
        where = audit_filters(query)
        page = select(_l).where(*where).order_by(_l.c.ts.desc(), _l.c.id.desc()).offset(query.offset).limit(query.limit)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(page)).all()
            total = (await conn.execute(select(func.count()).select_from(_l).where(*where))).scalar_one()
        return [_entry(r) for r in rows], int(total)
