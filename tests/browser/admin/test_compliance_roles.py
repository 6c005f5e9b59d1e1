"""Issue 13's console pages for an administrator whose custom role holds only that page's
permissions: the page is in the menu and loads (its data calls succeed, no console
error); the other compliance pages are not in the menu and, opened by address, show the
"forbidden" page; their APIs answer 403."""

from __future__ import annotations

import urllib.error

import pytest

from tests.browser.admin.conftest import AdminConsole, request_json

PAGES = {
    "messages": (["messages.audit"], "messages-page", "/api/admin/v1/messages"),
    "sensitive-words": (["sensitive.view"], "sensitive-words-page", "/api/admin/v1/sensitive-words"),
    "moderation": (["moderation.review"], "moderation-page", "/api/admin/v1/moderation?status=pending"),
    "retention": (["retention.view"], "retention-page", "/api/admin/v1/retention"),
}


def _status(base: str, path: str, token: str) -> int:
    try:
        request_json("GET", base + path, token=token)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


@pytest.mark.parametrize("page", list(PAGES))
def test_compliance_page_for_a_role_holding_only_its_permissions(admin_console: AdminConsole, page: str) -> None:
    kit = admin_console
    perms, testid, _ = PAGES[page]
    role = kit.api("POST", "/api/admin/v1/roles", {"name": f"only-{page}-{kit.new_user('r')}", "perms": perms})
    person = kit.new_user("cp")
    kit.api("PUT", f"/api/admin/v1/admins/{kit.ids[person]}", {"roles": [role["role_id"]]})

    tab = kit.login_as(person, locale="en")
    menu = tab.menu()
    assert page in menu, menu
    others = [p for p in PAGES if p != page]
    assert not set(others) & set(menu), menu
    tab.goto(page)
    tab.page.wait_for_selector(f"[data-testid={testid}]")
    tab.page.wait_for_load_state("networkidle")
    for other in others:
        tab.page.evaluate("h => { location.hash = h }", f"#/{other}")
        tab.wait_page("forbidden")
    token = kit.user_token(person)
    assert _status(kit.base, PAGES[page][2], token) == 200
    for other in others:
        assert _status(kit.base, PAGES[other][2], token) == 403, other
    tab.assert_no_console_errors()
