"""The contacts tab (and, further down, the group panel) in a real browser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.browser.conftest import PASSWORD, confirm_box, direct, http_json, member_cmd, new_user
from tests.support.server import ServerProcess

# SEMOT_SHOTS=docs/screenshots saves the screens these tests pass through
SHOTS = os.environ.get("SEMOT_SHOTS")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))



def test_friends_request_accept_presence_block(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice), open_tab(bob)
    a.page.click("[data-testid=nav-contacts]")
    b.page.click("[data-testid=nav-contacts]")
    a.page.click("[data-testid=add-friend]")
    a.page.fill("[data-testid=add-friend-user]", bob)
    a.page.fill("[data-testid=add-friend-msg]", "<b>hi</b> it's alice")
    a.page.click("[data-testid=add-friend-send]")
    # both sides see the request live (evt contacts), the message as text
    a.page.wait_for_selector(f"[data-testid=req-out][data-user='{bob}']")
    req = b.page.wait_for_selector(f"[data-testid=req-in][data-user='{alice}']")
    assert "<b>hi</b> it's alice" in req.inner_text()
    shot(b.page, "contacts-request-zh.png")
    req.query_selector("[data-testid=req-accept]").click()
    a.page.wait_for_selector(f"[data-testid=friend][data-user='{bob}']")
    b.page.wait_for_selector(f"[data-testid=friend][data-user='{alice}']")
    assert b.page.locator("[data-testid=req-in]").count() == 0
    assert a.page.locator("[data-testid=req-out]").count() == 0
    # presence: both are connected
    b.page.wait_for_selector(f"[data-testid=friend][data-user='{alice}'] [data-testid=presence][data-status=online]")
    a.page.wait_for_selector(f"[data-testid=friend][data-user='{bob}'] [data-testid=presence][data-status=online]")
    # presence changes arrive live
    b.js("s => window.__semot.client.http('PUT', '/api/v1/me/presence', {status: 'busy', text: 'in a meeting'})")
    a.page.wait_for_selector(f"[data-testid=friend][data-user='{bob}'] [data-testid=presence][data-status=busy]")
    assert "in a meeting" in a.page.locator(f"[data-testid=friend][data-user='{bob}']").inner_text()
    shot(a.page, "contacts-desktop-zh.png")
    # B blocks A: A's message fails with the blocked error
    b.page.click(f"[data-testid=friend][data-user='{alice}'] [data-testid=friend-more]")
    b.page.locator("[data-testid=friend-block]:visible").click()
    confirm_box(b.page)
    b.page.wait_for_selector(f"[data-testid=blocked][data-user='{alice}']")
    a.page.click(f"[data-testid=friend][data-user='{bob}']")
    a.page.wait_for_selector(f"[data-testid=chat][data-conv='{direct(alice, bob)}']")
    a.send("can you hear me")
    failed = a.page.wait_for_selector("[data-testid=st-failed]")
    assert "拒收" in failed.inner_text()
    # unblock: the list empties live
    b.page.click(f"[data-testid=blocked][data-user='{alice}'] [data-testid=unblock]")
    b.page.wait_for_selector("[data-testid=blocked]", state="detached")
    a.assert_no_console_errors(lambda m: "403" in m or "blocked" in m)
    b.assert_no_console_errors()


def test_contacts_tab_on_a_phone(server: ServerProcess, open_tab: Any) -> None:
    carol, dave = new_user(server, "carol"), new_user(server, "dave")
    d = open_tab(dave)
    phone = open_tab(carol, viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = phone.page
    page.locator("[data-testid=tab-contacts]").tap()
    page.wait_for_selector("[data-testid=contacts]")
    page.locator("[data-testid=add-friend]").tap()
    page.fill("[data-testid=add-friend-user]", dave)
    page.locator("[data-testid=add-friend-send]").tap()
    d.page.click("[data-testid=nav-contacts]")
    d.page.click(f"[data-testid=req-in][data-user='{carol}'] [data-testid=req-accept]")
    page.wait_for_selector(f"[data-testid=friend][data-user='{dave}']")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone-contacts-zh.png")
    page.locator(f"[data-testid=friend][data-user='{dave}']").tap()
    page.wait_for_selector(f"[data-testid=chat][data-conv='{direct(carol, dave)}']")
    page.locator("[data-testid=back]").tap()
    page.wait_for_selector("[data-testid=conv-list]", state="visible")
    # the directory tab fits too (no organisation on this server: an empty state)
    page.locator("[data-testid=tab-directory]").tap()
    page.wait_for_selector("[data-testid=directory]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    phone.assert_no_console_errors()
    d.assert_no_console_errors()



def test_group_panel_mute_kick_announcement(server: ServerProcess, open_tab: Any) -> None:
    owner, bob, carol = new_user(server, "owner"), new_user(server, "bob"), new_user(server, "carol")
    o = open_tab(owner)
    b, c = open_tab(bob), open_tab(carol)
    g = o.js("a => window.__semot.client.createGroup('Team <i>x</i>', a)", [bob, carol])
    conv = g["conv"]
    o.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    o.open_conv(conv)
    o.page.click("[data-testid=group-info]")
    o.page.wait_for_selector("[data-testid=gp-member]")
    assert o.page.locator("[data-testid=gp-name]").inner_text() == "Team <i>x</i>"
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{owner}'][data-role=owner]")
    assert o.page.locator("[data-testid=gp-member]").count() == 3
    # mute bob for 10 minutes: his composer says so (live), and the server refuses a send
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    b.page.wait_for_selector("[data-testid=composer]")
    member_cmd(o.page, bob, "gp-mute-m10")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}'][data-muted=true]")
    gate = b.page.wait_for_selector("[data-testid=composer-gate][data-reason='chat.gateMuted']")
    assert "禁言" in gate.inner_text()
    assert b.page.locator("[data-testid=composer]").count() == 0
    refused = b.js("c => window.__semot.client.sendText(c, 'may I speak').then(() => 'sent', (e) => e.code)", conv)
    assert refused == "muted"
    # bob opens the panel: a plain member sees no management actions
    b.page.click("[data-testid=group-info]")
    b.page.wait_for_selector("[data-testid=gp-member]")
    assert b.page.locator("[data-testid=gp-member-more]").count() == 0
    assert b.page.locator("[data-testid=gp-ann-edit]").count() == 0
    assert b.page.locator("[data-testid=gp-leave]").count() == 1
    # kick carol
    member_cmd(o.page, carol, "gp-remove")
    confirm_box(o.page)
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{carol}']", state="detached")
    b.page.wait_for_selector(f"[data-testid=gp-member][data-user='{carol}']", state="detached")  # live
    # an announcement, shown as text, reaches bob's open panel live
    o.page.click("[data-testid=gp-ann-edit]")
    o.page.fill("[data-testid=gp-ann-input]", "Standup at <b>10</b>")
    o.page.click("[data-testid=gp-ann-save]")
    b.page.wait_for_function(
        "() => document.querySelector('[data-testid=gp-ann]')?.textContent === 'Standup at <b>10</b>'"
    )
    o.page.wait_for_selector("[data-testid=gp-ann]")
    shot(o.page, "group-panel-zh.png")
    # unmute: bob can speak again
    member_cmd(o.page, bob, "gp-unmute")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}'][data-muted=false]")
    o.page.keyboard.press("Escape")
    b.page.keyboard.press("Escape")
    b.page.wait_for_selector("[data-testid=gp-body]", state="detached")
    b.send("thanks")
    o.wait_texts(["thanks"])
    for t in (o, b, c):
        t.assert_no_console_errors(lambda m: "403" in m or "muted" in m or "Forbidden" in m)


def befriend(server: ServerProcess, a: str, b: str) -> None:
    """Make a and b friends through the API (b accepts a's request)."""
    tok = {u: http_json("POST", server.base + "/api/v1/auth/login", {"username": u, "password": PASSWORD})["access_token"] for u in (a, b)}
    req = http_json("POST", server.base + "/api/v1/friends/requests", {"user_id": b}, tok[a])
    if req["status"] != "friends":
        http_json("POST", f"{server.base}/api/v1/friends/requests/{req['request_id']}", {"action": "accept"}, tok[b])


def test_tags_filter_friends_and_own_status(server: ServerProcess, open_tab: Any) -> None:
    erin, bob, carol = new_user(server, "erin"), new_user(server, "bob"), new_user(server, "carol")
    befriend(server, erin, bob)
    befriend(server, erin, carol)
    e, b = open_tab(erin), open_tab(bob)
    page = e.page
    page.click("[data-testid=nav-contacts]")
    page.wait_for_selector(f"[data-testid=friend][data-user='{carol}']")
    assert page.locator("[data-testid=friend]").count() == 2
    # a tag with bob in it filters the list
    page.click("[data-testid=tag-new]")
    page.fill("[data-testid=tag-name]", "<i>同事</i>")
    page.click(f"[data-testid=tag-members] [data-user='{bob}']")
    page.click("[data-testid=tag-save]")
    tag = page.wait_for_selector("[data-testid=tag].ct-tag.active")
    assert "<i>同事</i>" in tag.inner_text()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=friend]').length === 1")
    assert page.locator("[data-testid=friend]").get_attribute("data-user") == bob
    page.wait_for_selector(".el-dialog", state="hidden")
    shot(page, "contacts-tags-zh.png")
    page.click("[data-testid=tag-all]")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=friend]').length === 2")
    # own status: busy with a text, seen by a friend live
    page.click("[data-testid=user-menu]")
    page.locator("[data-testid=status-busy]:visible").click()
    page.wait_for_selector("[data-testid=my-presence][data-status=busy]")
    page.click("[data-testid=user-menu]")
    page.locator("[data-testid=status-text]:visible").click()
    page.fill(".el-message-box input", "午饭中")
    confirm_box(page)
    b.page.click("[data-testid=nav-contacts]")
    b.page.wait_for_selector(f"[data-testid=friend][data-user='{erin}'] [data-testid=presence][data-status=busy]")
    b.page.wait_for_function(
        f"() => document.querySelector(\"[data-testid=friend][data-user='{erin}']\")?.textContent.includes('午饭中')"
    )
    page.click("[data-testid=user-menu]")
    assert "午饭中" in page.locator("[data-testid=my-status-text]:visible").inner_text()
    page.locator("[data-testid=status-away]:visible").click()
    b.page.wait_for_selector(f"[data-testid=friend][data-user='{erin}'] [data-testid=presence][data-status=away]")
    e.assert_no_console_errors()
    b.assert_no_console_errors()


def login_token(server: ServerProcess, user: str) -> str:
    return http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})["access_token"]


def test_friend_approval_switch(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice), open_tab(bob)
    b.page.click("[data-testid=nav-contacts]")
    b.page.wait_for_selector("[data-testid=friend-approval].is-checked")  # on by default
    assert "加我为好友时需要验证" in b.page.locator("[data-testid=friend-approval-row]").inner_text()
    b.page.click("[data-testid=friend-approval]")
    b.page.wait_for_selector("[data-testid=friend-approval]:not(.is-checked)")
    b.page.wait_for_function("() => window.__semot.state.contacts.settings.friend_approval === false")
    assert http_json("GET", server.base + "/api/v1/me/settings", None, login_token(server, bob))["friend_approval"] is False
    # A's request makes them friends at once: nothing pending on either side
    a.page.click("[data-testid=nav-contacts]")
    a.page.click("[data-testid=add-friend]")
    a.page.fill("[data-testid=add-friend-user]", bob)
    a.page.click("[data-testid=add-friend-send]")
    a.page.wait_for_selector(f"[data-testid=friend][data-user='{bob}']")
    b.page.wait_for_selector(f"[data-testid=friend][data-user='{alice}']")
    assert a.page.locator("[data-testid=req-out]").count() == 0
    assert b.page.locator("[data-testid=req-in]").count() == 0
    # a change made elsewhere (another device) reaches the switch live (evt contacts, settings)
    http_json("PATCH", server.base + "/api/v1/me/settings", {"friend_approval": True}, login_token(server, bob))
    b.page.wait_for_selector("[data-testid=friend-approval].is-checked")
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_group_join_requests_reviewed_in_panel(server: ServerProcess, open_tab: Any) -> None:
    owner, bob, carol = new_user(server, "owner"), new_user(server, "bob"), new_user(server, "carol")
    o = open_tab(owner)
    g = o.js("a => window.__semot.client.createGroup('Review', a)", [bob])
    conv = g["conv"]
    gid = conv[2:]
    base = f"{server.base}/api/v1/groups/{gid}"
    http_json("PATCH", base, {"settings": {"invite": "approval"}}, login_token(server, owner))
    o.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    o.open_conv(conv)
    o.page.click("[data-testid=group-info]")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}']")
    assert o.page.locator("[data-testid=gp-request]").count() == 0
    # bob (a member) invites carol: the invitation waits for review, shown live
    res = http_json("POST", base + "/members", {"user_ids": [carol]}, login_token(server, bob))
    assert res["pending"] and not res["added"]
    req = o.page.wait_for_selector(f"[data-testid=gp-request][data-user='{carol}']")
    assert "入群申请" in o.page.locator("[data-testid=gp-requests]").inner_text()
    assert f"{bob} 邀请" in req.inner_text()
    assert o.page.locator(f"[data-testid=gp-member][data-user='{carol}']").count() == 0
    shot(o.page, "group-panel-requests-zh.png")
    req.query_selector("[data-testid=gp-request-accept]").click()
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{carol}']")
    o.page.wait_for_selector("[data-testid=gp-requests]", state="detached")
    o.assert_no_console_errors()
