"""Backends for the contract suite: every storage test runs on SQLite and on PostgreSQL.

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

from semot.storage.sql.engine import make_engines
from semot.storage.sql.store import SqlStorage

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _pg_reachable() -> str | None:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStorage]:
    if request.param == "sqlite":
        store = SqlStorage(make_engines(f"sqlite+aiosqlite:///{tmp_path / 'semot.db'}"))
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
    store = SqlStorage(make_engines(url, schema=schema, pool_size=5), schema=schema)
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
