"""SqlOrgStorage: the OrgStorage interface on SQLAlchemy Core (async), SQLite or PostgreSQL.

Tree writes (create, move, delete) check their invariants inside the transaction; on
PostgreSQL they also take one advisory lock so two nodes can never interleave a pair
of moves into a cycle (SQLite already has a single writer).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, func, or_, select, text, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from semot.domain import org as rules
from semot.domain.org import Department, DeptMember, DirectoryEntry, SearchKeys
from semot.errors import Conflict, NotFound
from semot.storage.org import OrgStorage
from semot.storage.sql import schema as s
from semot.storage.sql import schema_org as o
from semot.storage.sql.engine import Engines

_IN_CHUNK = 500
_TREE_LOCK = 7365677  # pg advisory lock id serialising department tree writes

_d = o.departments
_m = o.department_members
_k = o.user_search
_u = s.users


def _dept(r: Any) -> Department:
    return Department(r.id, r.parent_id, r.name, r.sort_order, r.created_at)


def _parent_is(parent_id: str | None) -> ColumnElement[bool]:
    return _d.c.parent_id.is_(None) if parent_id is None else _d.c.parent_id == parent_id


def _chunks(items: Iterable[str]) -> list[list[str]]:
    xs = list(dict.fromkeys(items))
    return [xs[i : i + _IN_CHUNK] for i in range(0, len(xs), _IN_CHUNK)]


class SqlOrgStorage(OrgStorage):
    def __init__(self, engines: Engines) -> None:
        self._engines = engines
        self._dialect = engines.write.dialect.name
        self._insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert

    async def _lock_tree(self, conn: AsyncConnection) -> None:
        if self._dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _TREE_LOCK})

    @staticmethod
    async def _sibling_named(conn: AsyncConnection, parent_id: str | None, name: str, exclude: str | None) -> bool:
        q = select(_d.c.id).where(_parent_is(parent_id), _d.c.name == name)
        if exclude is not None:
            q = q.where(_d.c.id != exclude)
        return (await conn.execute(q.limit(1))).first() is not None

    @staticmethod
    async def _parents(conn: AsyncConnection) -> dict[str, str | None]:
        return {r.id: r.parent_id for r in (await conn.execute(select(_d.c.id, _d.c.parent_id))).all()}

    # --- departments
    async def create_department(self, dept: Department) -> None:
        async with self._engines.write.begin() as conn:
            await self._lock_tree(conn)
            if dept.parent_id is not None:
                found = await conn.execute(select(_d.c.id).where(_d.c.id == dept.parent_id))
                if found.first() is None:
                    raise NotFound(f"no such parent department {dept.parent_id!r}")
            if await self._sibling_named(conn, dept.parent_id, dept.name, None):
                raise Conflict(f"a department named {dept.name!r} already exists there")
            await conn.execute(
                _d.insert().values(
                    id=dept.id,
                    parent_id=dept.parent_id,
                    name=dept.name,
                    sort_order=dept.sort_order,
                    created_at=dept.created_at,
                )
            )

    async def get_department(self, dept_id: str) -> Department | None:
        async with self._engines.read.connect() as conn:
            row = (await conn.execute(select(_d).where(_d.c.id == dept_id))).first()
        return _dept(row) if row else None

    async def find_department(self, parent_id: str | None, name: str) -> Department | None:
        async with self._engines.read.connect() as conn:
            row = (await conn.execute(select(_d).where(_parent_is(parent_id), _d.c.name == name).limit(1))).first()
        return _dept(row) if row else None

    async def all_departments(self) -> list[Department]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_d))).all()
        return sorted((_dept(r) for r in rows), key=rules.dept_sort_key)

    async def child_departments(self, parent_id: str | None) -> list[Department]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_d).where(_parent_is(parent_id)))).all()
        return sorted((_dept(r) for r in rows), key=rules.dept_sort_key)

    async def update_department(
        self,
        dept_id: str,
        *,
        name: str | None = None,
        sort_order: int | None = None,
        move: bool = False,
        parent_id: str | None = None,
    ) -> Department:
        async with self._engines.write.begin() as conn:
            await self._lock_tree(conn)
            row = (await conn.execute(select(_d).where(_d.c.id == dept_id))).first()
            if row is None:
                raise NotFound(f"no such department {dept_id!r}")
            dept = _dept(row)
            values: dict[str, Any] = {}
            if move and parent_id != dept.parent_id:
                rules.check_move(dept_id, parent_id, await self._parents(conn))
                values["parent_id"] = dept.parent_id = parent_id
            if name is not None and name != dept.name:
                values["name"] = dept.name = name
            if ("parent_id" in values or "name" in values) and await self._sibling_named(
                conn, dept.parent_id, dept.name, dept_id
            ):
                raise Conflict(f"a department named {dept.name!r} already exists there")
            if sort_order is not None:
                values["sort_order"] = dept.sort_order = sort_order
            if values:
                await conn.execute(_d.update().where(_d.c.id == dept_id).values(**values))
        return dept

    async def delete_department(self, dept_id: str) -> None:
        async with self._engines.write.begin() as conn:
            await self._lock_tree(conn)
            if (await conn.execute(select(_d.c.id).where(_d.c.id == dept_id))).first() is None:
                raise NotFound(f"no such department {dept_id!r}")
            children = (await conn.execute(select(func.count()).where(_d.c.parent_id == dept_id))).scalar_one()
            members = (await conn.execute(select(func.count()).where(_m.c.department_id == dept_id))).scalar_one()
            if children or members:
                raise Conflict(
                    f"department is not empty ({children} sub-departments, {members} members): "
                    "move or remove them first",
                    sub_departments=children,
                    members=members,
                )
            await conn.execute(_d.delete().where(_d.c.id == dept_id))

    async def member_counts(self, dept_ids: Iterable[str] | None = None) -> dict[str, int]:
        base = select(_m.c.department_id, func.count()).group_by(_m.c.department_id)
        out: dict[str, int] = {}
        async with self._engines.read.connect() as conn:
            if dept_ids is None:
                out.update({r[0]: r[1] for r in (await conn.execute(base)).all()})
            else:
                for chunk in _chunks(dept_ids):
                    rows = (await conn.execute(base.where(_m.c.department_id.in_(chunk)))).all()
                    out.update({r[0]: r[1] for r in rows})
        return out

    async def subtree_member_counts(self, dept_ids: Iterable[str]) -> dict[str, int]:
        """One recursive CTE per chunk (SQLite and PostgreSQL both have WITH RECURSIVE):
        (root, department) pairs for every department under each root, joined to the
        memberships and counted distinct per root. UNION, not UNION ALL, so even a cycle
        written by hand into the table ends instead of looping."""
        out: dict[str, int] = {}
        async with self._engines.read.connect() as conn:
            for chunk in _chunks(dept_ids):
                sub = select(_d.c.id.label("root"), _d.c.id.label("dept")).where(_d.c.id.in_(chunk)).cte(
                    "subtree", recursive=True
                )
                sub = sub.union(select(sub.c.root, _d.c.id).where(_d.c.parent_id == sub.c.dept))
                q = (
                    select(sub.c.root, func.count(func.distinct(_m.c.user_id)))
                    .select_from(sub.join(_m, _m.c.department_id == sub.c.dept))
                    .group_by(sub.c.root)
                )
                out.update({r[0]: r[1] for r in (await conn.execute(q)).all()})
        return out

    async def child_counts(self, dept_ids: Iterable[str]) -> dict[str, int]:
        base = select(_d.c.parent_id, func.count()).group_by(_d.c.parent_id)
        out: dict[str, int] = {}
        async with self._engines.read.connect() as conn:
            for chunk in _chunks(dept_ids):
                rows = (await conn.execute(base.where(_d.c.parent_id.in_(chunk)))).all()
                out.update({r[0]: r[1] for r in rows})
        return out

    # --- members
    async def _upsert_keys(self, conn: AsyncConnection, keys: SearchKeys, now: int) -> None:
        values = {
            "username": keys.username,
            "name": keys.name,
            "pinyin_full": keys.full,
            "pinyin_initials": keys.initials,
            "updated_at": now,
        }
        stmt = self._insert(_k).values(user_id=keys.user_id, **values)
        await conn.execute(stmt.on_conflict_do_update(index_elements=[_k.c.user_id], set_=values))

    async def put_member(
        self, dept_id: str, user_id: str, *, title: str | None, sort_order: int | None, keys: SearchKeys, now: int
    ) -> bool:
        async with self._engines.write.begin() as conn:
            if (await conn.execute(select(_d.c.id).where(_d.c.id == dept_id))).first() is None:
                raise NotFound(f"no such department {dept_id!r}")
            where = and_(_m.c.department_id == dept_id, _m.c.user_id == user_id)
            existing = (await conn.execute(select(_m.c.user_id).where(where))).first()
            if existing is not None:
                values: dict[str, Any] = {}
                if title is not None:
                    values["title"] = title
                if sort_order is not None:
                    values["sort_order"] = sort_order
                if values:
                    await conn.execute(_m.update().where(where).values(**values))
            else:
                if sort_order is None:
                    last = await conn.execute(select(func.max(_m.c.sort_order)).where(_m.c.department_id == dept_id))
                    top = last.scalar_one()
                    sort_order = 0 if top is None else top + 1
                await conn.execute(
                    _m.insert().values(
                        department_id=dept_id, user_id=user_id, title=title or "", sort_order=sort_order, joined_at=now
                    )
                )
            await self._upsert_keys(conn, keys, now)
        return existing is None

    async def put_members(self, rows: list[tuple[str, str, str | None, SearchKeys]], now: int) -> int:
        if not rows:
            return 0
        rows = list({(d, u): (d, u, t, k) for d, u, t, k in rows}.values())  # one per membership, the last wins
        depts = list(dict.fromkeys(d for d, _, _, _ in rows))
        async with self._engines.write.begin() as conn:
            found: set[str] = set()
            top: dict[str, int] = {}
            for chunk in _chunks(depts):
                found.update(r.id for r in await conn.execute(select(_d.c.id).where(_d.c.id.in_(chunk))))
                q = select(_m.c.department_id, func.max(_m.c.sort_order)).where(_m.c.department_id.in_(chunk))
                top.update({d: m for d, m in await conn.execute(q.group_by(_m.c.department_id)) if m is not None})
            missing = [d for d in depts if d not in found]
            if missing:
                raise NotFound(f"no such department {missing[0]!r}")
            existing: set[tuple[str, str]] = set()
            for chunk in _chunks(u for _, u, _, _ in rows):
                q = select(_m.c.department_id, _m.c.user_id).where(_m.c.user_id.in_(chunk))
                existing.update((r.department_id, r.user_id) for r in await conn.execute(q))
            inserts: list[dict[str, Any]] = []
            retitle: list[dict[str, Any]] = []
            for dept_id, user_id, title, _ in rows:
                if (dept_id, user_id) in existing:
                    if title is not None:
                        retitle.append({"d": dept_id, "u": user_id, "t": title})
                    continue
                top[dept_id] = top.get(dept_id, -1) + 1
                inserts.append(
                    {
                        "department_id": dept_id,
                        "user_id": user_id,
                        "title": title or "",
                        "sort_order": top[dept_id],
                        "joined_at": now,
                    }
                )
            for i in range(0, len(inserts), _IN_CHUNK):
                await conn.execute(_m.insert(), inserts[i : i + _IN_CHUNK])
            if retitle:
                where = and_(_m.c.department_id == bindparam("d"), _m.c.user_id == bindparam("u"))
                await conn.execute(_m.update().where(where).values(title=bindparam("t")), retitle)
            keys = [
                {
                    "user_id": k.user_id,
                    "username": k.username,
                    "name": k.name,
                    "pinyin_full": k.full,
                    "pinyin_initials": k.initials,
                    "updated_at": now,
                }
                for k in {k.user_id: k for _, _, _, k in rows}.values()
            ]
            upsert = self._insert(_k)
            upsert = upsert.on_conflict_do_update(
                index_elements=[_k.c.user_id],
                set_={
                    c: upsert.excluded[c] for c in ("username", "name", "pinyin_full", "pinyin_initials", "updated_at")
                },
            )
            for i in range(0, len(keys), _IN_CHUNK):
                await conn.execute(upsert, keys[i : i + _IN_CHUNK])
        return len(inserts)

    async def update_member(
        self, dept_id: str, user_id: str, *, title: str | None = None, sort_order: int | None = None
    ) -> bool:
        values: dict[str, Any] = {}
        if title is not None:
            values["title"] = title
        if sort_order is not None:
            values["sort_order"] = sort_order
        where = and_(_m.c.department_id == dept_id, _m.c.user_id == user_id)
        async with self._engines.write.begin() as conn:
            if not values:
                return (await conn.execute(select(_m.c.user_id).where(where))).first() is not None
            result = await conn.execute(_m.update().where(where).values(**values))
        return bool(result.rowcount)

    async def remove_member(self, dept_id: str, user_id: str) -> bool:
        async with self._engines.write.begin() as conn:
            result = await conn.execute(
                _m.delete().where(_m.c.department_id == dept_id, _m.c.user_id == user_id)
            )
            still = (await conn.execute(select(_m.c.user_id).where(_m.c.user_id == user_id).limit(1))).first()
            if still is None:
                await conn.execute(_k.delete().where(_k.c.user_id == user_id))
        return bool(result.rowcount)

    async def department_members(self, dept_id: str, *, offset: int, limit: int) -> tuple[list[DirectoryEntry], int]:
        q = (
            select(_m.c.user_id, _m.c.title, _m.c.sort_order, _u.c.username, _u.c.display_name)
            .join(_u, _u.c.id == _m.c.user_id)
            .where(_m.c.department_id == dept_id)
            .order_by(_m.c.sort_order, _u.c.display_name, _m.c.user_id)
            .offset(offset)
            .limit(limit)
        )
        total_q = select(func.count()).select_from(_m.join(_u, _u.c.id == _m.c.user_id)).where(
            _m.c.department_id == dept_id
        )
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q)).all()
            total = (await conn.execute(total_q)).scalar_one()
        return [
            DirectoryEntry(r.user_id, r.username, r.display_name, r.title, r.sort_order, dept_id) for r in rows
        ], total

    async def user_memberships(self, user_ids: Iterable[str]) -> dict[str, list[DeptMember]]:
        out: dict[str, list[DeptMember]] = {}
        async with self._engines.read.connect() as conn:
            for chunk in _chunks(user_ids):
                rows = (await conn.execute(select(_m).where(_m.c.user_id.in_(chunk)))).all()
                for r in rows:
                    out.setdefault(r.user_id, []).append(
                        DeptMember(r.department_id, r.user_id, r.title, r.sort_order, r.joined_at)
                    )
        return out

    async def in_directory(self, user_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        async with self._engines.read.connect() as conn:
            for chunk in _chunks(user_ids):
                rows = (await conn.execute(select(_m.c.user_id).where(_m.c.user_id.in_(chunk)).distinct())).all()
                found.update(r[0] for r in rows)
        return found

    # --- primary departments
    async def primary_departments(self, user_ids: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        async with self._engines.read.connect() as conn:
            for chunk in _chunks(user_ids):
                q = select(_m.c.user_id, _m.c.department_id).where(_m.c.user_id.in_(chunk), _m.c.is_primary.is_(True))
                out.update({r.user_id: r.department_id for r in await conn.execute(q)})
        return out

    async def set_primary_department(self, user_id: str, dept_id: str | None) -> bool:
        async with self._engines.write.begin() as conn:
            if dept_id is not None:
                mark = _m.update().where(_m.c.user_id == user_id, _m.c.department_id == dept_id).values(is_primary=True)
                if not (await conn.execute(mark)).rowcount:
                    return False
            others = _m.c.department_id != dept_id if dept_id is not None else true()
            await conn.execute(
                _m.update().where(_m.c.user_id == user_id, _m.c.is_primary.is_(True), others).values(is_primary=False)
            )
        return True

    # --- people search
    async def upsert_search_keys(self, keys: SearchKeys, now: int) -> bool:
        async with self._engines.write.begin() as conn:
            member = (await conn.execute(select(_m.c.user_id).where(_m.c.user_id == keys.user_id).limit(1))).first()
            if member is None:
                return False
            await self._upsert_keys(conn, keys, now)
        return True

    async def search(self, text: str, compact: str, *, limit: int) -> list[DirectoryEntry]:
        contains = f"%{rules.like_escape(text)}%"
        starts = f"{rules.like_escape(text)}%"
        matches = [_k.c.name.like(contains, escape="\\"), _k.c.username.like(contains, escape="\\")]
        rank_whole_pinyin: list[tuple[ColumnElement[bool], int]] = []
        if compact:
            word = f"% {rules.like_escape(compact)}%"
            first_word = f" {rules.like_escape(compact)}%"
            matches += [_k.c.pinyin_full.like(word, escape="\\"), _k.c.pinyin_initials.like(word, escape="\\")]
            rank_whole_pinyin = [
                (or_(_k.c.pinyin_full.like(first_word, escape="\\"), _k.c.pinyin_initials.like(first_word, escape="\\")), 2)
            ]
        rank = case(
            (or_(_k.c.username == text, _k.c.name == text), 0),
            (or_(_k.c.name.like(starts, escape="\\"), _k.c.username.like(starts, escape="\\")), 1),
            *rank_whole_pinyin,
            else_=3,
        )
        q = (
            select(_k.c.user_id, _u.c.username, _u.c.display_name)
            .join(_u, _u.c.id == _k.c.user_id)
            .where(or_(*matches), _u.c.disabled == False)  # noqa: E712
            .where(exists().where(_m.c.user_id == _k.c.user_id))
            .order_by(rank, _u.c.display_name, _k.c.user_id)
            .limit(limit)
        )
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [DirectoryEntry(r.user_id, r.username, r.display_name) for r in rows]
