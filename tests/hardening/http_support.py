"""Shared by the HTTP hardening tests: a real `semot serve` on SQLite or on PostgreSQL
(each run in a fresh schema, dropped afterwards), raw HTTP calls that keep every byte
an attacker would send (`%00` stays `%00`), and a check that the server log holds no
traceback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest
from yarl import URL

from tests.integration.harness import Account, Api, Clients, ServerProcess

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BASE_ENV = {"SEMOT_ABUSE_LIMITS": "false", "SEMOT_RATE_PER_S": "1000", "SEMOT_RATE_BURST": "1000"}


def _pg_reachable() -> str | None:
    import asyncio

    async def probe() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _drop_schema(schema: str) -> None:
    import asyncio

    async def drop() -> None:
        conn = await asyncpg.connect(PG_URL)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


def start_backend(kind: str, data_dir: Path) -> Iterator[ServerProcess]:
    """A server on `kind` ("sqlite" or "postgresql"); PostgreSQL gets a schema of its own.
    Unreachable PostgreSQL skips locally and fails in CI."""
    env = dict(BASE_ENV)
    schema = None
    if kind == "postgresql":
        problem = _pg_reachable()
        if problem:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL at {PG_URL} is unreachable in CI: {problem}")
            pytest.skip(f"PostgreSQL unreachable: {problem}")
        schema = f"semot_hard_{uuid.uuid4().hex[:12]}"
        env |= {"SEMOT_DATABASE_URL": PG_URL, "SEMOT_DATABASE_SCHEMA": schema}
    srv = ServerProcess(data_dir, env)
    srv.start()
    try:
        yield srv
    finally:
        if srv.running:
            srv.stop()
        if schema is not None:
            _drop_schema(schema)


def server_log(server: ServerProcess) -> str:
    return server.log_path.read_text(errors="replace")


def assert_log_clean(server: ServerProcess, since: int = 0) -> None:
    """No traceback and no unhandled error since byte `since` of the server log."""
    tail = server_log(server)[since:]
    for marker in ("Traceback", "unhandled error", "Error handling request"):
        assert marker not in tail, f"server log has {marker!r}:\n{tail[-4000:]}"


@dataclass
class Reply:
    status: int
    body: Any
    text: str

    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return code if isinstance(code, str) else None
        return None


class RawHttp:
    """HTTP calls whose path and query go out exactly as written (already percent-encoded)."""

    def __init__(self, session: aiohttp.ClientSession, server: ServerProcess) -> None:
        self.session = session
        self.server = server

    async def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = None, raw: bytes | None = None
    ) -> Reply:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = URL(self.server.base_url + path, encoded=True)
        async with self.session.request(method, url, data=data, headers=headers) as resp:
            text = await resp.text(errors="replace")
            try:
                payload = orjson.loads(text) if text else None
            except orjson.JSONDecodeError:
                payload = text
            return Reply(resp.status, payload, text)


__all__ = ["Account", "Api", "Clients", "RawHttp", "Reply", "ServerProcess", "assert_log_clean", "start_backend"]
