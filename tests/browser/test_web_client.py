"""The web client in a real browser (headless Chromium) against a real server."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from tests.browser.conftest import PASSWORD, direct, http_json, new_user, server_history
from tests.support.server import ServerProcess


def test_two_users_chat_in_real_time_both_ways(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice), open_tab(bob)
    conv = direct(alice, bob)

    a.open_direct(bob)
    a.send("你好 bob 👋")
    a.wait_texts(["你好 bob 👋"])
    a.page.wait_for_selector("[data-testid=message][data-status=unread]")

    # bob sees the conversation appear with an unread badge, opens it
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    badge = b.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] .el-badge__content")
    assert badge.inner_text() == "1"
    assert b.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]").inner_text() == "你好 bob 👋"
    b.open_conv(conv)
    b.wait_texts(["你好 bob 👋"])

    # read receipt: alice's message turns "read" once bob has it open
    a.page.wait_for_selector("[data-testid=message][data-status=read]")

    # typing indicator, then bob answers with a multi-line message (Shift+Enter)
    b.page.fill("[data-testid=composer]", "hi")
    b.page.type("[data-testid=composer]", " alice")
    a.page.wait_for_function("document.querySelector('[data-testid=chat-sub]').classList.contains('typing')")
    b.page.keyboard.press("Shift+Enter")
    b.page.type("[data-testid=composer]", "second line")
    b.page.keyboard.press("Enter")
    a.wait_texts(["你好 bob 👋", "hi alice\nsecond line"])
    b.wait_texts(["你好 bob 👋", "hi alice\nsecond line"])

    # a few more, quickly, both ways: everything shows once, in order, on both sides
    for i in range(3):
        a.send(f"a{i}")
        b.send(f"b{i}")
    expected_count = 8
    for tab in (a, b):
        tab.page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=chat] [data-testid=message]:not([data-status=sending])').length === n",
            arg=expected_count,
        )
    seqs = [int(s) for s in a.page.eval_on_selector_all("[data-testid=chat] [data-testid=message]", "els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(1, expected_count + 1))
    assert a.texts() == b.texts()
    stored = [m["body"]["text"] for m in server_history(server, alice, conv)]
    assert stored == a.texts()
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_reload_keeps_history_and_session(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a = open_tab(alice)
    a.open_direct(bob)
    for i in range(3):
        a.send(f"before reload {i}")
    a.wait_texts([f"before reload {i}" for i in range(3)])
    a.page.wait_for_selector("[data-testid=message][data-seq='3']")
    a.page.reload()
    a.wait_open()  # remembered session: no login form
    assert a.page.locator("[data-testid=submit]").count() == 0
    a.open_conv(direct(alice, bob))
    a.wait_texts([f"before reload {i}" for i in range(3)])
    assert len(a.texts()) == 3
    a.assert_no_console_errors()


def test_offline_receiver_gets_20_messages_once_in_order(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice), open_tab(bob)
    conv = direct(alice, bob)
    a.open_direct(bob)
    a.send("start")
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    b.wait_texts(["start"])

    b.context.set_offline(True)
    b.page.wait_for_selector("[data-testid=conn-banner][data-state=offline]")
    sent = [f"m{i:02d}" for i in range(20)]
    for text in sent:
        a.send(text)
    a.page.wait_for_selector("[data-testid=message][data-seq='21']")
    time.sleep(0.5)
    assert b.texts() == ["start"], "nothing arrives while offline"

    b.context.set_offline(False)
    b.wait_open()
    b.wait_texts(["start", *sent])
    time.sleep(0.5)  # anything duplicated would show up by now
    assert b.texts() == ["start", *sent]
    seqs = b.page.eval_on_selector_all("[data-testid=chat] [data-testid=message]", "els => els.map(e => Number(e.dataset.seq))")
    assert seqs == list(range(1, 22))
    b.page.wait_for_selector("[data-testid=conn-banner]", state="detached")
    a.assert_no_console_errors()
    b.assert_no_console_errors(allow=lambda m: "WebSocket" in m or "ERR_INTERNET_DISCONNECTED" in m)


def test_messages_typed_offline_are_queued_and_sent_once(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice), open_tab(bob)
    conv = direct(alice, bob)
    a.open_direct(bob)
    a.send("online first")
    a.page.wait_for_selector("[data-testid=message][data-seq='1']")

    a.context.set_offline(True)
    a.page.wait_for_selector("[data-testid=conn-banner][data-state=offline]")
    for i in range(3):
        a.send(f"queued {i}")
    a.page.wait_for_function("document.querySelectorAll('[data-testid=st-queued]').length === 3")
    a.page.wait_for_function("document.querySelector('[data-testid=conn-banner]').innerText.includes('3')")
    a.context.set_offline(False)
    a.wait_open()
    a.page.wait_for_selector("[data-testid=message][data-seq='4']")
    assert a.page.locator("[data-testid=st-queued], [data-testid=st-sending], [data-testid=st-failed]").count() == 0

    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    b.wait_texts(["online first", "queued 0", "queued 1", "queued 2"])
    stored = [m["body"]["text"] for m in server_history(server, alice, conv)]
    assert stored == ["online first", "queued 0", "queued 1", "queued 2"], "each queued message stored exactly once"
    a.assert_no_console_errors(allow=lambda m: "WebSocket" in m or "ERR_INTERNET_DISCONNECTED" in m)


def test_recall_shows_a_tombstone_on_both_sides(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice), open_tab(bob)
    conv = direct(alice, bob)
    a.open_direct(bob)
    a.send("keep this")
    a.send("oops, wrong chat")
    a.page.wait_for_selector("[data-testid=message][data-seq='2']")
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    b.wait_texts(["keep this", "oops, wrong chat"])

    row = a.page.locator("[data-testid=message][data-seq='2']")
    row.hover()
    row.locator("[data-testid=msg-menu]").click()
    a.page.locator("[data-testid=recall]:visible").click()
    a.page.wait_for_selector("[data-testid=tombstone][data-seq='2']")
    b.page.wait_for_selector("[data-testid=tombstone][data-seq='2']")
    assert b.texts() == ["keep this"]
    assert "撤回了一条消息" in b.page.locator("[data-testid=tombstone][data-seq='2']").inner_text()
    assert a.page.locator("[data-testid=tombstone][data-seq='2']").inner_text().strip() == "你撤回了一条消息"
    # the recall is durable: a reload shows the tombstone, not the text
    b.page.reload()
    b.wait_open()
    b.open_conv(conv)
    b.page.wait_for_selector("[data-testid=tombstone][data-seq='2']")
    assert b.texts() == ["keep this"]
    assert server_history(server, bob, conv)[1]["kind"] == "recalled"
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_html_in_a_message_is_shown_as_text_and_runs_nothing(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice), open_tab(bob)
    conv = direct(alice, bob)
    payloads = [
        "<img src=x onerror=alert(1)>",
        "<script>alert(2)</script>",
        '"><svg onload=alert(3)>',
        "javascript:alert(4)",
        "{{ constructor.constructor('alert(5)')() }}",
    ]
    a.open_direct(bob)
    for p in payloads:
        a.send(p)
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    b.wait_texts(payloads)
    a.wait_texts(payloads)
    time.sleep(0.5)
    for tab in (a, b):
        assert tab.texts() == payloads
        assert tab.page.locator("[data-testid=chat] [data-testid=bubble] img").count() == 0
        assert tab.page.locator("[data-testid=chat] [data-testid=bubble] script").count() == 0
        assert tab.page.locator("[data-testid=chat] [data-testid=bubble] svg:not([aria-hidden])").count() == 0
        assert tab.page.locator("[data-testid=chat] [data-testid=bubble] a").count() == 0, "only http(s) URLs become links"
        tab.assert_no_console_errors()  # includes any alert() dialog
    # the conversation list preview is text too
    assert b.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] img").count() == 0


def test_language_switch_translates_the_ui(server: ServerProcess, open_tab: Any) -> None:
    alice = new_user(server, "alice")
    tab = open_tab(alice, login=False, locale="en-US")
    page = tab.page
    # picked from the browser: English
    page.wait_for_selector("[data-testid=submit]")
    assert page.locator("[data-testid=submit]").inner_text().strip() == "Sign in"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("[data-testid=api-docs]").get_attribute("href") == "/docs"
    # switch on the login page
    page.click("[data-testid=lang-switch]")
    page.click("[data-testid='lang-zh-CN']")
    page.wait_for_function("document.querySelector('[data-testid=submit]').innerText.trim() === '登录'")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.fill("[data-testid=username]", alice)
    page.fill("[data-testid=password]", "password123")
    page.click("[data-testid=submit]")
    tab.wait_open()
    assert page.locator("[data-testid=conv-search]").get_attribute("placeholder") == "搜索"
    # and back to English from the user menu; remembered across a reload
    page.click("[data-testid=user-menu]")
    page.click("[data-testid=menu-lang-en]")
    page.wait_for_function("document.querySelector('[data-testid=conv-search]').placeholder === 'Search'")
    page.reload()
    tab.wait_open()
    assert page.locator("[data-testid=conv-search]").get_attribute("placeholder") == "Search"
    assert "Select a conversation" in page.locator(".chat-empty").inner_text()
    # no untranslated key leaks into the page
    body = page.locator("body").inner_text()
    assert not re.search(r"\b(chat|msg|list|conn|login|menu)\.[a-zA-Z]+\b", body), body
    tab.assert_no_console_errors()


def test_a_zh_browser_gets_chinese_and_every_key_is_translated(server: ServerProcess, open_tab: Any) -> None:
    tab = open_tab("nobody", login=False, locale="zh-CN")
    tab.page.wait_for_selector("[data-testid=submit]")
    assert tab.page.locator("[data-testid=submit]").inner_text().strip() == "登录"
    missing = tab.page.evaluate(
        """async () => {
            const { MESSAGES } = await import('/web/app/i18n.js');
            const zh = Object.keys(MESSAGES['zh-CN']), en = Object.keys(MESSAGES.en);
            // "key#one" etc. are plural forms (i18n.js t()): a language has those it needs
            return { onlyZh: zh.filter(k => !k.includes('#') && !en.includes(k)), onlyEn: en.filter(k => !k.includes('#') && !zh.includes(k)),
                     same: zh.filter(k => MESSAGES['zh-CN'][k] === MESSAGES.en[k] && !['appName', 'lang.zh', 'lang.en', 'cs.ctx.summary'].includes(k)) };
        }"""
    )
    assert missing == {"onlyZh": [], "onlyEn": [], "same": []}
    tab.assert_no_console_errors()


def test_phone_sized_viewport_is_usable(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    b = open_tab(bob)
    phone = open_tab(alice, viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = phone.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    phone.open_direct(bob)
    # on a phone the chat replaces the list, with a way back
    assert not page.locator("[data-testid=conv-list]").is_visible()
    assert page.locator("[data-testid=back]").is_visible()
    phone.send("from my phone")
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    b.send("reply to phone")
    phone.wait_texts(["from my phone", "reply to phone"])
    for sel in ("[data-testid=composer]", "[data-testid=send]", "[data-testid=emoji-btn]"):
        box = page.locator(sel).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 812, (sel, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # the emoji picker works by touch
    page.locator("[data-testid=emoji-btn]").tap()
    page.locator(".emoji-grid .emoji").first.tap()
    assert page.locator("[data-testid=composer]").input_value() == "😀"
    page.locator("[data-testid=send]").tap()
    phone.wait_texts(["from my phone", "reply to phone", "😀"])
    page.locator("[data-testid=back]").tap()
    page.wait_for_selector("[data-testid=conv-list]", state="visible")
    assert page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]").inner_text() == "😀"
    phone.assert_no_console_errors()
    b.assert_no_console_errors()


def test_group_with_mentions_location_card_and_burn_after_reading(server: ServerProcess, open_tab: Any) -> None:
    alice, bob, carol = new_user(server, "alice"), new_user(server, "bob"), new_user(server, "carol")
    a, b = open_tab(alice), open_tab(bob)
    page = a.page
    page.click("[data-testid=new-menu]")
    page.click("[data-testid=new-group]")
    page.fill("[data-testid=new-group-name]", "项目组")
    members = page.locator("[data-testid=dlg-new-group] .el-input-tag input")
    for u in (bob, carol):
        members.fill(u)
        members.press("Enter")
    page.wait_for_function("document.querySelectorAll('[data-testid=dlg-new-group] .el-tag').length === 2")
    page.click("[data-testid=new-group-create]")
    page.wait_for_selector("[data-testid=chat][data-conv^='g:']")
    conv = page.locator("[data-testid=chat]").get_attribute("data-conv")
    assert page.locator("[data-testid=chat-title]").inner_text() == "项目组"
    page.wait_for_selector("[data-testid=system-notice]")

    # bob sees the group by its name
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.page.wait_for_function(
        "c => document.querySelector(`[data-testid=conv-item][data-conv='${c}'] [data-testid=conv-title]`).innerText === '项目组'", arg=conv
    )
    b.open_conv(conv)

    # @ mention through the picker
    page.fill("[data-testid=composer]", "hello ")
    page.type("[data-testid=composer]", "@")
    page.wait_for_selector("[data-testid=mention-list]")
    page.locator("[data-testid=mention-option]", has_text=bob).click()
    page.type("[data-testid=composer]", "please review")
    page.press("[data-testid=composer]", "Enter")
    b.wait_texts([f"hello @{bob} please review"])
    b.page.wait_for_selector(".msg-row.mentions-me .mention")
    stored = server_history(server, alice, conv)
    assert stored[-1]["body"]["mentions"] == [bob]

    # location and contact card
    page.click("[data-testid=location-btn]")
    page.click("[data-testid=loc-manual]")  # typing coordinates is folded away (issue 11)
    page.fill("[data-testid=loc-lat]", "31.2304")
    page.fill("[data-testid=loc-lng]", "121.4737")
    page.fill("[data-testid=loc-title]", "人民广场")
    page.click("[data-testid=loc-send]")
    page.click("[data-testid=card-btn]")
    page.fill("[data-testid=card-user]", carol)
    page.click("[data-testid=card-send]")
    b.page.wait_for_selector("[data-testid=location]")
    assert "人民广场" in b.page.locator("[data-testid=location]").inner_text()
    b.page.wait_for_selector("[data-testid=card]")
    assert carol in b.page.locator("[data-testid=card]").inner_text()

    # burn after reading: bob reads it (the chat is open), a countdown shows, then it burns
    page.click("[data-testid=burn-btn]")
    page.locator("[data-testid=burn-seconds]").click()
    page.locator(".el-select-dropdown__item:visible", has_text="5").first.click()
    a.send("self-destructing")
    b.wait_texts(["self-destructing"])
    b.page.wait_for_function("() => /\\d/.test(document.querySelector('.burn-tag.counting')?.innerText || '')")
    a.page.wait_for_selector("[data-testid=tombstone][data-kind=burned]", timeout=20_000)
    b.page.wait_for_selector("[data-testid=tombstone][data-kind=burned]", timeout=20_000)
    assert "self-destructing" not in b.texts()
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_a_send_refused_for_good_is_deleted_then_sent_anew(server: ServerProcess, open_tab: Any) -> None:
    # not_found is a refusal for good (issue 11, defect 4: no retry that cannot work; see
    # tests/browser/test_composer_replies.py): the failed message is deleted, then sent anew
    alice = new_user(server, "alice")
    a = open_tab(alice)
    ghost = f"ghost{int(time.time() * 1000)}"
    a.open_direct(ghost)  # no such user: the server answers not_found
    a.send("anyone there?")
    a.page.wait_for_selector("[data-testid=st-failed]")
    cid = a.page.locator("[data-testid=message][data-status=failed]").get_attribute("data-cid")
    assert "不存在" in a.page.locator("[data-testid=st-failed]").inner_text()
    http_json("POST", server.base + "/api/v1/auth/register", {"username": ghost, "password": "password123"})
    a.page.click("[data-testid=st-delete]")
    a.send("anyone there?")
    a.page.wait_for_selector("[data-testid=message][data-seq='1']")
    assert a.page.locator("[data-testid=message][data-seq='1']").get_attribute("data-cid") != cid
    stored = server_history(server, ghost, direct(alice, ghost))
    assert [m["body"]["text"] for m in stored] == ["anyone there?"]
    a.assert_no_console_errors()


def test_conversation_list_sorts_by_activity_and_searches(server: ServerProcess, open_tab: Any) -> None:
    alice, bob, carol = new_user(server, "alice"), new_user(server, "bob"), new_user(server, "carol")
    a = open_tab(alice)
    for peer in (bob, carol):
        a.open_direct(peer)
        a.send(f"hi {peer}")
        a.page.wait_for_selector("[data-testid=message][data-seq='1']")
    order = a.page.eval_on_selector_all("[data-testid=conv-item]", "els => els.map(e => e.dataset.conv)")
    assert order[:2] == [direct(alice, carol), direct(alice, bob)]
    a.open_conv(direct(alice, bob))
    a.send("bump")
    a.page.wait_for_selector("[data-testid=message][data-seq='2']")
    order = a.page.eval_on_selector_all("[data-testid=conv-item]", "els => els.map(e => e.dataset.conv)")
    assert order[:2] == [direct(alice, bob), direct(alice, carol)]
    a.page.fill("[data-testid=conv-search]", carol[:9])
    a.page.wait_for_function("document.querySelectorAll('[data-testid=conv-item]').length === 1")
    assert a.page.locator("[data-testid=conv-item]").get_attribute("data-conv") == direct(alice, carol)
    a.assert_no_console_errors()


def _send_many(server: ServerProcess, sender: str, to: str, texts: list[str]) -> None:
    """Send with the Python SDK, from a thread of its own (Playwright's sync API owns this one)."""
    import asyncio
    import threading

    from semot.client import SemotClient

    async def run() -> None:
        async with SemotClient(server.base) as c:
            await c.login(sender, "password123")
            await c.connect()
            for t in texts:
                await c.send_text(to, t)

    th = threading.Thread(target=lambda: asyncio.run(run()))
    th.start()
    th.join(60)


def test_history_scrolls_up_infinitely_keeping_the_reading_position(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    _send_many(server, bob, alice, [f"line {i:03d}" for i in range(1, 76)])
    a = open_tab(alice)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}'] .el-badge__content")
    assert a.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] .el-badge__content").inner_text() == "75"
    a.open_conv(conv)
    a.page.wait_for_selector("[data-testid=message][data-seq='75']")
    first = int(a.page.locator("[data-testid=message]").first.get_attribute("data-seq"))
    assert first > 1, "only the latest page is loaded at first"
    # the newest message is in view, the badge is gone
    assert a.page.locator("[data-testid=message][data-seq='75']").is_visible()
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}'] .el-badge__content", state="hidden")
    oldest = f"() => window.__semot.state.convs['{conv}'].messages[0].seq"
    for _ in range(10):
        first_seq = a.js(oldest)
        # the list is virtual (issue 11): the row on top of the pane after scrolling up, in the next frame
        anchor_seq = a.js(
            """async () => {
                const el = document.querySelector('[data-testid=messages]');
                el.scrollTop = 0;
                await new Promise((r) => requestAnimationFrame(r));
                const top = el.getBoundingClientRect().top;
                return [...el.querySelectorAll('[data-testid=message]')].find((m) => m.getBoundingClientRect().top >= top).dataset.seq;
            }"""
        )
        if first_seq == 1:
            break
        a.page.wait_for_function(f"() => ({oldest})() < {first_seq}")
        # the message that was on top is still where the reader left it, not jumped away
        box = a.page.locator(f"[data-testid=message][data-seq='{anchor_seq}']").bounding_box()
        pane = a.page.locator("[data-testid=messages]").bounding_box()
        assert box and pane and pane["y"] - 5 <= box["y"] <= pane["y"] + pane["height"], (box, pane)
    seqs = a.js(f"() => window.__semot.state.convs['{conv}'].messages.map((m) => m.seq)")
    assert seqs == list(range(1, 76))
    assert a.page.locator("[data-testid=message]").first.get_attribute("data-seq") == "1"
    a.page.wait_for_selector(".older-status", state="visible")
    a.assert_no_console_errors()


def test_hidden_tab_counts_in_the_title_and_notifies(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    b = open_tab(bob)
    a = open_tab(alice)
    a.context.grant_permissions(["notifications"], origin=server.base)
    # record notifications instead of showing them
    a.page.evaluate(
        """() => {
            window.__notes = [];
            const Real = window.Notification;
            window.Notification = class extends Real {
                constructor(title, opts) { super(title, opts); window.__notes.push([title, opts && opts.body]); }
            };
        }"""
    )
    a.page.click("[data-testid=user-menu]")
    a.page.click("[data-testid=menu-notify]")
    a.page.wait_for_function("window.__semot.state.notifications === true")
    # the tab goes to the background
    a.page.evaluate(
        """() => {
            Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    b.open_direct(alice)
    b.send("are you there?")
    b.send("ping")
    a.page.wait_for_function("document.title === '(2) Semot'")
    a.page.wait_for_function("window.__notes.length === 2")
    assert a.page.evaluate("window.__notes") == [[bob, "are you there?"], [bob, "ping"]]
    # back to the foreground: the title is plain again
    a.page.evaluate(
        """() => {
            Object.defineProperty(document, 'visibilityState', { get: () => 'visible', configurable: true });
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    a.page.wait_for_function("document.title === 'Semot'")
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_mentions_are_written_by_display_name(server: ServerProcess, open_tab: Any) -> None:
    alice = new_user(server, "alice")
    bob = f"bob{uuid.uuid4().hex[:8]}"
    http_json("POST", server.base + "/api/v1/auth/register", {"username": bob, "password": PASSWORD, "display_name": "王小明"})
    a, b = open_tab(alice), open_tab(bob)
    g = a.js("m => window.__semot.client.createGroup('提及', m)", [bob])
    conv = g["conv"]
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    a.open_conv(conv)
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    page = a.page
    page.fill("[data-testid=composer]", "")
    page.type("[data-testid=composer]", "@小明")  # found by part of the name, not only the id
    option = page.wait_for_selector("[data-testid=mention-option]:has-text('王小明')")
    assert bob in option.inner_text()  # the id is shown beside the name
    option.click()
    page.type("[data-testid=composer]", "看一下")
    page.press("[data-testid=composer]", "Enter")
    b.wait_texts(["@王小明 看一下"])
    assert b.page.locator(".msg-row.mentions-me .mention").inner_text() == "@王小明"
    stored = server_history(server, alice, conv)
    assert stored[-1]["body"]["mentions"] == [bob]
    a.assert_no_console_errors()
    b.assert_no_console_errors()
