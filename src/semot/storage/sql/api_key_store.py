"""SqlApiKeys: the server API's keys, call log and SSO tickets in SQLite or PostgreSQL
(schema_api_keys.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from semot.storage.api_keys import ApiCall, ApiCallQuery, ApiKey, ApiKeyStorage
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.login_log_store import like_escape
from semot.storage.sql.schema_api_keys import api_calls as _c
from semot.storage.sql.schema_api_keys import api_keys as _k
from semot.storage.sql.schema_api_keys import sso_tickets as _t

PURGE_CHUNK = 5000
_JSON_COLS = ("scopes", "allow_ips")


def _key(r: Any) -> ApiKey:
    return ApiKey(
        id=r.id, name=r.name, key_hash=r.key_hash, prefix=r.prefix, scopes=tuple(orjson.loads(r.scopes)),
        allow_ips=tuple(orjson.loads(r.allow_ips)), rate_per_min=r.rate_per_min, expires_at=r.expires_at,
        created_at=r.created_at, created_by=r.created_by, revoked_at=r.revoked_at, last_used_at=r.last_used_at,
    )


def _row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (orjson.dumps(list(v)).decode() if k in _JSON_COLS else v) for k, v in values.items()}


class SqlApiKeys(ApiKeyStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines

    async def add_api_key(self, key: ApiKey) -> None:
        values = {f: getattr(key, f) for f in ApiKey.__slots__}
        async with self._engines.write.begin() as conn:
            await conn.execute(insert(_k).values(_row(values)))

    async def _one(self, where: ColumnElement[bool]) -> ApiKey | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_k).where(where))).first()
        return _key(r) if r is not None else None

    async def api_keys(self) -> list[ApiKey]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_k).order_by(_k.c.created_at.desc(), _k.c.id.desc()))).all()
        return [_key(r) for r in rows]

    async def api_key(self, key_id: str) -> ApiKey | None:
        return await self._one(_k.c.id == key_id)

    async def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        return await self._one(_k.c.key_hash == key_hash)

    async def update_api_key(self, key_id: str, **values: Any) -> ApiKey | None:
        if values:
            async with self._engines.write.begin() as conn:
                await conn.execute(update(_k).where(_k.c.id == key_id).values(_row(values)))
        return await self.api_key(key_id)

    async def add_api_calls(self, calls: Sequence[ApiCall]) -> None:
        if not calls:
            return
        rows = [{"key_id": c.key_id, "ip": c.ip, "method": c.method, "path": c.path, "status": c.status,
                 "duration_ms": c.duration_ms, "ts": c.ts} for c in calls]
        async with self._engines.write.begin() as conn:
            await conn.execute(insert(_c), rows)

    async def api_calls(self, query: ApiCallQuery, *, offset: int, limit: int) -> tuple[list[ApiCall], int]:
        q = query
        where: list[ColumnElement[bool]] = []
        if q.key_id is not None:
            where.append(_c.c.key_id == q.key_id)
        if q.ip is not None:
            where.append(_c.c.ip == q.ip)
        if q.method is not None:
            where.append(_c.c.method == q.method)
        if q.path is not None:
            where.append(_c.c.path.like(like_escape(q.path) + "%", escape="\\"))
        if q.min_status is not None:
            where.append(_c.c.status >= q.min_status)
        if q.max_status is not None:
            where.append(_c.c.status <= q.max_status)
        if q.since is not None:
            where.append(_c.c.ts >= q.since)
        if q.until is not None:
            where.append(_c.c.ts < q.until)
        page = select(_c).where(*where).order_by(_c.c.ts.desc(), _c.c.id.desc()).offset(offset).limit(limit)
        count = select(func.count()).select_from(_c).where(*where)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(page)).all()
            total = (await conn.execute(count)).scalar_one()
        calls = [ApiCall(key_id=r.key_id, ip=r.ip, method=r.method, path=r.path, status=r.status,
                         duration_ms=r.duration_ms, ts=r.ts, id=r.id) for r in rows]
        return calls, int(total)

    async def purge_api_calls(self, before_ts: int) -> int:
        done = 0
        while True:
            oldest = select(_c.c.id).where(_c.c.ts < before_ts).order_by(_c.c.ts).limit(PURGE_CHUNK)
            async with self._engines.write.begin() as conn:
                result = await conn.execute(delete(_c).where(_c.c.id.in_(oldest.scalar_subquery())))
            n = int(result.rowcount or 0)
            done += n
            if n < PURGE_CHUNK:
                return done

    async def add_sso_ticket(self, ticket_hash: str, user_id: str, expires_at: int) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(insert(_t).values(ticket_hash=ticket_hash, user_id=user_id, expires_at=expires_at))

    async def take_sso_ticket(self, ticket_hash: str, now: int) -> str | None:
        """One DELETE ... RETURNING: of two nodes redeeming the same ticket at once, one
        gets the row. Expired tickets go in the same transaction."""
        async with self._engines.write.begin() as conn:
            row = (await conn.execute(delete(_t).where(_t.c.ticket_hash == ticket_hash).returning(
                _t.c.user_id, _t.c.expires_at))).first()
            await conn.execute(delete(_t).where(_t.c.expires_at <= now))
        if row is None or row.expires_at <= now:
            return None
        return str(row.user_id)
