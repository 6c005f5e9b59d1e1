"""What-if runs: `semot serve` with experimental monkeypatches, to size a proposed src change.

    .venv/bin/python benchmarks/run.py --patch nodb --only direct,throughput

Nothing here changes src/semot; each patch imitates, from outside, a change proposed in
benchmarks/README.md ("Profile"), so its gain can be measured before anyone writes it.
The figures of a patched run are labelled as such and are never the project's figures.

Patches (BENCH_PATCHES, comma-separated). The earlier ones (writer-raw, writer-thread,
idem-subselect, gc, labels) were removed once src implemented them (c7f6343, e9dfa58);
their measurements stay in benchmarks/README.md.

appender-inline the SQLite appender's transaction (SqliteAppender._append, unchanged) runs
                on the event loop thread instead of its own thread: no executor hop, no
                thread wake-ups, no GIL hand-over per commit. WAL auto-checkpoints (which
                fsync) then also run on the loop.
ckpt            DIAGNOSTIC ONLY, not a fix: wal_autocheckpoint=0 on the appender's
                connection and a background thread running PRAGMA wal_checkpoint(PASSIVE)
                every 200 ms, to show how much of the p99 is the checkpoint (with its
                fsync) inside the appender's COMMIT. Under continuous writes the WAL
                then never restarts and grows without bound (352 MB in a 15-s load 3).
nodb            NOT DURABLE, for cost accounting only: append_messages numbers messages
                in memory and stores nothing, so (CPU with the DB) - (CPU with nodb) is
                what storing costs and the rest is the gateway, validation, acks and pushes.
noindex         no search documents written with the messages: what issue 13's search
                index costs the send path

Issue 9 (the "before" side of an A/B in one sitting, and diagnostics):

no-coalesce     every frame is its own transport write (no WriteCoalescer)
autockpt        SQLite auto-checkpoints inside the appender's COMMIT again, no checkpoint
                thread (what `ckpt` above imitated is now src: sqlite_checkpoint.py)
sa-append       PostgreSQL appends through SQLAlchemy (SqlStorage._append), not pg_appender
memtrace        DIAGNOSTIC: SIGUSR1 starts tracemalloc, SIGUSR2 writes what was allocated
                since and is still alive to $BENCH_MEMTRACE_OUT (memory per connection)
gclog           DIAGNOSTIC: times every garbage collection; logs those over 5 ms, and a
                summary per generation every 10 s (GCSTAT lines), to the server log
census          DIAGNOSTIC: SIGUSR1 / SIGUSR2 count live objects by type; the growth goes
                to $BENCH_CENSUS_OUT (what a connection keeps alive)
no-gcfreeze     BEFORE: no GC governor (settled connections never frozen)
no-pong-inbox   BEFORE: PONGs are queued and wake the session task (no _Inbox stamping)

Issue 12 (admin_import.py --what-if):

import-nice0    the bulk import's hashing processes at nice 0 instead of 19 (they then
                compete with the event loop and the database as equals)
"""

from __future__ import annotations

import os
import sys


def _nodb() -> None:
    from semot.domain.messages import Message
    from semot.domain.records import AppendResult
    from semot.storage.sql.message_store import SqlMessages

    seqs: dict[str, int] = {}

    async def append_messages(self: SqlMessages, batch: list) -> list:  # type: ignore[type-arg]
        out = []
        for n in batch:
            if n.kind == "system":  # group creation must still create the group for real
                return await original(self, batch)
            seq = seqs[n.conv] = seqs.get(n.conv, 0) + 1
            out.append(AppendResult(Message(n.conv, seq, n.mid, n.cid, n.sender, n.kind, n.body, n.ts, n.opts), True))
        return out

    original = SqlMessages.append_messages
    SqlMessages.append_messages = append_messages  # type: ignore[method-assign]


def _appender_inline(checkpoint_thread: bool, inline: bool = True) -> None:
    import sqlite3
    import threading

    from semot.storage.sql.sqlite_appender import SqliteAppender

    original_connection = SqliteAppender._connection

    def _connection(self: SqliteAppender) -> sqlite3.Connection:
        fresh = self._con is None
        con = original_connection(self)
        if fresh and checkpoint_thread:
            con.execute("PRAGMA wal_autocheckpoint=0")
            path = self._path

            def checkpointer() -> None:
                ck = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                ck.execute("PRAGMA busy_timeout=10000")
                ev = threading.Event()
                while not ev.wait(0.2):
                    try:
                        ck.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except sqlite3.Error:
                        pass

            threading.Thread(target=checkpointer, name="bench-checkpointer", daemon=True).start()
        return con

    async def append(self: SqliteAppender, batch: list) -> list:  # type: ignore[type-arg]
        # Inline with busy_timeout=0: if another writer (an aiosqlite transaction, which
        # needs this very loop to finish) holds the lock, waiting here would deadlock the
        # loop, so such a batch goes to the appender's thread as src does it.
        con = self._connection()
        con.execute("PRAGMA busy_timeout=0")
        try:
            return self._append(batch)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise

        def waited() -> list:  # type: ignore[type-arg]
            con.execute("PRAGMA busy_timeout=10000")
            try:
                return self._append(batch)
            finally:
                con.execute("PRAGMA busy_timeout=0")

        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self._executor, waited)

    SqliteAppender._connection = _connection  # type: ignore[method-assign]
    if inline:
        SqliteAppender.append = append  # type: ignore[method-assign]


def _memtrace() -> None:
    """DIAGNOSTIC: SIGUSR1 starts tracemalloc, SIGUSR2 writes what was allocated since and
    is still alive (by line, and the largest tracebacks) to $BENCH_MEMTRACE_OUT."""
    import signal
    import tracemalloc

    state: dict[str, tracemalloc.Snapshot] = {}
    out = os.environ.get("BENCH_MEMTRACE_OUT", "memtrace.txt")
    keep = [tracemalloc.Filter(False, tracemalloc.__file__)]

    def snap(_sig: int, _frame: object) -> None:
        tracemalloc.start(12)
        state["base"] = tracemalloc.take_snapshot().filter_traces(keep)

    def diff(_sig: int, _frame: object) -> None:
        now = tracemalloc.take_snapshot().filter_traces(keep)
        base = state["base"]
        with open(out, "w") as f:
            for key in ("lineno", "traceback"):
                stats = now.compare_to(base, key)
                f.write(f"== by {key}: total diff {sum(x.size_diff for x in stats) / 1024:.0f} KiB\n")
                for st in stats[: 60 if key == "lineno" else 15]:
                    f.write(f"{st.size_diff / 1024:10.1f} KiB {st.count_diff:8d} blocks  {st.traceback[0]}\n")
                    if key == "traceback":
                        for fr in list(st.traceback)[-12:]:
                            f.write(f"              {fr}\n")

    signal.signal(signal.SIGUSR1, snap)
    signal.signal(signal.SIGUSR2, diff)


def _gclog() -> None:
    """DIAGNOSTIC: time every garbage collection; log those over 5 ms as they happen and,
    every 10 s, one summary line per generation (count, total, max) to the server log."""
    import gc
    import threading
    import time

    started: list[float] = [0.0]
    stats: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def cb(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - started[0]) * 1e3
        gen = info["generation"]
        stats[gen].append(ms)
        if ms > 5:
            print(f"GC gen {gen}: {ms:.1f} ms, collected {info['collected']}, "
                  f"gen-2 objects {len(gc.get_objects(2)) if gen == 2 else '-'}", file=sys.stderr, flush=True)

    def report() -> None:
        while True:
            time.sleep(10)
            parts = []
            for gen, xs in stats.items():
                if xs:
                    parts.append(f"gen{gen} n={len(xs)} sum={sum(xs):.0f}ms max={max(xs):.1f}ms")
            # (not gc.get_freeze_count(): it walks the whole permanent generation, and at
            # 20,000 frozen connections that alone was ~1.4 % of a core)
            print(f"GCSTAT {time.time():.0f} " + " ".join(parts),
                  file=sys.stderr, flush=True)

    gc.callbacks.append(cb)
    threading.Thread(target=report, daemon=True).start()


def _census() -> None:
    """DIAGNOSTIC: SIGUSR1 counts the live container objects by type (count, bytes by
    sys.getsizeof, frozen ones included), SIGUSR2 writes the growth since to
    $BENCH_CENSUS_OUT: what each connection keeps alive, by type."""
    import collections
    import gc
    import signal

    state: dict[str, collections.Counter[str]] = {}
    out = os.environ.get("BENCH_CENSUS_OUT", "census.txt")

    def count() -> tuple[collections.Counter[str], collections.Counter[str]]:
        frozen = gc.get_freeze_count()
        gc.unfreeze()  # frozen objects are invisible to get_objects()
        n: collections.Counter[str] = collections.Counter()
        size: collections.Counter[str] = collections.Counter()
        for o in gc.get_objects():
            k = f"{type(o).__module__}.{type(o).__qualname__}"
            n[k] += 1
            size[k] += sys.getsizeof(o)
        if frozen:
            gc.freeze()
        return n, size

    def snap(_sig: int, _frame: object) -> None:
        state["n"], state["size"] = count()

    def diff(_sig: int, _frame: object) -> None:
        n, size = count()
        n.subtract(state["n"])
        size.subtract(state["size"])
        with open(out, "w") as f:
            f.write(f"total: {sum(n.values())} objects, {sum(size.values()) / 1024:.0f} KiB (getsizeof)\n")
            for k, b in size.most_common(60):
                f.write(f"{b / 1024:10.1f} KiB {n[k]:8d}  {k}\n")

    signal.signal(signal.SIGUSR1, snap)
    signal.signal(signal.SIGUSR2, diff)


def _no_gcfreeze() -> None:
    """BEFORE the GC governor: settled connections are never frozen (src/semot/gateway/gcpolicy.py)."""
    from semot.gateway.gcpolicy import GcGovernor

    GcGovernor.start = lambda self: None  # type: ignore[method-assign]


def _no_pong_inbox() -> None:
    """BEFORE: PONGs go through aiohttp's queue and wake the session task."""
    from aiohttp import web

    from semot.gateway.connection import GatewayWebSocket

    GatewayWebSocket._post_start = web.WebSocketResponse._post_start  # type: ignore[method-assign]


def _no_coalesce() -> None:
    """BEFORE issue 9: every frame is its own transport write (no WriteCoalescer)."""
    import semot.gateway.handler as handler

    handler.WriteCoalescer = lambda: None  # type: ignore[assignment,misc]


def _autockpt() -> None:
    """BEFORE issue 9: SQLite's auto-checkpoint inside the appender's COMMIT, no checkpoint thread."""
    from semot.storage.sql.sqlite_appender import SqliteAppender
    from semot.storage.sql.sqlite_checkpoint import WalCheckpointer

    WalCheckpointer.start = lambda self: None  # type: ignore[method-assign]
    original = SqliteAppender._connection

    def _connection(self: SqliteAppender):  # type: ignore[no-untyped-def]
        fresh = self._con is None
        con = original(self)
        if fresh:
            con.execute("PRAGMA wal_autocheckpoint=1000")
        return con

    SqliteAppender._connection = _connection  # type: ignore[method-assign]


def _sa_append() -> None:
    """BEFORE issue 9: PostgreSQL appends through SQLAlchemy (SqlStorage._append), not pg_appender."""
    try:
        from semot.storage.sql.message_store import SqlMessages as cls
    except ImportError:  # before the stores were split per aggregate
        from semot.storage.sql.store import SqlStorage as cls  # type: ignore[attr-defined,no-redef]

    original = cls.__init__

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        if self._dialect == "postgresql":
            self._appender = None

    cls.__init__ = __init__  # type: ignore[method-assign]


def _noindex() -> None:
    """No search documents written with the messages (issue 13's cost on the send path)."""
    from semot.storage.sql.pg_appender import PgAppender
    from semot.storage.sql.sqlite_appender import SqliteAppender

    SqliteAppender.index_search = False
    PgAppender.index_search = False


def _import_nice0() -> None:
    """The bulk import's hashing processes at nice 0: equals of the event loop."""
    from semot.services import bulk_hashing

    bulk_hashing.NICE = 0


PATCHES = {
    "appender-inline": lambda: _appender_inline(False),
    "ckpt": lambda: _appender_inline(True, inline=False),
    "nodb": _nodb,
    "memtrace": _memtrace,
    "gclog": _gclog,
    "census": _census,
    "no-gcfreeze": _no_gcfreeze,
    "no-pong-inbox": _no_pong_inbox,
    "no-coalesce": _no_coalesce,
    "autockpt": _autockpt,
    "sa-append": _sa_append,
    "import-nice0": _import_nice0,
    "noindex": _noindex,
}


def main() -> None:
    for name in filter(None, os.environ.get("BENCH_PATCHES", "").split(",")):
        if name not in PATCHES:
            sys.exit(f"unknown patch {name!r}; known: {', '.join(PATCHES)}")
        PATCHES[name]()
        print(f"bench patch applied: {name}", file=sys.stderr, flush=True)
    from semot.cli import main as cli_main

    sys.argv[0] = "semot"
    cli_main()


if __name__ == "__main__":
    main()
