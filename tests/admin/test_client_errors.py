"""Client error reports over a real server: browsers report uncaught errors signed in or
not (a stale token files the report anonymously), bounded in size, refused when
malformed, limited per user and per address (429 with Retry-After); administrators
with devtools.view list them newest first with filters and paging."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.harness import Api, ServerProcess

REPORT = "/api/v1/client-errors"
LIST = "/api/admin/v1/client-errors"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("cerr") / "data")
    srv.start()
    yield srv
    if srv.running:
        srv.stop()


@pytest.fixture(scope="module")
def admin_name(server: ServerProcess) -> str:
    name = f"cadm{uuid.uuid4().hex[:6]}"
    server.create_admin(name)
    return name


@pytest.fixture
async def admin(api: Api, server: ServerProcess, admin_name: str) -> str:
    status, body = await api.login(server, admin_name)
    assert status == 200, body
    return str(body["access_token"])


def report(message: str, **fields: Any) -> dict[str, Any]:
    return {
        "app": "web",
        "message": message,
        "stack": f"Error: {message}\n    at f (/web/app/x.js:1:2)",
        "url": "http://127.0.0.1/#/chat",
        "version": "0.9.0",
        **fields,
    }


async def post(
    api: Api, server: ServerProcess, body: Any, token: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    h = {"Authorization": f"Bearer {token}"} if token else {}
    h.update(headers or {})
    async with api.session.post(server.base_url + REPORT, json=body, headers=h) as resp:
        return resp.status, await resp.json(), dict(resp.headers)


async def test_reported_signed_in_or_not_and_listed(api: Api, server: ServerProcess, admin: str) -> None:
    acc = await api.account(server, "ce")
    tag = uuid.uuid4().hex[:8]
    status, body, _ = await post(
        api, server, report(f"TypeError {tag} one"), acc.access_token, {"User-Agent": "TestAgent/1"}
    )
    assert status == 202 and isinstance(body["id"], int), body
    status, body, _ = await post(api, server, report(f"login page {tag} two", app="admin", user_agent="Given/2"))
    assert status == 202, body
    status, body, _ = await post(api, server, report(f"stale {tag} three"), "not-a-valid-token")
    assert status == 202, body  # filed, anonymously

    status, body = await api.call(server, "GET", f"{LIST}?q={tag}", token=admin)
    assert status == 200 and body["total"] == 3, body
    three, two, one = body["errors"]  # newest first
    assert one["message"] == f"TypeError {tag} one" and one["user_id"] == acc.user_id and one["app"] == "web"
    assert one["user_agent"] == "TestAgent/1" and one["version"] == "0.9.0" and one["ip"] == "127.0.0.1"
    assert one["stack"].startswith("Error: TypeError") and one["url"] == "http://127.0.0.1/#/chat"
    assert two["user_id"] is None and two["app"] == "admin" and two["user_agent"] == "Given/2"
    assert three["user_id"] is None and one["ts"] <= two["ts"] <= three["ts"]

    async def ids(query: str) -> list[int]:
        status, body = await api.call(server, "GET", f"{LIST}?q={tag}&{query}", token=admin)
        assert status == 200, body
        return [e["id"] for e in body["errors"]]

    assert await ids("app=admin") == [two["id"]]
    assert await ids(f"user_id={acc.user_id}") == [one["id"]]
    assert await ids("limit=1&offset=1") == [two["id"]]
    assert await ids(f"from={two['ts']}&to={three['ts'] + 1}") == [three["id"], two["id"]]
    status, body = await api.call(server, "GET", f"{LIST}?q=nothing-like-{tag}", token=admin)
    assert status == 200 and body == {"errors": [], "total": 0}
    status, body = await api.call(server, "GET", f"{LIST}?q={tag}&limit=1", token=admin)
    assert body["total"] == 3 and len(body["errors"]) == 1
    # only administrators with devtools.view list them
    status, body = await api.call(server, "GET", LIST, token=acc.access_token)
    assert status == 403, body
    status, body = await api.call(server, "GET", LIST)
    assert status == 401, body


async def test_bad_reports_are_refused(api: Api, server: ServerProcess, admin: str) -> None:
    bad: list[Any] = [
        {"app": "web"},  # no message
        report(""),
        report("x" * 2001),
        report("ok", stack="s" * 16_001),
        report("ok", url="u" * 2001),
        report("ok", version="v" * 65),
        report("ok", user_agent="a" * 513),
        report("ok", app="desktop"),
        report("ok", extra=1),
        {**report("ok"), "message": 123},
        report("nul \x00 inside"),
        [report("a list")],
        "just a string",
    ]
    for body_in in bad:
        status, body, _ = await post(api, server, body_in)
        assert status == 400 and body["error"]["code"] == "bad_request", (
            body_in if len(str(body_in)) < 200 else "big",
            body,
        )
    async with api.session.post(
        server.base_url + REPORT, data=b"{not json", headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
    # the biggest allowed report is taken whole
    status, body, _ = await post(
        api, server, report("m" * 2000, stack="s" * 16_000, url="u" * 2000, version="v" * 64, user_agent="a" * 512)
    )
    assert status == 202, body
    status, body = await api.call(server, "GET", f"{LIST}?q={'m' * 200}&limit=1", token=admin)
    assert body["errors"][0]["stack"] == "s" * 16_000
    for query in ("app=desktop", "limit=0", "limit=201", "from=-1", "q=" + "q" * 201, "user_id=a%00b"):
        status, body = await api.call(server, "GET", f"{LIST}?{query}", token=admin)
        assert status == 400, (query, body)


async def test_rate_limited_per_user_and_address(api: Api, spawn: Any) -> None:
    srv = spawn()
    users = [await api.account(srv, "rl") for _ in range(3)]
    statuses = [(await post(api, srv, report(f"u0 {i}"), users[0].access_token))[0] for i in range(22)]
    assert statuses[:20] == [202] * 20 and statuses[20:] == [429, 429], statuses
    status, body, headers = await post(api, srv, report("u0 again"), users[0].access_token)
    assert status == 429 and body["error"]["code"] == "rate_limited" and 1 <= int(headers["Retry-After"]) <= 60
    # anonymous reports: tighter, per address
    anon = [(await post(api, srv, report(f"anon {i}")))[0] for i in range(11)]
    assert anon == [202] * 10 + [429], anon
    # another user from the same address still may, up to the address's limit (60 a minute)
    more = [
        (await post(api, srv, report(f"u{1 + i // 20} {i}"), users[1 + i // 20].access_token))[0] for i in range(40)
    ]
    assert more[:30] == [202] * 30 and more[-1] == 429, more  # 20 + 10 + 30 = the address's 60


@pytest.fixture
def spawn(tmp_path: Any) -> Iterator[Any]:
    started: list[ServerProcess] = []

    def go() -> ServerProcess:
        srv = ServerProcess(tmp_path / f"data{len(started)}")
        srv.start()
        started.append(srv)
        return srv

    yield go
    for srv in started:
        if srv.running:
            srv.stop()


async def test_reports_are_concurrent_safe(api: Api, server: ServerProcess, admin: str) -> None:
    tag = uuid.uuid4().hex[:8]
    accs = [await api.account(server, "cc") for _ in range(5)]
    results = await asyncio.gather(
        *(post(api, server, report(f"burst {tag} {i}"), accs[i].access_token) for i in range(5))
    )
    assert [r[0] for r in results] == [202] * 5
    status, body = await api.call(server, "GET", f"{LIST}?q=burst {tag}", token=admin)
    assert status == 200 and body["total"] == 5
    assert len({e["id"] for e in body["errors"]}) == 5
