"""Shared by the WebSocket hardening tests (poison isolation, frame fuzzing): a real
`semot serve` on SQLite or on PostgreSQL, the latter in a fresh schema dropped
afterwards. An unreachable PostgreSQL skips locally and fails the run with CI=true."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.integration.harness import ServerProcess

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]
# Test suites lift the abuse limits (contract section 5); these tests also pipeline
# far past the default per-connection rate.
BASE_ENV = {"SEMOT_ABUSE_LIMITS": "false", "SEMOT_RATE_PER_S": "100000", "SEMOT_RATE_BURST": "100000"}


async def _pg(sql: str | None = None) -> None:
    conn = await asyncpg.connect(PG_URL, timeout=5)
    try:
        if sql:
            await conn.execute(sql)
    finally:
        await conn.close()


def run_backend(kind: str, data_dir: Path, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """Yield a started server on `kind` ("sqlite" or "postgresql"); stop it afterwards."""
    full = {**BASE_ENV, **(env or {})}
    schema = None
    if kind == "postgresql":
        try:
            asyncio.run(_pg())
        except Exception as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL at {PG_URL} is unreachable in CI: {exc!r}")
            pytest.skip(f"PostgreSQL unreachable: {exc!r}")
        schema = f"semot_ws_{uuid.uuid4().hex[:12]}"
        full |= {"SEMOT_DATABASE_URL": PG_URL, "SEMOT_DATABASE_SCHEMA": schema}
    srv = ServerProcess(data_dir, full)
    srv.start()
    try:
        yield srv
    finally:
        if srv.running:
            rc = srv.stop()
            assert rc == 0, f"server exited with {rc} on SIGTERM:\n{srv.log_tail()}"
        if schema is not None:
            asyncio.run(_pg(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def assert_clean_log(server: ServerProcess) -> None:
    """No traceback and no `internal` error reached the server log."""
    text = server.log_path.read_text(errors="replace")
    assert "Traceback" not in text, text[-4000:]
