"""The console's organisation routes over a real server: move a department to a
position (drag and drop), import the directory from CSV / JSON text, primary
departments and the members page that shows them; all audited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from semot.client import SemotClient
from tests.admin.test_admin_groups import admin, admin_name, server  # noqa: F401 (fixtures)
from tests.groups.test_group_management import expect_error
from tests.support.server import ServerProcess

DEPTS = "/api/admin/v1/departments"


@pytest.fixture
async def tree(admin: SemotClient) -> AsyncIterator[dict[str, str]]:
    """A top-level department with children a, b, c (in that order) and an empty x."""
    tag = uuid.uuid4().hex[:6]
    top = (await admin.http("POST", DEPTS, {"name": f"Top {tag}"}))["department_id"]
    out = {"top": top}
    for name in ("a", "b", "c"):
        out[name] = (await admin.http("POST", DEPTS, {"name": name, "parent_id": top}))["department_id"]
    out["x"] = (await admin.http("POST", DEPTS, {"name": "x", "parent_id": out["a"]}))["department_id"]
    yield out


async def _children(admin: SemotClient, parent: str) -> list[str]:
    tree = (await admin.http("GET", DEPTS))["departments"]
    return [d["department_id"] for d in tree if d["parent_id"] == parent]


async def _last_audit(admin: SemotClient, action: str, target: str) -> dict[str, Any]:
    page = await admin.http("GET", f"/api/admin/v1/audit-log?action={action}&target={target}&limit=5")
    return next(e for e in page["entries"] if e["action"] == action and e["target"] == target)


async def test_move_to_a_position_renumbers_siblings(admin: SemotClient, tree: dict[str, str]) -> None:
    a, b, c, x, top = tree["a"], tree["b"], tree["c"], tree["x"], tree["top"]
    moved = await admin.http("POST", f"{DEPTS}/{c}/move", {"parent_id": top, "position": 0})
    assert moved["sort_order"] == 0 and await _children(admin, top) == [c, a, b]
    await admin.http("POST", f"{DEPTS}/{x}/move", {"parent_id": top, "position": 2})  # out of a, between a and b
    assert await _children(admin, top) == [c, a, x, b]
    assert await _children(admin, a) == []
    await admin.http("POST", f"{DEPTS}/{c}/move", {"parent_id": top, "position": 99})  # past the end: last
    assert await _children(admin, top) == [a, x, b, c]
    orders = {d["department_id"]: d["sort_order"] for d in (await admin.http("GET", DEPTS))["departments"]}
    assert [orders[d] for d in (a, x, b, c)] == [0, 1, 2, 3]
    await expect_error(
        "conflict", admin.http("POST", f"{DEPTS}/{top}/move", {"parent_id": b, "position": 0})
    )  # a cycle
    assert (await _last_audit(admin, "department.move", c))["after"]["position"] == 3


async def test_import_and_primary_department(server: ServerProcess, admin: SemotClient) -> None:
    tag = uuid.uuid4().hex[:6]
    people = []
    for n in ("zhang", "li"):
        c = SemotClient(server.base)
        people.append(await c.register(f"{n}{tag}", "password123"))
        await c.close()
    zhang, li = people
    csv = (
        "department,username,title,order\n"
        f"总部{tag}/研发部/后端组,zhang{tag},工程师,\n"
        f"总部{tag}/研发部,zhang{tag},技术顾问,\n"
        f"总部{tag}/研发部/后端组,li{tag},组长,0\n"
        f"总部{tag}/财务部,ghost{tag},,\n"
    )
    got = await admin.http("POST", "/api/admin/v1/directory/import", {"format": "csv", "text": "\ufeff" + csv})
    assert (got["rows"], got["departments_created"], got["members_added"]) == (4, 4, 3)
    assert len(got["skipped"]) == 1 and got["skipped"][0].startswith("line 5:")
    again = await admin.http(
        "POST",
        "/api/admin/v1/directory/import",
        {"format": "json", "text": f'[{{"department": "总部{tag}/研发部", "username": "li{tag}", "title": "架构师"}}]'},
    )
    assert (again["departments_created"], again["members_added"], again["skipped"]) == (0, 1, [])
    await expect_error(
        "bad_request", admin.http("POST", "/api/admin/v1/directory/import", {"format": "json", "text": "{"})
    )

    tree = (await admin.http("GET", DEPTS))["departments"]
    rd = next(
        d
        for d in tree
        if d["name"] == "研发部"
        and d["depth"] == 1
        and any(p["department_id"] == d["parent_id"] and p["name"] == f"总部{tag}" for p in tree)
    )["department_id"]
    backend = next(d for d in tree if d["name"] == "后端组" and d["parent_id"] == rd)["department_id"]

    await admin.http("PUT", f"/api/admin/v1/directory/users/{zhang}/primary", {"department_id": backend})
    roster = await admin.http("GET", f"{DEPTS}/{rd}/roster")
    assert {m["user_id"]: (m["title"], m["primary_department_id"]) for m in roster["members"]} == {
        zhang: ("技术顾问", backend),
        li: ("架构师", None),
    }
    await admin.http("PUT", f"/api/admin/v1/directory/users/{zhang}/primary", {"department_id": rd})
    page = await admin.http("GET", f"{DEPTS}/{backend}/roster")
    assert {m["user_id"]: m["primary_department_id"] for m in page["members"]} == {zhang: rd, li: None}
    assert [m["user_id"] for m in page["members"]] == [li, zhang]  # li's order 0 comes first
    outside = (await admin.http("POST", DEPTS, {"name": f"Else {tag}"}))["department_id"]
    await expect_error(
        "conflict", admin.http("PUT", f"/api/admin/v1/directory/users/{li}/primary", {"department_id": outside})
    )
    entry = await _last_audit(admin, "department.primary", zhang)
    assert entry["before"] == {"primary_department_id": backend} and entry["after"] == {"primary_department_id": rd}


async def test_users_cannot(server: ServerProcess, tree: dict[str, str]) -> None:
    c = SemotClient(server.base)
    name = f"plain{uuid.uuid4().hex[:6]}"
    await c.register(name, "password123")
    await c.login(name, "password123")
    try:
        await expect_error("forbidden", c.http("POST", f"{DEPTS}/{tree['c']}/move", {"parent_id": None, "position": 0}))
        await expect_error(
            "forbidden", c.http("POST", "/api/admin/v1/directory/import", {"format": "csv", "text": "a,b"})
        )
        await expect_error("forbidden", c.http("GET", f"{DEPTS}/{tree['a']}/roster"))
    finally:
        await c.close()
