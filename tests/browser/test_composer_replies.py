"""The composer in a real browser (issue 11): "@Everyone" only for who may send it, sends
refused for good are not retried (defect 4), "[有人@我]" survives being offline and a
reload (defect 5), and reply / quote end to end (menu, quote bar, Esc, the quote above
the text, a click that scrolls to an original far back in history, recall)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Sequence
from typing import Any

from tests.browser.conftest import PASSWORD, direct, http_json, new_user, server_history
from tests.support.server import ServerProcess

EVERYONE = "所有人"  # chat.mentionAll in zh-CN
MENTIONED = "[有人@我]"  # list.mentioned in zh-CN


def token(server: ServerProcess, user: str) -> str:
    data = http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})
    return str(data["access_token"])


def group(server: ServerProcess, owner: str, members: list[str], name: str = "周会") -> str:
    g = http_json("POST", server.base + "/api/v1/groups", {"name": name, "members": members}, token=token(server, owner))
    return str(g["conv"])


def sdk_sends(
    server: ServerProcess, sender: str, sends: Sequence[tuple[str, dict[str, Any], int | None]], read: tuple[str, int] | None = None
) -> list[dict[str, Any]]:
    """(to, text body, reply_to) sends with the Python SDK (another device of `sender`),
    then `read` (conv, seq) if given; from a thread of its own (Playwright's sync API
    owns this one's event loop). Returns the acks."""
    from semot.client import SemotAPIError, SemotClient

    acks: list[dict[str, Any]] = []

    async def run() -> None:
        c = SemotClient(server.base)
        try:
            await c.login(sender, PASSWORD)
            await c.connect()
            for to, body, reply_to in sends:
                cid = uuid.uuid4().hex
                for _ in range(100):  # a burst meets the server's rate limit: wait, same cid
                    try:
                        acks.append(await c.send(to, "text", body, reply_to=reply_to, cid=cid))
                        break
                    except SemotAPIError as exc:
                        if exc.code != "rate_limited":
                            raise
                        await asyncio.sleep(0.3)
            if read:
                await c.read(*read)
        finally:
            await c.close()

    th = threading.Thread(target=lambda: asyncio.run(run()))
    th.start()
    th.join(60)
    assert len(acks) == len(sends), "the SDK sends did not finish"
    return acks


def all_messages(server: ServerProcess, user: str, conv: str) -> list[dict[str, Any]]:
    """The whole stored history (server_history stops at 200)."""
    tok, out = token(server, user), list[dict[str, Any]]()
    while True:
        after = out[-1]["seq"] if out else 0
        page = http_json("GET", f"{server.base}/api/v1/conversations/{conv}/messages?after={after}&limit=200", token=tok)
        out += page["messages"]
        if not page["more"]:
            return out


def mention_options(page: Any) -> list[str]:
    page.wait_for_selector("[data-testid=chat] .composer[data-role-known]")
    page.fill("[data-testid=composer]", "")
    page.type("[data-testid=composer]", "@")
    page.wait_for_selector("[data-testid=mention-list]")
    return [s.strip() for s in page.locator("[data-testid=mention-option]").all_inner_texts()]


def conv_item(conv: str) -> str:
    return f"[data-testid=conv-item][data-conv='{conv}']"


def open_menu(page: Any, row: Any) -> None:
    row.hover()
    row.locator("[data-testid=msg-menu]").click()


# --------------------------------------------------------------------------- defect 4
def test_everyone_is_offered_only_to_owner_and_admins(server: ServerProcess, open_tab: Any) -> None:
    owner, member, third = new_user(server, "own"), new_user(server, "mem"), new_user(server, "thr")
    conv = group(server, owner, [member, third])
    o, m = open_tab(owner), open_tab(member)
    for tab in (o, m):
        tab.page.wait_for_selector(conv_item(conv))
        tab.open_conv(conv)
    # the owner gets "@所有人"; a plain member only people (before the fix: "所有人" too,
    # and the send then failed for ever with "没有权限" and a retry that could never work)
    o_opts = mention_options(o.page)
    assert any(EVERYONE in x for x in o_opts), o_opts
    m_opts = mention_options(m.page)
    assert not any(EVERYONE in x for x in m_opts), m_opts
    assert any(owner in x for x in m_opts) and any(third in x for x in m_opts), m_opts
    # typing the words by hand sends plain text, not mention_all: it goes through
    m.page.fill("[data-testid=composer]", f"@{EVERYONE} 开会")
    m.page.press("[data-testid=composer]", "Enter")
    m.page.wait_for_selector("[data-testid=message][data-seq='2']")
    assert "mention_all" not in server_history(server, member, conv)[-1]["body"]
    # the owner's pick is sent as mention_all and highlights for the member
    o.page.locator("[data-testid=mention-option]", has_text=EVERYONE).click()
    o.page.type("[data-testid=composer]", "会议室 3")
    o.page.press("[data-testid=composer]", "Enter")
    m.page.wait_for_selector(".msg-row.mentions-me")
    assert server_history(server, owner, conv)[-1]["body"]["mention_all"] is True
    o.assert_no_console_errors()
    m.assert_no_console_errors()


def test_a_send_refused_for_good_is_not_retried(server: ServerProcess, open_tab: Any) -> None:
    alice = new_user(server, "alice")
    a = open_tab(alice)
    ghost = "ghost" + alice[5:]
    a.open_direct(ghost)  # no such user: not_found, for good
    a.send("anyone there?")
    failed = a.page.wait_for_selector("[data-testid=st-failed][data-permanent=true]")
    assert "不存在" in failed.inner_text()  # the reason
    row = a.page.locator("[data-testid=message][data-status=failed]")
    # no retry: not on the status, not in the menu; the SDK's outbox is empty
    failed.click()
    a.page.wait_for_timeout(300)
    assert a.page.locator("[data-testid=st-sending]").count() == 0
    open_menu(a.page, row)
    a.page.wait_for_selector(".el-dropdown-menu__item:visible")
    items = a.page.locator(".el-dropdown-menu__item:visible").all_inner_texts()
    assert not any("重试" in x for x in items), items
    a.page.keyboard.press("Escape")
    assert a.js("() => window.__semot.client.outbox.length") == 0
    # delete it
    a.page.click("[data-testid=st-delete]")
    a.page.wait_for_selector("[data-testid=message][data-status=failed]", state="detached")
    a.assert_no_console_errors()


# --------------------------------------------------------------------------- defect 5
def test_a_mention_received_while_offline_is_tagged_after_login(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = group(server, alice, [bob])
    # bob is not signed in anywhere: alice mentions him, then talks on
    sdk_sends(server, alice, [
        (conv, {"text": f"@{bob} 请看一下", "mentions": [bob]}, None),
        (conv, {"text": "别的事 1"}, None),
        (conv, {"text": "别的事 2"}, None),
    ])
    b = open_tab(bob)
    item = b.page.wait_for_selector(conv_item(conv))
    b.page.wait_for_function(
        "([sel, tag]) => (document.querySelector(sel)?.innerText || '').includes(tag)", arg=[conv_item(conv), MENTIONED]
    )
    # a reload (the SDK remembers what it already fetched: no catch-up brings it again)
    b.page.reload()
    b.wait_open()
    b.page.wait_for_function(
        "([sel, tag]) => (document.querySelector(sel)?.innerText || '').includes(tag)", arg=[conv_item(conv), MENTIONED]
    )
    # read: the tag goes, and stays gone after another reload
    b.open_conv(conv)
    b.page.wait_for_selector(".msg-row.mentions-me")
    b.page.wait_for_function(
        "([sel, tag]) => !(document.querySelector(sel)?.innerText || '').includes(tag)", arg=[conv_item(conv), MENTIONED]
    )
    b.page.wait_for_function("c => window.__semot.state.convs[c].readSeq >= 4", arg=conv)
    b.page.reload()
    b.wait_open()
    b.page.wait_for_selector(conv_item(conv))
    b.page.wait_for_timeout(500)
    assert MENTIONED not in b.page.locator(conv_item(conv)).inner_text()
    assert item is not None
    b.assert_no_console_errors()


def test_a_mention_read_on_another_device_clears_the_tag(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = group(server, alice, [bob])
    b = open_tab(bob)
    b.page.wait_for_selector(conv_item(conv))
    sdk_sends(server, alice, [(conv, {"text": f"@{bob} hi", "mentions": [bob]}, None)])
    b.page.wait_for_function(
        "([sel, tag]) => (document.querySelector(sel)?.innerText || '').includes(tag)", arg=[conv_item(conv), MENTIONED]
    )
    # bob reads it on his phone: this tab's tag goes
    sdk_sends(server, bob, [], read=(conv, server_history(server, bob, conv)[-1]["seq"]))
    b.page.wait_for_function(
        "([sel, tag]) => !(document.querySelector(sel)?.innerText || '').includes(tag)", arg=[conv_item(conv), MENTIONED]
    )
    b.assert_no_console_errors()


# --------------------------------------------------------------------------- reply / quote
def test_reply_and_quote_end_to_end(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    # a long history: the first message is far outside the first page
    sdk_sends(server, alice, [(bob, {"text": "第一条：预算表在哪里？"}, None)] + [(bob, {"text": f"line {i:03d}"}, None) for i in range(2, 151)])
    a, b = open_tab(alice), open_tab(bob)
    b.page.wait_for_selector(conv_item(conv))
    b.open_conv(conv)
    b.page.wait_for_selector("[data-testid=message][data-seq='150']")
    assert b.page.locator("[data-testid=message][data-seq='1']").count() == 0

    # Reply from the menu: the quote bar shows; Esc cancels it; again, and send.
    row = b.page.locator("[data-testid=message][data-seq='150']")
    open_menu(b.page, row)
    b.page.locator("[data-testid=reply]:visible").click()
    bar = b.page.wait_for_selector("[data-testid=reply-bar]")
    assert "line 150" in bar.inner_text()
    b.page.press("[data-testid=composer]", "Escape")
    b.page.wait_for_selector("[data-testid=reply-bar]", state="detached")
    open_menu(b.page, row)
    b.page.locator("[data-testid=reply]:visible").click()
    b.page.wait_for_selector("[data-testid=reply-bar][data-seq='150']")
    b.send("收到")
    b.page.wait_for_selector("[data-testid=reply-bar]", state="detached")
    reply = b.page.wait_for_selector("[data-testid=message][data-seq='151'] [data-testid=quote]")
    assert "line 150" in reply.inner_text()
    stored = all_messages(server, bob, conv)[-1]
    assert stored["body"] == {"text": "收到", "reply_to": {"seq": 150, "from": alice, "kind": "text", "text": "line 150"}}
    a.page.wait_for_selector(conv_item(conv))
    a.open_conv(conv)
    q = a.page.wait_for_selector("[data-testid=message][data-seq='151'] [data-testid=quote]")
    assert "line 150" in q.inner_text()

    # A reply to the first message (not loaded anywhere): the server's excerpt shows it.
    sdk_sends(server, alice, [(bob, {"text": "回答上面的问题"}, 1)])
    quote = b.page.wait_for_selector("[data-testid=message][data-seq='152'] [data-testid=quote][data-seq='1']")
    assert "预算表在哪里" in quote.inner_text()
    assert b.page.locator("[data-testid=message][data-seq='1']").count() == 0
    # a click scrolls to the original, loading the history back to it
    quote.click()
    b.page.wait_for_selector("[data-testid=message][data-seq='1']", timeout=20_000)
    b.page.wait_for_function(
        """() => {
            const el = document.querySelector('[data-testid=message][data-seq="1"]');
            const pane = document.querySelector('[data-testid=messages]');
            if (!el || !pane) return false;
            const r = el.getBoundingClientRect(), p = pane.getBoundingClientRect();
            return r.bottom > p.top && r.top < p.bottom;
        }"""
    )

    # Recall: the quote of a recalled original reads as recalled, live and after a reload.
    sdk_sends(server, alice, [(bob, {"text": "说错了"}, None)])
    b.page.click("[data-testid=jump-bottom]")  # back down from the original (a virtual list renders what is in view)
    b.page.wait_for_selector("[data-testid=message][data-seq='153']")
    row = b.page.locator("[data-testid=message][data-seq='153']")
    row.scroll_into_view_if_needed()
    open_menu(b.page, row)
    b.page.locator("[data-testid=reply]:visible").click()
    b.send("哪里错了？")
    b.page.wait_for_selector("[data-testid=message][data-seq='154'] [data-testid=quote][data-kind=text]")
    a.page.wait_for_selector("[data-testid=message][data-seq='153']")
    arow = a.page.locator("[data-testid=message][data-seq='153']")
    open_menu(a.page, arow)
    a.page.locator("[data-testid=recall]:visible").click()
    b.page.wait_for_selector("[data-testid=message][data-seq='154'] [data-testid=quote][data-kind=recalled]")
    assert "说错了" not in b.page.locator("[data-testid=message][data-seq='154']").inner_text()
    b.page.reload()
    b.wait_open()
    b.open_conv(conv)
    b.page.wait_for_selector("[data-testid=message][data-seq='154'] [data-testid=quote][data-kind=recalled]")
    assert all_messages(server, bob, conv)[153]["body"]["reply_to"] == {"seq": 153, "from": alice, "kind": "recalled"}
    a.assert_no_console_errors()
    b.assert_no_console_errors()
