"""The directory tab in a real browser: department tree, members, pinyin search, chat."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.conftest import PASSWORD, direct, http_json
from tests.browser.test_social import shot
from tests.support.server import ServerProcess

ADMIN, ADMIN_PW = "boss", "boss-password-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own, with an administrator made before it starts."""
    data = tmp_path_factory.mktemp("dirui") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
    made = subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", ADMIN, "--password", ADMIN_PW, "--data-dir", str(data)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert made.returncode == 0, made.stderr
    srv = ServerProcess(data).start()
    yield srv
    srv.kill()


def test_find_a_colleague_by_pinyin_and_start_a_chat(server: ServerProcess, open_tab: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    me, zw = f"me{tag}", f"zw{tag}"
    http_json("POST", server.base + "/api/v1/auth/register", {"username": me, "password": PASSWORD, "display_name": "Me Myself"})
    http_json("POST", server.base + "/api/v1/auth/register", {"username": zw, "password": PASSWORD, "display_name": "张伟"})
    token = http_json("POST", server.base + "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PW})["access_token"]
    hq = http_json("POST", server.base + "/api/admin/v1/departments", {"name": f"总部{tag}"}, token)["department_id"]
    be = http_json("POST", server.base + "/api/admin/v1/departments", {"name": "后端组", "parent_id": hq}, token)["department_id"]
    http_json("PUT", f"{server.base}/api/admin/v1/departments/{be}/members/{zw}", {"title": "工程师"}, token)
    http_json("PUT", f"{server.base}/api/admin/v1/departments/{hq}/members/{me}", {"title": "<b>CEO</b>"}, token)
    a = open_tab(me)
    page = a.page
    page.click("[data-testid=nav-directory]")
    # the tree: the top department, its members (a title with markup shown as text)
    page.click(f"[data-testid=dir-dept][data-dept='{hq}']")
    row = page.wait_for_selector(f"[data-testid=dir-member][data-user='{me}']")
    assert "<b>CEO</b>" in row.inner_text()
    # a sub-department (clicking the top one's name opened it)
    page.click(f"[data-testid=dir-dept][data-dept='{be}']")
    page.wait_for_selector(f"[data-testid=dir-member][data-user='{zw}']")
    page.wait_for_timeout(400)  # the tree's expand animation
    shot(page, "directory-tree-zh.png")
    # search by pinyin and by initials
    page.fill("[data-testid=dir-search]", "zhangw")
    hit = page.wait_for_selector(f"[data-testid=dir-result][data-user='{zw}']")
    assert "张伟" in hit.inner_text() and "后端组 · 工程师" in hit.inner_text()
    shot(page, "directory-search-zh.png")
    page.fill("[data-testid=dir-search]", "nobody-matches-this")
    page.wait_for_selector("[data-testid=dir-result]", state="detached")
    page.fill("[data-testid=dir-search]", "zw")
    page.click(f"[data-testid=dir-result][data-user='{zw}']")
    page.wait_for_selector(f"[data-testid=chat][data-conv='{direct(me, zw)}']")
    assert page.locator("[data-testid=chat-title]").inner_text() == "张伟"
    a.send("你好张伟")
    a.wait_texts(["你好张伟"])
    page.wait_for_selector("[data-testid=st-failed]", state="detached")
    a.assert_no_console_errors()


def test_clicking_a_name_expands_it_and_counts_include_sub_departments(server: ServerProcess, open_tab: Any) -> None:
    """Issue 11, defect 7. Before: clicking a department's name only listed its members
    (the tree stayed shut), and the count beside it left out its sub-departments
    (a department of three teams read "0")."""
    tag = uuid.uuid4().hex[:6]
    token = http_json("POST", server.base + "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PW})["access_token"]

    def dept(name: str, parent: str | None = None) -> str:
        body = {"name": name, **({"parent_id": parent} if parent else {})}
        return str(http_json("POST", server.base + "/api/admin/v1/departments", body, token)["department_id"])

    def user(name: str) -> str:
        http_json("POST", server.base + "/api/v1/auth/register", {"username": name, "password": PASSWORD})
        return name

    eng = dept(f"Engineering{tag}")
    web, infra = dept("Web", eng), dept("Infra", eng)
    db = dept("Databases", infra)
    me, x, y, z = user(f"cnt{tag}"), user(f"x{tag}"), user(f"y{tag}"), user(f"z{tag}")
    for d, u in ((web, me), (web, x), (infra, y), (db, z), (db, x)):  # x in two teams: counted once above them
        http_json("PUT", f"{server.base}/api/admin/v1/departments/{d}/members/{u}", {}, token)

    a = open_tab(me)
    page = a.page
    page.click("[data-testid=nav-directory]")

    def count(d: str) -> str:
        return page.locator(f"[data-testid=dir-dept][data-dept='{d}'] [data-testid=dir-count]").inner_text().strip()

    page.wait_for_selector(f"[data-testid=dir-dept][data-dept='{eng}']")
    assert count(eng) == "4"
    page.click(f"[data-testid=dir-dept][data-dept='{eng}']")  # the name, not the arrow
    page.wait_for_selector(f"[data-testid=dir-dept][data-dept='{infra}']")
    assert (count(web), count(infra)) == ("2", "3")
    assert page.locator("[data-testid=dir-members] h2").inner_text().startswith(f"Engineering{tag}")
    page.click(f"[data-testid=dir-dept][data-dept='{infra}']")
    page.wait_for_selector(f"[data-testid=dir-dept][data-dept='{db}']")
    page.wait_for_selector(f"[data-testid=dir-member][data-user='{y}']")
    assert count(db) == "2"
    # a second click on an open department's name keeps it open; the arrow still closes it
    page.click(f"[data-testid=dir-dept][data-dept='{infra}']")
    page.wait_for_timeout(300)
    assert page.locator(f"[data-testid=dir-dept][data-dept='{db}']").is_visible()
    row = f"[data-testid=dir-tree] .el-tree-node__content:has([data-testid=dir-dept][data-dept='{infra}'])"
    page.click(f"{row} .el-tree-node__expand-icon")
    page.wait_for_selector(f"[data-testid=dir-dept][data-dept='{db}']", state="hidden")
    a.assert_no_console_errors()


def _expand_until_shown(page: Any, row: str, child: str) -> None:
    """Expand `row` until `child` is shown. The level below is awaited before the next
    click: a click while the view moves down can land on a row being replaced (seen on a
    busy CI machine), so a row that is still collapsed after a wait is clicked again; an
    expanded one is only waited for (a second click would fold it)."""
    for _ in range(4):
        if page.locator(child).count():
            return
        expanded = page.locator(row).first.evaluate("e => e.parentElement.getAttribute('aria-expanded')")
        if expanded != "true":
            page.click(f"{row} .el-tree-node__expand-icon")
        try:
            page.wait_for_selector(child, timeout=7_000)
            return
        except PlaywrightTimeoutError:
            continue
    page.wait_for_selector(child)


def test_a_deep_tree_opens_level_by_level_and_big_departments_page(server: ServerProcess, open_tab: Any) -> None:
    """A chain deeper than the old 50-level cap opens one level per click (each level
    fetched when expanded: `?parent=`), and a department of more members than one page
    shows them all through "load more"."""
    tag = uuid.uuid4().hex[:6]
    me = f"deep{tag}"
    http_json("POST", server.base + "/api/v1/auth/register", {"username": me, "password": PASSWORD, "display_name": "Deep Diver"})
    token = http_json("POST", server.base + "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PW})["access_token"]
    chain: list[str] = []
    for level in range(55):
        body: dict[str, Any] = {"name": f"D{level}-{tag}" if level == 0 else f"D{level}"}
        if chain:
            body["parent_id"] = chain[-1]
        chain.append(http_json("POST", server.base + "/api/admin/v1/departments", body, token)["department_id"])
    bottom = chain[-1]
    http_json("PUT", f"{server.base}/api/admin/v1/departments/{bottom}/members/{me}", {"title": "潜水员"}, token)
    # a big department: more members than one page (50)
    big = http_json("POST", server.base + "/api/admin/v1/departments", {"name": f"大部门{tag}"}, token)["department_id"]
    people = []
    for i in range(57):
        name = f"p{i:02d}{tag}"
        http_json("POST", server.base + "/api/v1/auth/register", {"username": name, "password": PASSWORD, "display_name": f"成员{i:02d}"})
        http_json("PUT", f"{server.base}/api/admin/v1/departments/{big}/members/{name}", {"sort_order": i}, token)
        people.append(name)

    a = open_tab(me)
    page = a.page
    levels: list[str] = []
    page.on("request", lambda r: "/api/v1/directory/departments?parent=" in r.url and levels.append(r.url.split("parent=")[1]))
    page.click("[data-testid=nav-directory]")
    for dept, child in itertools.pairwise(chain):  # a few levels expand in place, then the view moves down
        row = f"[data-testid=dir-tree] .el-tree-node__content:has([data-testid=dir-dept][data-dept='{dept}'])"
        _expand_until_shown(page, row, f"[data-testid=dir-tree] [data-testid=dir-dept][data-dept='{child}']")
    page.click(f"[data-testid=dir-dept][data-dept='{bottom}']")
    row = page.wait_for_selector(f"[data-testid=dir-member][data-user='{me}']")
    assert "潜水员" in row.inner_text()
    assert page.get_attribute(f"[data-testid=dir-dept][data-dept='{bottom}']", "data-depth") == "54"
    assert levels[0] == "root" and levels[1:] == chain[:-1], "each level fetched once, when expanded"
    # the path above: the last levels, "…" one further up, and the top
    crumbs = page.eval_on_selector_all("[data-testid=dir-crumb]", "els => els.map(e => e.dataset.dept)")
    assert crumbs == chain[-4:-1]
    shot(page, "directory-deep-zh.png")
    page.click("[data-testid=dir-crumb-up]")
    page.wait_for_selector(f"[data-testid=dir-tree] [data-testid=dir-dept][data-dept='{chain[-4]}']")
    page.click(f"[data-testid=dir-crumb][data-dept='{chain[-5]}']")  # the department shown as the top
    page.wait_for_selector("[data-testid=dir-members] h2:has-text('D50')")
    page.click("[data-testid=dir-crumb-top]")
    page.wait_for_selector(f"[data-testid=dir-tree] [data-testid=dir-dept][data-dept='{chain[0]}']")
    assert page.locator("[data-testid=dir-crumbs]").count() == 0

    page.click(f"[data-testid=dir-dept][data-dept='{big}']")
    page.wait_for_selector(f"[data-testid=dir-member][data-user='{people[49]}']")
    assert page.locator("[data-testid=dir-member]").count() == 50
    assert page.locator("[data-testid=dir-total]").inner_text() == "57"
    more = page.locator("[data-testid=dir-more]")
    assert "7" in more.inner_text()
    more.click()
    page.wait_for_selector(f"[data-testid=dir-member][data-user='{people[56]}']")
    assert page.locator("[data-testid=dir-more]").count() == 0
    shown = page.eval_on_selector_all("[data-testid=dir-member]", "els => els.map(e => e.dataset.user)")
    assert shown == people  # in order, each once
    # the tab follows the presence of everyone shown, the second page too (colleagues:
    # all of them are in the directory; none has signed in)
    page.wait_for_selector(f"[data-testid=dir-member][data-user='{people[56]}'] [data-testid=presence][data-status=offline]")
    assert page.locator("[data-testid=dir-member] [data-testid=presence][data-status=offline]").count() == 57
    a.assert_no_console_errors()
