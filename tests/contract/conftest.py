"""Backends for the contract suite: every storage test runs in memory, on SQLite and on
PostgreSQL (`storage`); what only SQL has (appenders, migrations) runs on the two SQL
databases (`sql_storage`).

PostgreSQL is the real server at SEMOT_TEST_DATABASE_URL (default 127.0.0.1:5432,
database `test`); each test gets a schema of its own, dropped afterwards. Locally an
unreachable PostgreSQL skips those cases; with CI=true it fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from semot.storage.base import Storage
from semot.storage.memory import memory_storage
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.engine import make_engines
from semot.storage.sql.message_store import SqlMessages
from semot.storage.sql.store import sql_storage

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _pg_reachable() -> str | None:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def _open(kind: str, tmp_path: Path) -> AsyncIterator[Storage]:
    if kind == "memory":
        yield memory_storage()
        return
    if kind == "sqlite":
        store = sql_storage(make_engines(f"sqlite+aiosqlite:///{tmp_path / 'semot.db'}"))
        await store.migrate()
        yield store
        await store.close()
        return
    problem = await _pg_reachable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable in CI: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    schema = f"semot_test_{uuid.uuid4().hex[:12]}"
    url = "postgresql+asyncpg://" + PG_URL.split("://", 1)[1]
    store = sql_storage(make_engines(url, schema=schema, pool_size=5), schema=schema)
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async for store in _open(request.param, tmp_path):
        yield store


@pytest.fixture(params=["sqlite", "postgresql"])
async def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async for store in _open(request.param, tmp_path):
        yield store


def sql_parts(store: Storage) -> tuple[SqlDatabase, SqlMessages]:
    """The SQL database and message store behind `store` (for what only SQL has)."""
    assert isinstance(store.database, SqlDatabase) and isinstance(store.messages, SqlMessages)
    return store.database, store.messages
