"""Engines for the two databases, with the settings each needs to be safe and fast.

SQLite: WAL so readers never block the writer; every write goes through a pool of one
connection, so writers queue in Python instead of failing with SQLITE_BUSY, and each
write transaction starts with BEGIN IMMEDIATE. PostgreSQL: one asyncpg pool; row locks
on `conversations` serialise seq assignment across nodes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from semot.datadir import create_private_file


@dataclass(slots=True)
class Engines:
    write: AsyncEngine
    read: AsyncEngine
    sqlite_path: str | None = None  # set for SQLite: the message appender opens it directly
    sqlite_synchronous: str = "NORMAL"
    pg_dsn: str | None = None  # set for PostgreSQL: the message appender's own asyncpg pool
    pg_schema: str | None = None
    pg_pool_size: int = 10

    async def dispose(self) -> None:
        await self.write.dispose()
        if self.read is not self.write:
            await self.read.dispose()


def _sqlite_engine(url: str, *, synchronous: str, pool_size: int, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=60)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA cache_size=-32000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engines(url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10, schema: str | None = None) -> Engines:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            # 0600 before SQLite creates it (0644): its -wal and -shm files copy this mode
            with contextlib.suppress(OSError):  # e.g. no such directory: SQLite says so when it opens it
                create_private_file(path)
        write = _sqlite_engine(url, synchronous=sqlite_synchronous, pool_size=1, immediate=True)
        read = _sqlite_engine(url, synchronous=sqlite_synchronous, pool_size=4, immediate=False)
        return Engines(write, read, write.url.database, sqlite_synchronous)
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, connect_args=connect_args
    )
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return Engines(write=engine, read=engine, pg_dsn=dsn, pg_schema=schema, pg_pool_size=pool_size)
