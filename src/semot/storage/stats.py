"""The storage interface of the dashboard's figures (services/stats.py).

Counters are per minute: each node counts in memory and adds its counts to the row
of (metric, minute) every few seconds, so the rows are the sum over the cluster and a
day of them is 1,440 rows read by primary key. The other figures are aggregates of
the tables themselves (users, files, the database's size), which the service reads
rarely and caches: no refresh of the dashboard scans a table.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

MINUTE_MS = 60_000
DAY_MS = 86_400_000


def minute_of(ts_ms: int) -> int:
    """The start (ms) of the minute `ts_ms` falls in: the key of its counter row."""
    return ts_ms - ts_ms % MINUTE_MS


class StatsStorage(abc.ABC):
    @abc.abstractmethod
    async def add_counts(self, metric: str, counts: Mapping[int, int]) -> None:
        """Add `counts` (minute start in ms -> n) to the stored counters of `metric`, in
        one transaction: every node adds its own, so a row holds the cluster's sum."""

    @abc.abstractmethod
    async def counts(self, metric: str, since: int, until: int) -> dict[int, int]:
        """The stored counters of `metric` for the minutes in [since, until) (ms);
        minutes without a row are absent."""

    @abc.abstractmethod
    async def purge_counts(self, before: int) -> int:
        """Delete the counters of the minutes before `before` (ms), of every metric."""

    @abc.abstractmethod
    async def users_created_per_day(self, since: int, *, tz_offset_ms: int) -> dict[int, int]:
        """Users created at or after `since` (ms), counted per local day: day start (ms,
        UTC, as the client's clock shows midnight when its offset is `tz_offset_ms`)
        -> n. Served by the index on `users.created_at`."""

    @abc.abstractmethod
    async def user_count(self) -> int: ...

    @abc.abstractmethod
    async def files_usage(self) -> tuple[int, int]:
        """(files, bytes) stored: every file not deleted, unfinished uploads by the bytes
        they received so far."""

    @abc.abstractmethod
    async def database_bytes(self) -> int | None:
        """The size of the database on disk (None where it cannot be told)."""
