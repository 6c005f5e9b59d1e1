"""The retention page (消息保留) in Chromium against a real server: the policy form, legal
holds on a user (picked by name) and on a conversation id, removing one, running the
sweep and its last-run status; an auditor (retention.view) sees it read-only; zh-CN and
English."""

from __future__ import annotations

from tests.browser.admin.conftest import AdminConsole, AdminTab

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def _reset(kit: AdminConsole) -> None:
    kit.api("PUT", "/api/admin/v1/retention", {"direct_days": 0, "group_days": 0})
    for h in kit.api("GET", "/api/admin/v1/legal-holds")["holds"]:
        kit.api("DELETE", f"/api/admin/v1/legal-holds/{h['hold_id']}")


def test_policy_holds_and_run(admin_console: AdminConsole) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    _reset(kit)
    person = kit.new_user("keep", display_name="韩梅梅")
    tab.goto("retention")
    page.wait_for_selector("[data-testid=retention-never], [data-testid=retention-last-run]")
    assert page.locator("[data-testid=retention-enabled]").inner_text() == "未开启"

    page.fill("[data-testid=retention-direct] input", "30")
    page.fill("[data-testid=retention-group] input", "90")
    page.click("[data-testid=retention-save]")
    page.wait_for_function("() => document.querySelector('[data-testid=retention-enabled]').innerText === '已开启'")
    policy = kit.api("GET", "/api/admin/v1/retention")
    assert (policy["direct_days"], policy["group_days"]) == (30, 90)

    # a user, found by name in the picker, with a hostile reason shown as text
    page.click("[data-testid=hold-user]")
    page.keyboard.type(person)
    option = page.locator(".el-select-dropdown__item:visible", has_text=person).first
    option.click()
    page.fill("[data-testid=hold-reason]", HOSTILE)
    page.click("[data-testid=hold-submit]")
    user_id = kit.ids[person]
    page.wait_for_selector(f"[data-testid='hold-row-{user_id}']")
    assert page.locator("[data-testid=holds-table]").inner_text().count(HOSTILE) == 1
    assert tab.js("() => window.__pwned") is None
    # a conversation by id: an unknown one is refused with the server's reason
    page.click("[data-testid=hold-kind-conv]")
    page.fill("[data-testid=hold-conv]", "g:no_such_group")
    page.click("[data-testid=hold-submit]")
    page.wait_for_selector(".el-message--error")
    holds = kit.api("GET", "/api/admin/v1/legal-holds")["holds"]
    assert [h["target"] for h in holds] == [user_id] and holds[0]["reason"] == HOSTILE

    page.click("[data-testid=retention-run]")
    page.wait_for_selector("[data-testid=retention-last-run]")
    assert "删除" in page.locator("[data-testid=retention-last-run]").inner_text()

    page.click(f"[data-testid='hold-remove-{user_id}']")
    page.locator(".el-message-box__btns .el-button--primary").click()
    page.wait_for_selector(f"[data-testid='hold-row-{user_id}']", state="detached")
    assert kit.api("GET", "/api/admin/v1/legal-holds")["total"] == 0
    audit = kit.api("GET", "/api/admin/v1/audit-log?action=legal_hold.")["entries"]
    assert {e["action"] for e in audit} >= {"legal_hold.add", "legal_hold.remove"}
    tab.assert_no_console_errors(lambda m: "404" in m or "400" in m)
    _reset(kit)


def test_read_only_for_an_auditor_in_english(admin_console: AdminConsole) -> None:
    kit = admin_console
    _reset(kit)
    auditor = kit.new_user("aud")
    kit.grant(auditor, "auditor")
    tab: AdminTab = kit.login_as(auditor, locale="en")
    tab.set_language("en")
    tab.goto("retention")
    page = tab.page
    page.wait_for_selector("[data-testid=retention-never], [data-testid=retention-last-run]")
    assert page.locator("[data-testid=retention-enabled]").inner_text() == "Off"
    assert "Legal holds" in page.locator("[data-testid=retention-page]").inner_text()
    assert page.locator("[data-testid=retention-save]").count() == 0
    assert page.locator("[data-testid=hold-add]").count() == 0
    assert page.locator("[data-testid=retention-direct] input").is_disabled()
    tab.assert_no_console_errors()
