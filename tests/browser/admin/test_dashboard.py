"""The dashboard page (信息中心) in Chromium against a real server: stat cards and ECharts
charts from real figures, refreshed live while users connect and send messages over
real WebSockets; zh-CN and English; hidden from an administrator without the right."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from semot.client import SemotClient
from tests.browser.admin.conftest import AdminConsole, AdminTab
from tests.browser.conftest import PASSWORD
from tests.support.server import ServerProcess


@contextmanager
def online(server: ServerProcess, user: str, *, messages_to: str | None = None, n: int = 0) -> Iterator[None]:
    """`user` connected over a WebSocket (in a thread of its own) until the block ends,
    after sending `n` messages to `messages_to`."""
    ready, done = threading.Event(), threading.Event()
    problem: list[BaseException] = []

    async def run() -> None:
        async with SemotClient(server.base, reconnect=False) as c:
            await c.login(user, PASSWORD)
            await c.connect()
            for i in range(n):
                assert messages_to is not None
                await c.send_text(messages_to, f"dashboard message {i}")
            ready.set()
            while not done.is_set():
                await asyncio.sleep(0.05)

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            problem.append(exc)
            ready.set()

    th = threading.Thread(target=target)
    th.start()
    assert ready.wait(30)
    if problem:
        raise problem[0]
    try:
        yield
    finally:
        done.set()
        th.join(30)


def number(tab: AdminTab, testid: str) -> int:
    text = tab.page.inner_text(f"[data-testid={testid}]")
    return int(text.replace(",", "").replace("—", "-1"))


def wait_number(tab: AdminTab, testid: str, want: int, timeout: float = 20_000) -> None:
    """Until the card shows `want` (the page polls every 5 s: no reload, no click)."""
    tab.page.wait_for_function(
        "([id, want]) => { const el = document.querySelector(`[data-testid=${id}]`);"
        " return el && Number(el.textContent.replace(/,/g, '')) === want }",
        arg=[testid, want],
        timeout=timeout,
    )


def _others(message: str) -> bool:
    """Console errors of other helpers' pages and of the shell's first load, not this page's."""
    return ("/admin/pages/" in message and "/admin/pages/dashboard" not in message) or "404" in message


def test_live_figures_and_charts(admin_console: AdminConsole) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    ann, ben = kit.new_user("dann"), kit.new_user("dben")
    tab.goto("dashboard")
    # ann and ben were made just now: the next refresh counts them (the first may be older)
    page.wait_for_function("() => Number(document.querySelector('[data-testid=dash-new-today]')?.textContent) >= 2")
    base_users, base_conns = number(tab, "dash-online-users"), number(tab, "dash-connections")
    base_msgs = number(tab, "dash-messages")
    # every chart drawn, with a canvas
    for chart in ("dash-messages-chart", "dash-logins-chart", "dash-users-chart", "dash-nodes-chart"):
        page.wait_for_selector(f"[data-testid={chart}] [data-chart-ready='1'] canvas")
    assert page.inner_text("[data-testid=dash-db-kind]").startswith("sqlite")
    assert "毫秒" in page.inner_text("[data-testid=dash-db-latency]")
    assert page.inner_text("[data-testid=dash-version]").strip()
    assert page.locator("[data-testid=dash-nodes] .el-table__body tr").count() == 1
    # the per-minute charts show the last hour on demand (the series' x axis: an hour wide)
    page.click("[data-testid=dash-window-60]")
    page.wait_for_selector("[data-testid=dash-window-60].is-active")
    assert "最近 1 小时" in page.inner_text("[data-testid=dashboard-page]")

    with online(kit.server, ann, messages_to=ben, n=4), online(kit.server, ben):
        wait_number(tab, "dash-online-users", base_users + 2)
        wait_number(tab, "dash-connections", base_conns + 2)
        wait_number(tab, "dash-messages", base_msgs + 4)
    wait_number(tab, "dash-connections", base_conns)
    assert "更新于" in page.inner_text("[data-testid=dash-updated]")

    # pausing the live refresh stops the polling
    page.click("[data-testid=dash-auto]")
    with online(kit.server, ann):
        page.wait_for_timeout(6500)
        assert number(tab, "dash-connections") == base_conns
        page.click("[data-testid=dash-refresh]")
        wait_number(tab, "dash-connections", base_conns + 1)
    tab.assert_no_console_errors(allow=_others)


def test_english_and_who_may_see_it(admin_console: AdminConsole) -> None:
    kit, tab = admin_console, admin_console.tab
    tab.set_language("en")
    tab.goto("dashboard")
    page = tab.page
    page.wait_for_selector("[data-testid=dash-online-users]:not(:text-is('—'))")
    text = page.inner_text("[data-testid=dashboard-page]")
    for label in ("Users online", "Connections", "Messages per minute", "New users per day", "Nodes and database"):
        assert label in text
    assert "ms" in page.inner_text("[data-testid=dash-db-latency]")

    viewer = kit.new_user("dview")
    kit.api("PUT", f"/api/admin/v1/admins/{kit.ids[viewer]}", {"roles": ["auditor"]})  # it has dashboard.view
    seen = kit.login_as(viewer, locale="en")
    assert "dashboard" in seen.menu()
    seen.goto("dashboard")
    seen.page.wait_for_selector("[data-testid=dash-online-users]:not(:text-is('—'))")

    role = kit.api("POST", "/api/admin/v1/roles", {"name": f"No dashboard {viewer}", "perms": ["users.view"]})
    other = kit.new_user("dnodash")
    kit.api("PUT", f"/api/admin/v1/admins/{kit.ids[other]}", {"roles": [role["role_id"]]})
    blocked = kit.login_as(other)
    assert "dashboard" not in blocked.menu()
    blocked.page.evaluate("() => { location.hash = '#/dashboard' }")
    blocked.page.wait_for_selector("[data-testid=forbidden]")
    tab.assert_no_console_errors(allow=_others)
