"""The web client's pre-moderation states (docs/moderation.md) in Chromium against a
real server: a member's message in a group with review on shows "审核中" in their chat,
still after a reload; approval turns it into the delivered message (no duplicate);
rejection shows "未通过审核：<reason>" (also in English); the group owner switches
review on and off from the group panel."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

from tests.browser.conftest import Tab, http_json, new_user, server_history
from tests.browser.test_group_panel import api, make_group, open_panel
from tests.support.server import ServerProcess

ADMIN_PW = "admin-password-9"


def _admin_token(server: ServerProcess) -> str:
    name = f"rev{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", name, "--password", ADMIN_PW, "--data-dir", str(server.data_dir)],
        env=server.env, check=True, capture_output=True, timeout=60,
    )
    return str(http_json("POST", server.base + "/api/v1/auth/login", {"username": name, "password": ADMIN_PW})["access_token"])


def _pending(server: ServerProcess, token: str, conv: str) -> list[dict[str, Any]]:
    return list(http_json("GET", f"{server.base}/api/admin/v1/moderation?status=pending&conv={conv}", token=token)["items"])


def _decide(server: ServerProcess, token: str, mid: str, action: str, reason: str | None = None) -> None:
    body = {"action": action} | ({"reason": reason} if reason else {})
    assert http_json("POST", f"{server.base}/api/admin/v1/moderation/{mid}", body, token=token) == {}


def _wait_pending(tab: Tab, server: ServerProcess, token: str, conv: str, n: int) -> list[dict[str, Any]]:
    for _ in range(50):
        items = _pending(server, token, conv)
        if len(items) >= n:
            return items
        tab.page.wait_for_timeout(100)
    raise AssertionError("the message was not held")


def test_under_review_then_delivered_or_rejected(server: ServerProcess, open_tab: Any) -> None:
    owner, bob = new_user(server, "own"), new_user(server, "bob")
    gid, conv = make_group(server, owner, [bob], name="审核群")
    api(server, owner, "PATCH", f"/api/v1/groups/{gid}", {"settings": {"review": True}})
    admin = _admin_token(server)
    tab = open_tab(bob)
    tab.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    tab.open_conv(conv)

    tab.send("请审核我")
    review = tab.page.locator("[data-testid=st-review]")
    review.wait_for()
    assert "审核中" in review.inner_text()
    assert tab.page.locator("[data-testid=st-failed]").count() == 0
    [held] = _wait_pending(tab, server, admin, conv, 1)
    assert held["body"] == {"text": "请审核我"}

    # a reload keeps it, under review
    tab.page.reload()
    tab.wait_open()
    tab.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    tab.open_conv(conv)
    tab.page.locator("[data-testid=st-review]").wait_for()
    tab.wait_texts(["请审核我"])

    # approved: the stored message replaces the bubble, once
    _decide(server, admin, held["mid"], "approve")
    tab.page.wait_for_selector("[data-testid=st-review]", state="detached")
    tab.wait_texts(["请审核我"])
    assert tab.texts().count("请审核我") == 1
    stored = [m for m in server_history(server, bob, conv) if m["kind"] == "text"]
    assert [(m["mid"], m["body"]["text"]) for m in stored] == [(held["mid"], "请审核我")]

    # rejected: the reason, as text
    tab.send("<b>广告</b>")
    tab.page.locator("[data-testid=st-review]").wait_for()
    [held2] = _wait_pending(tab, server, admin, conv, 1)
    _decide(server, admin, held2["mid"], "reject", "含广告 <i>")
    rejected = tab.page.locator("[data-testid=st-rejected]")
    rejected.wait_for()
    assert rejected.inner_text().strip() == "未通过审核：含广告 <i>"
    assert tab.page.locator("[data-testid=st-rejected] *").count() == 0  # text, never HTML
    tab.page.reload()
    tab.wait_open()
    tab.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    tab.open_conv(conv)
    assert "含广告" in tab.page.locator("[data-testid=st-rejected]").inner_text()
    tab.assert_no_console_errors()


def test_english_and_the_owner_toggle(server: ServerProcess, open_tab: Any) -> None:
    owner, bob = new_user(server, "own"), new_user(server, "bob")
    gid, conv = make_group(server, owner, [bob], name="Reviewed")
    admin = _admin_token(server)
    own = open_tab(owner)
    open_panel(own, conv)
    switch = own.page.locator("[data-testid=gp-policy-review]")
    assert "is-checked" not in (switch.get_attribute("class") or "")
    switch.click()
    own.page.wait_for_function(
        "() => document.querySelector('[data-testid=gp-policy-review]').classList.contains('is-checked')")
    for _ in range(50):
        if api(server, owner, "GET", f"/api/v1/groups/{gid}")["settings"]["review"]:
            break
        own.page.wait_for_timeout(100)
    assert api(server, owner, "GET", f"/api/v1/groups/{gid}")["settings"]["review"] is True

    tab = open_tab(bob, locale="en")
    tab.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    tab.open_conv(conv)
    tab.send("please review")
    assert "Under review" in tab.page.locator("[data-testid=st-review]").inner_text()
    [held] = _wait_pending(tab, server, admin, conv, 1)
    _decide(server, admin, held["mid"], "reject")
    tab.page.locator("[data-testid=st-rejected]").wait_for()
    assert tab.page.locator("[data-testid=st-rejected]").inner_text().strip() == "Rejected"
    # the owner's own messages are never held
    own.send("owner speaks")
    own.wait_texts(["owner speaks"])
    own.page.wait_for_timeout(300)
    assert own.page.locator("[data-testid=st-review]").count() == 0
    assert any(m["body"].get("text") == "owner speaks" for m in server_history(server, owner, conv))
    # and switches review off again
    own.page.locator("[data-testid=gp-policy-review]").click()
    for _ in range(50):
        if not api(server, owner, "GET", f"/api/v1/groups/{gid}")["settings"]["review"]:
            break
        own.page.wait_for_timeout(100)
    assert api(server, owner, "GET", f"/api/v1/groups/{gid}")["settings"]["review"] is False
    tab.assert_no_console_errors()
    own.assert_no_console_errors()
