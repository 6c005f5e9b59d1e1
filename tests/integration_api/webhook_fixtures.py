"""Fixtures of the webhook tests: a server on SQLite and on PostgreSQL (fast retries),
an admin token, a fresh receiver per test, and hook registration that cleans up."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from tests.integration.harness import Api, ServerProcess
from tests.integration_api.webhook_receiver import Receiver

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN = "hookadmin"
ADMIN_PW = "admin-password-1"
FAST = {
    "SEMOT_WEBHOOK_RETRY_S": "0.1",
    "SEMOT_WEBHOOK_RETRY_FACTOR": "2",
    "SEMOT_WEBHOOK_MAX_TRIES": "5",
    "SEMOT_WEBHOOK_POLL_S": "0.1",
    "SEMOT_WEBHOOK_MAX_ANSWER_BYTES": "4096",
}


def _pg_problem() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


async def _drop_schema(schema: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


def start_server(kind: str, tmp: Any, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    env = {**FAST, **(env or {})}
    schema = None
    if kind == "postgresql":
        problem = _pg_problem()
        if problem:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL unreachable in CI: {problem}")
            pytest.skip(f"PostgreSQL unreachable: {problem}")
        schema = f"semot_hook_{uuid.uuid4().hex[:10]}"
        env |= {"SEMOT_DATABASE_URL": PG_URL, "SEMOT_DATABASE_SCHEMA": schema}
    server = ServerProcess(tmp / "data", env)
    server.start()
    server.create_admin(ADMIN, ADMIN_PW)
    yield server
    assert server.stop() == 0, server.log_tail()
    if schema:
        asyncio.run(_drop_schema(schema))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from start_server(request.param, tmp_path_factory.mktemp(f"hooks-{request.param}"))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()


async def admin_token(api: Api, srv: ServerProcess) -> str:
    status, body = await api.login(srv, ADMIN, ADMIN_PW)
    assert status == 200, body
    return str(body["access_token"])


class Hooks:
    """Register hooks for one test; each is removed at its end."""

    def __init__(self, api: Api, srv: ServerProcess) -> None:
        self.api, self.srv = api, srv
        self.token = ""
        self.made: list[str] = []

    async def add(self, url: str, events: list[str], **extra: Any) -> tuple[str, str]:
        if not self.token:
            self.token = await admin_token(self.api, self.srv)
        status, body = await self.api.call(self.srv, "POST", "/api/admin/v1/webhooks",
                                           {"url": url, "events": events, **extra}, token=self.token)
        assert status == 201, body
        self.made.append(body["webhook_id"])
        return body["webhook_id"], body["secret"]

    async def deliveries(self, webhook_id: str, **filters: str) -> list[dict[str, Any]]:
        q = "&".join(f"{k}={v}" for k, v in {"webhook_id": webhook_id, "limit": "200", **filters}.items())
        status, body = await self.api.call(self.srv, "GET", f"/api/admin/v1/webhook-deliveries?{q}", token=self.token)
        assert status == 200, body
        return list(body["deliveries"])

    async def close(self) -> None:
        for webhook_id in self.made:
            await self.api.call(self.srv, "DELETE", f"/api/admin/v1/webhooks/{webhook_id}", token=self.token)


@pytest.fixture
async def hooks(api: Api, srv: ServerProcess) -> AsyncIterator[Hooks]:
    h = Hooks(api, srv)
    yield h
    await h.close()
