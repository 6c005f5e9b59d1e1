"""Server API keys over real HTTP (PROTOCOL.md §4, docs/integration.md), on SQLite and
PostgreSQL: created by the admin API (shown once, stored hashed), listed, revoked;
401 for a bad, revoked or expired key; 403 outside the allowlist (IPv4 and IPv6, the
address through a trusted proxy's X-Forwarded-For) or without the route's scope; 429
over the key's rate; every call in the call log, with its filters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.hardening.ws_support import BACKENDS, assert_clean_log, run_backend
from tests.integration.harness import Api, ServerProcess, unique
from tests.integration_api.support import A, admin, new_key, server_call


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_TRUSTED_PROXIES": "127.0.0.1"}  # the tests' X-Forwarded-For names the client
    for srv in run_backend(request.param, tmp_path_factory.mktemp("apikeys") / "data", env):
        yield srv
        assert_clean_log(srv)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session)


async def test_key_lifecycle_and_call_log(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    made = await new_key(server, api, boss)
    key, key_id = made["key"], made["key_id"]
    assert made["scopes"] == ["users", "messages", "notifications", "groups", "org"] and made["allow_ips"] == []

    status, listed = await api.call(server, "GET", f"{A}/api-keys", token=boss.access_token)
    assert status == 200
    mine = next(k for k in listed["keys"] if k["key_id"] == key_id)
    assert "key" not in mine and key.startswith(mine["prefix"]) and mine["revoked_at"] is None

    uid = unique("ext")
    status, body, _ = await server_call(api, server, key, "PUT", f"/users/{uid}", {"display_name": "Ext One"})
    assert (status, body) == (201, {"user_id": uid})
    status, body, _ = await server_call(api, server, key, "PUT", f"/users/{uid}", {"display_name": "Ext Two"})
    assert (status, body) == (200, {"user_id": uid})

    # a wrong key, a key that is not one, no key: 401
    for bad in (key[:-2] + "xx", "not-a-key", None):
        status, body, _ = await server_call(api, server, bad, "GET", f"/users/{uid}/presence")
        assert status == 401 and body["error"]["code"] == "unauthorized", body
    # an access token of a user is not a server key
    status, _, _ = await server_call(api, server, boss.access_token, "GET", f"/users/{uid}/presence")
    assert status == 401

    status, body = await api.call(server, "DELETE", f"{A}/api-keys/{key_id}", token=boss.access_token)
    assert (status, body) == (200, {"status": "revoked"})
    for method, change in (("DELETE", None), ("PATCH", {"name": "again"})):  # revoked for good: no more changes
        status, body = await api.call(server, method, f"{A}/api-keys/{key_id}", change, token=boss.access_token)
        assert status == 404 and body["error"]["code"] == "not_found", body
    status, body, _ = await server_call(api, server, key, "GET", f"/users/{uid}/presence")
    assert status == 401, body

    status, log = await api.call(server, "GET", f"{A}/api-calls?key_id={key_id}", token=boss.access_token)
    assert status == 200
    assert log["total"] == 2 and [c["status"] for c in log["calls"]] == [200, 201]  # newest first
    call = log["calls"][1]
    assert call["key_id"] == key_id and call["method"] == "PUT" and call["path"] == f"/api/server/v1/users/{uid}"
    assert call["ip"] == "127.0.0.1" and call["duration_ms"] >= 0 and abs(call["ts"] - time.time() * 1000) < 60_000
    status, log = await api.call(server, "GET", f"{A}/api-calls?status=401&path=/api/server/v1/users/{uid}/",
                                 token=boss.access_token)
    assert status == 200 and log["total"] == 5 and all(c["key_id"] is None for c in log["calls"])

    status, audit = await api.call(server, "GET", f"{A}/audit-log?target={key_id}", token=boss.access_token)
    assert status == 200, audit
    assert {e["action"] for e in audit["entries"]} >= {"api_key.create", "api_key.revoke"}


async def test_allowlist_v4_and_v6(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    v4 = (await new_key(server, api, boss, allow_ips=["10.0.0.0/8"]))["key"]
    v6 = (await new_key(server, api, boss, allow_ips=["2001:db8::/32"]))["key"]
    local = (await new_key(server, api, boss, allow_ips=["127.0.0.1/32", "::1"]))["key"]
    uid = unique("ip")
    path = f"/users/{uid}"

    status, body, _ = await server_call(api, server, v4, "PUT", path, {})
    assert status == 403 and body["error"]["code"] == "forbidden"  # from 127.0.0.1
    status, _, _ = await server_call(api, server, v4, "PUT", path, {}, {"X-Forwarded-For": "10.20.30.40"})
    assert status == 201
    status, _, _ = await server_call(api, server, v4, "PUT", path, {}, {"X-Forwarded-For": "11.0.0.1"})
    assert status == 403
    status, _, _ = await server_call(api, server, v6, "PUT", path, {}, {"X-Forwarded-For": "2001:db8:1::7"})
    assert status == 200
    status, _, _ = await server_call(api, server, v6, "PUT", path, {}, {"X-Forwarded-For": "2001:db9::1"})
    assert status == 403
    status, _, _ = await server_call(api, server, v6, "PUT", path, {})
    assert status == 403
    status, _, _ = await server_call(api, server, local, "PUT", path, {})
    assert status == 200

    status, body = await api.call(server, "POST", f"{A}/api-keys", {"name": "bad", "allow_ips": ["10.0.0.0/33"]},
                                  token=boss.access_token)
    assert status == 400 and "allow_ips" in body["error"]["message"]


async def test_scopes_rate_and_expiry(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    users_only = await new_key(server, api, boss, scopes=["users"], rate_per_min=3)
    uid = unique("sc")
    status, _, _ = await server_call(api, server, users_only["key"], "PUT", f"/users/{uid}", {})
    assert status == 201
    status, body, _ = await server_call(api, server, users_only["key"], "POST", "/notifications",
                                        {"users": [uid], "data": {"x": 1}})
    assert status == 403 and "scope" in body["error"]["message"]
    for _ in range(2):  # the second and third calls within the minute (the 403 counted none)
        status, _, _ = await server_call(api, server, users_only["key"], "GET", f"/users/{uid}/presence")
        assert status == 200
    status, body, headers = await server_call(api, server, users_only["key"], "GET", f"/users/{uid}/presence")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert 1 <= int(headers["Retry-After"]) <= 60

    soon = await new_key(server, api, boss, expires_at=int(time.time() * 1000) + 1500)
    status, _, _ = await server_call(api, server, soon["key"], "GET", f"/users/{uid}/presence")
    assert status == 200
    await asyncio.sleep(1.6)
    status, body, _ = await server_call(api, server, soon["key"], "GET", f"/users/{uid}/presence")
    assert status == 401, body

    # PATCH: a new scope takes effect at once on this node; revoked: true revokes
    status, body = await api.call(server, "PATCH", f"{A}/api-keys/{users_only['key_id']}",
                                  {"scopes": ["users", "notifications"], "rate_per_min": 0}, token=boss.access_token)
    assert status == 200 and body["scopes"] == ["users", "notifications"]
    status, _, _ = await server_call(api, server, users_only["key"], "POST", "/notifications",
                                     {"users": [uid], "data": {"x": 1}})
    assert status == 200
    status, body = await api.call(server, "PATCH", f"{A}/api-keys/{users_only['key_id']}", {"revoked": True},
                                  token=boss.access_token)
    assert status == 200 and body["revoked_at"]
    status, _, _ = await server_call(api, server, users_only["key"], "GET", f"/users/{uid}/presence")
    assert status == 401


async def test_key_routes_need_the_permissions(server: ServerProcess, api: Api) -> None:
    plain = await api.account(server, "plain")
    for method, path in (("GET", f"{A}/api-keys"), ("GET", f"{A}/api-calls")):
        status, _ = await api.call(server, method, path, token=plain.access_token)
        assert status == 403
    status, _ = await api.call(server, "POST", f"{A}/api-keys", {"name": "x"}, token=plain.access_token)
    assert status == 403
