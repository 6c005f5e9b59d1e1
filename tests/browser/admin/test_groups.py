"""The groups page (群组管理) in Chromium against a real server: search, open a group,
rename it, edit the announcement, mute all, mute and remove members, transfer
ownership, read its history (text shown as text, images as the server's signed
thumbnails), dismiss it; and an auditor who may read history but sees no controls."""

from __future__ import annotations

import uuid
from typing import Any

from tests.browser.admin.conftest import AdminConsole, AdminTab, request_json
from tests.browser.test_media_messages import as_user, png, uploader

HOSTILE = '<img src=x onerror="window.__pwned=1"> hello & <b>bold</b>'


def _people(kit: AdminConsole) -> tuple[str, str, str]:
    return (
        kit.new_user("gown", display_name="Owner Ou"),
        kit.new_user("gbob", display_name="Bob Bai"),
        kit.new_user("gcar", display_name="Carol Cai"),
    )


def _group(kit: AdminConsole, owner: str, name: str, members: list[str]) -> dict[str, Any]:
    body = {"name": name, "members": members}
    return dict(request_json("POST", kit.base + "/api/v1/groups", body, kit.user_token(owner)))


def _chat(kit: AdminConsole, owner: str, bob: str, conv: str) -> None:
    as_user(kit.server, owner, lambda c: c.send_text(conv, HOSTILE))
    file_id = uploader(kit.server, bob).upload(png(80, 60), "photo.png", "image/png")
    as_user(kit.server, bob, lambda c: c.send(conv, "image", {"file_id": file_id}))


def _group_state(kit: AdminConsole, gid: str) -> dict[str, Any]:
    return dict(kit.api("GET", f"/api/admin/v1/groups/{gid}"))


def _until(predicate: Any, what: str, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _others(message: str) -> bool:
    """Console errors of other pages' files (the dashboard opens first), not this page's."""
    return "/admin/pages/" in message and "/admin/pages/groups" not in message


def _confirm(tab: AdminTab) -> None:
    tab.page.locator(".el-message-box .el-message-box__btns .el-button--primary").click()


def _row(tab: AdminTab, text: str) -> Any:
    return tab.page.locator("[data-testid=member-table] .el-table__body-wrapper tr", has_text=text)


def test_search_change_and_dismiss_a_group(admin_console: AdminConsole) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    owner, bob, carol = _people(kit)
    tag = uuid.uuid4().hex[:8]
    made = _group(kit, owner, f"Alpha {tag}", [bob, carol])
    gid, conv = made["group_id"], made["conv"]
    _chat(kit, owner, bob, conv)

    tab.goto("groups")
    page.fill("[data-testid=groups-search]", tag)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"[data-testid=groups-table] [data-testid=group-name]:text-is('Alpha {tag}')")
    assert page.locator("[data-testid=groups-table] [data-testid=group-name]").count() == 1
    assert f"q={tag}" in page.evaluate("() => location.hash")  # the search is in the address

    page.click("[data-testid=group-details]")
    page.wait_for_selector("[data-testid=group-overview]")
    assert page.inner_text("[data-testid=group-owner]") == "Owner Ou"

    page.fill("[data-testid=group-name-input]", f"Beta {tag}")
    page.click("[data-testid=group-name-save]")
    _until(lambda: _group_state(kit, gid)["name"] == f"Beta {tag}", "the rename")
    page.fill("[data-testid=group-announcement-input]", "Quarterly review on Friday")
    page.click("[data-testid=group-announcement-save]")
    _until(lambda: _group_state(kit, gid)["announcement"] == "Quarterly review on Friday", "the announcement")
    page.click("[data-testid=group-mute-all]")
    _until(lambda: _group_state(kit, gid)["mute_all"] is True, "mute all")

    page.click(".el-tabs__item#tab-members")
    _row(tab, "Bob Bai").locator("[data-testid=member-mute]").click()
    page.locator(".el-dropdown-menu:visible [data-testid=mute-1h]").click()
    _row(tab, "Bob Bai").locator("[data-testid=member-muted]").wait_for()
    _until(lambda: _group_state(kit, gid)["muted_count"] == 1, "the mute")
    _row(tab, "Carol Cai").locator("[data-testid=member-remove]").click()
    _confirm(tab)
    _row(tab, "Carol Cai").wait_for(state="detached")
    _until(lambda: _group_state(kit, gid)["member_count"] == 2, "the removal")

    page.click(".el-tabs__item#tab-overview")
    page.click("[data-testid=group-owner-pick]")
    page.locator(".el-select-dropdown__item:visible", has_text="Bob Bai").click()
    page.click("[data-testid=group-transfer]")
    _confirm(tab)
    _until(lambda: _group_state(kit, gid)["owner"] == bob, "the transfer")
    page.wait_for_selector("[data-testid=group-owner]:text-is('Bob Bai')")

    page.click(".el-tabs__item#tab-history")
    page.wait_for_selector("[data-testid=history-message][data-kind=image] [data-testid=history-image]")
    text = page.locator("[data-testid=history-message][data-kind=text] .gh-text").first
    assert text.inner_text() == HOSTILE  # shown as text, never as markup
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("[data-testid=group-history] img[src=x]").count() == 0
    image = page.locator("[data-testid=history-image]").first
    assert image.get_attribute("src").startswith("/api/v1/files/")  # type: ignore[union-attr]
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    notices = page.locator("[data-testid=history-message][data-kind=system]").all_inner_texts()
    assert any("管理员" in n and "禁言" in n for n in notices), notices  # an administrator did it, and it says so

    page.click(".el-tabs__item#tab-overview")
    page.click("[data-testid=group-dismiss]")
    _confirm(tab)
    _until(lambda: _group_state(kit, gid)["dismissed"] is True, "the dismissal")
    page.wait_for_selector("[data-testid=group-drawer] .el-alert--warning")
    assert page.locator("[data-testid=group-dismiss]").count() == 0  # nothing to change any more
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-testid=groups-table] [data-testid=group-dismissed]")

    tab.set_language("en")
    page.wait_for_selector("[data-testid=groups-table] [data-testid=group-dismissed]:has-text('Dismissed')")
    tab.assert_no_console_errors(allow=_others)


def test_an_auditor_reads_history_and_changes_nothing(admin_console: AdminConsole) -> None:
    kit = admin_console
    owner, bob, carol = _people(kit)
    tag = uuid.uuid4().hex[:8]
    made = _group(kit, owner, f"Audit {tag}", [bob, carol])
    _chat(kit, owner, bob, made["conv"])
    auditor = kit.new_user("gaud", display_name="Audrey")
    kit.api("PUT", f"/api/admin/v1/admins/{auditor}", {"roles": ["auditor"]})

    tab = kit.login_as(auditor, locale="en")
    page = tab.page
    tab.goto("groups", f"q={tag}")
    page.wait_for_selector(f"[data-testid=group-name]:text-is('Audit {tag}')")
    page.click("[data-testid=group-history-open]")
    page.wait_for_selector("[data-testid=history-message][data-kind=text]")
    assert page.locator("[data-testid=history-message][data-kind=text] .gh-text").first.inner_text() == HOSTILE
    assert "audit log" in page.inner_text("[data-testid=group-history] .el-alert")
    page.click(".el-tabs__item#tab-overview")
    page.wait_for_selector("[data-testid=group-overview]")
    for control in ("group-name-input", "group-mute-all", "group-dismiss", "group-transfer"):
        assert page.locator(f"[data-testid={control}]").count() == 0, control
    page.click(".el-tabs__item#tab-members")
    page.wait_for_selector("[data-testid=member-table] [data-testid=member-role]")
    assert page.locator("[data-testid=member-remove]").count() == 0
    reads = kit.api("GET", f"/api/admin/v1/audit-log?action=group.history_read&target={made['group_id']}")
    assert reads["total"] >= 1 and reads["entries"][0]["admin"] == auditor
    tab.assert_no_console_errors(allow=_others)
