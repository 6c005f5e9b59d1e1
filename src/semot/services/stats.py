"""The admin dashboard's figures, kept cheaply: nothing here scans a table per refresh.

- Online users and connections: the presence registry's counts (memory on one node;
  in Redis a set of online users kept by the settle script, and each node's load
  written with its heartbeat), summed over the live nodes.
- Messages per minute: each node counts stored messages in memory, per minute (a dict
  increment per committed batch, on the writer's path), and adds its counts to the
  `stats_minutes` rows every `flush_s` and on shutdown; a row is the cluster's sum. The
  last 24 hours are 1,440 rows read by primary key, plus this node's unflushed counts.
- New users per day: a range of the index on `users.created_at`: the last 30 days
  cached like the totals, today's (from local midnight) read on every refresh.
- Totals (users, files and their bytes, the database's size): aggregates, cached for
  `slow_ttl_s`, so they cost one query a minute per node however many admins watch.
- Health: a database ping timed on every refresh, this node's version and uptime, the
  nodes alive (their heartbeats).

A figure that cannot be read now (Redis or the database is down) is null, with the
problem in `errors`: the dashboard shows the rest, which is when it matters most.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from semot.bus.presence import PresenceRegistry
from semot.ids import now_ms
from semot.storage.base import Storage
from semot.storage.stats import DAY_MS, MINUTE_MS, minute_of

log = logging.getLogger(__name__)

MESSAGES = "messages"
LOGINS_OK = "logins_ok"
LOGINS_FAILED = "logins_failed"
METRICS = (MESSAGES, LOGINS_OK, LOGINS_FAILED)
DAYS = 30


class MinuteCounters:
    """Per-minute counts of this node not yet added to the store."""

    def __init__(self) -> None:
        self._pending: dict[str, dict[int, int]] = {}

    def add(self, metric: str, n: int = 1) -> None:
        minutes = self._pending.setdefault(metric, {})
        minute = minute_of(now_ms())
        minutes[minute] = minutes.get(minute, 0) + n

    def take(self) -> dict[str, dict[int, int]]:
        pending, self._pending = self._pending, {}
        return pending

    def put_back(self, metric: str, counts: dict[int, int]) -> None:
        minutes = self._pending.setdefault(metric, {})
        for minute, n in counts.items():
            minutes[minute] = minutes.get(minute, 0) + n

    def pending(self, metric: str) -> dict[int, int]:
        return dict(self._pending.get(metric, {}))


class StatsService:
    def __init__(
        self,
        storage: Storage,
        registry: PresenceRegistry,
        *,
        node_id: str,
        version: str,
        flush_s: float = 10.0,
        retention_days: int = 30,
        slow_ttl_s: float = 60.0,
    ) -> None:
        self._storage = storage
        self._stats = storage.stats
        self._registry = registry
        self.node_id = node_id
        self.version = version
        self._flush_s = flush_s
        self._retention_days = retention_days
        self._slow_ttl_s = slow_ttl_s
        self.counters = MinuteCounters()
        # held by a flush from taking the counts until they are stored, and by a reader
        # across its two reads: else a count taken but not yet committed is in neither
        self._flushing = asyncio.Lock()
        self.started_at = now_ms()
        self._task: asyncio.Task[None] | None = None
        self._slow: dict[str, tuple[float, Any]] = {}  # key -> (monotonic time read, value)
        self._slow_lock = asyncio.Lock()

    # --- counting (hot paths: a dict increment)
    def count_messages(self, n: int) -> None:
        if n:
            self.counters.add(MESSAGES, n)

    def count_login(self, ok: bool) -> None:
        self.counters.add(LOGINS_OK if ok else LOGINS_FAILED)

    # --- life
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="semot-stats")

    async def stop(self) -> None:
        """After the writer stopped (every stored message counted): a last flush."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        purged_at = 0.0
        while True:
            await asyncio.sleep(self._flush_s)
            await self.flush()
            if time.monotonic() - purged_at > 3600:
                purged_at = time.monotonic()
                try:
                    await self._stats.purge_counts(minute_of(now_ms()) - self._retention_days * DAY_MS)
                except Exception:
                    log.warning("purging old dashboard counters failed", exc_info=True)

    async def flush(self) -> None:
        """Add this node's counts to the store; kept for the next flush if it fails."""
        async with self._flushing:
            for metric, counts in self.counters.take().items():
                try:
                    await self._stats.add_counts(metric, counts)
                except Exception:
                    self.counters.put_back(metric, counts)
                    log.warning("storing the dashboard's %s counters failed (retried)", metric, exc_info=True)

    # --- reading
    async def _cached(self, key: str, load: Callable[[], Awaitable[Any]]) -> Any:
        hit = self._slow.get(key)
        if hit is not None and time.monotonic() - hit[0] < self._slow_ttl_s:
            return hit[1]
        async with self._slow_lock:  # one reader refreshes; the others wait for its result
            hit = self._slow.get(key)
            if hit is not None and time.monotonic() - hit[0] < self._slow_ttl_s:
                return hit[1]
            value = await load()
            self._slow[key] = (time.monotonic(), value)
            if len(self._slow) > 64:  # one entry per time zone asked for: bounded
                self._slow.pop(next(iter(self._slow)))
            return value

    async def per_minute(self, metric: str, minutes: int) -> dict[str, Any]:
        """The last `minutes` whole and current minutes: stored (every node's flushed
        counts) plus what this node has not flushed yet; zeros where nothing happened."""
        until = minute_of(now_ms()) + MINUTE_MS
        since = until - minutes * MINUTE_MS
        async with self._flushing:
            stored = await self._stats.counts(metric, since, until)
            pending = self.counters.pending(metric)
        for minute, n in pending.items():
            if since <= minute < until:
                stored[minute] = stored.get(minute, 0) + n
        return {
            "start": since,
            "step_ms": MINUTE_MS,
            "counts": [stored.get(since + i * MINUTE_MS, 0) for i in range(minutes)],
        }

    async def _users(self, tz_offset_ms: int) -> dict[str, Any]:
        """The days before today and the total are cached; today is read every time
        (a range of the index from local midnight: small), so a new user shows at once."""
        now = now_ms()
        today = (now + tz_offset_ms) // DAY_MS * DAY_MS - tz_offset_ms
        first = today - (DAYS - 1) * DAY_MS

        async def earlier() -> tuple[dict[int, int], int]:
            per_day = await self._stats.users_created_per_day(first, tz_offset_ms=tz_offset_ms)
            per_day.pop(today, None)
            return per_day, await self._stats.user_count()

        per_day, total = await self._cached(f"users:{tz_offset_ms}:{today}", earlier)
        per_day = {**per_day, **await self._stats.users_created_per_day(today, tz_offset_ms=tz_offset_ms)}
        days = []
        for i in range(DAYS):
            start = first + i * DAY_MS
            local = datetime.fromtimestamp((start + tz_offset_ms) / 1000, UTC)
            days.append({"day": start, "date": local.strftime("%Y-%m-%d"), "n": per_day.get(start, 0)})
        return {"total": total, "today": per_day.get(today, 0), "per_day": days}

    async def _storage_used(self) -> dict[str, Any]:
        files, size = await self._stats.files_usage()
        return {"files": files, "files_bytes": size, "database_bytes": await self._stats.database_bytes()}

    async def _database(self) -> dict[str, Any]:
        dialect = getattr(self._storage.database, "dialect", "memory")
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self._storage.ping(), 5.0)
        except Exception as exc:
            return {"dialect": dialect, "ok": False, "latency_ms": None, "error": type(exc).__name__}
        return {"dialect": dialect, "ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}

    async def dashboard(self, *, tz_offset_min: int = 0, minutes: int = 1440) -> dict[str, Any]:
        """Everything the dashboard shows (docs/admin.md, Dashboard)."""
        tz_ms = tz_offset_min * MINUTE_MS
        errors: list[str] = []

        async def part(name: str, get: Callable[[], Awaitable[Any]]) -> Any:
            try:
                return await get()
            except Exception as exc:
                log.warning("dashboard: %s unavailable", name, exc_info=True)
                errors.append(f"{name}: {type(exc).__name__}")
                return None

        counts, messages, logins_ok, logins_failed, users, used, database = await asyncio.gather(
            part("online", self._registry.counts),
            part("messages", lambda: self.per_minute(MESSAGES, minutes)),
            part("logins", lambda: self.per_minute(LOGINS_OK, minutes)),
            part("logins", lambda: self.per_minute(LOGINS_FAILED, minutes)),
            part("users", lambda: self._users(tz_ms)),
            part("storage", lambda: self._cached("storage", self._storage_used)),
            self._database(),
        )
        now = now_ms()
        nodes = [
            {"node_id": n.node_id, "sessions": n.sessions, "users": n.users, "seen_ms": n.seen_ms}
            for n in (counts.nodes if counts is not None else ())
        ]
        return {
            "ts": now,
            "online": None if counts is None else {"users": counts.users, "connections": counts.sessions},
            "messages": messages,
            "logins": None
            if logins_ok is None or logins_failed is None
            else {"ok": logins_ok, "failed": logins_failed},
            "users": users,
            "storage": used,
            "health": {
                "node_id": self.node_id,
                "version": self.version,
                "started_at": self.started_at,
                "uptime_s": (now - self.started_at) // 1000,
                "database": database,
                "nodes": nodes,
                "nodes_alive": len(nodes) if counts is not None else None,
            },
            "errors": sorted(set(errors)),
        }
