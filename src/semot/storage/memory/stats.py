"""MemoryStats: the dashboard's counters in a dict, aggregates over the memory tables."""

from __future__ import annotations

from collections.abc import Mapping

from semot.storage.memory.db import MemoryDb
from semot.storage.stats import DAY_MS, StatsStorage


class MemoryStats(StatsStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db
        self._counts: dict[tuple[str, int], int] = {}

    async def add_counts(self, metric: str, counts: Mapping[int, int]) -> None:
        for minute, n in counts.items():
            if n:
                self._counts[(metric, minute)] = self._counts.get((metric, minute), 0) + n

    async def counts(self, metric: str, since: int, until: int) -> dict[int, int]:
        return {m: n for (name, m), n in self._counts.items() if name == metric and since <= m < until}

    async def purge_counts(self, before: int) -> int:
        gone = [k for k in self._counts if k[1] < before]
        for k in gone:
            del self._counts[k]
        return len(gone)

    async def users_created_per_day(self, since: int, *, tz_offset_ms: int) -> dict[int, int]:
        out: dict[int, int] = {}
        for u in self._db.users.values():
            if u.created_at >= since:
                day = (u.created_at + tz_offset_ms) // DAY_MS * DAY_MS - tz_offset_ms
                out[day] = out.get(day, 0) + 1
        return out

    async def user_count(self) -> int:
        return len(self._db.users)

    async def files_usage(self) -> tuple[int, int]:
        live = [f for f in self._db.files.values() if f.deleted_at is None]
        return len(live), sum(f.offset for f in live)

    async def database_bytes(self) -> int | None:
        return None
