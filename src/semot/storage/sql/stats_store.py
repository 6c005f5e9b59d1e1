"""SqlStats: the dashboard's counters and aggregates in SQLite or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select, text

from semot.storage.sql import schema as s
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.schema_files import files as _files
from semot.storage.sql.schema_login_logs import stats_minutes as _m
from semot.storage.stats import DAY_MS, StatsStorage


class SqlStats(StatsStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._dialect = db.dialect
        self._insert: Any = db.insert  # the dialect's INSERT, for ON CONFLICT DO UPDATE

    async def add_counts(self, metric: str, counts: Mapping[int, int]) -> None:
        rows = [{"metric": metric, "minute": minute, "n": n} for minute, n in sorted(counts.items()) if n]
        if not rows:
            return
        stmt = self._insert(_m)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_m.c.metric, _m.c.minute], set_={"n": _m.c.n + stmt.excluded.n}
        )
        async with self._engines.write.begin() as conn:
            await conn.execute(stmt, rows)

    async def counts(self, metric: str, since: int, until: int) -> dict[int, int]:
        q = select(_m.c.minute, _m.c.n).where(_m.c.metric == metric, _m.c.minute >= since, _m.c.minute < until)
        async with self._engines.read.connect() as conn:
            return {int(r.minute): int(r.n) for r in await conn.execute(q)}

    async def purge_counts(self, before: int) -> int:
        async with self._engines.write.begin() as conn:
            result = await conn.execute(delete(_m).where(_m.c.minute < before))
        return int(result.rowcount or 0)

    async def users_created_per_day(self, since: int, *, tz_offset_ms: int) -> dict[int, int]:
        day = ((s.users.c.created_at + tz_offset_ms) // DAY_MS).label("day")
        q = select(day, func.count()).where(s.users.c.created_at >= since).group_by(day)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q)).all()
        return {int(d) * DAY_MS - tz_offset_ms: int(n) for d, n in rows}

    async def user_count(self) -> int:
        async with self._engines.read.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(s.users))).scalar_one())

    async def files_usage(self) -> tuple[int, int]:
        q = select(func.count(), func.coalesce(func.sum(_files.c.offset), 0)).where(_files.c.deleted_at.is_(None))
        async with self._engines.read.connect() as conn:
            n, size = (await conn.execute(q)).one()
        return int(n), int(size)

    async def database_bytes(self) -> int | None:
        async with self._engines.read.connect() as conn:
            if self._dialect == "postgresql":
                return int((await conn.execute(text("SELECT pg_database_size(current_database())"))).scalar_one())
            pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
            size = (await conn.execute(text("PRAGMA page_size"))).scalar_one()
        total = int(pages) * int(size)
        path = self._engines.sqlite_path
        if path and path != ":memory:":
            try:
                total += os.path.getsize(path + "-wal")  # committed pages not yet checkpointed
            except OSError:
                pass
        return total
