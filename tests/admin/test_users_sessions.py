"""What administration does to a user's logins and sockets, over real HTTP and WebSocket:
disabling closes every socket, kicking a login closes its sockets and kills its refresh
token (and nothing else), a password set by an administrator ends every login, and
one-time set-password links work once, expire, and are replaced by a newer one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.admin.users_support import A, World, make_server, unique, world_of
from tests.integration.harness import Clients, ServerProcess, eventually


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    yield from make_server(tmp_path_factory, "usersess")


@pytest.fixture
async def w(served: tuple[ServerProcess, str]) -> AsyncIterator[World]:
    async for world in world_of(*served):
        yield world


async def refresh_status(w: World, refresh_token: str) -> int:
    status, _ = await w.api.call(w.server, "POST", "/api/v1/auth/refresh", {"refresh_token": refresh_token})
    return status


async def test_disabling_closes_every_socket(w: World, clients: Clients) -> None:
    p = await w.person("dis")
    phone = await clients.connect(w.server, p, platform="ios")
    laptop = await clients.connect(w.server, p, platform="desktop")
    await eventually(lambda: _online(w, p.user_id), what="online in the list")
    await w.ok("PATCH", f"{A}/users/{p.user_id}", {"disabled": True})
    assert await phone.wait_closed() == 1008 and await laptop.wait_closed() == 1008
    assert await refresh_status(w, p.refresh_token) == 401
    await eventually(lambda: _offline(w, p.user_id), what="offline in the list")
    await w.ok("PATCH", f"{A}/users/{p.user_id}", {"disabled": False})
    assert await refresh_status(w, p.refresh_token) == 401  # enabling revives no old login
    await w.login(p.user_id)


async def _online(w: World, user_id: str) -> bool:
    return bool((await w.ok("GET", f"{A}/users/{user_id}"))["online"])


async def _offline(w: World, user_id: str) -> bool:
    return not await _online(w, user_id)


async def test_devices_and_kick(w: World, clients: Clients) -> None:
    p = await w.person("kick")
    other = await w.login(p.user_id)  # a second login of the same user
    dev = unique("phone")
    phone = await clients.connect(w.server, p, device=dev, platform="ios")
    laptop = await clients.connect(w.server, other, platform="desktop")

    seen = await w.ok("GET", f"{A}/users/{p.user_id}/devices")
    assert seen["online"] is True and len(seen["logins"]) == 2
    by_platform = {x["platform"]: x for x in seen["logins"]}
    assert set(by_platform) == {"ios", "desktop"} and all(x["online"] for x in seen["logins"])
    phone_login = by_platform["ios"]
    assert phone_login["devices"][0]["device_id"] == dev and phone_login["ip"] == "127.0.0.1"
    assert phone_login["created_at"] <= phone_login["refreshed_at"] < phone_login["expires_at"]
    assert len(seen["connections"]) == 2 and dev in {c["device_id"] for c in seen["connections"]}
    assert next(c for c in seen["connections"] if c["device_id"] == dev)["login_id"] == phone_login["login_id"]

    await w.ok("DELETE", f"{A}/users/{p.user_id}/devices/{phone_login['login_id']}")
    assert await phone.wait_closed() == 4401
    assert await refresh_status(w, p.refresh_token) == 401  # that login's refresh token is dead
    await w.refused("GET", "/api/v1/me", token=p.access_token, code=401)
    # the other login goes on: its socket, its token
    await laptop.call("ping")
    assert not laptop.closed.is_set()
    await w.ok("GET", "/api/v1/me", token=other.access_token)
    assert await refresh_status(w, other.refresh_token) == 200

    after = await w.ok("GET", f"{A}/users/{p.user_id}/devices")
    assert [x["platform"] for x in after["logins"]] == ["desktop"]
    await w.refused("DELETE", f"{A}/users/{p.user_id}/devices/{phone_login['login_id']}", code=404)  # ended already
    await w.refused("DELETE", f"{A}/users/{p.user_id}/devices/no%20such", code=404)
    kicks = [e for e in await w.audit(p.user_id) if e["action"] == "user.kick"]
    assert kicks and kicks[0]["before"] == {"login_id": phone_login["login_id"]}
    someone = await w.person("x")
    await w.refused(
        "DELETE", f"{A}/users/{someone.user_id}/devices/{after['logins'][0]['login_id']}", code=404
    )  # not theirs


async def test_admin_password_ends_every_login(w: World, clients: Clients) -> None:
    p = await w.person("pw")
    ws = await clients.connect(w.server, p)
    await w.ok("PATCH", f"{A}/users/{p.user_id}", {"password": "set-by-admin-1"})
    assert await ws.wait_closed() == 4401
    assert await refresh_status(w, p.refresh_token) == 401
    status, _ = await w.api.login(w.server, p.user_id)  # the old password is gone
    assert status == 401
    await w.login(p.user_id, "set-by-admin-1")
    entry = next(e for e in await w.audit(p.user_id) if e["action"] == "user.update")
    assert entry["after"]["password"] == "set" and "set-by-admin-1" not in str(entry)


async def test_link_once_expiry_and_replacement(w: World, clients: Clients) -> None:
    p = await w.person("lnk")
    ws = await clients.connect(w.server, p)
    first = await w.ok("POST", f"{A}/users/{p.user_id}/password-link", {"ttl_s": 3600})
    second = await w.ok("POST", f"{A}/users/{p.user_id}/password-link", {})
    assert second["expires_at"] - first["expires_at"] > 6 * 86_400_000 - 10_000  # the default: 7 days
    # the newer link replaced the older one
    await w.refused(
        "POST", "/api/v1/auth/set-password", {"token": first["token"], "password": "from-first-1"}, token="", code=404
    )
    # two tabs at once: exactly one sets it
    results = await asyncio.gather(
        *(
            w.call(
                "POST", "/api/v1/auth/set-password", {"token": second["token"], "password": f"racing-pw-{i}"}, token=""
            )
            for i in range(3)
        )
    )
    assert sorted(s for s, _ in results) == [200, 404, 404]
    winner = next(i for i, (s, _) in enumerate(results) if s == 200)
    assert await ws.wait_closed() == 4401  # every login ended
    await w.login(p.user_id, f"racing-pw-{winner}")
    await w.refused("POST", "/api/v1/auth/set-password/check", {"token": second["token"]}, token="", code=404)
    # expiry: the link stops working
    third = await w.ok("POST", f"{A}/users/{p.user_id}/password-link", {})
    w.expire_links(p.user_id)
    await w.refused("POST", "/api/v1/auth/set-password/check", {"token": third["token"]}, token="", code=404)
    await w.refused(
        "POST", "/api/v1/auth/set-password", {"token": third["token"], "password": "too-late-pw"}, token="", code=404
    )
    # bounds, a disabled account, garbage
    await w.refused("POST", f"{A}/users/{p.user_id}/password-link", {"ttl_s": 5}, code=400)
    fourth = await w.ok("POST", f"{A}/users/{p.user_id}/password-link", {})
    await w.refused(
        "POST", "/api/v1/auth/set-password", {"token": fourth["token"], "password": "short"}, token="", code=400
    )
    await w.ok("PATCH", f"{A}/users/{p.user_id}", {"disabled": True})
    await w.refused(
        "POST", "/api/v1/auth/set-password", {"token": fourth["token"], "password": "while-disabled"}, token=""
    )
    await w.refused(
        "POST", "/api/v1/auth/set-password", {"token": "x" * 43, "password": "whatever-pw"}, token="", code=404
    )
    await w.refused(
        "POST", "/api/v1/auth/set-password", {"token": "x" * 500, "password": "whatever-pw"}, token="", code=400
    )
    links = [e for e in await w.audit(p.user_id) if e["action"] == "user.password_link"]
    assert len(links) == 4 and all("token" not in str(e) for e in links)
