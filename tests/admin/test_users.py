"""User administration over a real server (PROTOCOL.md §7 users rows): the list with its
search, filters and paging, one user, creating (with and without a password), changing,
bulk actions, department scopes and the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.admin.users_support import PASSWORD, A, World, make_server, unique, world_of
from tests.integration.harness import ServerProcess


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    yield from make_server(tmp_path_factory, "users")


@pytest.fixture
async def w(served: tuple[ServerProcess, str]) -> AsyncIterator[World]:
    async for world in world_of(*served):
        yield world


async def test_create_get_and_list(w: World) -> None:
    name = unique("new")
    made = await w.ok("POST", f"{A}/users", {"username": name, "password": PASSWORD, "display_name": "  新同事 "})
    assert made == {"user_id": name}
    one = await w.ok("GET", f"{A}/users/{name}")
    assert {
        k: one[k] for k in ("user_id", "username", "display_name", "disabled", "is_admin", "online", "has_password")
    } == {
        "user_id": name,
        "username": name,
        "display_name": "新同事",
        "disabled": False,
        "is_admin": False,
        "online": False,
        "has_password": True,
    }
    assert one["created_at"] > 0 and one["departments"] == [] and one["last_seen"] is None
    await w.login(name)  # the password works
    # taken (in any case), bad names, bad passwords
    assert (await w.refused("POST", f"{A}/users", {"username": name.upper(), "password": PASSWORD}, code=409))[
        "code"
    ] == "conflict"
    await w.refused("POST", f"{A}/users", {"username": "a b", "password": PASSWORD}, code=400)
    await w.refused("POST", f"{A}/users", {"username": unique("x"), "password": "short"}, code=400)
    await w.refused("GET", f"{A}/users/{unique('ghost')}", code=404)

    page = await w.ok("GET", f"{A}/users?q={name}")
    assert page["total"] == 1 and [u["user_id"] for u in page["users"]] == [name] and page["users"][0] == one
    page = await w.ok("GET", f"{A}/users?q=新同")  # display name, any part
    assert name in [u["user_id"] for u in page["users"]]
    # the root administrator is listed with the admin filter, not with admin=false
    admins = await w.ok("GET", f"{A}/users?admin=true&limit=200")
    assert w.root.user_id in [u["user_id"] for u in admins["users"]] and all(u["is_admin"] for u in admins["users"])
    others = await w.ok("GET", f"{A}/users?admin=false&limit=200")
    assert w.root.user_id not in [u["user_id"] for u in others["users"]]

    audit = await w.audit(name)
    created = [e for e in audit if e["action"] == "user.create"]
    assert created and created[0]["after"]["display_name"] == "新同事" and PASSWORD not in str(created[0])


async def test_paging_sorting_and_bounds(w: World) -> None:
    tag = unique("pg")
    names = [f"{tag}_{i}" for i in range(5)]
    for n in names:
        await w.ok("POST", f"{A}/users", {"username": n, "password": PASSWORD})
    newest = await w.ok("GET", f"{A}/users?q={tag}&limit=2")
    assert newest["total"] == 5 and [u["user_id"] for u in newest["users"]] == names[::-1][:2]
    rest = await w.ok("GET", f"{A}/users?q={tag}&limit=2&offset=4")
    assert [u["user_id"] for u in rest["users"]] == [names[0]] and rest["offset"] == 4
    by_name = await w.ok("GET", f"{A}/users?q={tag}&sort=username&limit=200")
    assert [u["user_id"] for u in by_name["users"]] == names
    for bad in ("limit=0", "limit=201", "offset=-1", "sort=evil", "disabled=maybe", "department_id=a%20b"):
        await w.refused("GET", f"{A}/users?{bad}", code=400)
    await w.refused("GET", f"{A}/users?department_id={unique('nodept')}", code=404)


async def test_create_without_password_then_link(w: World) -> None:
    name = unique("nopw")
    await w.ok("POST", f"{A}/users", {"username": name})
    one = await w.ok("GET", f"{A}/users/{name}")
    assert one["has_password"] is False
    for guess in ("", "semot-timing-equaliser", PASSWORD):  # no password opens it
        status, _ = await w.api.login(w.server, name, guess or "x")
        assert status == 401
    link = await w.ok("POST", f"{A}/users/{name}/password-link", {})
    assert link["path"] == f"/#/set-password?token={link['token']}" and link["user_id"] == name
    info = await w.ok("POST", "/api/v1/auth/set-password/check", {"token": link["token"]}, token="")
    assert info["username"] == name and info["expires_at"] == link["expires_at"]
    done = await w.ok(
        "POST", "/api/v1/auth/set-password", {"token": link["token"], "password": "brand-new-pw"}, token=""
    )
    assert done == {"user_id": name, "username": name}
    await w.login(name, "brand-new-pw")
    assert (await w.ok("GET", f"{A}/users/{name}"))["has_password"] is True


async def test_patch_user(w: World) -> None:
    p = await w.person("pt")
    changed = await w.ok("PATCH", f"{A}/users/{p.user_id}", {"display_name": "改名了"})
    assert changed["display_name"] == "改名了"
    me = await w.ok("GET", "/api/v1/me", token=p.access_token)
    assert me["display_name"] == "改名了"
    await w.refused("PATCH", f"{A}/users/{p.user_id}", {"display_name": "   "}, code=400)
    await w.refused("PATCH", f"{A}/users/{p.user_id}", {"nickname": "x"}, code=400)
    await w.refused("PATCH", f"{A}/users/{p.user_id}", {"password": "short"}, code=400)
    admin = await w.ok("PATCH", f"{A}/users/{p.user_id}", {"is_admin": True})
    assert admin["is_admin"] is True
    assert (await w.ok("PATCH", f"{A}/users/{p.user_id}", {"is_admin": False}))["is_admin"] is False
    # nobody disables themselves or drops their own administration
    await w.refused("PATCH", f"{A}/users/{w.root.user_id}", {"disabled": True}, code=400)
    await w.refused("PATCH", f"{A}/users/{w.root.user_id}", {"is_admin": False}, code=400)
    entries = [e for e in await w.audit(p.user_id) if e["action"] == "user.update"]
    assert any(e["before"]["display_name"] != "改名了" and e["after"]["display_name"] == "改名了" for e in entries)
    assert any(e["before"]["is_admin"] is False and e["after"]["is_admin"] is True for e in entries)


async def test_bulk_actions(w: World) -> None:
    a, b = await w.person("bk"), await w.person("bk")
    ghost = unique("ghost")
    out = await w.ok("POST", f"{A}/users/bulk", {"user_ids": [a.user_id, b.user_id, ghost], "action": "disable"})
    assert out["succeeded"] == 2 and out["failed"] == 1
    assert out["results"][2] == {
        "user_id": ghost,
        "ok": False,
        "error": {"code": "not_found", "message": out["results"][2]["error"]["message"]},
    }
    page = await w.ok("GET", f"{A}/users?disabled=true&limit=200")
    assert {a.user_id, b.user_id} <= {u["user_id"] for u in page["users"]}
    assert all(u["disabled"] for u in page["users"])
    status, _ = await w.api.login(w.server, a.user_id)
    assert status == 403
    out = await w.ok("POST", f"{A}/users/bulk", {"user_ids": [a.user_id], "action": "enable"})
    assert out["succeeded"] == 1
    await w.login(a.user_id)
    # move to a department: out of the old one, into the new one
    d1 = (await w.ok("POST", f"{A}/departments", {"name": unique("D1")}))["department_id"]
    d2 = (await w.ok("POST", f"{A}/departments", {"name": unique("D2")}))["department_id"]
    sub = (await w.ok("POST", f"{A}/departments", {"name": "Sub", "parent_id": d2}))["department_id"]
    await w.ok("PUT", f"{A}/departments/{d1}/members/{a.user_id}", {"title": "工程师"})
    out = await w.ok(
        "POST",
        f"{A}/users/bulk",
        {"user_ids": [a.user_id, b.user_id], "action": "move_department", "department_id": sub},
    )
    assert out["succeeded"] == 2
    one = await w.ok("GET", f"{A}/users/{a.user_id}")
    assert [d["department_id"] for d in one["departments"]] == [sub] and one["departments"][0]["name"] == "Sub"
    in_d2 = await w.ok("GET", f"{A}/users?department_id={d2}")  # the subtree counts
    assert {u["user_id"] for u in in_d2["users"]} == {a.user_id, b.user_id} and in_d2["total"] == 2
    assert (await w.ok("GET", f"{A}/users?department_id={d1}"))["total"] == 0
    await w.refused("POST", f"{A}/users/bulk", {"user_ids": [a.user_id], "action": "move_department"}, code=400)
    await w.refused("POST", f"{A}/users/bulk", {"user_ids": [], "action": "disable"}, code=400)
    await w.refused("POST", f"{A}/users/bulk", {"user_ids": [a.user_id], "action": "delete"}, code=400)
    moves = [e for e in await w.audit(a.user_id) if e["action"] == "user.move_department"]
    assert moves and moves[0]["before"] == {"departments": [d1]} and moves[0]["after"] == {"departments": [sub]}


async def test_scope_limited_admin(w: World) -> None:
    mine = (await w.ok("POST", f"{A}/departments", {"name": unique("Mine")}))["department_id"]
    child = (await w.ok("POST", f"{A}/departments", {"name": "Child", "parent_id": mine}))["department_id"]
    theirs = (await w.ok("POST", f"{A}/departments", {"name": unique("Theirs")}))["department_id"]
    inside, outside, boss = await w.person("in"), await w.person("out"), await w.person("boss")
    await w.ok("PUT", f"{A}/departments/{child}/members/{inside.user_id}", {})
    await w.ok("PUT", f"{A}/departments/{theirs}/members/{outside.user_id}", {})
    await w.ok("PATCH", f"{A}/users/{boss.user_id}", {"is_admin": True})
    await w.ok("PUT", f"{A}/admins/{boss.user_id}", {"roles": ["user_admin"], "departments": [mine]})
    boss = await w.login(boss.user_id)
    t = boss.access_token

    page = await w.ok("GET", f"{A}/users?limit=200", token=t)
    assert [u["user_id"] for u in page["users"]] == [inside.user_id] and page["total"] == 1
    assert (await w.ok("GET", f"{A}/users?department_id={theirs}", token=t))["total"] == 0
    await w.ok("GET", f"{A}/users/{inside.user_id}", token=t)
    await w.refused("GET", f"{A}/users/{outside.user_id}", token=t)
    await w.refused("GET", f"{A}/users/{outside.user_id}/devices", token=t)
    await w.refused("PATCH", f"{A}/users/{outside.user_id}", {"disabled": True}, token=t)
    await w.refused("POST", f"{A}/users/{outside.user_id}/password-link", {}, token=t)
    await w.refused("PATCH", f"{A}/users/{inside.user_id}", {"is_admin": True}, token=t)  # not theirs to give
    await w.ok("PATCH", f"{A}/users/{inside.user_id}", {"display_name": "Inside"}, token=t)
    # new users go into their departments
    await w.refused("POST", f"{A}/users", {"username": unique("n")}, token=t, code=400)
    await w.refused("POST", f"{A}/users", {"username": unique("n"), "department_id": theirs}, token=t)
    made = await w.ok("POST", f"{A}/users", {"username": unique("n"), "department_id": child, "title": "新人"}, token=t)
    one = await w.ok("GET", f"{A}/users/{made['user_id']}", token=t)
    assert one["departments"] == [{"department_id": child, "name": "Child", "title": "新人"}]
    bulk = await w.ok(
        "POST", f"{A}/users/bulk", {"user_ids": [inside.user_id, outside.user_id], "action": "disable"}, token=t
    )
    assert [r["ok"] for r in bulk["results"]] == [True, False] and bulk["results"][1]["error"]["code"] == "forbidden"
    await w.refused(
        "POST",
        f"{A}/users/bulk",
        {"user_ids": [inside.user_id], "action": "move_department", "department_id": theirs},
        token=t,
    )
    # an auditor reads but does not change
    aud = await w.person("aud")
    await w.ok("PATCH", f"{A}/users/{aud.user_id}", {"is_admin": True})
    await w.ok("PUT", f"{A}/admins/{aud.user_id}", {"roles": ["auditor"]})
    aud = await w.login(aud.user_id)
    await w.ok("GET", f"{A}/users", token=aud.access_token)
    await w.refused("POST", f"{A}/users", {"username": unique("n")}, token=aud.access_token)
    await w.refused("PATCH", f"{A}/users/{inside.user_id}", {"disabled": False}, token=aud.access_token)
    # and a user administrator over everyone may not touch administrators
    ua = await w.person("ua")
    await w.ok("PATCH", f"{A}/users/{ua.user_id}", {"is_admin": True})
    await w.ok("PUT", f"{A}/admins/{ua.user_id}", {"roles": ["user_admin"]})
    ua = await w.login(ua.user_id)
    await w.refused("PATCH", f"{A}/users/{w.root.user_id}", {"password": "taken-over-1"}, token=ua.access_token)
    await w.refused("POST", f"{A}/users/{w.root.user_id}/password-link", {}, token=ua.access_token)
    nobody = await w.person("nb")
    await w.refused("GET", f"{A}/users", token=nobody.access_token)
