"""Sensitive words across two nodes sharing PostgreSQL and Redis: a word added or deleted
on one node is enforced by the other within moments (its automaton is rebuilt on the
bus message), and a hit on one node appears in the other node's live feed."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis

from tests.integration.harness import Account, Api, Clients, ServerProcess, eventually, unique

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEMOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
A = "/api/admin/v1"


async def _reachable() -> str | None:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        await conn.close()
        r = aioredis.from_url(REDIS_URL)
        await r.ping()
        await r.aclose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    problem = asyncio.run(_reachable())
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL/Redis unreachable in CI: {problem}")
        pytest.skip(f"PostgreSQL/Redis unreachable: {problem}")
    schema = f"semot_sens_{uuid.uuid4().hex[:10]}"
    env = {
        "SEMOT_DATABASE_URL": PG_URL, "SEMOT_DATABASE_SCHEMA": schema, "SEMOT_REDIS_URL": REDIS_URL,
        "SEMOT_REDIS_NAMESPACE": schema, "SEMOT_SECRET_KEY": secrets.token_urlsafe(40),
        "SEMOT_RATE_PER_S": "1000", "SEMOT_RATE_BURST": "1000",
    }
    root = tmp_path_factory.mktemp("sens-cluster")
    a, b = ServerProcess(root / "a", env), ServerProcess(root / "b", env)
    a.start()  # one after the other: the first one migrates
    b.start()
    try:
        yield a, b
    finally:
        for n in (a, b):
            if n.running:
                n.stop()

        async def drop() -> None:
            conn = await asyncpg.connect(PG_URL)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()

        asyncio.run(drop())


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session)


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    c = Clients()
    yield c
    await c.close_all()


async def test_reload_across_nodes(nodes: tuple[ServerProcess, ServerProcess], api: Api, clients: Clients) -> None:
    a, b = nodes
    name = unique("adm")
    await asyncio.to_thread(a.create_admin, name)
    status, body = await api.login(a, name)
    assert status == 200, body
    adm = Account(body["user_id"], "", body["access_token"], body["refresh_token"])
    status, body = await api.login(b, name)
    adm_b = Account(body["user_id"], "", body["access_token"], body["refresh_token"])
    alice, bob = await api.accounts(a, 2)
    ws = await clients.connect(b, alice)  # sends go through node B
    blk = f"xblk{uuid.uuid4().hex[:8]}"
    assert (await ws.send_text(bob.user_id, f"{blk} before"))["seq"] == 1

    status, body = await api.call(a, "POST", f"{A}/sensitive-words", {"word": blk, "level": "block"}, token=adm.access_token)
    assert status == 201, body
    word_id = body["word_id"]

    async def refused() -> bool:
        reply = await ws.request("send", to=bob.user_id, kind="text", body={"text": f"now {blk.upper()}"}, cid=uuid.uuid4().hex)
        return not reply["ok"] and reply["error"]["code"] == "blocked"

    await eventually(refused, 5, "node B blocks the word added on node A")
    # node B's hit reaches node A's live feed (through the bus)
    async def seen_on_a() -> bool:
        status, body = await api.call(a, "GET", f"{A}/sensitive-hits/live", token=adm.access_token)
        return status == 200 and any(h["word"] == blk and h["user_id"] == alice.user_id for h in body["hits"])

    await eventually(seen_on_a, 5, "node A's live feed shows node B's hit")
    # a display name changed on node A: refused by the new word too
    status, body = await api.call(b, "PATCH", "/api/v1/me", {"display_name": blk}, token=alice.access_token)
    assert status == 400 and body["error"]["code"] == "blocked"

    status, _ = await api.call(b, "DELETE", f"{A}/sensitive-words/{word_id}", token=adm_b.access_token)
    assert status == 204
    ws_a = await clients.connect(a, alice)

    async def allowed() -> bool:
        reply = await ws_a.request("send", to=bob.user_id, kind="text", body={"text": f"again {blk}"}, cid=uuid.uuid4().hex)
        return bool(reply["ok"])

    await eventually(allowed, 5, "node A allows the word deleted on node B")
