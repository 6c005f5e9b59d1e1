"""Two `semot serve` nodes sharing the real PostgreSQL and Redis: one cluster.

    from tests.support.cluster import two_nodes

    @pytest.fixture(scope="module")
    def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
        with two_nodes(tmp_path_factory.mktemp("mine"), "mine", {"SEMOT_NODE_TIMEOUT_S": "2"}) as c:
            yield c.a, c.b

Each cluster has a PostgreSQL schema and a Redis namespace (keys and bus channel) of its
own, named `semot_<prefix>_<random>`, so clusters of parallel test workers (pytest-xdist)
never see each other's rows, keys or bus traffic; both are dropped afterwards (nothing is
ever flushed globally). Locally an unreachable PostgreSQL or Redis skips the test; with
CI=true it fails it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import pytest

from tests.support.server import ServerProcess

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEMOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Node(Protocol):
    """What two_nodes needs of a server class: tests.support.server.ServerProcess and
    tests.integration.harness.ServerProcess both are."""

    def start(self) -> Any: ...

    def kill(self) -> None: ...


N = TypeVar("N", bound=Node)


def _sync(coro: Any) -> Any:
    """Run a coroutine to its end from sync code, also inside a running event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _problem() -> str | None:
    import asyncpg
    import redis.asyncio as aioredis

    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        await conn.close()
        r = aioredis.from_url(REDIS_URL)
        try:
            await r.ping()
        finally:
            await r.aclose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def cluster_problem() -> str | None:
    """Why PostgreSQL + Redis cannot be used here, or None."""
    return _sync(_problem())  # type: ignore[no-any-return]


def require_cluster() -> None:
    """Skip the test (locally) or fail it (CI=true) without PostgreSQL and Redis."""
    problem = cluster_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL/Redis unreachable in CI: {problem}")
        pytest.skip(f"PostgreSQL/Redis unreachable: {problem}")


def cluster_env(prefix: str, extra: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """(name, env) for the nodes of a new cluster: a unique schema and Redis namespace."""
    name = f"semot_{prefix}_{uuid.uuid4().hex[:10]}"
    env = {
        "SEMOT_DATABASE_URL": PG_URL,
        "SEMOT_DATABASE_SCHEMA": name,
        "SEMOT_REDIS_URL": REDIS_URL,
        "SEMOT_REDIS_NAMESPACE": name,  # this cluster's own keys and bus channel
        "SEMOT_SECRET_KEY": secrets.token_urlsafe(40),
        **(extra or {}),
    }
    return name, env


async def _drop(name: str) -> None:
    import asyncpg
    import redis.asyncio as aioredis

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()
    r = aioredis.from_url(REDIS_URL)
    try:
        keys = [k async for k in r.scan_iter(f"{name}:*", count=500)]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


def drop_cluster_data(name: str) -> None:
    """Drop a cluster's PostgreSQL schema and its Redis keys (only those)."""
    _sync(_drop(name))


@dataclass
class Cluster(Generic[N]):
    a: N
    b: N
    name: str  # the PostgreSQL schema and the Redis namespace
    env: dict[str, str]


@contextmanager
def two_nodes(
    root: Path,
    prefix: str,
    extra_env: Mapping[str, str] | None = None,
    *,
    together: bool = False,
    server: Callable[[Path, dict[str, str]], N] = ServerProcess,  # type: ignore[assignment]
) -> Iterator[Cluster[N]]:
    """Start nodes `root/a` and `root/b` of a new cluster; kill them and drop its data
    afterwards. By default node a starts (and migrates the schema) before node b joins;
    `together=True` starts both at once (their migrations must not race)."""
    require_cluster()
    name, env = cluster_env(prefix, extra_env)
    a, b = server(root / "a", env), server(root / "b", env)
    try:
        if together:
            errors: list[BaseException] = []

            def start(node: N) -> None:
                try:
                    node.start()
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=start, args=(n,)) for n in (a, b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
        else:
            a.start()
            b.start()
        yield Cluster(a, b, name, env)
    finally:
        for node in (a, b):
            if getattr(node, "proc", None) is not None:
                node.kill()
        drop_cluster_data(name)
