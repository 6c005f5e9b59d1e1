"""Edits and reactions in a real browser, two users (issue 11): edit in place from the
message menu (Enter saves, Esc cancels), "(已编辑)" on both sides, reactions toggled by
click with counts and who, and a device that was offline while a message was edited
and reacted to catching up on reconnect (sync's change cursors + `changes`) without a
message being added."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import direct, new_user, server_history
from tests.support.server import ServerProcess

EDITED = "(已编辑)"  # edit.edited in zh-CN


def row(seq: int) -> str:
    return f"[data-testid=chat] [data-testid=message][data-seq='{seq}']"


def chip_count(page: Any, seq: int, emoji: str) -> str:
    return f"{row(seq)} [data-testid=reaction][data-emoji='{emoji}'] [data-testid=reaction-count]"


def menu(page: Any, seq: int, item: str) -> None:
    page.hover(row(seq))
    page.click(f"{row(seq)} [data-testid=msg-menu]")
    page.locator(f"[data-testid={item}]:visible").click()


def react(page: Any, seq: int, emoji: str) -> None:
    page.hover(row(seq))
    page.click(f"{row(seq)} [data-testid=reaction-add]")
    page.locator(f".reaction-popper [data-emoji='{emoji}']:visible").click()


def wait_text(page: Any, seq: int, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => { const e = document.querySelector(sel); return e && e.textContent === text; }",
        arg=[f"{row(seq)} [data-testid=msg-text]", text],
    )


def test_edit_and_react_live_and_after_being_offline(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "ea"), new_user(server, "eb")
    conv = direct(alice, bob)
    a = open_tab(alice)
    b = open_tab(bob)
    a.open_direct(bob)
    a.send("helo wrold")
    a.page.wait_for_selector(row(1))
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    wait_text(b.page, 1, "helo wrold")

    # alice edits in place; Esc first leaves the text as it was
    menu(a.page, 1, "edit")
    a.page.fill("[data-testid=msg-editor-box]", "discarded")
    a.page.press("[data-testid=msg-editor-box]", "Escape")
    a.page.wait_for_selector("[data-testid=msg-editor]", state="detached")
    wait_text(a.page, 1, "helo wrold")
    menu(a.page, 1, "edit")
    a.page.fill("[data-testid=msg-editor-box]", "hello world")
    a.page.press("[data-testid=msg-editor-box]", "Enter")
    wait_text(a.page, 1, "hello world")
    a.page.wait_for_selector(f"{row(1)} [data-testid=edited]:has-text('{EDITED}')")
    # bob sees it live, marked edited
    wait_text(b.page, 1, "hello world")
    b.page.wait_for_selector(f"{row(1)} [data-testid=edited]")
    # bob cannot edit alice's message: no Edit in his menu
    b.page.hover(row(1))
    b.page.click(f"{row(1)} [data-testid=msg-menu]")
    b.page.locator("[data-testid=reply]:visible").wait_for()
    assert b.page.locator("[data-testid=edit]:visible").count() == 0
    b.page.keyboard.press("Escape")

    # bob reacts 👍; both see one, alice adds hers with a click on the chip: two
    react(b.page, 1, "👍")
    b.page.wait_for_selector(f"{chip_count(b.page, 1, '👍')}:has-text('1')")
    a.page.wait_for_selector(f"{chip_count(a.page, 1, '👍')}:has-text('1')")
    title = a.page.get_attribute(f"{row(1)} [data-testid=reaction][data-emoji='👍']", "title")
    assert title is not None and bob in title  # hover says who
    a.page.click(f"{row(1)} [data-testid=reaction][data-emoji='👍']")
    a.page.wait_for_selector(f"{chip_count(a.page, 1, '👍')}:has-text('2')")
    b.page.wait_for_selector(f"{chip_count(b.page, 1, '👍')}:has-text('2')")
    # bob toggles his off again
    b.page.click(f"{row(1)} [data-testid=reaction][data-emoji='👍']")
    a.page.wait_for_selector(f"{chip_count(a.page, 1, '👍')}:has-text('1')")

    # bob goes offline; alice edits again and reacts 🎉; bob comes back and catches up
    max_seq = b.js(f"() => window.__semot.state.convs['{conv}'].maxSeq")
    b.context.set_offline(True)
    b.page.wait_for_function("window.__semot.state.connection !== 'open'")
    menu(a.page, 1, "edit")
    a.page.fill("[data-testid=msg-editor-box]", "hello world, again")
    a.page.press("[data-testid=msg-editor-box]", "Enter")
    wait_text(a.page, 1, "hello world, again")
    react(a.page, 1, "🎉")
    a.page.wait_for_selector(f"{chip_count(a.page, 1, '🎉')}:has-text('1')")
    b.context.set_offline(False)
    b.wait_open()
    wait_text(b.page, 1, "hello world, again")
    b.page.wait_for_selector(f"{chip_count(b.page, 1, '🎉')}:has-text('1')")
    b.page.wait_for_selector(f"{chip_count(b.page, 1, '👍')}:has-text('1')")
    assert b.js(f"() => window.__semot.state.convs['{conv}'].maxSeq") == max_seq  # nothing was added
    assert b.page.locator("[data-testid=chat] [data-testid=message]").count() == 1

    # the server's history agrees (a page is self-contained)
    [msg] = server_history(server, bob, conv)
    assert msg["body"]["text"] == "hello world, again" and msg["edited_ts"] > msg["ts"]
    assert {r["emoji"]: r["count"] for r in msg["reactions"]} == {"👍": 1, "🎉": 1}
    a.assert_no_console_errors()
    b.assert_no_console_errors(lambda m: "ERR_INTERNET_DISCONNECTED" in m or "WebSocket" in m)
