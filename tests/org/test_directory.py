"""The organisation directory over a real server: the admin API builds the tree and
puts people in it, every user browses and searches it (pinyin included), and
`semot import-org` loads it from a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.support.server import ServerProcess

ADMIN, ADMIN_PW = "boss", "admin-password-1"


def semot(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
    return subprocess.run([sys.executable, "-m", "semot", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("org") / "data"
    made = semot("create-admin", ADMIN, "--password", ADMIN_PW, "--data-dir", str(data))
    assert made.returncode == 0, made.stderr
    srv = ServerProcess(data).start()
    yield srv
    srv.kill()


async def client(server: ServerProcess, username: str, display: str | None = None) -> SemotClient:
    c = SemotClient(server.base)
    if display is not None:
        await c.register(username, "password123", display)
        await c.login(username, "password123")
    else:
        await c.login(username, ADMIN_PW)
    return c


@pytest.fixture
async def admin(server: ServerProcess) -> AsyncIterator[SemotClient]:
    c = await client(server, ADMIN)
    yield c
    await c.close()


@pytest.fixture
async def people(server: ServerProcess) -> AsyncIterator[dict[str, SemotClient]]:
    tag = uuid.uuid4().hex[:6]
    names = {"zw": "张伟", "lx": "李晓明", "st": "单田芳", "al": "Alice Chen", "outsider": "张飞"}
    out = {k: await client(server, f"{k}{tag}", v) for k, v in names.items()}
    yield out
    for c in out.values():
        await c.close()


async def expect(code: str, status: int, coro: Any) -> SemotAPIError:
    with pytest.raises(SemotAPIError) as info:
        await coro
    assert (info.value.code, info.value.status) == (code, status), info.value
    return info.value


async def mkdept(admin: SemotClient, name: str, parent: str | None = None, **extra: Any) -> str:
    body = {"name": name, **extra}
    if parent is not None:
        body["parent_id"] = parent
    return str((await admin.http("POST", "/api/admin/v1/departments", body))["department_id"])


async def test_build_browse_page_and_search(admin: SemotClient, people: dict[str, SemotClient]) -> None:
    zw, lx, st, al, outsider = (people[k] for k in ("zw", "lx", "st", "al", "outsider"))
    tag = uuid.uuid4().hex[:6]
    hq = await mkdept(admin, f"总部{tag}")
    rd = await mkdept(admin, "研发部", hq, sort_order=2)
    sales = await mkdept(admin, "销售部", hq, sort_order=1)
    backend = await mkdept(admin, "后端组", rd)
    infra = await mkdept(admin, "基础设施", backend)  # depth 4

    members = f"/api/admin/v1/departments/{backend}/members"
    assert (await admin.http("PUT", f"{members}/{zw.user_id}", {"title": "工程师"}))["added"] is True
    await admin.http("PUT", f"{members}/{lx.user_id}", {"title": "架构师", "sort_order": -1})
    await admin.http("PUT", f"{members}/{al.user_id}", {})
    await admin.http("PUT", f"{members}/{st.user_id}", {"title": "实习生"})
    again = await admin.http("PUT", f"{members}/{al.user_id}", {"title": "SRE"})
    assert again["added"] is False
    await admin.http("PUT", f"/api/admin/v1/departments/{sales}/members/{zw.user_id}", {"title": "顾问"})  # two departments

    # browse: the whole tree, as any user: flat, in tree order, with parent ids and depths
    tree = (await zw.http("GET", "/api/v1/directory/departments"))["departments"]
    i = next(k for k, n in enumerate(tree) if n["department_id"] == hq)
    mine = tree[i : i + 5]
    assert [(n["name"], n["depth"], n["child_count"]) for n in mine] == [
        (f"总部{tag}", 0, 2), ("销售部", 1, 0), ("研发部", 1, 1), ("后端组", 2, 1), ("基础设施", 3, 0)
    ]  # siblings by sort_order, each department right after its parent
    assert [n["parent_id"] for n in mine] == [None, hq, hq, rd, backend]
    be_node = mine[3]
    assert be_node["department_id"] == backend and be_node["member_count"] == 4
    assert all("children" not in n for n in tree)

    level = await zw.http("GET", f"/api/v1/directory/departments?parent={hq}")
    assert level["parent"]["department_id"] == hq
    assert [(n["name"], n["member_count"], n["child_count"], n["depth"]) for n in level["departments"]] == [
        ("销售部", 1, 0, 1), ("研发部", 0, 1, 1)
    ]
    # the count shown beside a name includes sub-departments (zw is in two: counted once at hq)
    assert [n["total_count"] for n in level["departments"]] == [1, 4]
    assert next(n for n in tree if n["department_id"] == hq)["total_count"] == 4
    assert (await zw.http("GET", f"/api/v1/directory/departments/{rd}"))["total_count"] == 4
    roots = await zw.http("GET", "/api/v1/directory/departments?parent=root")
    assert roots["parent"] is None and hq in [n["department_id"] for n in roots["departments"]]

    detail = await zw.http("GET", f"/api/v1/directory/departments/{infra}")
    assert [p["name"] for p in detail["path"]] == [f"总部{tag}", "研发部", "后端组", "基础设施"]

    # members: ordered (sort_order, then appended order) and paged
    page = await lx.http("GET", f"/api/v1/directory/departments/{backend}/members?limit=2")
    assert page["total"] == 4 and page["more"] is True
    assert [(m["user_id"], m["title"]) for m in page["members"]] == [(lx.user_id, "架构师"), (zw.user_id, "工程师")]
    rest = await lx.http("GET", f"/api/v1/directory/departments/{backend}/members?limit=2&offset=2")
    assert [(m["user_id"], m["title"]) for m in rest["members"]] == [(al.user_id, "SRE"), (st.user_id, "实习生")]
    assert rest["more"] is False
    await admin.http("PUT", f"{members}/{st.user_id}", {"sort_order": -5})
    first = await lx.http("GET", f"/api/v1/directory/departments/{backend}/members?limit=1")
    assert first["members"][0]["user_id"] == st.user_id and first["members"][0]["title"] == "实习生"

    # search: Chinese name, full pinyin, a syllable, initials, username; outsiders are not found
    async def search(q: str) -> list[str]:
        from urllib.parse import quote

        return [r["user_id"] for r in (await outsider.http("GET", f"/api/v1/directory/search?q={quote(q)}"))["results"]]

    assert await search("张伟") == [zw.user_id]
    assert zw.user_id in await search("zhangwei")
    assert zw.user_id in await search("zhang")
    assert zw.user_id in await search("zw")
    assert lx.user_id in await search("lxm")
    assert lx.user_id in await search("xiaoming")
    assert st.user_id in await search("shantianfang")
    assert al.user_id in await search("alice")
    assert outsider.user_id not in await search("zhangfei")
    results = (await outsider.http("GET", "/api/v1/directory/search?q=%E5%BC%A0%E4%BC%9F"))["results"]
    assert {(d["name"], d["title"]) for d in results[0]["departments"]} == {("后端组", "工程师"), ("销售部", "顾问")}

    # deletion: only when empty
    await expect("conflict", 409, admin.http("DELETE", f"/api/admin/v1/departments/{backend}"))
    await expect("conflict", 409, admin.http("DELETE", f"/api/admin/v1/departments/{hq}"))
    assert (await admin.http("DELETE", f"/api/admin/v1/departments/{sales}/members/{zw.user_id}"))["status"] == "removed"
    await expect("not_found", 404, admin.http("DELETE", f"/api/admin/v1/departments/{sales}/members/{zw.user_id}"))
    await admin.http("DELETE", f"/api/admin/v1/departments/{sales}")
    await expect("not_found", 404, zw.http("GET", f"/api/v1/directory/departments/{sales}"))


async def test_a_tree_of_any_depth(admin: SemotClient, people: dict[str, SemotClient]) -> None:
    """300 levels (past the nesting limits of JSON encoders, and the old 50-level cap):
    created one under another, listed whole and level by level, described with its full
    path, moved about with the cycle check still working at the bottom, and deleted."""
    zw = people["zw"]
    tag = uuid.uuid4().hex[:6]
    base = "/api/admin/v1/departments"
    chain = [await mkdept(admin, f"L0-{tag}")]
    for level in range(1, 300):
        chain.append(await mkdept(admin, f"L{level}", chain[-1]))
    bottom = chain[-1]
    await admin.http("PUT", f"{base}/{bottom}/members/{zw.user_id}", {"title": "深处"})

    for who in (zw, admin):  # the directory API and the admin API list the same flat tree
        path = "/api/v1/directory/departments" if who is zw else base
        tree = (await who.http("GET", path))["departments"]
        start = next(k for k, n in enumerate(tree) if n["department_id"] == chain[0])
        mine = tree[start : start + 300]
        assert [n["department_id"] for n in mine] == chain
        assert [n["depth"] for n in mine] == list(range(300))
        assert [n["parent_id"] for n in mine] == [None, *chain[:-1]]
        assert mine[-1]["child_count"] == 0 and mine[-1]["member_count"] == 1

    level = await zw.http("GET", f"/api/v1/directory/departments?parent={chain[-2]}")
    assert [(n["department_id"], n["depth"]) for n in level["departments"]] == [(bottom, 299)]
    assert level["parent"]["department_id"] == chain[-2] and len(level["parent"]["path"]) == 299
    detail = await zw.http("GET", f"/api/v1/directory/departments/{bottom}")
    assert [p["department_id"] for p in detail["path"]] == chain
    found = (await zw.http("GET", f"/api/v1/directory/departments/{bottom}/members"))["members"]
    assert [(m["user_id"], m["title"]) for m in found] == [(zw.user_id, "深处")]

    # deeper still: a new department under the bottom, and a subtree moved under it
    extra = await mkdept(admin, "L300", bottom)
    side = await mkdept(admin, f"side{tag}")
    await mkdept(admin, "leaf", side)
    moved = await admin.http("PATCH", f"{base}/{side}", {"parent_id": extra})
    assert len(moved["path"]) == 302
    # cycles are still refused however far apart the two ends are
    err = await expect("conflict", 409, admin.http("PATCH", f"{base}/{chain[0]}", {"parent_id": side}))
    assert "sub-department" in err.message
    # and the chain can be taken apart again
    await admin.http("PATCH", f"{base}/{side}", {"parent_id": None})
    await admin.http("DELETE", f"{base}/{extra}")
    await admin.http("DELETE", f"{base}/{bottom}/members/{zw.user_id}")
    for dept in reversed(chain):
        await admin.http("DELETE", f"{base}/{dept}")
    await expect("not_found", 404, zw.http("GET", f"/api/v1/directory/departments/{chain[0]}"))


async def test_search_by_username(admin: SemotClient, server: ServerProcess) -> None:
    tag = uuid.uuid4().hex[:6]
    u = await client(server, f"wangwu{tag}", "王五")
    try:
        dept = await mkdept(admin, f"dept{tag}")
        await admin.http("PUT", f"/api/admin/v1/departments/{dept}/members/{u.user_id}", {"title": "PM"})
        found = (await u.http("GET", f"/api/v1/directory/search?q=wangwu{tag}"))["results"]
        assert [r["user_id"] for r in found] == [u.user_id]
        assert found[0]["departments"] == [{"department_id": dept, "name": f"dept{tag}", "title": "PM"}]
    finally:
        await u.close()


async def test_moves_and_bad_input(admin: SemotClient, people: dict[str, SemotClient]) -> None:
    tag = uuid.uuid4().hex[:6]
    a = await mkdept(admin, f"A{tag}")
    b = await mkdept(admin, "B", a)
    c = await mkdept(admin, "C", b)
    base = "/api/admin/v1/departments"

    err = await expect("conflict", 409, admin.http("PATCH", f"{base}/{a}", {"parent_id": c}))
    assert "sub-department" in err.message
    await expect("conflict", 409, admin.http("PATCH", f"{base}/{a}", {"parent_id": a}))
    moved = await admin.http("PATCH", f"{base}/{c}", {"parent_id": a, "name": "C2", "sort_order": 3})
    assert (moved["parent_id"], moved["name"], moved["sort_order"]) == (a, "C2", 3)
    top = await admin.http("PATCH", f"{base}/{c}", {"parent_id": None})
    assert top["parent_id"] is None and top["path"] == [{"department_id": c, "name": "C2"}]
    renamed = await admin.http("PATCH", f"{base}/{b}", {"name": "B2"})
    assert renamed["parent_id"] == a  # absent parent_id: no move

    await expect("not_found", 404, admin.http("PATCH", f"{base}/dep_nope", {"name": "x"}))
    await expect("not_found", 404, admin.http("POST", base, {"name": "x", "parent_id": "dep_nope"}))
    await expect("not_found", 404, admin.http("PATCH", f"{base}/{b}", {"parent_id": "dep_nope"}))
    await expect("bad_request", 400, admin.http("POST", base, {"name": "x" * 129}))
    await expect("bad_request", 400, admin.http("POST", base, {"name": "a/b"}))
    await expect("bad_request", 400, admin.http("POST", base, {"name": "   "}))
    await expect("bad_request", 400, admin.http("POST", base, {"name": 5}))
    await expect("bad_request", 400, admin.http("POST", base, {"name": "x", "sort_order": "1"}))
    await expect("bad_request", 400, admin.http("POST", base, {"name": "x", "colour": "red"}))
    await expect("bad_request", 400, admin.http("POST", base, None))
    await expect("conflict", 409, admin.http("POST", base, {"name": "B2", "parent_id": a}))  # sibling name taken
    zw = people["zw"]
    await expect("not_found", 404, admin.http("PUT", f"{base}/{a}/members/nobody_here", {}))
    await expect("not_found", 404, admin.http("PUT", f"{base}/dep_nope/members/{zw.user_id}", {}))
    await expect("bad_request", 400, admin.http("PUT", f"{base}/{a}/members/{zw.user_id}", {"title": "t" * 129}))
    await expect("bad_request", 400, admin.http("PUT", f"{base}/{a}/members/{zw.user_id}", {"title": 7}))
    await expect("bad_request", 400, zw.http("GET", "/api/v1/directory/search?q="))
    await expect("bad_request", 400, zw.http("GET", "/api/v1/directory/search?q=" + "x" * 65))
    await expect("bad_request", 400, zw.http("GET", "/api/v1/directory/search?q=x&limit=0"))
    await expect("bad_request", 400, zw.http("GET", f"/api/v1/directory/departments/{a}/members?limit=abc"))
    await expect("bad_request", 400, zw.http("GET", f"/api/v1/directory/departments/{a}/members?limit=1000"))
    await expect("bad_request", 400, zw.http("GET", f"/api/v1/directory/departments/{a}/members?offset=-1"))
    await expect("not_found", 404, zw.http("GET", "/api/v1/directory/departments?parent=dep_nope"))
    await expect("not_found", 404, zw.http("GET", "/api/v1/directory/departments/dep_nope/members"))


async def test_permissions(server: ServerProcess, people: dict[str, SemotClient]) -> None:
    zw = people["zw"]
    base = "/api/admin/v1/departments"
    await expect("forbidden", 403, zw.http("POST", base, {"name": "mine"}))
    await expect("forbidden", 403, zw.http("GET", base))
    await expect("forbidden", 403, zw.http("PUT", f"{base}/dep_x/members/{zw.user_id}", {}))
    await expect("forbidden", 403, zw.http("DELETE", f"{base}/dep_x"))
    await expect("unauthorized", 401, zw.http("POST", base, {"name": "mine"}, auth=False))
    for path in ("/api/v1/directory/departments", "/api/v1/directory/search?q=a", "/api/v1/directory/departments/x/members"):
        await expect("unauthorized", 401, zw.http("GET", path, auth=False))


def test_openapi_documents_the_directory(server: ServerProcess) -> None:
    with urllib.request.urlopen(server.base + "/openapi.json") as r:
        doc = json.loads(r.read())
    paths = doc["paths"]
    for p in (
        "/api/admin/v1/departments",
        "/api/admin/v1/departments/{department_id}",
        "/api/admin/v1/departments/{department_id}/members/{user_id}",
        "/api/v1/directory/departments",
        "/api/v1/directory/departments/{department_id}/members",
        "/api/v1/directory/search",
    ):
        assert p in paths, p
    assert "CreateDepartmentIn" in doc["components"]["schemas"]
    assert "DirectorySearchOut" in doc["components"]["schemas"]


async def test_import_org_cli(server: ServerProcess, admin: SemotClient, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    users = {}
    for name, display in (("imp1", "赵敏"), ("imp2", "周芷若")):
        c = await client(server, f"{name}{tag}", display)
        users[name] = c.user_id
        await c.close()
    csv_file = tmp_path / "org.csv"
    csv_file.write_text(
        "department,username,title\n"
        f"集团{tag}/研发中心/平台组,imp1{tag},组长\n"
        f"集团{tag}/研发中心/平台组,imp2{tag},工程师\n"
        f"集团{tag}/研发中心,imp2{tag},兼职顾问\n"
        f"集团{tag}/财务部,ghost{tag},会计\n",
        encoding="utf-8",
    )
    out = semot("import-org", str(csv_file), "--data-dir", str(server.data_dir))
    assert out.returncode == 1, out.stderr  # the unknown user is reported
    assert "4 rows: 4 departments created, 3 memberships added, 0 updated, 1 skipped" in out.stdout
    assert f"ghost{tag}" in out.stderr

    found = (await admin.http("GET", "/api/v1/directory/search?q=zm"))["results"]
    assert users["imp1"] in [r["user_id"] for r in found]
    zzr = (await admin.http("GET", "/api/v1/directory/search?q=zhouzhiruo"))["results"]
    assert {(d["name"], d["title"]) for d in zzr[0]["departments"]} == {("平台组", "工程师"), ("研发中心", "兼职顾问")}

    # JSON, run twice: the second run changes nothing
    json_file = tmp_path / "org.json"
    json_file.write_text(
        json.dumps([{"department": f"集团{tag}/研发中心/平台组", "username": f"imp1{tag}", "title": "组长", "order": 0}]),
        encoding="utf-8",
    )
    for _ in range(2):
        out = semot("import-org", str(json_file), "--data-dir", str(server.data_dir))
        assert out.returncode == 0, out.stderr
        assert "0 departments created, 0 memberships added, 1 updated, 0 skipped" in out.stdout

    # a path of any length: 121 levels, past the old 50-level cap
    deep_file = tmp_path / "deep.csv"
    deep_path = "/".join([f"深{tag}", *(f"层{i}" for i in range(120))])
    deep_file.write_text(f"{deep_path},imp1{tag},潜水员\n", encoding="utf-8")
    out = semot("import-org", str(deep_file), "--data-dir", str(server.data_dir))
    assert out.returncode == 0, out.stderr
    assert "1 rows: 121 departments created, 1 memberships added" in out.stdout
    zm = (await admin.http("GET", f"/api/v1/directory/search?q=imp1{tag}"))["results"][0]
    deepest = next(d for d in zm["departments"] if d["name"] == "层119")
    assert deepest["title"] == "潜水员"
    detail = await admin.http("GET", f"/api/v1/directory/departments/{deepest['department_id']}")
    assert len(detail["path"]) == 121 and detail["path"][0]["name"] == f"深{tag}"

    bad = semot("import-org", str(tmp_path / "missing.csv"), "--data-dir", str(server.data_dir))
    assert bad.returncode == 2 and "cannot read" in bad.stderr
    help_out = semot("import-org", "--help")
    assert help_out.returncode == 0 and "Usage" in help_out.stdout


def test_import_org_cli_unreadable_csv(tmp_path: Path) -> None:
    """A field over the csv module's 128 KiB limit is a clear error and exit code 2,
    before the database is opened, not a traceback."""
    big = tmp_path / "big.csv"
    big.write_text("department,username,title\n" + "总部," + "x" * (200 * 1024) + ",工程师\n", encoding="utf-8")
    quoted = tmp_path / "quoted.csv"  # one quoted field over the limit, across lines
    quoted.write_text('总部,someone,"' + "长" * (140 * 1024) + '\n"\n', encoding="utf-8")
    for file in (big, quoted):
        out = semot("import-org", str(file), "--data-dir", str(tmp_path / "data"))
        assert out.returncode == 2, (out.stdout, out.stderr)
        assert "Traceback" not in out.stderr
        assert f"error: {file} is not readable as CSV: field larger than field limit" in out.stderr
    assert not (tmp_path / "data").exists()  # nothing was opened or migrated


def test_colleagues_may_message_without_friendship(tmp_path: Path) -> None:
    """With direct_message_policy = friends_or_colleagues, two people of the directory
    may chat without being friends; someone outside it may not (the org service is
    wired into the contacts check)."""
    import asyncio

    data = tmp_path / "data"
    assert semot("create-admin", ADMIN, "--password", ADMIN_PW, "--data-dir", str(data)).returncode == 0
    srv = ServerProcess(data, {"SEMOT_DIRECT_MESSAGE_POLICY": "friends_or_colleagues"}).start()

    async def scenario() -> None:
        admin = await client(srv, ADMIN)
        a = await client(srv, "colla", "甲")
        b = await client(srv, "collb", "乙")
        c = await client(srv, "stranger", "丙")
        try:
            dept = await mkdept(admin, "Team")
            for u in (a, b):
                await admin.http("PUT", f"/api/admin/v1/departments/{dept}/members/{u.user_id}", {})
            await a.connect()
            await c.connect()
            assert (await a.send_text(str(b.user_id), "hi colleague"))["seq"] == 1
            with pytest.raises(SemotAPIError) as info:
                await c.send_text(str(b.user_id), "hi stranger")
            assert info.value.code == "forbidden"
        finally:
            for x in (admin, a, b, c):
                await x.close()

    try:
        asyncio.run(scenario())
    finally:
        srv.kill()
