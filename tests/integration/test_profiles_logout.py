"""Public profiles, logout, and sync's extras (peer read position, recalls not unread)."""

from __future__ import annotations

import uuid

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.integration.harness import ServerProcess


async def _user(server: ServerProcess, name: str, display: str) -> SemotClient:
    c = SemotClient(server.base_url)
    await c.register(name, "password123", display_name=display)
    await c.login(name, "password123")
    return c


async def test_profiles_and_logout(server: ServerProcess) -> None:
    tag = uuid.uuid4().hex[:6]
    a = await _user(server, f"a{tag}", "小明")
    b = await _user(server, f"b{tag}", "Bob")
    try:
        assert await a.http("GET", f"/api/v1/users/{b.user_id}") == {
            "user_id": b.user_id, "username": b.user_id, "display_name": "Bob", "avatar_url": None
        }
        got = await a.http("GET", f"/api/v1/users?ids={b.user_id},{a.user_id},ghost{tag}")
        assert [u["display_name"] for u in got["users"]] == ["Bob", "小明"]
        with pytest.raises(SemotAPIError) as info:
            await a.http("GET", f"/api/v1/users/ghost{tag}")
        assert info.value.status == 404
        with pytest.raises(SemotAPIError) as info:
            await a.http("POST", "/api/v1/auth/logout", {"refresh_token": b.refresh_token})
        assert info.value.code == "forbidden"  # not yours to end
        await a.http("POST", "/api/v1/auth/logout", {"refresh_token": a.refresh_token})
        with pytest.raises(SemotAPIError) as info:
            await a.refresh()
        assert info.value.status == 401
        await b.refresh()  # other logins are untouched
    finally:
        await a.close()
        await b.close()


async def test_sync_reports_peer_read_and_does_not_count_recalls(server: ServerProcess) -> None:
    tag = uuid.uuid4().hex[:6]
    a = await _user(server, f"a{tag}", "A")
    b = await _user(server, f"b{tag}", "B")
    await a.connect()
    await b.connect()
    try:
        first = await a.send_text(b.user_id, "one")
        second = await a.send_text(b.user_id, "two")
        await a.recall(second["conv"], second["seq"])
        state = {s["conv"]: s for s in await b.sync({})}[first["conv"]]
        assert state["unread"] == 1  # the recalled message and the notice are not unread
        await b.read(first["conv"], first["seq"])
        mine = {s["conv"]: s for s in await a.sync({})}[first["conv"]]
        assert mine["peer_read_seq"] == first["seq"] and mine["read_seq"] == 0
    finally:
        await a.close()
        await b.close()


async def test_python_sdk_profiles_in_batches_and_logout(server: ServerProcess) -> None:
    tag = uuid.uuid4().hex[:6]
    a = await _user(server, f"a{tag}", "小明")
    b = await _user(server, f"b{tag}", "Bob")
    try:
        ghosts = [f"ghost{tag}{i:03d}" for i in range(450)]  # three batches of ids
        got = await a.users([b.user_id, *ghosts, a.user_id, b.user_id])
        assert [u["display_name"] for u in got] == ["Bob", "小明"]
        stale = a.refresh_token
        await a.connect()
        await a.logout()
        assert a.access_token is None and not a.connected
        again = SemotClient(server.base_url)
        again.refresh_token = stale
        with pytest.raises(SemotAPIError) as info:
            await again.refresh()  # the login is over on the server too
        assert info.value.status == 401
        await again.close()
        # an expired (here: garbled) access token still ends the login: refreshed once,
        # and the renewed refresh token is the one revoked
        issued: list[str] = []
        take = b._take_tokens
        b._take_tokens = lambda data: (issued.append(data["refresh_token"]), take(data))  # type: ignore[method-assign]
        b.access_token = "expired"
        await b.logout()
        assert len(issued) == 1
        late = SemotClient(server.base_url)
        late.refresh_token = issued[0]
        with pytest.raises(SemotAPIError) as info:
            await late.refresh()
        assert info.value.status == 401
        await late.close()
    finally:
        await a.close()
        await b.close()
