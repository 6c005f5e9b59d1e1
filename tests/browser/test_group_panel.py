"""The group info panel: every management action, in a real browser, checked by its real
effect: another member's screen (live, through `evt group`) and/or the HTTP API.

Rename, policies (invite / join / member_leave), appoint and demote admins, mute all,
transfer, invite (directly and with approval), leave, dismiss."""

from __future__ import annotations

import json
import urllib.error
from typing import Any

from tests.browser.conftest import PASSWORD, Tab, confirm_box, http_json, member_cmd, new_user
from tests.support.server import ServerProcess

_tokens: dict[tuple[str, str], str] = {}


def token(server: ServerProcess, user: str) -> str:
    key = (server.base, user)
    if key not in _tokens:
        _tokens[key] = http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})["access_token"]
    return _tokens[key]


def api(server: ServerProcess, user: str, method: str, path: str, body: Any = None) -> Any:
    return http_json(method, server.base + path, body, token(server, user))


def api_error(server: ServerProcess, user: str, method: str, path: str, body: Any = None) -> tuple[int, str]:
    """The status and error code of a request that must fail."""
    try:
        got = api(server, user, method, path, body)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["error"]["code"]
    raise AssertionError(f"{method} {path} as {user} succeeded: {got}")


def group_info(server: ServerProcess, user: str, gid: str) -> dict[str, Any]:
    return api(server, user, "GET", f"/api/v1/groups/{gid}")


def member_roles(server: ServerProcess, user: str, gid: str) -> dict[str, str]:
    page = api(server, user, "GET", f"/api/v1/groups/{gid}/members?limit=500")
    return {m["user_id"]: m["role"] for m in page["members"]}


def make_group(server: ServerProcess, owner: str, members: list[str], name: str = "Panel", kind: str = "project") -> tuple[str, str]:
    g = api(server, owner, "POST", "/api/v1/groups", {"name": name, "members": members, "type": kind})
    return g["group_id"], g["conv"]


def open_panel(tab: Tab, conv: str) -> None:
    tab.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    tab.open_conv(conv)
    tab.page.click("[data-testid=group-info]")
    tab.page.wait_for_selector(f"[data-testid=gp-member][data-user='{tab.user}']")


def close_panel(tab: Tab) -> None:
    tab.page.keyboard.press("Escape")
    tab.page.wait_for_selector("[data-testid=gp-body]", state="detached")




def gone(tab: Tab, selector: str) -> None:
    tab.page.wait_for_selector(selector, state="detached")


def count(tab: Tab, selector: str) -> int:
    return int(tab.page.locator(selector).count())


def wait_until(tab: Tab, fn: Any, timeout: float = 10_000) -> None:
    """Poll a Python condition (an API read) while the browser does its work."""
    waited = 0.0
    while not fn():
        if waited >= timeout:
            raise AssertionError("condition not met in time")
        tab.page.wait_for_timeout(150)
        waited += 150


def forbidden_noise(m: str) -> bool:
    # a refused request is reported by Chromium as a failed resource load
    return "403" in m or "Forbidden" in m or "muted" in m


def test_rename_by_admin_live_for_members_with_errors(server: ServerProcess, open_tab: Any) -> None:
    owner, adm, mem = new_user(server, "owner"), new_user(server, "adm"), new_user(server, "mem")
    gid, conv = make_group(server, owner, [adm, mem], name="Old name")
    api(server, owner, "PUT", f"/api/v1/groups/{gid}/members/{adm}/role", {"role": "admin"})
    a, m = open_tab(adm), open_tab(mem)
    m.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    m.open_conv(conv)  # the member watches the chat header and the list
    open_panel(a, conv)
    assert a.page.locator("[data-testid=gp-name]").inner_text() == "Old name"
    # empty (after trimming): refused in the panel, nothing sent
    a.page.click("[data-testid=gp-rename]")
    assert a.page.locator("[data-testid=gp-name-input]").input_value() == "Old name"
    a.page.fill("[data-testid=gp-name-input]", "   ")
    a.page.click("[data-testid=gp-name-save]")
    assert "请输入群名称" in a.page.wait_for_selector("[data-testid=gp-name-error]").inner_text()
    assert group_info(server, owner, gid)["name"] == "Old name"
    # the input keeps to 128 characters
    a.page.fill("[data-testid=gp-name-input]", "x" * 200)
    assert len(a.page.locator("[data-testid=gp-name-input]").input_value()) <= 128
    # a real name, trimmed, shown as text; the member's title follows live
    a.page.fill("[data-testid=gp-name-input]", "  New <b>name</b>  ")
    gone(a, "[data-testid=gp-name-error]")  # typing clears the error
    a.page.press("[data-testid=gp-name-input]", "Enter")
    a.page.wait_for_function("() => document.querySelector('[data-testid=gp-name]')?.textContent === 'New <b>name</b>'")
    assert group_info(server, owner, gid)["name"] == "New <b>name</b>"
    m.page.wait_for_function("() => document.querySelector('[data-testid=chat-title]')?.textContent === 'New <b>name</b>'")
    m.page.wait_for_function(
        f"""() => document.querySelector("[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-title]")?.textContent === 'New <b>name</b>'"""
    )
    a.page.wait_for_function("() => document.querySelector('[data-testid=chat-title]')?.textContent === 'New <b>name</b>'")
    # a plain member sees no rename button
    m.page.click("[data-testid=group-info]")
    m.page.wait_for_selector(f"[data-testid=gp-member][data-user='{mem}']")
    assert count(m, "[data-testid=gp-rename]") == 0
    assert count(m, "[data-testid=gp-policies]") == 0
    # renamed elsewhere (the owner's other device): both open panels follow live
    api(server, owner, "PATCH", f"/api/v1/groups/{gid}", {"name": "Third"})
    for tab in (a, m):
        tab.page.wait_for_function("() => document.querySelector('[data-testid=gp-name]')?.textContent === 'Third'")
    m.page.wait_for_function("() => document.querySelector('[data-testid=chat-title]')?.textContent === 'Third'")
    # the server's refusal is shown too: the admin is demoted while editing
    a.page.click("[data-testid=gp-rename]")
    a.page.fill("[data-testid=gp-name-input]", "Not allowed any more")
    api(server, owner, "PUT", f"/api/v1/groups/{gid}/members/{adm}/role", {"role": "member"})
    a.page.wait_for_selector(f"[data-testid=gp-member][data-user='{adm}'][data-role=member]")
    a.page.click("[data-testid=gp-name-save]")
    assert "没有权限" in a.page.wait_for_selector("[data-testid=gp-name-error]").inner_text()
    assert group_info(server, owner, gid)["name"] == "Third"
    a.page.click("[data-testid=gp-name-cancel]")
    gone(a, "[data-testid=gp-rename]")  # no longer an admin: no rename button
    a.assert_no_console_errors(forbidden_noise)
    m.assert_no_console_errors()


def test_policies_owner_only_with_real_effects(server: ServerProcess, open_tab: Any) -> None:
    owner, adm, mem = new_user(server, "owner"), new_user(server, "adm"), new_user(server, "mem")
    out1, out2 = new_user(server, "out"), new_user(server, "out")
    gid, conv = make_group(server, owner, [adm, mem])
    api(server, owner, "PUT", f"/api/v1/groups/{gid}/members/{adm}/role", {"role": "admin"})
    base = f"/api/v1/groups/{gid}"
    o, a, m = open_tab(owner), open_tab(adm), open_tab(mem)
    for tab in (o, a, m):
        open_panel(tab, conv)
    # only the owner sees the policies; admins get mute-all only; members neither
    o.page.wait_for_selector("[data-testid=gp-policies]")
    assert count(a, "[data-testid=gp-policies]") == 0 and count(a, "[data-testid=gp-mute-all]") == 1
    assert count(m, "[data-testid=gp-policies]") == 0 and count(m, "[data-testid=gp-mute-all]") == 0
    # the project preset, shown with explaining labels
    o.page.wait_for_selector("[data-testid=gp-policy-invite-member].is-checked")
    o.page.wait_for_selector("[data-testid=gp-policy-join-approval].is-checked")
    o.page.wait_for_selector("[data-testid=gp-policy-leave].is-checked")
    text = o.page.locator("[data-testid=gp-policies]").inner_text()
    for label in ("谁可以邀请新成员", "只有群主和管理员可以邀请", "群外的人如何加入", "不接受入群申请，只能被邀请", "允许成员自行退群"):
        assert label in text, text

    # join = closed: an outsider's join is refused
    o.page.click("[data-testid=gp-policy-join-closed]")
    wait_until(o, lambda: group_info(server, owner, gid)["settings"]["join"] == "closed")
    o.page.wait_for_selector("[data-testid=gp-policy-join-closed].is-checked")
    assert api_error(server, out1, "POST", base + "/join", {}) == (403, "forbidden")
    # join = open: the outsider gets in at once, and shows in the open panels live
    o.page.click("[data-testid=gp-policy-join-open]")
    wait_until(o, lambda: group_info(server, owner, gid)["settings"]["join"] == "open")
    assert api(server, out1, "POST", base + "/join", {}) == {"joined": True, "request_id": None}
    m.page.wait_for_selector(f"[data-testid=gp-member][data-user='{out1}']")
    # join = approval: the next outsider's request waits, for the owner and admins to see
    o.page.click("[data-testid=gp-policy-join-approval]")
    wait_until(o, lambda: group_info(server, owner, gid)["settings"]["join"] == "approval")
    assert api(server, out2, "POST", base + "/join", {"message": "<i>me</i> too"})["joined"] is False
    a.page.wait_for_selector(f"[data-testid=gp-request][data-user='{out2}']")
    assert "<i>me</i> too" in a.page.locator(f"[data-testid=gp-request][data-user='{out2}']").inner_text()

    # member_leave = false: the member's leave button goes (live), the API refuses it;
    # an admin may still leave
    m.page.wait_for_selector("[data-testid=gp-leave]")
    o.page.click("[data-testid=gp-policy-leave]")
    o.page.wait_for_selector("[data-testid=gp-policy-leave]:not(.is-checked)")
    wait_until(o, lambda: group_info(server, owner, gid)["settings"]["member_leave"] is False)
    gone(m, "[data-testid=gp-leave]")
    assert count(a, "[data-testid=gp-leave]") == 1
    assert api_error(server, mem, "POST", base + "/leave") == (403, "forbidden")

    # invite = admin: the member's invite box goes (live), the API refuses it
    m.page.wait_for_selector("[data-testid=gp-invite-input]")
    o.page.click("[data-testid=gp-policy-invite-admin]")
    wait_until(o, lambda: group_info(server, owner, gid)["settings"]["invite"] == "admin")
    gone(m, "[data-testid=gp-invite-input]")
    assert count(a, "[data-testid=gp-invite-input]") == 1
    assert api_error(server, mem, "POST", base + "/members", {"user_ids": [out2]}) == (403, "forbidden")

    # policies are the owner's: an admin's attempt is refused
    assert api_error(server, adm, "PATCH", base, {"settings": {"join": "open"}}) == (403, "forbidden")
    # a change from the owner's other device reaches the open panel live
    api(server, owner, "PATCH", base, {"settings": {"join": "open", "member_leave": True}})
    o.page.wait_for_selector("[data-testid=gp-policy-join-open].is-checked")
    o.page.wait_for_selector("[data-testid=gp-policy-leave].is-checked")
    m.page.wait_for_selector("[data-testid=gp-leave]")
    # the change is explained in the chat: a system notice per change
    history = api(server, owner, "GET", f"/api/v1/conversations/{conv}/messages?after=0&limit=200")["messages"]
    changes = [x["body"]["settings"] for x in history if x["kind"] == "system" and x["body"]["type"] == "group_settings_changed"]
    assert {"join": "closed"} in changes and {"member_leave": False} in changes and {"invite": "admin"} in changes
    o.assert_no_console_errors()
    a.assert_no_console_errors()
    m.assert_no_console_errors()


def test_appoint_demote_mute_all_transfer(server: ServerProcess, open_tab: Any) -> None:
    owner, bob, carol = new_user(server, "owner"), new_user(server, "bob"), new_user(server, "carol")
    gid, conv = make_group(server, owner, [bob, carol])
    o, b, c = open_tab(owner), open_tab(bob), open_tab(carol)
    open_panel(o, conv)
    open_panel(b, conv)
    assert count(b, "[data-testid=gp-mute-all]") == 0 and count(b, "[data-testid=gp-rename]") == 0
    # appoint bob: his own panel shows an admin's actions, live
    member_cmd(o.page, bob, "gp-make-admin")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}'][data-role=admin]")
    assert member_roles(server, owner, gid)[bob] == "admin"
    b.page.wait_for_selector("[data-testid=gp-mute-all]")
    b.page.wait_for_selector("[data-testid=gp-rename]")
    b.page.wait_for_selector(f"[data-testid=gp-member][data-user='{carol}'] [data-testid=gp-member-more]")
    assert count(b, "[data-testid=gp-policies]") == 0  # admins do not set policies
    # demote him again
    member_cmd(o.page, bob, "gp-revoke-admin")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}'][data-role=member]")
    assert member_roles(server, owner, gid)[bob] == "member"
    gone(b, "[data-testid=gp-mute-all]")
    assert count(b, "[data-testid=gp-member-more]") == 0

    # mute all: a member's composer says so live and the server refuses a send; the
    # owner still speaks
    c.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    c.open_conv(conv)
    c.page.wait_for_selector("[data-testid=composer]")
    o.page.click("[data-testid=gp-mute-all]")
    o.page.wait_for_selector("[data-testid=gp-mute-all].is-checked")
    wait_until(o, lambda: group_info(server, owner, gid)["settings"]["mute_all"] is True)
    gate = c.page.wait_for_selector("[data-testid=composer-gate][data-reason='chat.gateMuteAll']")
    assert "禁言" in gate.inner_text()
    refused = c.js("v => window.__semot.client.sendText(v, 'anyone there').then(() => 'sent', (e) => e.code)", conv)
    assert refused == "muted"
    history = api(server, owner, "GET", f"/api/v1/conversations/{conv}/messages?after=0&limit=200")["messages"]
    assert not any(x["kind"] == "text" for x in history)
    # off again: the composer comes back and the member speaks
    o.page.click("[data-testid=gp-mute-all]")
    o.page.wait_for_selector("[data-testid=gp-mute-all]:not(.is-checked)")
    wait_until(o, lambda: group_info(server, owner, gid)["settings"]["mute_all"] is False)
    c.page.wait_for_selector("[data-testid=composer]")
    c.send("hello again")
    close_panel(o)
    o.wait_texts(["hello again"])
    o.page.click("[data-testid=group-info]")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}']")

    # transfer to bob: the owner becomes an admin; bob's panel shows the owner's actions live
    member_cmd(o.page, bob, "gp-transfer")
    confirm_box(o.page)
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}'][data-role=owner]")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{owner}'][data-role=admin]")
    gone(o, "[data-testid=gp-dismiss]")
    assert count(o, "[data-testid=gp-policies]") == 0
    assert group_info(server, carol, gid)["owner"] == bob
    assert member_roles(server, carol, gid) == {owner: "admin", bob: "owner", carol: "member"}
    b.page.wait_for_selector("[data-testid=gp-dismiss]")
    b.page.wait_for_selector("[data-testid=gp-policies]")
    assert count(b, "[data-testid=gp-leave]") == 0  # the owner cannot leave
    assert count(o, "[data-testid=gp-leave]") == 1  # the former owner, now an admin, can
    o.assert_no_console_errors()
    b.assert_no_console_errors()
    c.assert_no_console_errors(forbidden_noise)


def test_invite_directly_and_with_approval(server: ServerProcess, open_tab: Any) -> None:
    owner, bob = new_user(server, "owner"), new_user(server, "bob")
    dan, erin = new_user(server, "dan"), new_user(server, "erin")
    gid, conv = make_group(server, owner, [bob], name="Invites")
    o, b, d = open_tab(owner), open_tab(bob), open_tab(dan)
    open_panel(o, conv)
    # a bad user name is refused in the panel
    o.page.fill("[data-testid=gp-invite-input]", "no such user!")
    o.page.click("[data-testid=gp-invite]")
    o.page.wait_for_selector(".el-message--error")
    # direct add: dan is a member at once and the group appears in his list, live
    o.page.fill("[data-testid=gp-invite-input]", dan)
    o.page.click("[data-testid=gp-invite]")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{dan}']")
    assert o.page.locator("[data-testid=gp-invite-input]").input_value() == ""
    assert member_roles(server, owner, gid)[dan] == "member"
    d.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    assert d.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-title]").inner_text() == "Invites"
    # invite = approval (set in the panel): bob's invitation waits for the owner
    o.page.click("[data-testid=gp-policy-invite-approval]")
    wait_until(o, lambda: group_info(server, owner, gid)["settings"]["invite"] == "approval")
    open_panel(b, conv)
    b.page.wait_for_selector("[data-testid=gp-invite-hint]")
    b.page.fill("[data-testid=gp-invite-input]", erin)
    b.page.click("[data-testid=gp-invite]")
    assert "审核" in b.page.wait_for_selector(".el-message--success").inner_text()
    assert erin not in member_roles(server, owner, gid)
    req = o.page.wait_for_selector(f"[data-testid=gp-request][data-user='{erin}']")  # live
    assert f"{bob} 邀请" in req.inner_text()
    pending = api(server, owner, "GET", f"/api/v1/groups/{gid}/requests")["requests"]
    assert [(r["user_id"], r["inviter"], r["status"]) for r in pending] == [(erin, bob, "pending")]
    req.query_selector("[data-testid=gp-request-accept]").click()
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{erin}']")
    b.page.wait_for_selector(f"[data-testid=gp-member][data-user='{erin}']")  # live for bob too
    gone(o, "[data-testid=gp-requests]")
    assert member_roles(server, owner, gid)[erin] == "member"
    # the owner's own invitation skips the queue even now
    o.page.fill("[data-testid=gp-invite-input]", new_user(server, "fay"))
    o.page.click("[data-testid=gp-invite]")
    o.page.wait_for_function("() => document.querySelectorAll('[data-testid=gp-member]').length === 5")
    o.assert_no_console_errors(lambda msg: "404" in msg)
    b.assert_no_console_errors()
    d.assert_no_console_errors()


def test_leave_then_dismiss(server: ServerProcess, open_tab: Any) -> None:
    owner, bob, carol = new_user(server, "owner"), new_user(server, "bob"), new_user(server, "carol")
    gid, conv = make_group(server, owner, [bob, carol], name="Short-lived")
    o, b, c = open_tab(owner), open_tab(bob), open_tab(carol)
    open_panel(o, conv)
    open_panel(b, conv)
    open_panel(c, conv)
    assert count(o, "[data-testid=gp-leave]") == 0  # the owner cannot leave
    # bob leaves: his panel and chat close; the others see him go, live
    b.page.click("[data-testid=gp-leave]")
    confirm_box(b.page)
    gone(b, "[data-testid=gp-body]")
    gone(b, f"[data-testid=chat][data-conv='{conv}']")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}']", state="detached")
    c.page.wait_for_selector(f"[data-testid=gp-member][data-user='{bob}']", state="detached")
    assert bob not in member_roles(server, owner, gid)
    assert group_info(server, bob, gid)["my_role"] is None
    # dismiss: the panels show it (live for carol), actions go, sends are refused
    o.page.click("[data-testid=gp-dismiss]")
    confirm_box(o.page)
    o.page.wait_for_selector("[data-testid=gp-dismissed]")
    c.page.wait_for_selector("[data-testid=gp-dismissed]")
    for tab in (o, c):
        for gone_sel in ("gp-dismiss", "gp-leave", "gp-invite-input", "gp-rename", "gp-mute-all", "gp-policies", "gp-member-more", "gp-ann-edit"):
            assert count(tab, f"[data-testid={gone_sel}]") == 0, gone_sel
    assert group_info(server, owner, gid)["dismissed"] is True
    assert api_error(server, owner, "PATCH", f"/api/v1/groups/{gid}", {"name": "again"}) == (403, "forbidden")
    close_panel(c)
    # the composer says so (for the owner too) and the server refuses a send
    for tab in (o, c):
        tab.page.wait_for_selector("[data-testid=composer-gate][data-reason='chat.gateDismissed']")
    refused = c.js("v => window.__semot.client.sendText(v, 'still here?').then(() => 'sent', (e) => e.code)", conv)
    assert refused == "forbidden"
    history = api(server, owner, "GET", f"/api/v1/conversations/{conv}/messages?after=0&limit=200")["messages"]
    assert history[-1]["body"]["type"] == "group_dismissed"
    assert not any(x["kind"] == "text" for x in history)
    for tab in (o, b, c):
        tab.assert_no_console_errors(forbidden_noise)


def test_panel_in_english_on_a_phone(server: ServerProcess, open_tab: Any) -> None:
    owner, bob = new_user(server, "owner"), new_user(server, "bob")
    _gid, conv = make_group(server, owner, [bob], name="Phone")
    o = open_tab(owner, locale="en-US", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    page = o.page
    page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    page.locator(f"[data-testid=conv-item][data-conv='{conv}']").tap()
    page.locator("[data-testid=group-info]").tap()
    page.wait_for_selector("[data-testid=gp-policies]")
    text = page.locator("[data-testid=gp-body]").inner_text()
    for label in ("Rename", "Who can add new members", "Only the owner and admins can add people", "How people outside the group can join",
                  "No join requests: they must be invited", "Members may leave on their own"):
        assert label in text, text
    assert "group." not in text  # no untranslated key
    # nothing sticks out of the phone's screen (once the drawer has slid in)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=gp-body] *')].every(e => e.getBoundingClientRect().right <= 376)",
        timeout=5_000,
    )
    page.locator("[data-testid=gp-rename]").tap()
    page.fill("[data-testid=gp-name-input]", "")
    page.locator("[data-testid=gp-name-save]").tap()
    assert "Enter a group name" in page.wait_for_selector("[data-testid=gp-name-error]").inner_text()
    o.assert_no_console_errors()
