"""Identity tokens of the custom pages (apps) over real HTTP (docs/apps.md): the signed-in
user asks for a token for a configured page, the page's backend verifies it with the
server API (and both Python SDK clients), and every way of misusing it is refused: a page
that is not configured, another page's audience, a forged or tampered token, an access
token passed off as one (and the other way round), a key without the scope, a disabled
account, an expired token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import jwt
import pytest

from semot.server import AsyncServerClient, ServerAPIError, ServerClient
from semot.services.app_identity import AppIdentity
from semot.storage.memory import memory_storage
from tests.hardening.ws_support import assert_clean_log, run_backend
from tests.integration.harness import Api, ServerProcess, unique
from tests.integration_api.support import A, admin, new_key, server_call

PAGE = "http://127.0.0.1:9/approval/?from=semot"
ORIGIN = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    for srv in run_backend("sqlite", tmp_path_factory.mktemp("apps") / "data"):
        yield srv
        assert_clean_log(srv)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session)


async def test_identity_token_round_trip(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    key = (await new_key(server, api, boss))["key"]
    narrow = (await new_key(server, api, boss, scopes=["messages"]))["key"]
    pages = [{"title": "审批", "url": PAGE, "open": "tab"},
             {"title": "Portal", "url": "https://portal.example.com/", "open": "window"}]
    status, body = await api.call(server, "PUT", f"{A}/client-config", {"pages": pages}, token=boss.access_token)
    assert status == 200, body
    status, dept = await api.call(server, "POST", f"{A}/departments", {"name": unique("人事部")}, token=boss.access_token)
    assert status == 201, dept
    uid = unique("app")
    status, body, _ = await server_call(api, server, key, "PUT", f"/users/{uid}",
                                        {"display_name": "张伟", "department_id": dept["department_id"], "title": "经理"})
    assert status == 201, body
    status, tok, _ = await server_call(api, server, key, "POST", f"/users/{uid}/tokens", {"type": "access"})
    access = tok["access_token"]

    # the user asks for a token for the configured page: its audience is the page's origin
    status, issued = await api.call(server, "POST", "/api/v1/apps/identity-token", {"url": PAGE}, token=access)
    assert status == 200, issued
    assert issued["audience"] == ORIGIN and issued["expires_in"] == 300
    token = issued["token"]
    # ... not for a page nobody configured, nor one that opens in a window (no bridge there), nor anonymously
    for url in ("http://127.0.0.1:9/other", "https://portal.example.com/"):
        status, body = await api.call(server, "POST", "/api/v1/apps/identity-token", {"url": url}, token=access)
        assert (status, body["error"]["code"]) == (404, "not_found"), body
    status, body = await api.call(server, "POST", "/api/v1/apps/identity-token", {"url": PAGE})
    assert status == 401, body
    status, body = await api.call(server, "POST", "/api/v1/apps/identity-token", {"url": 5}, token=access)
    assert status == 400, body

    # the page's backend verifies it with its key and its own origin
    status, who, _ = await server_call(api, server, key, "POST", "/apps/verify-identity",
                                       {"token": token, "audience": ORIGIN + "/"})
    assert status == 200, who
    assert (who["user_id"], who["username"], who["display_name"], who["audience"]) == (uid, uid, "张伟", ORIGIN)
    assert who["departments"] == [{"department_id": dept["department_id"], "name": dept["name"], "title": "经理"}]
    assert who["expires_at"] - who["issued_at"] == 300
    # the SDK, blocking and asyncio
    sync = ServerClient(server.base_url, key)
    assert (await asyncio.to_thread(sync.verify_identity, token, ORIGIN))["user_id"] == uid
    async with AsyncServerClient(server.base_url, key) as srv:
        assert (await srv.verify_identity(token, ORIGIN))["display_name"] == "张伟"
        with pytest.raises(ServerAPIError) as err:
            await srv.verify_identity(token, "https://evil.example.com")
        assert (err.value.status, err.value.code) == (401, "unauthorized")

    # refused: another page's audience, a tampered token, an access token, a bad audience, no key, no scope
    head, claims, sig = token.split(".")
    tampered = f"{head}.{claims[:-2]}{'A' if claims[-2] != 'A' else 'B'}{claims[-1]}.{sig}"
    for bad, audience in ((token, "http://127.0.0.1:10"), (tampered, ORIGIN), (access, ORIGIN), ("x.y.z", ORIGIN)):
        status, body, _ = await server_call(api, server, key, "POST", "/apps/verify-identity",
                                            {"token": bad, "audience": audience})
        assert (status, body["error"]["code"]) == (401, "unauthorized"), body
    status, body, _ = await server_call(api, server, key, "POST", "/apps/verify-identity",
                                        {"token": token, "audience": "127.0.0.1:9/path"})
    assert status == 400, body
    status, body, _ = await server_call(api, server, None, "POST", "/apps/verify-identity",
                                        {"token": token, "audience": ORIGIN})
    assert status == 401, body
    status, body, _ = await server_call(api, server, narrow, "POST", "/apps/verify-identity",
                                        {"token": token, "audience": ORIGIN})
    assert status == 403, body
    # the identity token is no access token
    status, body = await api.call(server, "GET", "/api/v1/me", token=token)
    assert status == 401, body

    # a disabled account's token stops working at once
    status, body, _ = await server_call(api, server, key, "PUT", f"/users/{uid}", {"disabled": True})
    assert status == 200, body
    status, body, _ = await server_call(api, server, key, "POST", "/apps/verify-identity",
                                        {"token": token, "audience": ORIGIN})
    assert (status, body["error"]["code"]) == (403, "forbidden"), body


async def test_expired_and_foreign_tokens_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service itself: a token past its lifetime, and one signed with another secret."""
    from semot.domain.records import User

    storage = memory_storage()
    await storage.users.create_user(User("u1", "u1", "U One", ""))
    svc = AppIdentity(storage, "secret-one-" * 4, ttl_s=30)
    issued = await svc.issue("u1", ORIGIN)
    assert (await svc.verify(issued.token, ORIGIN))["user_id"] == "u1"
    real = time.time
    monkeypatch.setattr("semot.services.app_identity.time.time", lambda: real() - 3600)
    old = await svc.issue("u1", ORIGIN)
    monkeypatch.undo()
    with pytest.raises(Exception, match="expired"):
        await svc.verify(old.token, ORIGIN)
    other = AppIdentity(storage, "secret-two-" * 4)
    with pytest.raises(Exception, match="invalid identity token"):
        await other.verify(issued.token, ORIGIN)
    # signed with the server secret itself (as access tokens are): still not an identity token
    forged = jwt.encode({**jwt.decode(issued.token, options={"verify_signature": False})}, "secret-one-" * 4, "HS256")
    with pytest.raises(Exception, match="invalid identity token"):
        await svc.verify(forged, ORIGIN)


async def test_default_ports_name_the_same_origin(server: ServerProcess, api: Api) -> None:
    """A page configured with its scheme's default port (https://x:443/) and its backend
    naming itself without it (as a browser writes the origin) agree on the audience."""
    boss = await admin(server, api)
    key = (await new_key(server, api, boss))["key"]
    pages = [{"title": "Portal", "url": "https://portal.example.com:443/app", "open": "tab"},
             {"title": "Old", "url": "http://old.example.com:80/", "open": "tab"},
             {"title": "Odd", "url": "https://odd.example.com:8443/", "open": "tab"}]
    status, body = await api.call(server, "PUT", f"{A}/client-config", {"pages": pages}, token=boss.access_token)
    assert status == 200, body
    uid = unique("port")
    await server_call(api, server, key, "PUT", f"/users/{uid}", {"display_name": "Port"})
    _, tok, _ = await server_call(api, server, key, "POST", f"/users/{uid}/tokens", {"type": "access"})
    cases = (("https://portal.example.com:443/app", "https://portal.example.com",
              ("https://portal.example.com", "https://portal.example.com:443")),
             ("http://old.example.com:80/", "http://old.example.com", ("http://old.example.com", "http://old.example.com:80")),
             ("https://odd.example.com:8443/", "https://odd.example.com:8443", ("https://odd.example.com:8443",)))
    for url, audience, names in cases:
        status, issued = await api.call(server, "POST", "/api/v1/apps/identity-token", {"url": url},
                                        token=tok["access_token"])
        assert status == 200 and issued["audience"] == audience, issued
        for name in names:
            status, who, _ = await server_call(api, server, key, "POST", "/apps/verify-identity",
                                               {"token": issued["token"], "audience": name})
            assert status == 200 and who["user_id"] == uid, (name, who)
    # another port is another origin
    status, body, _ = await server_call(api, server, key, "POST", "/apps/verify-identity",
                                        {"token": issued["token"], "audience": "https://odd.example.com"})
    assert status == 401, body
