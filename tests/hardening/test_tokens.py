"""Logins and their tokens (issue 8, §3 and §5), over real HTTP and WebSocket.

Before: logout left the access token valid until it expired; re-enabling a disabled
user revived its old access tokens; `CaseUser` and `caseuser` were two accounts; the
web client kept its 30-day refresh token in localStorage, in reach of any script.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command

from semot.storage.base import Storage
from semot.storage.sql.engine import make_engines
from semot.storage.sql.migrate import alembic_config
from semot.storage.sql.store import sql_storage
from tests.hardening.auth_support import (
    PASSWORD,
    Reply,
    call,
    cluster,
    login,
    register,
    servers,
    unique,
)
from tests.integration.harness import WS

pytestmark = pytest.mark.timeout(180)

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _signed_in(s: aiohttp.ClientSession, srv: Any, name: str | None = None) -> tuple[str, dict[str, Any]]:
    name = name or unique("t")
    assert (await register(s, srv, name)).status in (201, 409)
    r = await login(s, srv, name)
    assert r.status == 200, r.body
    return name, r.body


async def _socket(srv: Any, token: str, device: str) -> WS:
    ws = await WS.open(srv)
    await ws.call("auth", token=token, device={"id": device, "platform": "sdk"})
    return ws


async def _ws_auth_refused(srv: Any, token: str) -> None:
    ws = await WS.open(srv)
    try:
        reply = await ws.request("auth", token=token, device={"id": "late", "platform": "sdk"})
        assert reply["ok"] is False and reply["error"]["code"] == "unauthorized", reply
        assert await ws.wait_closed(5) == 4401
    finally:
        await ws.close()


async def test_logout_ends_the_login_on_http_and_websocket(tmp_path: Path) -> None:
    with servers(tmp_path, {}) as (srv,):
        async with aiohttp.ClientSession() as s:
            name, phone = await _signed_in(s, srv)
            laptop = (await login(s, srv, name)).body  # another login of the same user
            phone_ws = await _socket(srv, phone["access_token"], "phone")
            laptop_ws = await _socket(srv, laptop["access_token"], "laptop")
            try:
                out = await call(s, srv, "POST", "/api/v1/auth/logout", {"refresh_token": phone["refresh_token"]}, token=phone["access_token"])
                assert out.status == 200, out.body
                t = time.monotonic()
                assert await phone_ws.wait_closed(5) == 4401  # the open socket of that login
                assert time.monotonic() - t < 5
                me = await call(s, srv, "GET", "/api/v1/me", token=phone["access_token"])
                assert me.status == 401 and me.code == "unauthorized"
                await _ws_auth_refused(srv, phone["access_token"])
                refreshed = await call(s, srv, "POST", "/api/v1/auth/refresh", {"refresh_token": phone["refresh_token"]})
                assert refreshed.status == 401
                # the other login is untouched
                assert (await call(s, srv, "GET", "/api/v1/me", token=laptop["access_token"])).status == 200
                assert (await laptop_ws.call("ping"))["server_time"] > 0
                # logout without a refresh token ends the caller's own login
                bye = await call(s, srv, "POST", "/api/v1/auth/logout", {}, token=laptop["access_token"])
                assert bye.status == 200
                assert await laptop_ws.wait_closed(5) == 4401
                assert (await call(s, srv, "GET", "/api/v1/me", token=laptop["access_token"])).status == 401
            finally:
                await phone_ws.close()
                await laptop_ws.close()


async def test_a_refreshed_token_belongs_to_the_same_login(tmp_path: Path) -> None:
    with servers(tmp_path, {}) as (srv,):
        async with aiohttp.ClientSession() as s:
            _, first = await _signed_in(s, srv)
            second = (await call(s, srv, "POST", "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]})).body
            assert (await call(s, srv, "POST", "/api/v1/auth/logout", {}, token=second["access_token"])).status == 200
            for token in (first["access_token"], second["access_token"]):  # older and newer: one login
                assert (await call(s, srv, "GET", "/api/v1/me", token=token)).status == 401


async def test_disable_then_enable_revives_no_token(tmp_path: Path) -> None:
    with servers(tmp_path, {}) as (srv,):
        srv.create_admin("boss")
        async with aiohttp.ClientSession() as s:
            admin = (await login(s, srv, "boss")).body["access_token"]
            name, old = await _signed_in(s, srv)
            ws = await _socket(srv, old["access_token"], "d1")
            try:
                for disabled in (True, False):
                    r = await call(s, srv, "PATCH", f"/api/admin/v1/users/{name}", {"disabled": disabled}, token=admin)
                    assert r.status == 200 and r.body["disabled"] is disabled
                assert await ws.wait_closed(5) == 1008
            finally:
                await ws.close()
            assert (await call(s, srv, "GET", "/api/v1/me", token=old["access_token"])).status == 401
            await _ws_auth_refused(srv, old["access_token"])
            assert (await call(s, srv, "POST", "/api/v1/auth/refresh", {"refresh_token": old["refresh_token"]})).status == 401
            fresh = (await login(s, srv, name)).body  # a new login works
            assert (await call(s, srv, "GET", "/api/v1/me", token=fresh["access_token"])).status == 200


async def test_logout_reaches_every_node(tmp_path: Path) -> None:
    with cluster(tmp_path) as (a, b):
        async with aiohttp.ClientSession() as s:
            _, tokens = await _signed_in(s, a)
            ws_b = await _socket(b, tokens["access_token"], "on-b")
            try:
                assert (await call(s, b, "GET", "/api/v1/me", token=tokens["access_token"])).status == 200
                assert (await call(s, a, "POST", "/api/v1/auth/logout", {}, token=tokens["access_token"])).status == 200
                assert await ws_b.wait_closed(5) == 4401  # closed by node B, told over the bus
                assert (await call(s, b, "GET", "/api/v1/me", token=tokens["access_token"])).status == 401
                await _ws_auth_refused(b, tokens["access_token"])
            finally:
                await ws_b.close()


async def test_a_node_that_missed_the_revocation_refuses_within_seconds(tmp_path: Path) -> None:
    """No bus between the nodes: node B learns of the logout from the store alone."""
    with cluster(tmp_path, {"SEMOT_LOGIN_CHECK_S": "1"}, split_bus=True) as (a, b):
        async with aiohttp.ClientSession() as s:
            _, tokens = await _signed_in(s, a)
            assert (await call(s, b, "GET", "/api/v1/me", token=tokens["access_token"])).status == 200  # B caches "alive"
            assert (await call(s, a, "POST", "/api/v1/auth/logout", {}, token=tokens["access_token"])).status == 200
            deadline = time.monotonic() + 5
            while (await call(s, b, "GET", "/api/v1/me", token=tokens["access_token"])).status == 200:
                assert time.monotonic() < deadline, "node B still accepts the token"
                await asyncio.sleep(0.1)
            await _ws_auth_refused(b, tokens["access_token"])


async def test_an_open_socket_on_a_node_that_missed_the_revocation_is_closed(tmp_path: Path) -> None:
    """No bus between the nodes: node B finds the ended login of its open socket in the
    store on its periodic sweep and closes it, instead of keeping it open for good."""
    env = {"SEMOT_LOGIN_CHECK_S": "1", "SEMOT_LOGIN_SWEEP_S": "1"}
    with cluster(tmp_path, env, split_bus=True) as (a, b):
        async with aiohttp.ClientSession() as s:
            _, tokens = await _signed_in(s, a)
            _, other = await _signed_in(s, a)
            ws_b = await _socket(b, tokens["access_token"], "on-b")
            other_b = await _socket(b, other["access_token"], "other-on-b")
            try:
                assert (await call(s, a, "POST", "/api/v1/auth/logout", {}, token=tokens["access_token"])).status == 200
                assert await ws_b.wait_closed(6) == 4401
                assert (await other_b.call("ping"))["server_time"] > 0  # other logins stay open
            finally:
                await ws_b.close()
                await other_b.close()


async def test_usernames_are_case_insensitive(tmp_path: Path) -> None:
    with servers(tmp_path, {}) as (srv,):
        tag = uuid.uuid4().hex[:6]
        async with aiohttp.ClientSession() as s:
            assert (await register(s, srv, f"CaseUser{tag}")).status == 201
            clash = await register(s, srv, f"caseuser{tag}")
            assert clash.status == 409 and clash.code == "conflict"
            for spelling in (f"caseuser{tag}", f"CASEUSER{tag}", f"CaseUser{tag}"):
                r = await login(s, srv, spelling)
                assert r.status == 200 and r.body["user_id"] == f"CaseUser{tag}", (spelling, r.body)
            # the administrator command folds case too: it finds the account, creates no twin
            srv.create_admin(f"CASEUSER{tag}")
            admin = (await login(s, srv, f"caseuser{tag}")).body["access_token"]
            assert (await call(s, srv, "GET", "/api/v1/me", token=admin)).body["is_admin"] is True
            srv.create_admin(f"Boss{tag}")
            assert (await register(s, srv, f"boss{tag}")).status == 409


def _cookie(reply: Reply) -> Any:
    jar: SimpleCookie = SimpleCookie()
    for raw in reply.headers.getall("Set-Cookie", []):
        jar.load(raw)
    return jar.get("semot_refresh")


async def test_refresh_token_cookie_flow(tmp_path: Path) -> None:
    with servers(tmp_path, {}, {"SEMOT_TRUSTED_PROXIES": "127.0.0.1"}) as (srv, behind_tls_proxy):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as s:
            name = unique("c")
            assert (await register(s, srv, name)).status == 201
            r = await call(s, srv, "POST", "/api/v1/auth/login", {"username": name, "password": PASSWORD, "cookie": True})
            assert r.status == 200 and "refresh_token" not in r.body and r.body["access_token"]
            c = _cookie(r)
            assert c is not None and c.value
            assert c["httponly"] is True and c["samesite"] == "Strict" and c["path"] == "/api/v1/auth"
            assert not c["secure"]  # plain HTTP here
            assert int(c["max-age"]) > 86400
            # refresh with the cookie only: a new cookie, still no token in the JSON
            r2 = await call(s, srv, "POST", "/api/v1/auth/refresh", {}, headers={"Cookie": f"semot_refresh={c.value}"})
            assert r2.status == 200 and "refresh_token" not in r2.body, r2.body
            c2 = _cookie(r2)
            assert c2 is not None and c2.value != c.value
            assert (await call(s, srv, "GET", "/api/v1/me", token=r2.body["access_token"])).status == 200
            # the used cookie replayed: refused, the cookie cleared, the login revoked
            stale = await call(s, srv, "POST", "/api/v1/auth/refresh", {}, headers={"Cookie": f"semot_refresh={c.value}"})
            assert stale.status == 401 and _cookie(stale).value == "" and int(_cookie(stale)["max-age"]) == 0
            assert (await call(s, srv, "GET", "/api/v1/me", token=r2.body["access_token"])).status == 401
            # a cross-site HTML form cannot use cookie mode (it cannot send JSON's content type)
            form = f'{{"username":"{name}","password":"{PASSWORD}","cookie":true}}'
            async with s.post(srv.base_url + "/api/v1/auth/login", data=form, headers={"Content-Type": "text/plain"}) as resp:
                assert resp.status == 400 and "Set-Cookie" not in resp.headers
            # no cookie, no token: a clear 401
            none = await call(s, srv, "POST", "/api/v1/auth/refresh", {})
            assert none.status == 401 and none.code == "unauthorized"

            # logout with the cookie ends its login and clears it
            r = await call(s, srv, "POST", "/api/v1/auth/login", {"username": name, "password": PASSWORD, "cookie": True})
            jar = f"semot_refresh={_cookie(r).value}"
            out = await call(s, srv, "POST", "/api/v1/auth/logout", {}, token=r.body["access_token"], headers={"Cookie": jar})
            assert out.status == 200 and _cookie(out).value == ""
            assert (await call(s, srv, "POST", "/api/v1/auth/refresh", {}, headers={"Cookie": jar})).status == 401

            # a JSON login moves to the cookie with `"cookie": true` on its refresh
            plain = (await login(s, srv, name)).body
            moved = await call(s, srv, "POST", "/api/v1/auth/refresh", {"refresh_token": plain["refresh_token"], "cookie": True})
            assert moved.status == 200 and "refresh_token" not in moved.body and _cookie(moved).value

            # HTTPS (here: a trusted TLS-terminating proxy says so) adds Secure
            assert (await register(s, behind_tls_proxy, name)).status == 201
            r = await call(
                s, behind_tls_proxy, "POST", "/api/v1/auth/login", {"username": name, "password": PASSWORD, "cookie": True},
                headers={"X-Forwarded-Proto": "https"},
            )
            assert _cookie(r)["secure"] is True


# --------------------------------------------------------------------------- migration 0006


def _insert_users(conn: sa.Connection) -> None:
    for i, name in enumerate(("CaseUser", "caseuser", "CASEUSER", "other")):
        conn.execute(
            sa.text("INSERT INTO users (id, username, display_name, password_hash, is_admin, disabled, created_at) "
                    "VALUES (:id, :u, :u, 'x', false, false, :t)"),
            {"id": f"id{i}", "u": name, "t": 100 + i},
        )


def _check_keys(conn: sa.Connection) -> None:
    keys: dict[str, str] = {r.username: r.username_key for r in conn.execute(sa.text("SELECT username, username_key FROM users"))}
    assert keys == {"CaseUser": "caseuser", "caseuser": "caseuser#2", "CASEUSER": "caseuser#3", "other": "other"}


async def _lookups(store: Storage) -> None:
    async def who(name: str) -> str | None:
        u = await store.users.get_user_by_username(name)
        return u.username if u else None

    # exact spellings still reach their accounts; any other spelling the oldest one
    assert [await who(n) for n in ("caseuser", "CASEUSER", "CaseUser", "cAsEuSeR", "OTHER")] == [
        "caseuser", "CASEUSER", "CaseUser", "CaseUser", "other"
    ]


async def test_migration_keeps_clashing_accounts_and_reports_them(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="semot.migrations")
    db = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0005")
        _insert_users(conn)
        command.upgrade(alembic_config(conn), "head")
        _check_keys(conn)
    engine.dispose()
    assert "username clash: 'CaseUser' and 'caseuser'" in caplog.text and "'CASEUSER'" in caplog.text
    store = sql_storage(make_engines(f"sqlite+aiosqlite:///{db}"))
    try:
        await _lookups(store)
    finally:
        await store.close()


async def test_migration_on_postgresql(caplog: pytest.LogCaptureFixture) -> None:
    try:
        probe = await asyncpg.connect(PG_URL, timeout=5)
    except Exception as exc:
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    schema = f"semot_mig_{uuid.uuid4().hex[:10]}"
    await probe.execute(f'CREATE SCHEMA "{schema}"')
    caplog.set_level(logging.WARNING, logger="semot.migrations")
    engines = make_engines("postgresql+asyncpg://postgres@127.0.0.1:5432/test", schema=schema, pool_size=2)
    try:
        async with engines.write.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0005"))
            await conn.run_sync(_insert_users)
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
            await conn.run_sync(_check_keys)
        assert "username clash" in caplog.text
        store = sql_storage(engines, schema=schema)
        await _lookups(store)
        await store.close()
    finally:
        await probe.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await probe.close()
