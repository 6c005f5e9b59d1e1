"""The administrators and roles page (管理员与角色) in Chromium against a real server: a
custom role built from permission checkboxes, granted to a person found with the
people picker; that administrator signs in, sees only the menus their role allows and
is refused by the API elsewhere; built-in roles are read-only; a grant limited to a
department from the tree; revocation; English and a tablet-wide window."""

from __future__ import annotations

import uuid
from typing import Any

from tests.browser.admin.conftest import AdminConsole, AdminTab

A = "/api/admin/v1"


def _row(tab: AdminTab, username: str) -> Any:
    return tab.page.locator(f"[data-testid=admins-table] .el-table__row:has([data-testid=admin-row-{username}])")


def _status(tab: AdminTab, path: str) -> int:
    """What the API answers the signed-in administrator (the console's own api.js, quietly)."""
    return int(
        tab.js(
            """async (path) => {
            try { await window.__semotAdmin.api.get(path, null, { quiet: true }); return 200; }
            catch (e) { return e.status; }
        }""",
            path,
        )
    )


def _pick_person(tab: AdminTab, username: str) -> None:
    page = tab.page
    page.click("[data-testid=grant-person]")
    page.keyboard.type(username)
    option = page.locator(".el-select-dropdown__item:visible", has_text=username)
    option.first.click()


def test_custom_role_granted_and_used(admin_console: AdminConsole) -> None:
    kit = admin_console
    tab = kit.tab
    page = tab.page
    tab.goto("admins")
    assert _row(tab, kit.admin).locator("[data-testid=admin-role-super_admin]").inner_text() == "超级管理员"

    # the roles tab: built-in roles read-only
    page.click("#tab-roles")
    page.wait_for_selector("[data-testid=roles-table] [data-testid=role-auditor]")
    assert page.inner_text("[data-testid=role-auditor]") == "审计员"
    page.click("[data-testid=role-open-auditor]")
    dialog = page.locator("[data-testid=role-dialog]")
    dialog.wait_for()
    assert "内置角色不能修改" in dialog.inner_text()
    assert dialog.locator("[data-testid=perm-audit\\.view] input").is_checked()
    assert dialog.locator("[data-testid=perm-audit\\.view] input").is_disabled()
    assert dialog.locator("[data-testid=role-save]").count() == 0
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # a custom role: the audit log and the dashboard, from the permission matrix
    name = f"日志查看员{uuid.uuid4().hex[:4]}"
    page.click("[data-testid=role-new]")
    dialog.wait_for()
    dialog.locator("[data-testid=role-name]").fill(name)
    assert "消息审计" in dialog.locator("[data-testid=perm-menu-messages]").inner_text()
    dialog.locator("[data-testid=perm-audit\\.view]").click()
    dialog.locator("[data-testid=perm-dashboard\\.view]").click()
    dialog.locator("[data-testid=role-save]").click()
    dialog.wait_for(state="hidden")
    made = next(r for r in kit.api("GET", f"{A}/roles")["roles"] if r["name"] == name)
    role_id = made["role_id"]
    assert sorted(made["perms"]) == ["audit.view", "dashboard.view"]
    page.wait_for_selector(f"[data-testid=role-{role_id}]")

    # grant it to a person found by the people picker
    person = kit.new_user("logs", display_name="日志小王")
    page.click("#tab-admins")
    page.click("[data-testid=admin-add]")
    grant = page.locator("[data-testid=grant-dialog]")
    grant.wait_for()
    _pick_person(tab, person)
    grant.locator(f"[data-testid=grant-role-{role_id}]").click()
    assert grant.locator("[data-testid=grant-scope-all] input").is_checked()
    grant.locator("[data-testid=grant-save]").click()
    grant.wait_for(state="hidden")
    _row(tab, person).wait_for()
    assert name in _row(tab, person).inner_text() and "全部组织" in _row(tab, person).inner_text()

    # that administrator: the menus of their role only, and the API refuses the rest
    narrow = kit.login_as(person)
    menu = narrow.menu()
    assert "audit-log" in menu and "admins" not in menu and "users" not in menu and "org" not in menu
    narrow.goto("audit-log")
    narrow.page.wait_for_selector("[data-testid=audit-table]")
    narrow.page.evaluate("h => { location.hash = h }", "#/admins")
    narrow.wait_page("forbidden")
    assert _status(narrow, "/audit-log") == 200
    for path in ("/roles", "/admins", "/users", "/departments"):
        assert _status(narrow, path) == 403, path
    narrow.assert_no_console_errors(allow=lambda m: "status of 403" in m)

    # revoked from the console: the next request is refused
    _row(tab, person).locator(f"[data-testid=admin-revoke-{person}]").click()
    page.locator(".el-message-box .el-button--danger").click()
    _row(tab, person).wait_for(state="detached")
    assert _status(narrow, "/audit-log") == 403
    tab.assert_no_console_errors()


def test_department_scope_and_english(admin_console_en: AdminConsole) -> None:
    kit = admin_console_en
    tab = kit.tab
    page = tab.page
    suffix = uuid.uuid4().hex[:4]
    hq = kit.api("POST", f"{A}/departments", {"name": f"HQ {suffix}"})["department_id"]
    sales = kit.api("POST", f"{A}/departments", {"name": f"Sales {suffix}", "parent_id": hq})["department_id"]
    person = kit.new_user("sales", display_name="Sally Sales")
    tab.goto("admins")
    assert "Administrators" in page.inner_text("#tab-admins")
    page.click("[data-testid=admin-add]")
    grant = page.locator("[data-testid=grant-dialog]")
    grant.wait_for()
    _pick_person(tab, person)
    grant.locator("[data-testid=grant-role-org_admin]").click()
    assert grant.locator("[data-testid=grant-role-org_admin]").inner_text().strip() == "Organisation administrator"
    grant.locator("[data-testid=grant-scope-departments]").click()
    grant.locator("[data-testid=grant-departments]").click()
    page.locator(".el-tree-node__content:visible", has_text=f"Sales {suffix}").locator(".el-checkbox").click()
    page.keyboard.press("Escape")
    grant.locator("[data-testid=grant-save]").click()
    grant.wait_for(state="hidden")
    row = _row(tab, person)
    row.wait_for()
    assert f"Sales {suffix}" in row.inner_text() and "Organisation administrator" in row.inner_text()
    held = next(a for a in kit.api("GET", f"{A}/admins?limit=200")["admins"] if a["username"] == person)
    assert held["roles"] == ["org_admin"] and held["departments"] == [
        {"department_id": sales, "name": f"Sales {suffix}"}
    ]

    # they administer Sales only: the API says so, and so does their grant dialog
    scoped = kit.login_as(person, locale="en", viewport={"width": 768, "height": 1024})
    me = scoped.js("() => window.__semotAdmin.session")
    assert me["departments"] == [sales] and "org.write" in me["perms"]
    assert scoped.js(
        """async ([hq, sales]) => {
            const api = window.__semotAdmin.api;
            const tryIt = async (parent) => {
                try { await api.post('/departments', { name: 'Team ' + parent.slice(-4), parent_id: parent }, { quiet: true }); return 201; }
                catch (e) { return e.status; }
            };
            return [await tryIt(hq), await tryIt(sales)];
        }""",
        [hq, sales],
    ) == [403, 201]
    scoped.assert_no_console_errors(allow=lambda m: "status of 403" in m)

    # edit: back to the whole organisation, then revoke
    row.locator(f"[data-testid=admin-edit-{person}]").click()
    grant.wait_for()
    grant.locator("[data-testid=grant-scope-all]").click()
    grant.locator("[data-testid=grant-save]").click()
    grant.wait_for(state="hidden")
    page.wait_for_function(
        "u => [...document.querySelectorAll('[data-testid=admins-table] .el-table__row')]"
        ".some(r => r.querySelector('[data-testid=admin-row-' + u + ']') && r.innerText.includes('Whole organisation'))",
        arg=person,
    )
    row.locator(f"[data-testid=admin-revoke-{person}]").click()
    page.locator(".el-message-box .el-button--danger").click()
    row.wait_for(state="detached")
    tab.assert_no_console_errors()


def test_the_last_super_admin_is_refused_in_the_console(admin_console: AdminConsole) -> None:
    """Revoking the only super administrator: the server's 409, shown as a message."""
    kit = admin_console
    supers = [a for a in kit.api("GET", f"{A}/admins?limit=200")["admins"] if a["super_admin"]]
    if len(supers) != 1:  # another test left a second super admin: demote nobody here
        return
    tab = kit.tab
    tab.goto("admins")
    _row(tab, kit.admin).locator(f"[data-testid=admin-revoke-{kit.admin}]").click()
    tab.page.locator(".el-message-box .el-button--danger").click()
    tab.page.wait_for_selector(".el-message--error")
    assert "最后一位超级管理员" in tab.page.inner_text(".el-message--error")
    assert kit.api("GET", f"{A}/me")["super_admin"]
    tab.assert_no_console_errors(allow=lambda m: "status of 409" in m)
