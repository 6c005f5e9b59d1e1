"""The login logs page (登录日志) in Chromium against a real server: failed and successful
logins with why, filters kept in the address, paging, a CSV export that downloads the
filtered rows; hostile usernames shown as text; zh-CN and English."""

from __future__ import annotations

import csv
import io
import time
import urllib.error
import uuid
from pathlib import Path

from tests.browser.admin.conftest import AdminConsole, AdminTab, request_json
from tests.browser.conftest import PASSWORD

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def fail(kit: AdminConsole, username: str, password: str = "wrong-password") -> None:
    try:
        request_json("POST", kit.base + "/api/v1/auth/login", {"username": username, "password": password})
    except urllib.error.HTTPError as exc:
        assert exc.code in (401, 403, 429)
    else:
        raise AssertionError("the login should have failed")


def written(kit: AdminConsole, q: str, n: int) -> None:
    """Until the server's log holds `n` attempts matching `q` (written within a second)."""
    deadline = time.monotonic() + 15
    while kit.api("GET", f"/api/admin/v1/login-logs?q={q}")["total"] < n:
        assert time.monotonic() < deadline, f"fewer than {n} attempts written"
        time.sleep(0.2)


def rows(tab: AdminTab) -> int:
    return int(tab.page.locator("[data-testid=ll-table] .el-table__body-wrapper tr").count())


def wait_rows(tab: AdminTab, n: int) -> None:
    tab.page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=ll-table] .el-table__body-wrapper tr').length === n", arg=n
    )


def search(tab: AdminTab, keyword: str) -> None:
    tab.page.fill("[data-testid=ll-q]", keyword)
    tab.page.click("[data-testid=ll-search]")


def _others(message: str) -> bool:
    return ("/admin/pages/" in message and "/admin/pages/login-logs" not in message) or "404" in message


def test_failures_with_reasons_filters_and_export(admin_console: AdminConsole, tmp_path: Path) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    mark = uuid.uuid4().hex[:6]
    user = kit.new_user(f"ll{mark}", display_name="李雷")
    request_json("POST", kit.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})
    fail(kit, user)
    fail(kit, user)
    fail(kit, f"ghost{mark}")
    fail(kit, f"{HOSTILE}{mark}")
    written(kit, mark, 5)

    tab.goto("login-logs")
    search(tab, mark)
    wait_rows(tab, 5)  # the registration's login is not one: register does not log in
    table = page.inner_text("[data-testid=ll-table]")
    assert table.count("密码错误") == 2 and table.count("用户不存在") == 2 and "李雷" in table
    assert HOSTILE + mark in table and page.evaluate("() => window.__pwned") is None  # text, never HTML
    assert f"q={mark}" in page.evaluate("() => location.hash")

    # failures only, through the result filter
    page.click("[data-testid=ll-ok]")
    page.click("[data-testid=ll-ok-false]")
    wait_rows(tab, 4)
    assert "ok=false" in page.evaluate("() => location.hash")
    # the user's own attempts, from the user's name in the table
    page.locator("[data-testid=ll-user-link]").first.click()
    wait_rows(tab, 2)

    # the export takes the same filters
    with page.expect_download() as info:
        page.click("[data-testid=ll-export]")
    saved = tmp_path / "export.csv"
    info.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    got = list(csv.reader(io.StringIO(raw[3:].decode())))
    assert got[0][1:3] == ["user_id", "username"] and len(got) == 3
    assert {r[5] for r in got[1:]} == {"wrong_password"} and {r[3] for r in got[1:]} == {"李雷"}

    # a filtered view survives a reload (the filters are in the address)
    page.reload()
    tab.wait_page("login-logs")
    wait_rows(tab, 2)
    page.wait_for_load_state("networkidle")  # the restored login's refresh settled: no re-render under the click
    page.click("[data-testid=ll-reset]")
    page.wait_for_function("() => !location.hash.includes('ok=false')")
    tab.assert_no_console_errors(allow=_others)


def test_paging_and_english(admin_console_en: AdminConsole) -> None:
    kit, tab = admin_console_en, admin_console_en.tab
    page = tab.page
    mark = uuid.uuid4().hex[:6]
    for i in range(23):
        fail(kit, f"pg{mark}{i:02d}")
    written(kit, f"pg{mark}", 23)
    tab.goto("login-logs", f"q=pg{mark}&size=20")
    wait_rows(tab, 20)
    text = page.inner_text("[data-testid=login-logs-page]")
    for label in ("Time", "User", "Result", "IP address", "Device", "Unknown user", "Export CSV"):
        assert label in text
    assert "Total 23" in page.inner_text("[data-testid=ll-pager]")
    page.click("[data-testid=ll-pager] .btn-next")
    wait_rows(tab, 3)
    assert "page=2" in page.evaluate("() => location.hash")
    tab.assert_no_console_errors(allow=_others)


def test_needs_the_login_logs_permission(admin_console: AdminConsole) -> None:
    kit = admin_console
    org_admin = kit.new_user("llorg")
    kit.api("PUT", f"/api/admin/v1/admins/{kit.ids[org_admin]}", {"roles": ["org_admin"]})  # no login_logs.view
    tab = kit.login_as(org_admin)
    assert "login-logs" not in tab.menu()
    tab.page.evaluate("() => { location.hash = '#/login-logs' }")
    tab.page.wait_for_selector("[data-testid=forbidden]")
    auditor = kit.new_user("llaud")
    kit.api("PUT", f"/api/admin/v1/admins/{kit.ids[auditor]}", {"roles": ["auditor"]})
    seen = kit.login_as(auditor)
    assert "login-logs" in seen.menu()
    seen.goto("login-logs")
    seen.page.wait_for_selector("[data-testid=ll-table]")
