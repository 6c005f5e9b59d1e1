"""The organisation page (组织架构) in Chromium against a real server: drag and drop a
department (for real: HTML5 drag events in Chromium) to reorder it and to move it under
another, and check the server's tree; create, rename and delete departments; members
with titles, primary department, add and remove; import a CSV file."""

from __future__ import annotations

import uuid
from typing import Any

from tests.browser.admin.conftest import AdminConsole, AdminTab

DEPTS = "/api/admin/v1/departments"


def _tree(kit: AdminConsole) -> list[dict[str, Any]]:
    return list(kit.api("GET", DEPTS)["departments"])


def _children(kit: AdminConsole, parent: str | None) -> list[str]:
    return [d["department_id"] for d in _tree(kit) if d["parent_id"] == parent]


def _until(predicate: Any, what: str, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _node(tab: AdminTab, dept_id: str) -> Any:
    """The row of a department in the tree (what el-tree makes draggable)."""
    return tab.page.locator(f".el-tree-node__content:has([data-dept='{dept_id}'])")


def _drag(tab: AdminTab, source: str, target: str, where: str) -> None:
    """Drag `source` onto `target`: "before" (the top edge of its row) or "inner" (its middle)."""
    to = _node(tab, target)
    box = to.bounding_box()
    assert box is not None
    y = 2 if where == "before" else box["height"] / 2
    _node(tab, source).drag_to(to, target_position={"x": box["width"] / 2, "y": y})


def _others(message: str) -> bool:
    return "/admin/pages/" in message and "/admin/pages/org" not in message


def _confirm(tab: AdminTab) -> None:
    tab.page.locator(".el-message-box .el-message-box__btns .el-button--primary").click()


def test_drag_and_drop_moves_and_reorders_departments(admin_console: AdminConsole) -> None:
    kit, tab = admin_console, admin_console.tab
    tag = uuid.uuid4().hex[:6]
    top = kit.api("POST", DEPTS, {"name": f"总部{tag}"})["department_id"]
    a, b, c = (kit.api("POST", DEPTS, {"name": f"{n}{tag}", "parent_id": top})["department_id"] for n in "ABC")
    tab.goto("org")
    _node(tab, c).wait_for()

    _drag(tab, c, a, "before")  # reorder: C first
    _until(lambda: _children(kit, top) == [c, a, b], "C before A on the server")
    _drag(tab, b, a, "inner")  # move: B under A
    _until(lambda: _children(kit, a) == [b], "B under A on the server")
    assert _children(kit, top) == [c, a]
    orders = {d["department_id"]: d["sort_order"] for d in _tree(kit)}
    assert (orders[c], orders[a]) == (0, 1)
    _node(tab, b).wait_for()  # the tree shows the server's state (A expanded)

    # a move the server refuses (a top-level department is already named like A) snaps back
    twin = kit.api("POST", DEPTS, {"name": f"A{tag}"})["department_id"]
    tab.page.click("[data-testid=org-refresh]")
    _node(tab, twin).wait_for()
    _drag(tab, a, twin, "before")
    tab.page.wait_for_selector(".el-message--error")
    tab.page.wait_for_function(
        "([a, top]) => document.querySelector(`[data-dept='${a}']`)?.closest('.el-tree-node')"
        "?.parentElement?.closest('.el-tree-node')?.querySelector('[data-dept]')?.dataset.dept === top",
        arg=[a, top],
    )
    assert _children(kit, top) == [c, a]
    moves = kit.api("GET", f"/api/admin/v1/audit-log?action=department.move&target={b}")
    assert moves["total"] == 1 and moves["entries"][0]["after"]["parent_id"] == a
    tab.assert_no_console_errors(allow=lambda m: _others(m) or "409" in m)


def test_departments_members_and_import(admin_console: AdminConsole) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    tag = uuid.uuid4().hex[:6]
    zhang = kit.new_user("zw", display_name=f"Zhang {tag}")
    li = kit.new_user("ln", display_name=f"Li {tag}")
    tab.goto("org")

    # create a top-level department, then a sub-department from its menu
    page.click("[data-testid=org-add-top]")
    page.fill(".el-message-box input", f"Sales{tag}")
    _confirm(tab)
    _until(lambda: any(d["name"] == f"Sales{tag}" for d in _tree(kit)), "the new department")
    sales = next(d["department_id"] for d in _tree(kit) if d["name"] == f"Sales{tag}")
    page.wait_for_selector(f"[data-testid=org-dept-name]:text-is('Sales{tag}')")  # selected at once
    _node(tab, sales).hover()
    _node(tab, sales).locator("[data-testid=org-node-menu]").click()
    page.locator(".el-dropdown-menu:visible [data-testid=org-node-add]").click()
    page.fill(".el-message-box input", f"East{tag}")
    _confirm(tab)
    _until(lambda: len(_children(kit, sales)) == 1, "the sub-department")
    east = _children(kit, sales)[0]

    # rename it, then delete it
    _node(tab, east).wait_for()
    _node(tab, east).hover()
    _node(tab, east).locator("[data-testid=org-node-menu]").click()
    page.locator(".el-dropdown-menu:visible [data-testid=org-node-rename]").click()
    page.fill(".el-message-box input", f"West{tag}")
    _confirm(tab)
    _until(lambda: any(d["name"] == f"West{tag}" for d in _tree(kit)), "the rename")
    _node(tab, east).hover()
    _node(tab, east).locator("[data-testid=org-node-menu]").click()
    page.locator(".el-dropdown-menu:visible [data-testid=org-node-delete]").click()
    _confirm(tab)
    _until(lambda: _children(kit, sales) == [], "the deletion")

    # members: add two with titles (users found through the users API), set a primary, edit, remove
    page.click(f"[data-dept='{sales}']")
    for user, name, title in ((zhang, f"Zhang {tag}", "经理"), (li, f"Li {tag}", "")):
        page.click("[data-testid=org-add-member]")
        page.click("[data-testid=org-user-pick]")
        page.keyboard.type(user)
        page.locator(".el-select-dropdown__item:visible", has_text=name).click()
        if title:
            page.fill("[data-testid=org-add-title]", title)
        page.click("[data-testid=org-add-confirm]")
        page.wait_for_selector(f"[data-testid=org-member-name]:text-is('{name}')")
    members = kit.api("GET", f"{DEPTS}/{sales}/members")["members"]
    assert {m["user_id"]: m["title"] for m in members} == {zhang: "经理", li: ""}

    row = page.locator("[data-testid=org-member-table] .el-table__body-wrapper tr", has_text=f"Zhang {tag}")
    row.locator("[data-testid=org-set-primary]").click()
    row.locator("[data-testid=org-primary]").wait_for()
    roster = kit.api("GET", f"{DEPTS}/{sales}/roster")["members"]
    assert {m["user_id"]: m["primary_department_id"] for m in roster} == {zhang: sales, li: None}
    row.locator("[data-testid=org-edit-title]").click()
    page.fill(".el-message-box input", "总经理")
    _confirm(tab)
    row.locator("[data-testid=org-member-title]:text-is('总经理')").wait_for()
    li_row = page.locator("[data-testid=org-member-table] .el-table__body-wrapper tr", has_text=f"Li {tag}")
    li_row.locator("[data-testid=org-remove-member]").click()
    _confirm(tab)
    li_row.wait_for(state="detached")
    assert [m["user_id"] for m in kit.api("GET", f"{DEPTS}/{sales}/members")["members"]] == [zhang]

    # import a CSV file: departments along the paths, people with titles, a bad row reported
    csv = f"department,username,title\nSales{tag}/North{tag},{li},代表\nSales{tag}/North{tag},ghost{tag},\n"
    page.click("[data-testid=org-import]")
    page.set_input_files(
        "[data-testid=org-import-dialog] input[type=file]",
        files=[{"name": "org.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    page.wait_for_selector("[data-testid=org-import-preview]")
    assert f"North{tag}" in page.inner_text("[data-testid=org-import-preview]")
    page.click("[data-testid=org-import-run]")
    result = page.locator("[data-testid=org-import-result]")
    result.wait_for()
    assert "1" in result.inner_text() and f"ghost{tag}" in page.inner_text("[data-testid=org-import-skipped]")
    north = next(d for d in _tree(kit) if d["name"] == f"North{tag}")
    assert north["parent_id"] == sales and north["member_count"] == 1
    page.locator("[data-testid=org-import-dialog] .el-dialog__footer button").first.click()
    _node(tab, north["department_id"]).wait_for()  # the tree was reloaded

    tab.set_language("en")
    page.wait_for_selector("[data-testid=org-add-top]:has-text('New top-level department')")
    tab.assert_no_console_errors(allow=_others)
