"""The server API's contract rows (PROTOCOL.md §4) over real HTTP and WebSocket, on SQLite
and PostgreSQL: user upsert, access tokens and single-use SSO tickets, presence,
messages sent as a user (delivered like a client's send), notifications pushed as
`evt notify` (to users and to departments); and `semot apikey create`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.hardening.ws_support import BACKENDS, assert_clean_log, run_backend
from tests.integration.harness import Account, Api, Clients, ServerProcess, direct_conv, unique
from tests.integration_api.support import A, admin, new_key, server_call


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    for srv in run_backend(request.param, tmp_path_factory.mktemp("srvapi") / "data"):
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


async def token_of(api: Api, server: ServerProcess, key: str, uid: str) -> Account:
    status, body, _ = await server_call(api, server, key, "POST", f"/users/{uid}/tokens", {"type": "access"})
    assert status == 200, body
    assert set(body) == {"access_token", "expires_in"} and body["expires_in"] > 0
    return Account(uid, "", body["access_token"], "")


async def test_contract_rows(server: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin(server, api)
    key = (await new_key(server, api, boss))["key"]
    a, b = unique("ea"), unique("eb")
    for uid in (a, b):
        status, body, _ = await server_call(api, server, key, "PUT", f"/users/{uid}", {"display_name": uid.upper()})
        assert (status, body) == (201, {"user_id": uid})

    alice, bob = await token_of(api, server, key, a), await token_of(api, server, key, b)
    status, me = await api.call(server, "GET", "/api/v1/me", token=alice.access_token)
    assert status == 200 and me["user_id"] == a and me["display_name"] == a.upper()

    status, body, _ = await server_call(api, server, key, "GET", f"/users/{b}/presence")
    assert (status, body) == (200, {"user_id": b, "status": "offline"})
    wb = await clients.connect(server, bob)
    status, body, _ = await server_call(api, server, key, "GET", f"/users/{b}/presence")
    assert (status, body) == (200, {"user_id": b, "status": "online"})

    # a message sent as alice reaches bob like any other; a retry with the cid is the same message
    send = {"from": a, "to": b, "kind": "text", "body": {"text": "from the ERP"}, "cid": "erp-1"}
    status, sent, _ = await server_call(api, server, key, "POST", "/messages", send)
    assert status == 200 and set(sent) == {"conv", "seq", "mid", "ts"} and sent["conv"] == direct_conv(a, b)
    msg = await wb.wait_for(lambda f: f.get("t") == "msg" and f.get("mid") == sent["mid"])
    assert msg["from"] == a and msg["body"] == {"text": "from the ERP"}
    status, again, _ = await server_call(api, server, key, "POST", "/messages", send)
    assert (status, again) == (200, sent)
    # the send path's checks apply: a bad body, nobody as the sender
    status, body, _ = await server_call(api, server, key, "POST", "/messages", {**send, "body": {}, "cid": "x"})
    assert status == 400, body
    status, body, _ = await server_call(api, server, key, "POST", "/messages", {**send, "from": unique("nobody")})
    assert status == 404, body

    status, body, _ = await server_call(api, server, key, "POST", "/notifications",
                                        {"users": [b], "data": {"kind": "invoice", "n": 7}})
    assert (status, body) == (200, {})
    evt = await wb.wait_for(lambda f: f.get("evt") == "notify")
    assert evt == {"t": "evt", "evt": "notify", "data": {"kind": "invoice", "n": 7}}

    # disabled through the upsert: no more tokens
    status, body, _ = await server_call(api, server, key, "PUT", f"/users/{a}", {"disabled": True})
    assert (status, body) == (200, {"user_id": a})
    status, body, _ = await server_call(api, server, key, "POST", f"/users/{a}/tokens", {"type": "access"})
    assert status == 403, body


async def test_sso_ticket_works_once(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    key = (await new_key(server, api, boss))["key"]
    uid = unique("sso")
    status, _, _ = await server_call(api, server, key, "PUT", f"/users/{uid}", {})
    assert status == 201
    status, body, _ = await server_call(api, server, key, "POST", f"/users/{uid}/tokens", {"type": "sso_ticket"})
    assert status == 200 and body["expires_in"] == 60
    assert body["url"] == f"{server.base_url}/#/sso?ticket={body['ticket']}"
    status, tokens = await api.call(server, "POST", "/api/v1/auth/sso", {"ticket": body["ticket"]})
    assert status == 200 and tokens["user_id"] == uid and tokens["access_token"] and tokens["refresh_token"]
    status, again = await api.call(server, "POST", "/api/v1/auth/sso", {"ticket": body["ticket"]})
    assert status == 401 and again["error"]["code"] == "unauthorized"
    for _ in range(50):  # the login log is written within a second
        status, logs = await api.call(server, "GET", f"{A}/login-logs?user_id={uid}", token=boss.access_token)
        if status != 200 or logs["logs"]:
            break
        await asyncio.sleep(0.1)
    assert status == 200 and [(e["method"], e["ok"]) for e in logs["logs"]] == [("sso", True)]


def test_cli_apikey_create(server: ServerProcess) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "semot", "apikey", "create", "--name", "erp", "--allow-ip", "127.0.0.1/32",
         "--allow-ip", "::1/128", "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, env=server._environ(), timeout=60,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("sk_")

    async def use() -> int:
        async with aiohttp.ClientSession() as session:
            status, _, _ = await server_call(Api(session), server, key, "PUT", f"/users/{unique('cli')}", {})
            return status

    assert asyncio.run(use()) == 201
