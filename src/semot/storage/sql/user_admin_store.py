"""SqlUserAdmin: the admin user list, set-password links and device records, on SQL.

The list's queries (which page, how many in all) are in user_list.py; here the page's
rows are read by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, delete, func, select, update

from semot.domain.records import User
from semot.storage.sql import schema as s
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.schema_admin_users import password_links as _pl
from semot.storage.sql.schema_admin_users import user_devices as _ud
from semot.storage.sql.schema_org import department_members as _m
from semot.storage.sql.user_list import UserList
from semot.storage.sql.user_store import _row_to_user
from semot.storage.user_admin import (
    DeviceRecord,
    DeviceSeen,
    LoginRecord,
    PasswordLink,
    UserAdminStorage,
    UserQuery,
)

_u = s.users
_t = s.refresh_tokens


def _link(r: Any) -> PasswordLink:
    return PasswordLink(r.token_hash, r.user_id, r.created_by, r.created_at, r.expires_at, r.used_at)


class SqlUserAdmin(UserAdminStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert
        self._list = UserList(db.engines, db.dialect)

    # --- the list
    async def list_users(self, query: UserQuery) -> tuple[list[User], int]:
        ids, total = await self._list.page(query)
        if not ids:
            return [], total
        async with self._engines.read.connect() as conn:
            rows = {r.id: r for r in await conn.execute(select(_u).where(_u.c.id.in_(ids)))}
        return [_row_to_user(rows[i]) for i in ids if i in rows], total

    async def users_in_departments(self, user_ids: Iterable[str], departments: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(user_ids))
        depts = sorted(set(departments))
        if not ids or not depts:
            return set()
        found: set[str] = set()
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), IN_CHUNK):
                q = select(_m.c.user_id).where(_m.c.user_id.in_(ids[i : i + IN_CHUNK]), _m.c.department_id.in_(depts))
                found.update(r.user_id for r in await conn.execute(q.distinct()))
        return found

    async def last_seen(self, user_ids: Iterable[str]) -> dict[str, int]:
        ids = list(dict.fromkeys(user_ids))
        out: dict[str, int] = {}
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), IN_CHUNK):
                q = (
                    select(_ud.c.user_id, func.max(_ud.c.last_seen))
                    .where(_ud.c.user_id.in_(ids[i : i + IN_CHUNK]))
                    .group_by(_ud.c.user_id)
                )
                out.update({r[0]: int(r[1]) for r in await conn.execute(q)})
        return out

    # --- set-password links
    async def add_password_link(self, link: PasswordLink) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(delete(_pl).where(_pl.c.user_id == link.user_id, _pl.c.used_at.is_(None)))
            # used and long-expired links of anyone are dead weight: drop them while here
            await conn.execute(delete(_pl).where(_pl.c.expires_at < link.created_at - 30 * 86_400_000))
            await conn.execute(
                _pl.insert().values(
                    token_hash=link.token_hash,
                    user_id=link.user_id,
                    created_by=link.created_by,
                    created_at=link.created_at,
                    expires_at=link.expires_at,
                    used_at=None,
                )
            )

    async def peek_password_link(self, token_hash: str, now: int) -> PasswordLink | None:
        q = select(_pl).where(_pl.c.token_hash == token_hash, _pl.c.used_at.is_(None), _pl.c.expires_at > now)
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(q)).first()
        return _link(r) if r else None

    async def use_password_link(self, token_hash: str, now: int) -> PasswordLink | None:
        valid = and_(_pl.c.token_hash == token_hash, _pl.c.used_at.is_(None), _pl.c.expires_at > now)
        async with self._engines.write.begin() as conn:
            # the conditional UPDATE is the single use: of two at once, one changes the row
            res = await conn.execute(update(_pl).where(valid).values(used_at=now))
            if res.rowcount != 1:
                return None
            r = (await conn.execute(select(_pl).where(_pl.c.token_hash == token_hash))).first()
        return _link(r) if r else None

    async def drop_password_links(self, user_id: str) -> int:
        async with self._engines.write.begin() as conn:
            res = await conn.execute(delete(_pl).where(_pl.c.user_id == user_id, _pl.c.used_at.is_(None)))
        return int(res.rowcount or 0)

    # --- devices and logins
    async def record_devices(self, seen: list[DeviceSeen]) -> None:
        if not seen:
            return
        latest: dict[tuple[str, str], DeviceSeen] = {}
        first: dict[tuple[str, str], int] = {}
        for d in seen:  # one row per key per statement (PostgreSQL refuses to upsert a row twice)
            key = (d.login_id, d.device_id)
            old = latest.get(key)
            if old is None or d.seen_at >= old.seen_at:
                latest[key] = d
            first[key] = min(first.get(key, d.seen_at), d.seen_at)
        rows = [
            {
                "login_id": d.login_id,
                "device_id": d.device_id,
                "user_id": d.user_id,
                "platform": d.platform,
                "ip": d.ip,
                "first_seen": first[key],
                "last_seen": d.seen_at,
            }
            for key, d in latest.items()
        ]
        async with self._engines.write.begin() as conn:
            for i in range(0, len(rows), IN_CHUNK // 8):
                stmt = self._insert(_ud).values(rows[i : i + IN_CHUNK // 8])
                ex = stmt.excluded
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["login_id", "device_id"],
                        set_={"last_seen": ex.last_seen, "platform": ex.platform, "ip": ex.ip, "user_id": ex.user_id},
                    )
                )

    async def user_devices(self, user_id: str) -> list[DeviceRecord]:
        q = select(_ud).where(_ud.c.user_id == user_id).order_by(_ud.c.last_seen.desc()).limit(500)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [
            DeviceRecord(r.user_id, r.login_id, r.device_id, r.platform, r.ip, r.first_seen, r.last_seen) for r in rows
        ]

    async def prune_devices(self, before: int) -> int:
        async with self._engines.write.begin() as conn:
            res = await conn.execute(delete(_ud).where(_ud.c.last_seen < before))
        return int(res.rowcount or 0)

    async def user_logins(self, user_id: str) -> list[LoginRecord]:
        q = (
            select(
                _t.c.family, func.min(_t.c.expires_at), func.max(_t.c.expires_at), func.count(case((_t.c.revoked, 1)))
            )
            .where(_t.c.user_id == user_id)
            .group_by(_t.c.family)
        )
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q)).all()
        out = [LoginRecord(r[0], user_id, int(r[1]), int(r[2]), not r[3]) for r in rows]
        out.sort(key=lambda x: (-x.last_expires, x.login_id))
        return out
