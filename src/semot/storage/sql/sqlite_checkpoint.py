"""WAL checkpoints for the message appender, off the commit path.

With SQLite's default auto-checkpoint the connection that commits copies the WAL
back into the database (and fsyncs it) inside its COMMIT every ~1,000 pages: at
1,000 messages/s that is a stall of the message writer a few times a second, and it
was the p99 of the direct-message benchmark (benchmarks/README.md). The appender turns
auto-checkpoints off on its own connection and this thread, on a connection of its
own, does the work instead:

- PASSIVE checkpoints every `interval_s`: they copy what the WAL holds into the
  database without taking the write lock, so the appender never waits for them;
- when the WAL has grown past `restart_pages` (continuous writes never leave a moment
  in which a PASSIVE checkpoint has caught up, so the WAL would never start over), a
  RESTART checkpoint: it waits for a gap between two commits, finishes the little the
  PASSIVE ones left, and makes the next commit write the WAL from its start again. It
  holds the write lock only for that remainder.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(self, path: str, *, interval_s: float = 0.2, restart_pages: int = 8192) -> None:
        self._path = path
        self._interval_s = interval_s
        self._restart_pages = restart_pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0  # for tests and benchmarks
        self.restarts = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="semot-sqlite-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        try:
            con = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            log.exception("the WAL checkpointer could not open the database")
            return
        try:
            con.execute("PRAGMA busy_timeout=2000")
            while not self._stop.wait(self._interval_s):
                try:
                    self.run_once(con)
                except sqlite3.Error as exc:  # busy, I/O: SQLite checkpoints at close anyway
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            con.close()

    def run_once(self, con: sqlite3.Connection) -> None:
        _busy, log_pages, _copied = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.passes += 1
        if log_pages >= self._restart_pages:
            con.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self.restarts += 1
