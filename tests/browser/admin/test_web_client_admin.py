"""What administrators do, as the chat web client shows it, in Chromium against a real
server (the admin suite's, which has a super admin):

- a member removed from the admin console (`DELETE /api/admin/v1/groups/{id}/members/{user}`)
  reads "管理员 root 将 X 移出了群聊" / "Administrator root removed you from the group" in
  the open chat (the change carries `by_admin: true`), while a member's own change keeps
  the plain wording;
- a sign-in through the web client declares its device (the id its WebSocket uses, and
  platform "web"), so the login log's row names that device, in the API and on the
  console's login logs page.
"""

from __future__ import annotations

import time
from typing import Any

from tests.browser.admin.conftest import AdminConsole, AdminTab, request_json
from tests.browser.conftest import PASSWORD


def open_client(kit: AdminConsole, user: str, locale: str = "zh-CN") -> AdminTab:
    """A new browser context on the chat web client (/), signed in through its form."""
    tab = kit.open(locale=locale, path="/")
    tab.page.fill("[data-testid=username]", user)
    tab.page.fill("[data-testid=password]", PASSWORD)
    tab.page.click("[data-testid=submit]")
    tab.page.wait_for_selector("[data-testid=conv-list]", state="attached")
    tab.page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
    tab.user = user
    return tab


def open_chat(tab: AdminTab, conv: str) -> None:
    tab.page.click(f"[data-testid=conv-item][data-conv='{conv}']")
    tab.page.wait_for_selector(f"[data-testid=chat][data-conv='{conv}']")


def wait_notice(tab: AdminTab, text: str) -> None:
    tab.page.wait_for_function(
        """text => [...document.querySelectorAll('[data-testid=chat] [data-testid=system-notice]')]
                   .some(e => e.textContent.trim() === text)""",
        arg=text,
    )


def notices(tab: AdminTab) -> list[str]:
    got = tab.page.eval_on_selector_all(
        "[data-testid=chat] [data-testid=system-notice]", "els => els.map(e => e.textContent.trim())"
    )
    return [str(x) for x in got]


def make_group(kit: AdminConsole, owner: str, members: list[str]) -> tuple[str, str]:
    body = {"name": "Ops", "members": [kit.ids[m] for m in members]}
    made: Any = request_json("POST", kit.base + "/api/v1/groups", body, kit.user_token(owner))
    return str(made["group_id"]), str(made["conv"])


def test_admin_removal_reads_as_the_administrators(admin_console: AdminConsole) -> None:
    kit = admin_console
    owner = kit.new_user("own", display_name="Olga")
    mem = kit.new_user("mem", display_name="Max")
    other = kit.new_user("oth", display_name="Ona")
    gid, conv = make_group(kit, owner, [mem, other])
    zh, en = open_client(kit, other), open_client(kit, mem, locale="en-US")
    for tab in (zh, en):
        open_chat(tab, conv)

    # a member's own change: no administrator in the wording
    request_json("PATCH", f"{kit.base}/api/v1/groups/{gid}", {"name": "Ops 2"}, kit.user_token(owner))
    wait_notice(zh, "Olga 将群名称修改为“Ops 2”")
    wait_notice(en, "Olga renamed the group to “Ops 2”")

    # the administrator (root, not a member) removes Max
    kit.api("DELETE", f"/api/admin/v1/groups/{gid}/members/{kit.ids[mem]}")
    wait_notice(zh, f"管理员 {kit.admin} 将 Max 移出了群聊")
    wait_notice(en, f"Administrator {kit.admin} removed you from the group")
    # and renames the group: the same wording in the chat list's preview
    kit.api("PATCH", f"/api/admin/v1/groups/{gid}", {"name": "Ops 3"})
    wait_notice(zh, f"管理员 {kit.admin} 将群名称修改为“Ops 3”")
    preview = zh.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]")
    assert preview.inner_text().strip() == f"管理员 {kit.admin} 将群名称修改为“Ops 3”"
    assert sum("管理员" in n for n in notices(zh)) == 2, notices(zh)

    # after a reload the notices come from history, with the same wording
    zh.page.reload()
    zh.page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
    open_chat(zh, conv)
    wait_notice(zh, f"管理员 {kit.admin} 将 Max 移出了群聊")
    wait_notice(zh, "Olga 将群名称修改为“Ops 2”")
    zh.assert_no_console_errors()
    en.assert_no_console_errors(lambda e: "403" in e)  # the member list is closed to the removed member


def test_web_client_login_names_its_device_in_the_login_log(admin_console: AdminConsole) -> None:
    kit = admin_console
    user = kit.new_user("dev")
    tab = open_client(kit, user)
    device = tab.js("() => window.__semot.client.deviceId")
    assert isinstance(device, str) and device.startswith("web-")
    deadline = time.monotonic() + 15
    while not (logs := kit.api("GET", f"/api/admin/v1/login-logs?user_id={kit.ids[user]}")["logs"]):
        assert time.monotonic() < deadline, "the login was not written to the log"
        time.sleep(0.2)
    assert len(logs) == 1 and logs[0]["ok"] is True, logs
    assert (logs[0]["device"], logs[0]["platform"]) == (device, "web"), logs[0]
    # the devices view has the same id: the WebSocket's, not another one made up at login
    devices = kit.api("GET", f"/api/admin/v1/users/{kit.ids[user]}/devices")
    assert device in str(devices), devices

    # the console's login logs page shows it in the row
    kit.tab.goto("login-logs", f"user_id={kit.ids[user]}")
    kit.tab.page.wait_for_function(
        "d => document.querySelector('[data-testid=ll-table] .el-table__body-wrapper')?.textContent.includes(d)",
        arg=device,
    )
    tab.assert_no_console_errors()
