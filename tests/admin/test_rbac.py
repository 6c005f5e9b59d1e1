"""Roles and permissions over a real server: each built-in role is allowed and refused
on representative routes, custom roles work (and changes to them at once), nobody hands
out more than they hold, built-in roles are read-only, and every change is in the audit
log with the state before and after."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from semot.client import SemotClient
from semot.domain.admin_perms import ALL_PERMS
from tests.admin.rbac_support import A, audit, create_admin, grant, login, mkdept, person, refused, status, tag
from tests.support.server import ServerProcess

ROOT = f"root{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("rbac") / "data").start()
    create_admin(srv, ROOT)
    yield srv
    srv.kill()


@pytest.fixture
async def root(server: ServerProcess) -> AsyncIterator[SemotClient]:
    c = await login(server, ROOT)
    yield c
    await c.close()


async def test_me_permissions_and_built_in_roles(server: ServerProcess, root: SemotClient) -> None:
    me = await root.http("GET", f"{A}/me")
    assert me["perms"] is None and me["departments"] is None and me["super_admin"] and me["roles"] == ["super_admin"]
    cat = await root.http("GET", f"{A}/permissions")
    listed = {p["perm"] for m in cat["menus"] for p in m["perms"]}
    assert listed == ALL_PERMS and len(listed) == 33
    users = next(m for m in cat["menus"] if m["menu"] == "users")
    assert users["labels"] == {"zh-CN": "用户管理", "en": "Users"}
    roles = {r["role_id"]: r for r in (await root.http("GET", f"{A}/roles"))["roles"]}
    assert {"super_admin", "user_admin", "auditor", "org_admin"} <= set(roles)
    assert roles["super_admin"]["perms"] is None and roles["super_admin"]["admin_count"] >= 1
    assert set(roles["auditor"]["perms"]) == {
        "dashboard.view",
        "users.view",
        "login_logs.view",
        "groups.view",
        "groups.history",
        "audit.view",
        "messages.audit",
        "sensitive.view",
        "retention.view",
    }
    assert roles["org_admin"]["labels"]["zh-CN"] == "组织管理员" and all(roles[r]["built_in"] for r in roles)
    for method, body in (("PATCH", {"name": "Mine now"}), ("DELETE", None)):
        await refused(root.http(method, f"{A}/roles/auditor", body))
    nobody = await person(server, f"nobody{tag()}")
    for path in ("/me", "/roles", "/audit-log", "/admins"):
        await refused(nobody.http("GET", A + path))
    await nobody.close()


# what each built-in role may do, on one route per permission family
ROUTES: list[tuple[str, str, str]] = [
    ("me", "GET", "/me"),
    ("org.view", "GET", "/departments"),
    ("org.write", "POST", "/departments"),
    ("users.view", "GET", "/users"),
    ("groups.view", "GET", "/groups"),
    ("audit.view", "GET", "/audit-log"),
    ("admins.view", "GET", "/roles"),
    ("admins.write", "POST", "/roles"),
]
EXPECT = {
    "super_admin": {
        "me",
        "org.view",
        "org.write",
        "users.view",
        "groups.view",
        "audit.view",
        "admins.view",
        "admins.write",
    },
    "user_admin": {"me", "org.view", "users.view"},
    "auditor": {"me", "users.view", "groups.view", "audit.view"},
    "org_admin": {"me", "org.view", "org.write", "users.view", "groups.view"},
}


def _body(what: str) -> Any:
    if what == "org.write":
        return {"name": f"D{tag()}"}
    if what == "admins.write":
        return {"name": f"R{tag()}", "perms": ["dashboard.view"]}
    return None


@pytest.mark.parametrize("role", sorted(EXPECT))
async def test_each_built_in_role_on_representative_routes(server: ServerProcess, root: SemotClient, role: str) -> None:
    name = f"{role.replace('_', '')}{tag()}"
    who = await person(server, name)
    assert who.user_id is not None
    await grant(root, who.user_id, [role])
    got = {}
    for what, method, path in ROUTES:
        got[what] = await status(who.http(method, A + path, _body(what)))
    allowed = {what for what, code in got.items() if code in (200, 201)}
    assert allowed == EXPECT[role], got
    assert all(code == 403 for what, code in got.items() if what not in allowed), got
    me = await who.http("GET", f"{A}/me")
    assert me["roles"] == [role] and me["super_admin"] == (role == "super_admin")
    await root.http("DELETE", f"{A}/admins/{who.user_id}")
    await who.close()


async def test_custom_roles_change_at_once(server: ServerProcess, root: SemotClient) -> None:
    desk = await root.http("POST", f"{A}/roles", {"name": f"Help desk {tag()}", "perms": ["audit.view", "org.view"]})
    assert desk["role_id"].startswith("role_") and desk["perms"] == ["org.view", "audit.view"] and not desk["built_in"]
    await refused(root.http("POST", f"{A}/roles", {"name": desk["name"], "perms": ["org.view"]}), 409)  # name taken
    await refused(root.http("POST", f"{A}/roles", {"name": "超级管理员", "perms": ["org.view"]}), 409)  # a built-in's
    await refused(root.http("POST", f"{A}/roles", {"name": "X", "perms": ["users.fly"]}), 400)
    await refused(root.http("POST", f"{A}/roles", {"name": "X", "perms": []}), 400)
    who = await person(server, f"desk{tag()}")
    assert who.user_id is not None
    await grant(root, who.user_id, [desk["role_id"]])
    assert await status(who.http("GET", f"{A}/audit-log")) == 200
    assert await status(who.http("POST", f"{A}/departments", {"name": f"D{tag()}"})) == 403
    # the role gains org.write: effective on the very next request
    changed = await root.http("PATCH", f"{A}/roles/{desk['role_id']}", {"perms": ["org.view", "org.write"]})
    assert changed["perms"] == ["org.view", "org.write"] and changed["admin_count"] == 1
    assert await status(who.http("POST", f"{A}/departments", {"name": f"D{tag()}"})) == 200
    assert await status(who.http("GET", f"{A}/audit-log")) == 403
    await refused(root.http("DELETE", f"{A}/roles/{desk['role_id']}"), 409)  # somebody holds it
    await refused(root.http("PATCH", f"{A}/roles/role_nope", {"name": "Y"}), 404)
    await root.http("DELETE", f"{A}/admins/{who.user_id}")
    assert await status(who.http("GET", f"{A}/departments")) == 403  # revoked: refused at once
    assert await status(who.http("GET", f"{A}/me")) == 403
    await root.http("DELETE", f"{A}/roles/{desk['role_id']}")
    roles = {r["role_id"] for r in (await root.http("GET", f"{A}/roles"))["roles"]}
    assert desk["role_id"] not in roles
    await who.close()


async def test_nobody_hands_out_more_than_they_hold(server: ServerProcess, root: SemotClient) -> None:
    lead = await root.http(
        "POST", f"{A}/roles", {"name": f"Admin lead {tag()}", "perms": ["admins.view", "admins.write", "audit.view"]}
    )
    boss = await person(server, f"lead{tag()}")
    helper = await person(server, f"helper{tag()}")
    assert boss.user_id is not None and helper.user_id is not None
    await grant(root, boss.user_id, [lead["role_id"]])
    # more than they hold: refused, as roles or as a new role
    await refused(grant(boss, helper.user_id, ["auditor"]))
    await refused(grant(boss, helper.user_id, ["super_admin"]))
    await refused(boss.http("POST", f"{A}/roles", {"name": f"Big {tag()}", "perms": ["org.write"]}))
    small = await boss.http("POST", f"{A}/roles", {"name": f"Reader {tag()}", "perms": ["audit.view"]})
    await grant(boss, helper.user_id, [small["role_id"]])
    assert await status(helper.http("GET", f"{A}/audit-log")) == 200
    # they cannot touch someone who holds more, nor the built-in roles
    await refused(boss.http("DELETE", f"{A}/admins/{root.user_id}"))
    await refused(grant(boss, str(root.user_id), [small["role_id"]]))
    await refused(boss.http("PATCH", f"{A}/roles/org_admin", {"perms": ["audit.view"]}))
    await boss.http("DELETE", f"{A}/admins/{helper.user_id}")
    await root.http("DELETE", f"{A}/admins/{boss.user_id}")
    for c in (boss, helper):
        await c.close()


async def test_every_change_is_audited_with_before_and_after(server: ServerProcess, root: SemotClient) -> None:
    t0 = int(time.time() * 1000)
    who = await person(server, f"aud{tag()}")
    assert who.user_id is not None
    role = await root.http("POST", f"{A}/roles", {"name": f"Audited {tag()}", "perms": ["org.view"]})
    await root.http("PATCH", f"{A}/roles/{role['role_id']}", {"perms": ["org.view", "audit.view"], "description": "d"})
    await grant(root, who.user_id, [role["role_id"]])
    await grant(root, who.user_id, ["auditor", role["role_id"]])
    await root.http("DELETE", f"{A}/admins/{who.user_id}")
    await root.http("DELETE", f"{A}/roles/{role['role_id']}")
    dept = await mkdept(root, f"Audit {tag()}")
    await root.http("PATCH", f"{A}/departments/{dept}", {"name": "Renamed"})
    await root.http("PUT", f"{A}/departments/{dept}/members/{who.user_id}", {"title": "Engineer"})
    await root.http("DELETE", f"{A}/departments/{dept}/members/{who.user_id}")
    await root.http("DELETE", f"{A}/departments/{dept}")

    mine = await audit(root, admin=root.user_id, **{"from": t0})
    actions = [e["action"] for e in reversed(mine)]
    assert actions == [
        "role.create",
        "role.update",
        "admin.grant",
        "admin.grant",
        "admin.revoke",
        "role.delete",
        "department.create",
        "department.update",
        "department.member_put",
        "department.member_remove",
        "department.delete",
    ], actions
    assert all(e["ip"] == "127.0.0.1" and e["admin_name"] == ROOT and e["ts"] >= t0 for e in mine)
    by = {(e["action"], e["target"]): e for e in mine}
    upd = by[("role.update", role["role_id"])]
    assert upd["before"]["perms"] == ["org.view"] and upd["after"]["perms"] == ["org.view", "audit.view"]
    assert upd["after"]["description"] == "d"
    grants = [e for e in mine if e["action"] == "admin.grant"]
    assert grants[-1]["before"] == {"is_admin": False}
    assert grants[-1]["after"] == {"is_admin": True, "roles": [role["role_id"]], "departments": None}
    assert grants[0]["before"]["roles"] == [role["role_id"]] and grants[0]["after"]["roles"] == [
        "auditor",
        role["role_id"],
    ]
    assert by[("admin.revoke", who.user_id)]["after"] == {"is_admin": False}
    assert by[("department.update", dept)]["before"]["name"].startswith("Audit")
    assert by[("department.update", dept)]["after"]["name"] == "Renamed"
    put = by[("department.member_put", who.user_id)]
    assert put["before"] is None and put["after"] == {"department_id": dept, "title": "Engineer", "sort_order": 0}
    # the filters of PROTOCOL.md §7
    assert {e["action"] for e in await audit(root, target=who.user_id, **{"from": t0})} == {
        "admin.grant",
        "admin.revoke",
        "department.member_put",
        "department.member_remove",
    }
    assert [e["action"] for e in await audit(root, action="role.", **{"from": t0})] == [
        "role.delete",
        "role.update",
        "role.create",
    ]
    assert (await root.http("GET", f"{A}/audit-log?from=5&to=4"))["total"] == 0
    await refused(root.http("GET", f"{A}/audit-log?limit=201"), 400)
    page = await root.http("GET", f"{A}/audit-log?limit=2&offset=1&from={t0}")
    assert len(page["entries"]) == 2 and page["total"] == len(mine) and page["offset"] == 1
    await who.close()


async def test_admins_list(server: ServerProcess, root: SemotClient) -> None:
    who = await person(server, f"listed{tag()}", "列表中的人")
    assert who.user_id is not None
    dept_name = f"Listed {tag()}"
    dept = await mkdept(root, dept_name)
    await grant(root, who.user_id, ["auditor"], [dept])
    listed = await root.http("GET", f"{A}/admins?limit=200")
    row = next(a for a in listed["admins"] if a["user_id"] == who.user_id)
    assert row["display_name"] == "列表中的人" and row["roles"] == ["auditor"] and not row["super_admin"]
    assert row["departments"] == [{"department_id": dept, "name": dept_name}]
    root_row = next(a for a in listed["admins"] if a["user_id"] == root.user_id)
    assert root_row["super_admin"] and root_row["perms"] is None
    await refused(root.http("DELETE", f"{A}/departments/{dept}"), 409)  # an admin's scope: not deleted under them
    await refused(grant(root, who.user_id, ["auditor"], ["dep_nope"]), 404)
    await refused(grant(root, who.user_id, ["nope"]), 404)
    await refused(grant(root, "ghost_user", ["auditor"]), 404)
    await root.http("DELETE", f"{A}/admins/{who.user_id}")
    await refused(root.http("DELETE", f"{A}/admins/{who.user_id}"), 404)  # not an admin any more
    await root.http("DELETE", f"{A}/departments/{dept}")
    await who.close()
