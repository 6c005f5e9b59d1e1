"""The audit log page (操作日志) in Chromium against a real server: changes made through
the API appear with their action names, filters (action, administrator, target, time)
narrow the list and stay in the address, paging, the before/after comparison with the
changed fields marked and hostile text shown as text; an auditor sees the log but not
the administrators' list; English."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.browser.admin.conftest import AdminConsole, AdminTab

A = "/api/admin/v1"
HOSTILE = '<img src=x onerror="window.__pwned=1">Ops & <b>co'  # no "/": not in department names


def _actions(tab: AdminTab) -> list[str]:
    return list(
        tab.page.eval_on_selector_all(
            "[data-testid=audit-table] .el-table__body-wrapper [data-testid^=audit-action-]",
            "els => els.map(e => e.dataset.testid.slice(13))",
        )
    )


def _wait_rows(tab: AdminTab, predicate: str, arg: Any = None) -> None:
    """Until the table's actions (a list) satisfy the JS predicate."""
    tab.page.wait_for_function(
        f"""arg => {{
            const acts = [...document.querySelectorAll('[data-testid=audit-table] .el-table__body-wrapper [data-testid^=audit-action-]')]
                .map(e => e.dataset.testid.slice(13));
            return ({predicate})(acts, arg);
        }}""",
        arg=arg,
    )


def _pick(tab: AdminTab, testid: str, text: str) -> None:
    page = tab.page
    page.click(f"[data-testid={testid}]")
    page.locator(".el-select-dropdown__item:visible", has_text=text).first.click()


def test_filters_paging_and_before_after(admin_console: AdminConsole) -> None:
    kit = admin_console
    t0 = int(time.time() * 1000)
    suffix = uuid.uuid4().hex[:4]
    dept = kit.api("POST", f"{A}/departments", {"name": f"Audit {suffix}"})["department_id"]
    kit.api("PATCH", f"{A}/departments/{dept}", {"name": HOSTILE})
    role = kit.api("POST", f"{A}/roles", {"name": f"Paged {suffix}", "perms": ["org.view"]})
    for i in range(22):  # enough for a second page of 20
        kit.api("PATCH", f"{A}/roles/{role['role_id']}", {"description": f"v{i}"})

    tab = kit.tab
    page = tab.page
    tab.goto("audit-log")
    _wait_rows(tab, "(acts) => acts.length > 0")
    assert _actions(tab)[0] == "role.update"  # newest first
    assert "修改角色" in page.inner_text("[data-testid=audit-table]")

    # the action filter (a known action from the list), kept in the address
    _pick(tab, "audit-action", "修改部门")
    page.click("[data-testid=audit-search]")
    _wait_rows(tab, "(acts) => acts.length > 0 && acts.every(a => a === 'department.update')")
    assert "action=department.update" in page.evaluate("location.hash")

    # the before/after comparison: the changed name marked, the hostile text inert
    first = page.locator("[data-testid=audit-table] .el-table__body-wrapper .el-table__row").first
    first.locator("[data-testid^=audit-open-]").click()
    diff = page.locator("[data-testid=audit-diff]")
    diff.wait_for()
    name_row = diff.locator("[data-testid=diff-name]")
    assert "is-changed" in (name_row.get_attribute("class") or "")
    assert name_row.locator(".adm-diff-before").inner_text() == f"Audit {suffix}"
    assert name_row.locator(".adm-diff-after").inner_text() == HOSTILE
    assert "is-changed" not in (diff.locator("[data-testid=diff-department_id]").get_attribute("class") or "")
    assert page.evaluate("window.__pwned") is None and diff.locator("img").count() == 0
    page.keyboard.press("Escape")
    diff.wait_for(state="hidden")

    # target + time range through the address (a shared link), then paging
    tab.goto("audit-log", f"target={role['role_id']}&from={t0}&to={int(time.time() * 1000) + 60_000}&size=20")
    page.reload()
    tab.wait_page("audit-log")
    _wait_rows(tab, "(acts) => acts.length === 20 && acts.every(a => a.startsWith('role.'))")
    assert "23" in page.inner_text("[data-testid=audit-pager]")  # 1 create + 22 updates
    page.locator("[data-testid=audit-pager] .btn-next").click()
    _wait_rows(tab, "(acts) => acts.length === 3")
    assert _actions(tab)[-1] == "role.create"
    assert "page=2" in page.evaluate("location.hash")

    # reset: every entry again (more than the role's 23), from the first page
    page.click("[data-testid=audit-reset]")
    page.wait_for_function(
        "() => Number((document.querySelector('[data-testid=audit-pager] .el-pagination__total') || {}).innerText"
        "?.replace(/\\D/g, '')) >= 25"
    )
    assert "target=" not in page.evaluate("location.hash") and "page=" not in page.evaluate("location.hash")
    tab.assert_no_console_errors()


def test_an_auditor_in_english(admin_console: AdminConsole) -> None:
    kit = admin_console
    auditor = kit.new_user("aud", display_name="Audrey")
    kit.api("PUT", f"{A}/admins/{kit.ids[auditor]}", {"roles": ["auditor"]})
    kit.api("POST", f"{A}/departments", {"name": f"Seen {uuid.uuid4().hex[:4]}"})
    tab = kit.login_as(auditor, locale="en")
    assert "audit-log" in tab.menu() and "admins" not in tab.menu()
    tab.goto("audit-log")
    _wait_rows(tab, "(acts) => acts.length > 0")
    page = tab.page
    assert "Create department" in page.inner_text("[data-testid=audit-table]")
    assert page.inner_text("[data-testid=audit-search]").strip() == "Search"
    # no admins.view: the administrator filter is a plain id field, and the console asked nothing it may not
    assert page.locator("input[data-testid=audit-admin]").count() == 1
    page.fill("input[data-testid=audit-admin]", kit.ids[auditor])
    page.click("[data-testid=audit-search]")
    page.wait_for_selector("[data-testid=audit-table] .el-table__empty-text")
    assert page.inner_text("[data-testid=audit-table] .el-table__empty-text") == "No matching entries"
    root_id = kit.api("GET", f"{A}/me")["user_id"]
    page.fill("input[data-testid=audit-admin]", root_id)
    page.click("[data-testid=audit-search]")
    _wait_rows(tab, "(acts) => acts.includes('admin.grant')")
    tab.assert_no_console_errors()
