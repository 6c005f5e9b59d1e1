"""Per-conversation settings in the web client (issue 11): pin to top, do not disturb and
hide, from the row menu (right-click, keyboard, long press), kept in step between two
tabs of the same user (two devices); and removing a dismissed group, or one the user
left, from the chat list (defect 7: it could not be removed at all)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PASSWORD, Tab, http_json, new_user
from tests.support.server import ServerProcess

RECORD_NOTIFICATIONS = """() => {
    window.__notes = [];
    const Real = window.Notification;
    window.Notification = class extends Real {
        constructor(title, opts) { super(title, opts); window.__notes.push([title, opts && opts.body]); }
    };
}"""
HIDE_TAB = """() => {
    Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def row(conv: str) -> str:
    return f"[data-testid=conv-item][data-conv='{conv}']"


def send(tab: Tab, to: str, text: str) -> dict[str, Any]:
    """Send through the tab's own SDK client (the composer is tested elsewhere)."""
    ack: dict[str, Any] = tab.js("([to, text]) => window.__semot.client.sendText(to, text)", [to, text])
    return ack


def order(tab: Tab) -> list[str]:
    convs: list[str] = tab.page.eval_on_selector_all("[data-testid=conv-item]", "els => els.map(e => e.dataset.conv)")
    return convs


def wait_order(tab: Tab, first: list[str]) -> None:
    tab.page.wait_for_function(
        "want => JSON.stringify([...document.querySelectorAll('[data-testid=conv-item]')]"
        ".map(e => e.dataset.conv).slice(0, want.length)) === JSON.stringify(want)",
        arg=first,
    )


def menu_item(tab: Tab, conv: str, item: str) -> None:
    """Right-click the row and choose from its menu."""
    tab.page.click(row(conv), button="right")
    tab.page.wait_for_selector(f"[data-testid=conv-menu][data-conv='{conv}']")
    tab.page.click(f"[data-testid={item}]")
    tab.page.wait_for_selector("[data-testid=conv-menu]", state="detached")


def token(server: ServerProcess, user: str) -> str:
    tokens = http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})
    return str(tokens["access_token"])


def test_pin_mute_and_hide_follow_the_user_to_the_other_tab(server: ServerProcess, open_tab: Any) -> None:
    alice, bob, carol = new_user(server, "alice"), new_user(server, "bob"), new_user(server, "carol")
    b, c = open_tab(bob), open_tab(carol)
    a1, a2 = open_tab(alice), open_tab(alice)  # two devices of one user
    with_bob = send(b, alice, "from bob")["conv"]
    with_carol = send(c, alice, "from carol")["conv"]
    for tab in (a1, a2):
        wait_order(tab, [with_carol, with_bob])  # most recent first

    # pin bob's chat by right-click on one tab: pinned first, with its icon, on both
    menu_item(a1, with_bob, "conv-menu-pin")
    for tab in (a1, a2):
        tab.page.wait_for_selector(f"{row(with_bob)}[data-pinned=true] [data-testid=conv-pinned]")
        wait_order(tab, [with_bob, with_carol])

    # mute carol's chat from the keyboard on the other tab: Shift+F10, arrows, Enter
    a2.page.focus(row(with_carol))
    a2.page.keyboard.press("Shift+F10")
    a2.page.wait_for_selector(f"[data-testid=conv-menu][data-conv='{with_carol}']")
    assert a2.js("document.activeElement.dataset.testid") == "conv-menu-pin"
    a2.page.keyboard.press("ArrowDown")
    assert a2.js("document.activeElement.dataset.testid") == "conv-menu-dnd"
    a2.page.keyboard.press("Enter")
    a2.page.wait_for_selector("[data-testid=conv-menu]", state="detached")
    assert a2.js("document.activeElement.dataset.conv") == with_carol  # the focus is back on the row
    for tab in (a1, a2):
        tab.page.wait_for_selector(f"{row(with_carol)}[data-dnd=true] [data-testid=conv-dnd]")

    # do not disturb: no notification and a grey badge for carol; bob's still notifies
    a2.context.grant_permissions(["notifications"], origin=server.base)
    a2.page.evaluate(RECORD_NOTIFICATIONS)
    a2.page.click("[data-testid=user-menu]")
    a2.page.click("[data-testid=menu-notify]")
    a2.page.wait_for_function("window.__semot.state.notifications === true")
    a2.page.evaluate(HIDE_TAB)
    send(c, alice, "muted one")
    a2.page.wait_for_function(f"document.querySelector(\"{row(with_carol)} [data-testid=conv-preview]\").textContent === 'muted one'")
    send(b, alice, "loud one")
    a2.page.wait_for_function("window.__notes.length >= 1")
    assert a2.page.evaluate("window.__notes") == [[bob, "loud one"]]
    carol_badge = a2.page.locator(f"{row(with_carol)} [data-testid=unread-badge] .el-badge__content")
    bob_badge = a2.page.locator(f"{row(with_bob)} [data-testid=unread-badge] .el-badge__content")
    assert carol_badge.text_content() == "2" and bob_badge.text_content() == "2"
    grey = carol_badge.evaluate("e => getComputedStyle(e).backgroundColor")
    red = bob_badge.evaluate("e => getComputedStyle(e).backgroundColor")
    assert grey == "rgb(177, 184, 198)" and grey != red, (grey, red)
    assert a2.page.title() == "(2) Semot"  # the muted chat's unread do not call either

    # hide bob's chat: gone from both tabs and from a new one; back with bob's next message
    menu_item(a1, with_bob, "conv-menu-hide")
    for tab in (a1, a2):
        tab.page.wait_for_selector(row(with_bob), state="detached")
    a3 = open_tab(alice)
    a3.page.wait_for_selector(row(with_carol))
    assert with_bob not in order(a3)
    assert a3.page.locator(f"{row(with_carol)}[data-dnd=true]").count() == 1  # a new device knows
    send(b, alice, "I'm back")
    for tab in (a1, a2, a3):
        tab.page.wait_for_selector(f"{row(with_bob)}[data-pinned=true]")
        wait_order(tab, [with_bob, with_carol])

    # unpin and unmute: the plain order again
    menu_item(a2, with_bob, "conv-menu-pin")
    menu_item(a2, with_carol, "conv-menu-dnd")
    a1.page.wait_for_selector(f"{row(with_bob)}[data-pinned=false]")
    a1.page.wait_for_selector(f"{row(with_carol)}[data-dnd=false]")
    for tab in (a1, a2, a3, b, c):
        tab.assert_no_console_errors()


def test_a_dismissed_group_and_a_left_group_can_be_removed(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    tb = token(server, bob)
    dismissed = http_json("POST", server.base + "/api/v1/groups", {"name": "Old project", "members": [alice]}, tb)
    left = http_json("POST", server.base + "/api/v1/groups", {"name": "Lunch", "members": [alice]}, tb)
    a1, a2 = open_tab(alice), open_tab(alice)
    for tab in (a1, a2):
        tab.page.wait_for_selector(row(dismissed["conv"]))
        tab.page.wait_for_selector(row(left["conv"]))
    http_json("DELETE", f"{server.base}/api/v1/groups/{dismissed['group_id']}", None, tb)
    a1.page.wait_for_function("c => window.__semot.state.convs[c].dismissed === true", arg=dismissed["conv"])

    # a dismissed group: its menu only removes it, on both tabs and for good
    a1.page.click(row(dismissed["conv"]), button="right")
    a1.page.wait_for_selector("[data-testid=conv-menu-hide]")
    assert a1.page.locator("[data-testid=conv-menu-pin]").count() == 0
    assert a1.page.text_content("[data-testid=conv-menu-hide]").strip() == "从聊天列表删除"
    a1.page.click("[data-testid=conv-menu-hide]")
    for tab in (a1, a2):
        tab.page.wait_for_selector(row(dismissed["conv"]), state="detached")
    a1.page.reload()
    a1.wait_open()
    a1.page.wait_for_selector(row(left["conv"]))
    assert dismissed["conv"] not in order(a1)

    # a group alice left (from another device): the row stays until she removes it
    http_json("POST", f"{server.base}/api/v1/groups/{left['group_id']}/leave", {}, token(server, alice))
    a2.page.wait_for_timeout(300)  # nothing to wait for: the row must simply stay
    assert left["conv"] in order(a2)
    a2.page.click(row(left["conv"]), button="right")
    a2.page.click("[data-testid=conv-menu-hide]")
    for tab in (a1, a2):
        tab.page.wait_for_selector(row(left["conv"]), state="detached")
    a1.assert_no_console_errors()
    a2.assert_no_console_errors()


def test_long_press_opens_the_menu_on_a_phone(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    b = open_tab(bob)
    a = open_tab(alice, viewport={"width": 390, "height": 800}, has_touch=True, is_mobile=True)
    conv = send(b, alice, "hello phone")["conv"]
    a.page.wait_for_selector(row(conv))
    box = a.page.locator(row(conv)).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = a.context.new_cdp_session(a.page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    a.page.wait_for_selector(f"[data-testid=conv-menu][data-conv='{conv}']")
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert a.page.locator("[data-testid=chat]").count() == 0  # the press did not open the chat
    a.page.click("[data-testid=conv-menu-pin]")
    a.page.wait_for_selector(f"{row(conv)}[data-pinned=true]")
    # a short tap still opens the chat
    a.page.tap(row(conv))
    a.page.wait_for_selector(f"[data-testid=chat][data-conv='{conv}']")
    a.assert_no_console_errors()
    b.assert_no_console_errors()
