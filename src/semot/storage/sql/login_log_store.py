"""SqlLoginLogs: the login log in SQLite or PostgreSQL (schema_login_logs.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from semot.storage.login_logs import LoginLogEntry, LoginLogQuery, LoginLogStorage, is_address
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.schema_login_logs import login_logs as _t

PURGE_CHUNK = 5000
_COLS = (
    _t.c.id,
    _t.c.ts,
    _t.c.user_id,
    _t.c.username,
    _t.c.ip,
    _t.c.device,
    _t.c.platform,
    _t.c.user_agent,
    _t.c.ok,
    _t.c.reason,
    _t.c.method,
)


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (escape character `\\`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _entry(r: Any) -> LoginLogEntry:
    return LoginLogEntry(
        ts=r.ts,
        user_id=r.user_id,
        username=r.username,
        ip=r.ip,
        device=r.device,
        platform=r.platform,
        user_agent=r.user_agent,
        ok=bool(r.ok),
        reason=r.reason,
        method=r.method,
        id=r.id,
    )


class SqlLoginLogs(LoginLogStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._dialect = db.dialect

    def _in_scope(self, ids: frozenset[str]) -> ColumnElement[bool]:
        """`user_id` in the scope: a plain IN for a few ids; one parameter holding them
        all for many (an array in PostgreSQL, JSON in SQLite), below both databases'
        limits on parameters however large a department is."""
        if len(ids) <= IN_CHUNK:
            return _t.c.user_id.in_(sorted(ids))
        if self._dialect == "postgresql":
            return _t.c.user_id == func.any(bindparam("scope", sorted(ids), type_=postgresql.ARRAY(_t.c.user_id.type)))
        each = func.json_each(bindparam("scope", orjson.dumps(sorted(ids)).decode())).table_valued("value")
        return _t.c.user_id.in_(select(each.c.value))

    def _where(self, q: LoginLogQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if q.user_id is not None:
            where.append(_t.c.user_id == q.user_id)
        if q.user_ids is not None:
            where.append(self._in_scope(q.user_ids))
        if q.since is not None:
            where.append(_t.c.ts >= q.since)
        if q.until is not None:
            where.append(_t.c.ts < q.until)
        if q.ok is not None:
            where.append(_t.c.ok.is_(q.ok))
        if q.ip:
            # a whole address: equality (the index on ip, ts); a part: addresses starting with it
            where.append(_t.c.ip == q.ip if is_address(q.ip) else _t.c.ip.like(like_escape(q.ip) + "%", escape="\\"))
        if q.q:
            pattern = "%" + like_escape(q.q.lower()) + "%"
            where.append(
                or_(
                    func.lower(_t.c.username).like(pattern, escape="\\"),
                    func.lower(func.coalesce(_t.c.user_id, "")).like(pattern, escape="\\"),
                )
            )
        return where

    async def add_login_logs(self, entries: Sequence[LoginLogEntry]) -> None:
        if not entries:
            return
        rows = [
            {
                "ts": e.ts,
                "user_id": e.user_id,
                "username": e.username,
                "ip": e.ip,
                "device": e.device,
                "platform": e.platform,
                "user_agent": e.user_agent,
                "ok": e.ok,
                "reason": e.reason,
                "method": e.method,
            }
            for e in entries
        ]
        async with self._engines.write.begin() as conn:
            await conn.execute(insert(_t), rows)

    async def login_logs(self, query: LoginLogQuery, *, offset: int, limit: int) -> tuple[list[LoginLogEntry], int]:
        where = self._where(query)
        page = select(*_COLS).where(*where).order_by(_t.c.ts.desc(), _t.c.id.desc()).offset(offset).limit(limit)
        count = select(func.count()).select_from(_t).where(*where)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(page)).all()
            total = (await conn.execute(count)).scalar_one()
        return [_entry(r) for r in rows], int(total)

    async def login_logs_before(
        self, query: LoginLogQuery, *, before: tuple[int, int] | None, limit: int
    ) -> list[LoginLogEntry]:
        where = self._where(query)
        if before is not None:
            ts, id_ = before
            # `ts <= :ts` first: a range the indexes serve (an OR alone makes SQLite scan)
            where.append(and_(_t.c.ts <= ts, or_(_t.c.ts < ts, _t.c.id < id_)))
        stmt = select(*_COLS).where(*where).order_by(_t.c.ts.desc(), _t.c.id.desc()).limit(limit)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_entry(r) for r in rows]

    async def purge_login_logs(self, before_ts: int) -> int:
        """In chunks, each its own short transaction: a first purge of a large log never
        holds SQLite's write lock (which message commits wait for) for long."""
        done = 0
        while True:
            oldest = select(_t.c.id).where(_t.c.ts < before_ts).order_by(_t.c.ts).limit(PURGE_CHUNK)
            async with self._engines.write.begin() as conn:
                result = await conn.execute(delete(_t).where(_t.c.id.in_(oldest.scalar_subquery())))
            n = int(result.rowcount or 0)
            done += n
            if n < PURGE_CHUNK:
                return done
