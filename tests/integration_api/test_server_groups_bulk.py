"""The server API's bulk user upsert and group endpoints (docs/integration.md) over real HTTP
and WebSocket on SQLite and PostgreSQL, and the Python server SDK (semot.server), blocking
and asyncio, against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from semot.server import AsyncServerClient, ServerAPIError, ServerClient
from tests.hardening.ws_support import BACKENDS, assert_clean_log, run_backend
from tests.integration.harness import Account, Api, Clients, ServerProcess, unique
from tests.integration_api.support import admin, new_key, server_call


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    for srv in run_backend(request.param, tmp_path_factory.mktemp("srvgrp") / "data"):
        yield srv
        assert_clean_log(srv)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session)


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    c = Clients()
    yield c
    await c.close_all()


async def test_bulk_upsert(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    key = (await new_key(server, api, boss))["key"]
    a, b, c = unique("ba"), unique("bb"), unique("bc")
    status, body, _ = await server_call(api, server, key, "PUT", f"/users/{a}", {"display_name": "A"})
    assert status == 201
    items = [
        {"user_id": a, "display_name": "A"},  # as it is
        {"user_id": b, "display_name": "Bee", "title": "x"},
        {"user_id": c, "department_id": unique("nodept")},  # unknown department: this item fails alone
    ]
    status, body, _ = await server_call(api, server, key, "POST", "/users:bulk", {"users": items})
    assert status == 200, body
    assert [(r["user_id"], r["status"]) for r in body["results"]] == [(a, "unchanged"), (b, "created"), (c, "error")]
    assert body["results"][2]["code"] == "not_found" and body["results"][2]["message"]
    # again: idempotent; a change is an update; disabled on create
    items = [{"user_id": a, "display_name": "A2"}, {"user_id": b, "display_name": "Bee"}, {"user_id": c, "disabled": True}]
    status, body, _ = await server_call(api, server, key, "POST", "/users:bulk", {"users": items})
    assert [r["status"] for r in body["results"]] == ["updated", "unchanged", "created"], body
    status, body, _ = await server_call(api, server, key, "POST", f"/users/{c}/tokens", {})
    assert status == 403, body
    status, body, _ = await server_call(api, server, key, "PUT", f"/users/{a}", {"display_name": "A2"})
    assert (status, body) == (200, {"user_id": a})
    # the literal path is not taken for a user id, and the body is checked
    status, body, _ = await server_call(api, server, key, "GET", "/users:bulk/presence")
    assert status == 404
    status, body, _ = await server_call(api, server, key, "POST", "/users:bulk", {"users": []})
    assert status == 400 and body["error"]["code"] == "bad_request"
    too_many = [{"user_id": f"u{i}x"} for i in range(1001)]
    status, body, _ = await server_call(api, server, key, "POST", "/users:bulk", {"users": too_many})
    assert status == 400
    # the scope is needed
    narrow = (await new_key(server, api, boss, scopes=["messages"]))["key"]
    status, body, _ = await server_call(api, server, narrow, "POST", "/users:bulk", {"users": [{"user_id": a}]})
    assert status == 403


async def test_groups(server: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin(server, api)
    key = (await new_key(server, api, boss))["key"]
    o, m1, m2 = unique("go"), unique("gm"), unique("gn")
    for uid in (o, m1, m2):
        status, _, _ = await server_call(api, server, key, "PUT", f"/users/{uid}", {})
        assert status == 201
    status, tok, _ = await server_call(api, server, key, "POST", f"/users/{m2}/tokens", {})
    ws2 = await clients.connect(server, Account(m2, "", tok["access_token"], ""))

    gid = unique("erpgrp")
    status, body, _ = await server_call(api, server, key, "POST", "/groups",
                                        {"owner": o, "name": "Project X", "members": [m1], "group_id": gid})
    assert (status, body) == (201, {"group_id": gid, "conv": f"g:{gid}", "skipped": []})
    status, body, _ = await server_call(api, server, key, "POST", "/groups", {"owner": o, "name": "Y", "group_id": gid})
    assert status == 409, body
    status, body, _ = await server_call(api, server, key, "POST", "/groups", {"owner": unique("nobody"), "name": "Y"})
    assert status == 404, body

    status, body, _ = await server_call(api, server, key, "POST", f"/groups/{gid}/members", {"users": [m2, m1]})
    assert (status, body) == (200, {"added": [m2]})
    evt = await ws2.wait_for(lambda f: f.get("evt") == "group" and f["change"]["type"] == "members_added")
    assert evt["group_id"] == gid and evt["change"]["by"] == o and evt["change"]["users"] == [m2]

    status, body, _ = await server_call(api, server, key, "DELETE", f"/groups/{gid}/members/{m1}")
    assert (status, body) == (200, {})
    evt = await ws2.wait_for(lambda f: f.get("evt") == "group" and f["change"]["type"] == "member_removed")
    assert evt["change"]["user"] == m1 and evt["change"]["by"] == o
    status, body, _ = await server_call(api, server, key, "DELETE", f"/groups/{gid}/members/{o}")
    assert status == 403, body  # never the owner
    status, body, _ = await server_call(api, server, key, "DELETE", f"/groups/{gid}/members/{m1}")
    assert status == 404, body  # no longer a member

    status, body, _ = await server_call(api, server, key, "DELETE", f"/groups/{gid}")
    assert (status, body) == (200, {})
    await ws2.wait_for(lambda f: f.get("evt") == "group" and f["change"]["type"] == "dismissed")
    status, body, _ = await server_call(api, server, key, "DELETE", f"/groups/{gid}")
    assert status == 409, body
    status, body, _ = await server_call(api, server, key, "DELETE", f"/groups/{unique('nogrp')}")
    assert status == 404, body


def test_sync_sdk(server: ServerProcess) -> None:
    async def make_key() -> str:
        async with aiohttp.ClientSession() as session:
            a = Api(session)
            return str((await new_key(server, a, await admin(server, a)))["key"])

    srv = ServerClient(server.base_url, asyncio.run(make_key()))
    u, v = unique("sa"), unique("sb")
    assert srv.upsert_user(u, display_name="U") is True
    assert srv.upsert_user(u, display_name="U") is False
    assert [r["status"] for r in srv.bulk_upsert_users([{"user_id": u}, {"user_id": v}])] == ["unchanged", "created"]
    assert srv.token(u)["access_token"]
    assert srv.sso_ticket(u)["url"].startswith(server.base_url)
    assert srv.presence(u) == "offline"
    sent = srv.send_message(u, v, "text", {"text": "hi"}, cid="c1")
    assert sent["conv"] and sent["seq"] >= 1
    srv.notify({"x": 1}, users=[v])
    g = srv.create_group(u, "SDK group", [v])
    w = unique("sc")
    srv.upsert_user(w)
    assert srv.add_members(g["group_id"], [w]) == [w]
    srv.remove_member(g["group_id"], w)
    srv.dismiss_group(g["group_id"])
    with pytest.raises(ServerAPIError) as err:
        srv.presence(unique("nobody"))
    assert (err.value.status, err.value.code) == (404, "not_found")
    with pytest.raises(ServerAPIError) as err:
        ServerClient(server.base_url, "sk_wrong").presence(u)
    assert err.value.status == 401


async def test_async_sdk(server: ServerProcess, api: Api) -> None:
    key = (await new_key(server, api, await admin(server, api)))["key"]
    async with AsyncServerClient(server.base_url, key) as srv:
        u, v = unique("aa"), unique("ab")
        assert await srv.upsert_user(u) is True
        assert [r["status"] for r in await srv.bulk_upsert_users([{"user_id": v, "display_name": "V"}])] == ["created"]
        assert (await srv.token(v))["expires_in"] > 0
        assert (await srv.sso_ticket(v))["ticket"]
        assert await srv.presence(v) == "offline"
        assert (await srv.send_message(u, v, "text", {"text": "yo"}))["mid"]
        await srv.notify({"n": 1}, users=[u])
        g = await srv.create_group(u, "Async group", group_id=unique("ag"))
        assert await srv.add_members(g["group_id"], [v]) == [v]
        await srv.remove_member(g["group_id"], v)
        await srv.dismiss_group(g["group_id"])
        with pytest.raises(ServerAPIError) as err:
            await srv.dismiss_group(g["group_id"])
        assert (err.value.status, err.value.code) == (409, "conflict")
