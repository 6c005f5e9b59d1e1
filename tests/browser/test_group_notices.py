"""Group notices in the web client (issue 11, defects 1, 3, 6 and part of 7), each
reproduced in a real browser against a real server:

- an unmute reads as an unmute, also for notices stored before the fix;
- an outsider's join request gives owner and admins a badge on the chat, a notice in it
  and a list to approve or reject from;
- an announcement shows its text in the notice and as a banner until dismissed (per
  announcement, remembered across reloads);
- a removed member is told, and their composer says why it is disabled; everyone's
  header count follows;
- the find-group dialog learns live that a request was accepted.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Tab, new_user
from tests.browser.test_group_panel import api, group_info, make_group, wait_until
from tests.support.server import ServerProcess


def notices(tab: Tab) -> list[str]:
    got = tab.page.eval_on_selector_all("[data-testid=chat] [data-testid=system-notice]", "els => els.map(e => e.textContent.trim())")
    return [str(x) for x in got]


def wait_notice(tab: Tab, part: str) -> None:
    tab.page.wait_for_function(
        """part => [...document.querySelectorAll('[data-testid=chat] [data-testid=system-notice]')]
                   .some(e => e.textContent.includes(part))""",
        arg=part,
    )


def open_chat(tab: Tab, conv: str) -> None:
    tab.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    tab.open_conv(conv)


def test_unmute_renders_as_unmute(server: ServerProcess, open_tab: Any) -> None:
    owner, mem = new_user(server, "owner"), new_user(server, "mem")
    gid, conv = make_group(server, owner, [mem])
    base = f"/api/v1/groups/{gid}/members/{mem}/mute"
    m = open_tab(mem)
    open_chat(m, conv)
    api(server, owner, "PUT", base, {"until": 4_000_000_000_000})
    wait_notice(m, "禁言")
    api(server, owner, "PUT", base, {"until": None})
    wait_notice(m, "解除")
    got = [n for n in notices(m) if "禁言" in n]
    assert len(got) == 2 and "解除" not in got[0] and "解除" in got[1], got
    # the chat list's preview says so too
    preview = m.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]")
    assert "解除" in preview.inner_text()
    # English, after a reload (the notices come from history)
    e = open_tab(mem, locale="en-US")
    open_chat(e, conv)
    e.page.wait_for_function("() => [...document.querySelectorAll('[data-testid=system-notice]')].some(x => x.textContent.includes('unmuted'))")
    texts = [n for n in notices(e) if "muted" in n]
    assert "unmuted" not in texts[0] and "unmuted" in texts[1], texts
    m.assert_no_console_errors()
    e.assert_no_console_errors()


def test_join_request_badge_notice_and_list(server: ServerProcess, open_tab: Any) -> None:
    owner, adm, mem, out, out2 = (new_user(server, p) for p in ("owner", "adm", "mem", "out", "out"))
    gid, conv = make_group(server, owner, [adm, mem])  # a project group: join needs approval
    api(server, owner, "PUT", f"/api/v1/groups/{gid}/members/{adm}/role", {"role": "admin"})
    o, m = open_tab(owner), open_tab(mem)
    o.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    open_chat(m, conv)
    assert api(server, out, "POST", f"/api/v1/groups/{gid}/join", {"message": "<b>let me in</b>"})["joined"] is False
    # the owner, elsewhere in the app: a badge on the chat in the list
    badge = f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-requests]"
    o.page.wait_for_selector(badge)
    assert o.page.locator(badge).inner_text().strip() == "1"
    # an admin who signs in later sees it too (the count comes with the group list)
    a = open_tab(adm)
    a.page.wait_for_selector(badge)
    # inside the chat: a notice naming the asker, with the list one click away
    o.page.click(f"[data-testid=conv-item][data-conv='{conv}']")
    note = o.page.wait_for_selector("[data-testid=gb-requests]")
    assert "1" in note.inner_text() and "入群申请" in note.inner_text()
    # plain members see none of it
    m.page.wait_for_timeout(300)
    assert m.page.locator("[data-testid=gb-requests]").count() == 0
    assert m.page.locator(badge).count() == 0
    # a second request while the chat is open: the count follows live
    api(server, out2, "POST", f"/api/v1/groups/{gid}/join", {})
    o.page.wait_for_function("() => document.querySelector('[data-testid=gb-requests]')?.textContent.includes('2')")
    # the badge opens the list too
    o.page.click(badge)
    o.page.wait_for_selector(f"[data-testid=gr-request][data-user='{out}']")
    item = o.page.locator(f"[data-testid=gr-request][data-user='{out}']")
    assert "<b>let me in</b>" in item.inner_text()  # user text stays text
    assert o.page.locator(f"[data-testid=gr-request][data-user='{out}'] b").count() == 0
    item.locator("[data-testid=gr-accept]").click()
    wait_until(o, lambda: group_info(server, out, gid)["my_role"] == "member")
    o.page.locator(f"[data-testid=gr-request][data-user='{out2}'] [data-testid=gr-decline]").click()
    o.page.wait_for_selector("[data-testid=gr-empty]")
    # nothing left: badge and notice go, for the admin too (the decision was pushed)
    o.page.keyboard.press("Escape")
    o.page.wait_for_selector("[data-testid=gb-requests]", state="detached")
    o.page.wait_for_selector(badge, state="detached")
    a.page.wait_for_selector(badge, state="detached")
    assert api(server, owner, "GET", f"/api/v1/groups/{gid}/requests")["requests"] == []
    for tab in (o, a, m):
        tab.assert_no_console_errors()


def test_announcement_text_and_banner_until_dismissed(server: ServerProcess, open_tab: Any) -> None:
    owner, mem = new_user(server, "owner"), new_user(server, "mem")
    gid, conv = make_group(server, owner, [mem])
    m = open_tab(mem)
    open_chat(m, conv)
    api(server, owner, "PATCH", f"/api/v1/groups/{gid}", {"announcement": "Standup at <b>10:00</b>\nin room 3"})
    wait_notice(m, "Standup at <b>10:00</b>")  # the text in the notice, as text
    banner = m.page.wait_for_selector("[data-testid=gb-ann]")
    assert "Standup at <b>10:00</b>" in banner.inner_text()
    assert m.page.locator("[data-testid=gb-ann] b").count() == 0
    m.page.click("[data-testid=gb-ann-close]")
    m.page.wait_for_selector("[data-testid=gb-ann]", state="detached")
    # dismissed for this announcement, also after a reload
    m.page.reload()
    m.wait_open()
    open_chat(m, conv)
    wait_notice(m, "Standup")
    m.page.wait_for_timeout(500)
    assert m.page.locator("[data-testid=gb-ann]").count() == 0
    # a new announcement shows again, live
    api(server, owner, "PATCH", f"/api/v1/groups/{gid}", {"announcement": "Release on Friday"})
    m.page.wait_for_function("() => document.querySelector('[data-testid=gb-ann]')?.textContent.includes('Release on Friday')")
    # a member who never dismissed it sees it on opening the chat
    o = open_tab(owner, locale="en-US")
    open_chat(o, conv)
    o.page.wait_for_function("() => document.querySelector('[data-testid=gb-ann]')?.textContent.includes('Release on Friday')")
    wait_notice(o, "Release on Friday")
    # an emptied announcement: no banner
    api(server, owner, "PATCH", f"/api/v1/groups/{gid}", {"announcement": ""})
    for tab in (m, o):
        tab.page.wait_for_selector("[data-testid=gb-ann]", state="detached")
    m.assert_no_console_errors()
    o.assert_no_console_errors()


def test_removed_member_is_told_and_counts_follow(server: ServerProcess, open_tab: Any) -> None:
    owner, mem, other = new_user(server, "owner"), new_user(server, "mem"), new_user(server, "oth")
    gid, conv = make_group(server, owner, [mem, other])
    m, x, o = open_tab(mem), open_tab(other), open_tab(owner)
    for tab in (m, x, o):
        open_chat(tab, conv)
        tab.page.wait_for_function("() => document.querySelector('[data-testid=chat-sub]')?.textContent.includes('3')")
    # the other member looks at another chat meanwhile: the header must be right on return
    x.page.evaluate("() => window.__semot.state.activeId = null")
    api(server, owner, "DELETE", f"/api/v1/groups/{gid}/members/{mem}")
    # the removed member: a notice in the chat, the composer disabled with the reason
    wait_notice(m, "移出")
    assert any("你" in n and "移出" in n for n in notices(m)), notices(m)
    m.page.wait_for_selector("[data-testid=composer-gate]")
    assert "不在该群" in m.page.locator("[data-testid=composer-gate]").inner_text()
    assert m.page.locator("[data-testid=composer]").count() == 0
    # everyone's header counts 2: live where the chat is open (the removed member's too)
    for tab in (o, m):
        tab.page.wait_for_function("() => document.querySelector('[data-testid=chat-sub]')?.textContent.includes('2')")
    x.open_conv(conv)
    x.page.wait_for_function("() => document.querySelector('[data-testid=chat-sub]')?.textContent.includes('2')")
    m.assert_no_console_errors(lambda e: "403" in e or "Forbidden" in e)
    x.assert_no_console_errors()
    o.assert_no_console_errors()


def test_join_dialog_learns_the_acceptance(server: ServerProcess, open_tab: Any) -> None:
    owner, out = new_user(server, "owner"), new_user(server, "out")
    gid, conv = make_group(server, owner, [], name="Approvals")
    o = open_tab(out)
    o.page.click("[data-testid=new-menu]")
    o.page.click("[data-testid=find-group]")
    o.page.fill("[data-testid=find-group-q]", gid)
    o.page.click("[data-testid=find-group-search]")
    o.page.click(f"[data-testid=found-group][data-group='{gid}'] [data-testid=find-group-join]")
    o.page.fill("[data-testid=find-group-message]", "hi")
    o.page.click(f"[data-testid=found-group][data-group='{gid}'] [data-testid=find-group-join]")
    o.page.wait_for_selector("[data-testid=find-group-sent]")
    req = api(server, owner, "GET", f"/api/v1/groups/{gid}/requests")["requests"][0]
    api(server, owner, "POST", f"/api/v1/groups/{gid}/requests/{req['request_id']}", {"action": "accept"})
    o.page.wait_for_selector("[data-testid=find-group-sent]", state="detached")
    assert "已通过" in o.page.wait_for_selector("[data-testid=find-group-accepted]").inner_text()
    o.page.click(f"[data-testid=found-group][data-group='{gid}'] [data-testid=find-group-enter]")
    o.page.wait_for_selector(f"[data-testid=chat][data-conv='{conv}']")
    o.assert_no_console_errors()


def test_join_dialog_learns_the_refusal(server: ServerProcess, open_tab: Any) -> None:
    owner, out = new_user(server, "owner"), new_user(server, "out")
    gid, _conv = make_group(server, owner, [], name="Approvals")
    o = open_tab(out, locale="en-US")
    o.page.click("[data-testid=new-menu]")
    o.page.click("[data-testid=find-group]")
    o.page.fill("[data-testid=find-group-q]", gid)
    o.page.click("[data-testid=find-group-search]")
    o.page.click(f"[data-testid=found-group][data-group='{gid}'] [data-testid=find-group-join]")
    o.page.click(f"[data-testid=found-group][data-group='{gid}'] [data-testid=find-group-join]")
    o.page.wait_for_selector("[data-testid=find-group-sent]")
    req = api(server, owner, "GET", f"/api/v1/groups/{gid}/requests")["requests"][0]
    api(server, owner, "POST", f"/api/v1/groups/{gid}/requests/{req['request_id']}", {"action": "decline"})
    assert "declined" in o.page.wait_for_selector("[data-testid=find-group-declined]").inner_text()
    o.assert_no_console_errors()
