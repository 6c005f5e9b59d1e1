"""Scheduled online backups (settings backup_dir, backup_interval_s, backup_keep).

The node makes a backup (semot/backup.py) every `backup_interval_s` into `backup_dir`,
named by its UTC time, and then deletes all but the newest `backup_keep` there. The
work runs in a thread: SQLite's backup step, tar and sha256 never block the event loop.
A failed backup is logged (ERROR, with the reason) and tried again at the next interval. In a
cluster, set backup_dir on one node only: every node configured makes its own copy.

Prometheus (/metrics; docs/operations.md): `semot_backup_last_success_timestamp_seconds`
(alert when it is older than two intervals), `semot_backup_failures_total`,
`semot_backup_last_duration_seconds` and `semot_backup_last_size_bytes` of the last
successful one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge

from semot.backup import BackupError, archive_name, backup, prune
from semot.config import Settings

log = logging.getLogger(__name__)


class BackupSchedule:
    def __init__(
        self, directory: Path, interval_s: float, keep: int, settings: Settings,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.directory, self.interval_s, self.keep, self.settings = directory, interval_s, keep, settings
        self.made = 0
        self.failed = 0
        r = registry or CollectorRegistry()
        self._last_success = Gauge("semot_backup_last_success_timestamp_seconds",
                                   "When the last scheduled backup was written (Unix time; 0: none yet)", registry=r)
        self._failures = Counter("semot_backup_failures", "Scheduled backups that failed", registry=r)
        self._duration = Gauge("semot_backup_last_duration_seconds",
                               "How long the last successful scheduled backup took", registry=r)
        self._size = Gauge("semot_backup_last_size_bytes", "The size of the last successful scheduled backup",
                           registry=r)
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()  # seen by the backup thread between two chunks

    @classmethod
    def from_settings(cls, settings: Settings, registry: CollectorRegistry | None = None) -> BackupSchedule | None:
        """The schedule of `settings`, its metrics in `registry` (the node's), or None without backup_dir."""
        if settings.backup_dir is None:
            return None
        return cls(settings.backup_dir, settings.backup_interval_s, settings.backup_keep, settings, registry)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="semot-backups")

    async def stop(self) -> None:
        """A backup in progress stops at its next chunk and removes its partial file, so
        shutdown is not held up by a large files store (the database snapshot itself is
        one SQLite step and runs to its end)."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _progress(self, _done: int) -> None:
        if self._stopping.is_set():
            raise BackupError("cancelled: the server is stopping")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.once()

    async def once(self) -> Path | None:
        dest = self.directory / archive_name()
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(backup, self.settings, dest, progress=self._progress)
            gone = await asyncio.to_thread(prune, self.directory, self.keep)
        except (BackupError, OSError) as exc:
            self.failed += 1
            if not self._stopping.is_set():  # one cut short by shutdown is no failure to alert on
                self._failures.inc()
            log.error("scheduled backup to %s failed: %s", dest, exc)
            return None
        except Exception:
            self.failed += 1
            self._failures.inc()
            log.exception("scheduled backup to %s failed", dest)
            return None
        self.made += 1
        self._last_success.set(time.time())
        self._duration.set(time.monotonic() - started)
        self._size.set(result.bytes)
        log.info("backup written: %s (%d bytes); %d old backups deleted", result.path, result.bytes, len(gone))
        for note in result.notes:
            log.warning("backup %s: %s", result.path.name, note)
        return result.path
