"""Shared by the auth hardening tests: real servers with abuse limits switched on, raw
HTTP calls that keep every response header (Retry-After, Set-Cookie), and a two-node
PostgreSQL + Redis pair for what must hold cluster-wide."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis
from multidict import CIMultiDictProxy

from tests.integration.harness import PASSWORD, ServerProcess, unique

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEMOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIMITS_ON = {"SEMOT_ABUSE_LIMITS": "true"}

__all__ = ["PASSWORD", "unique"]


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: Any

    @property
    def code(self) -> str | None:
        err = self.body.get("error") if isinstance(self.body, dict) else None
        return err.get("code") if err else None


async def call(
    session: aiohttp.ClientSession,
    server: ServerProcess,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    async with session.request(method, server.base_url + path, json=body, headers=h) as resp:
        data = await resp.json(content_type=None) if (await resp.read()) else None
        return Reply(resp.status, resp.headers, data)


async def login(
    session: aiohttp.ClientSession, server: ServerProcess, username: str, password: str = PASSWORD, **kw: Any
) -> Reply:
    return await call(session, server, "POST", "/api/v1/auth/login", {"username": username, "password": password}, **kw)


async def register(
    session: aiohttp.ClientSession, server: ServerProcess, username: str, password: str = PASSWORD, **kw: Any
) -> Reply:
    return await call(session, server, "POST", "/api/v1/auth/register", {"username": username, "password": password}, **kw)


def retry_after(reply: Reply) -> int:
    """The Retry-After of a 429 `rate_limited` reply (asserting its shape)."""
    assert reply.status == 429, (reply.status, reply.body)
    assert reply.code == "rate_limited", reply.body
    return int(reply.headers["Retry-After"])


@contextmanager
def servers(tmp_path: Path, *envs: dict[str, str]) -> Iterator[list[ServerProcess]]:
    """Start one server per env (each its own data dir), stopped afterwards."""
    started: list[ServerProcess] = []
    try:
        for i, env in enumerate(envs):
            srv = ServerProcess(tmp_path / f"node{i}", env)
            srv.start()
            started.append(srv)
        yield started
    finally:
        for srv in started:
            if srv.running:
                srv.stop()


def _run(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running loop (tests are async)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _pg_redis_problem() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        await conn.close()
        r = aioredis.from_url(REDIS_URL)
        await r.ping()
        await r.aclose()

    try:
        _run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def cluster(
    tmp_path: Path, extra: dict[str, str] | None = None, *, split_bus: bool = False
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two nodes on one PostgreSQL schema and one Redis namespace of their own; with
    `split_bus` each node gets its own namespace, so no bus message reaches the other."""
    problem = _pg_redis_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL/Redis unreachable in CI: {problem}")
        pytest.skip(f"PostgreSQL/Redis unreachable: {problem}")
    schema = f"semot_auth_{uuid.uuid4().hex[:10]}"
    env = {
        "SEMOT_DATABASE_URL": PG_URL,
        "SEMOT_DATABASE_SCHEMA": schema,
        "SEMOT_REDIS_URL": REDIS_URL,
        "SEMOT_REDIS_NAMESPACE": schema,
        "SEMOT_SECRET_KEY": secrets.token_urlsafe(40),
        **(extra or {}),
    }
    env_b = {**env, "SEMOT_REDIS_NAMESPACE": f"{schema}_b"} if split_bus else env
    nodes = (ServerProcess(tmp_path / "a", env), ServerProcess(tmp_path / "b", env_b))
    errors: list[BaseException] = []

    def start(node: ServerProcess) -> None:
        try:
            node.start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        if errors:
            raise errors[0]
        yield nodes
    finally:
        for n in nodes:
            if n.running:
                n.stop()

        async def drop() -> None:
            conn = await asyncpg.connect(PG_URL)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()
            r = aioredis.from_url(REDIS_URL)
            keys = [k async for k in r.scan_iter(f"{schema}*")]
            if keys:
                await r.delete(*keys)
            await r.aclose()

        _run(drop())
