"""SqlLdap: LDAP users, sync runs and the sync lease in SQLite or PostgreSQL
(schema_ldap.py)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, select, update

from semot.storage.ldap import MAX_ERRORS, RUNS_KEPT, LdapStorage, LdapSyncRun, LdapUser
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.schema_ldap import ldap_config as _c
from semot.storage.sql.schema_ldap import ldap_leases as _l
from semot.storage.sql.schema_ldap import ldap_sync_runs as _r
from semot.storage.sql.schema_ldap import ldap_users as _u


def _user(r: Any) -> LdapUser:
    return LdapUser(user_id=r.user_id, dn=r.dn, email=r.email, phone=r.phone, roles=tuple(orjson.loads(r.roles)),
                    disabled_by_sync=bool(r.disabled_by_sync), seen_at=r.seen_at, created_at=r.created_at)


def _run(r: Any) -> LdapSyncRun:
    return LdapSyncRun(trigger=r.trigger, started_at=r.started_at, by=r.by, finished_at=r.finished_at,
                       ok=None if r.ok is None else bool(r.ok), counts=orjson.loads(r.counts),
                       errors=orjson.loads(r.errors), id=r.id)


def _run_values(run: LdapSyncRun) -> dict[str, Any]:
    return {"trigger": run.trigger, "by": run.by, "started_at": run.started_at, "finished_at": run.finished_at,
            "ok": run.ok, "counts": orjson.dumps(run.counts).decode(),
            "errors": orjson.dumps(run.errors[:MAX_ERRORS]).decode()}


class SqlLdap(LdapStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert

    async def ldap_user(self, user_id: str) -> LdapUser | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_u).where(_u.c.user_id == user_id))).first()
        return _user(r) if r is not None else None

    async def ldap_users(self) -> list[LdapUser]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_u).order_by(_u.c.user_id))).all()
        return [_user(r) for r in rows]

    async def put_ldap_user(self, user: LdapUser) -> None:
        values = {"user_id": user.user_id, "dn": user.dn, "email": user.email, "phone": user.phone,
                  "roles": orjson.dumps(list(user.roles)).decode(), "disabled_by_sync": user.disabled_by_sync,
                  "seen_at": user.seen_at, "created_at": user.created_at}
        stmt = self._insert(_u).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_u.c.user_id], set_={k: v for k, v in values.items() if k not in ("user_id", "created_at")}
        )
        async with self._engines.write.begin() as conn:
            await conn.execute(stmt)

    async def touch_ldap_users(self, user_ids: list[str], seen_at: int) -> None:
        async with self._engines.write.begin() as conn:
            for i in range(0, len(user_ids), IN_CHUNK):
                chunk = user_ids[i : i + IN_CHUNK]
                await conn.execute(update(_u).where(_u.c.user_id.in_(chunk)).values(seen_at=seen_at))

    async def add_sync_run(self, run: LdapSyncRun) -> int:
        async with self._engines.write.begin() as conn:
            res = await conn.execute(_r.insert().values(_run_values(run)).returning(_r.c.id))
            run.id = int(res.scalar_one())
            await conn.execute(delete(_r).where(_r.c.id <= run.id - RUNS_KEPT))  # ids only grow
        return run.id

    async def finish_sync_run(self, run: LdapSyncRun) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(update(_r).where(_r.c.id == run.id).values(_run_values(run)))

    async def sync_runs(self, limit: int) -> list[LdapSyncRun]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_r).order_by(_r.c.id.desc()).limit(limit))).all()
        return [_run(r) for r in rows]

    async def claim_lease(self, name: str, holder: str, now: int, until: int) -> bool:
        stmt = self._insert(_l).values(name=name, holder=holder, until=until)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_l.c.name], set_={"holder": holder, "until": until},
            where=(_l.c.until <= now) | (_l.c.holder == holder),
        )
        async with self._engines.write.begin() as conn:
            await conn.execute(stmt)
            held = (await conn.execute(select(_l.c.holder).where(_l.c.name == name))).scalar_one_or_none()
        return held == holder

    async def release_lease(self, name: str, holder: str) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(delete(_l).where(_l.c.name == name, _l.c.holder == holder))

    async def get_config(self, name: str) -> Any:
        async with self._engines.read.connect() as conn:
            raw = (await conn.execute(select(_c.c.value).where(_c.c.name == name))).scalar_one_or_none()
        return None if raw is None else orjson.loads(raw)

    async def set_config(self, name: str, value: Any) -> None:
        raw = orjson.dumps(value).decode()
        stmt = self._insert(_c).values(name=name, value=raw)
        stmt = stmt.on_conflict_do_update(index_elements=[_c.c.name], set_={"value": raw})
        async with self._engines.write.begin() as conn:
            await conn.execute(stmt)
