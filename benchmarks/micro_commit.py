"""Micro-benchmark: CPU per group-commit transaction of ONE message, three ways.

    .venv/bin/python benchmarks/micro_commit.py [--n 3000] [--prefill 0]

At 1,000 direct messages/s the writer commits ~1.1-1.6 messages per transaction, so
the fixed cost of a transaction is what load 1 pays per message. This measures it
in-process (CPU time of all threads, pinned to one CPU like the server):

  src       SqlStorage.append_messages as in the tree (before e9dfa58: SQLAlchemy async
            Core over aiosqlite; since: the SQLite appender, bare sqlite3, one hop)
  sync-sa   SqlStorage._append (the SQLAlchemy path, still used for PostgreSQL) on a
            synchronous SQLAlchemy connection, the whole transaction in one thread hop
  raw       the same statements on a bare sqlite3 connection, one hop per transaction
            (BEGIN IMMEDIATE; idempotency SELECT; UPDATE conversations .. RETURNING;
            INSERT message; COMMIT)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def cpu() -> float:
    return time.process_time()


async def setup(data_dir: Path, users: int = 2):
    from semot.app import make_storage
    from semot.config import load_settings
    from semot.domain.records import User

    settings = load_settings(data_dir=data_dir, secret_key="x" * 40)
    storage = make_storage(settings)
    await storage.migrate()
    for i in range(users):
        await storage.create_user(User(f"u{i}", f"u{i}", "u", "h", created_at=1))
    return storage


def new_message(i: int, sender: str = "u0", peer: str = "u1"):
    from semot.domain.records import NewMessage
    from semot.ids import new_mid, now_ms

    a, b = sorted((sender, peer))
    return NewMessage(f"d:{a}:{b}", sender, f"c{i}", "text", {"text": "x" * 60}, {}, now_ms(), new_mid(), (a, b))


async def bench_src(storage, n: int, start: int) -> float:
    c0 = cpu()
    for i in range(start, start + n):
        await storage.append_messages([new_message(i)])
    return (cpu() - c0) / n


async def bench_sync_sa(storage, db: Path, n: int, start: int) -> float:
    from sqlalchemy import create_engine, event

    eng = create_engine(f"sqlite:///{db}", pool_size=1, max_overflow=0)

    @event.listens_for(eng, "connect")
    def _c(dbapi_conn, _r):
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        dbapi_conn.execute("PRAGMA busy_timeout=10000")

    @event.listens_for(eng, "begin")
    def _b(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    class _Conn:
        def __init__(self, c):
            self.c = c

        async def execute(self, stmt, params=None):
            return self.c.execute(stmt) if params is None else self.c.execute(stmt, params)

    def one(batch):
        with eng.begin() as c:
            coro = storage._append(_Conn(c), batch)
            try:
                coro.send(None)
            except StopIteration as done:
                return done.value
            raise RuntimeError("suspended")

    ex = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(ex, one, [new_message(start - 1)])  # warm the pool
    c0 = cpu()
    for i in range(start, start + n):
        await loop.run_in_executor(ex, one, [new_message(i)])
    r = (cpu() - c0) / n
    ex.shutdown()
    eng.dispose()
    return r


async def bench_raw(db: Path, n: int, start: int) -> float:
    import orjson

    con = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")

    def one(m) -> int:
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute("SELECT conv, seq FROM messages WHERE sender = ? AND cid = ?", (m.sender, m.cid)).fetchall()
            (top,) = con.execute(
                "UPDATE conversations SET max_seq = max_seq + 1, last_ts = ? WHERE id = ? RETURNING max_seq",
                (m.ts, m.conv),
            ).fetchone()
            con.execute(
                "INSERT INTO messages (conv, seq, mid, cid, sender, kind, body, opts, ts, burn_s, burn_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (m.conv, top, m.mid, m.cid, m.sender, m.kind, orjson.dumps(m.body).decode(), "{}", m.ts, None, None),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return top

    ex = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()
    c0 = cpu()
    for i in range(start, start + n):
        await loop.run_in_executor(ex, one, new_message(i))
    r = (cpu() - c0) / n
    ex.shutdown()
    con.close()
    return r


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=3000, help="transactions per variant")
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass
    with tempfile.TemporaryDirectory(prefix="semot-micro-") as d:
        storage = await setup(Path(d))
        db = Path(d) / "semot.db"
        await storage.append_messages([new_message(0)])  # creates the direct conversation
        n = args.n
        res = {
            "src (SqlStorage.append_messages as in the tree)": await bench_src(storage, n, 1),
            "sync-sa (same _append, sync SQLAlchemy, 1 hop)": await bench_sync_sa(storage, db, n, 1 + n + 1),
            "raw (sqlite3, 1 hop)": await bench_raw(db, n, 10 * n),
        }
        await storage.close()
    print(f"CPU per single-message transaction ({n} each, all threads, one CPU):")
    for k, v in res.items():
        print(f"  {v * 1e3:7.3f} ms  {k}")


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
