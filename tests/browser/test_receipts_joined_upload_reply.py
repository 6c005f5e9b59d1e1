"""Issue 11 leftovers in a real browser: group read receipts leave out members who
joined after a message was sent (the server's `joined` map), and files sent from the
composer while replying (picked or pasted) carry the quote like a text reply."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from tests.browser.conftest import PASSWORD, direct, http_json, new_user, server_history
from tests.support.server import ServerProcess


def token(server: ServerProcess, user: str) -> str:
    return str(
        http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})["access_token"]
    )


def receipt_is(tab: Any, seq: int, text: str) -> None:
    tab.page.wait_for_function(
        """([seq, text]) => {
            const el = document.querySelector(`[data-testid=message][data-seq='${seq}'] [data-testid=read-receipt]`);
            return el && el.textContent.trim() === text;
        }""",
        arg=[seq, text],
    )


def last_own_seq(tab: Any) -> int:
    return int(tab.page.locator("[data-testid=message]:has([data-testid=read-receipt])").last.get_attribute("data-seq"))


def test_a_member_added_after_a_message_is_not_counted_unread(server: ServerProcess, open_tab: Any) -> None:
    ann, ben, cat = new_user(server, "ra"), new_user(server, "rb"), new_user(server, "rc")
    g = http_json("POST", server.base + "/api/v1/groups", {"name": "Joiners", "members": [ben]}, token(server, ann))
    conv = g["conv"]
    a = open_tab(ann)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    a.open_conv(conv)
    a.send("before cat")
    a.wait_texts(["before cat"])
    a.page.wait_for_selector("[data-testid=message][data-seq]:has([data-testid=read-receipt])")
    first = last_own_seq(a)
    receipt_is(a, first, "1人未读")

    # cat is added after it: the receipts reload (evt group) and cat is not one of its non-readers
    http_json("POST", f"{server.base}/api/v1/groups/{g['group_id']}/members", {"user_ids": [cat]}, token(server, ann))
    a.send("after cat")
    a.wait_texts(["after cat"])
    a.page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=message]:has([data-testid=read-receipt])').length >= n", arg=2
    )
    second = last_own_seq(a)
    assert second > first
    receipt_is(a, second, "2人未读")  # cat counts for what was sent after she joined (the map has her now)
    receipt_is(a, first, "1人未读")
    # the JS SDK hands out both maps (the old call still gives the reads alone)
    marks = a.js("c => window.__semot.client.conversationReadMarks(c)", conv)
    assert set(marks["reads"]) == set(marks["joined"]) == {ann, ben, cat}
    assert marks["joined"][cat] >= marks["joined"][ben]
    assert a.js("c => window.__semot.client.conversationReads(c)", conv) == marks["reads"]
    a.page.locator(f"[data-testid=message][data-seq='{first}'] [data-testid=read-receipt]").click()
    lst = a.page.locator("[data-testid=read-receipt-list]:visible")
    lst.locator(f"[data-testid=rr-unread] [data-testid=rr-user][data-user='{ben}']").wait_for()
    assert lst.locator(f"[data-testid=rr-user][data-user='{cat}']").count() == 0  # in neither list

    # ben reads everything: the first is all read although cat never saw it
    b = open_tab(ben)
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    receipt_is(a, first, "全部已读")
    receipt_is(a, second, "1人未读")
    a.assert_no_console_errors()


def png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


def start_reply(tab: Any, seq: int) -> None:
    row = tab.page.locator(f"[data-testid=message][data-seq='{seq}']")
    row.hover()
    row.locator("[data-testid=msg-menu]").click()
    tab.page.locator("[data-testid=reply]:visible").click()
    tab.page.wait_for_selector(f"[data-testid=reply-bar][data-seq='{seq}']")


def test_files_sent_while_replying_carry_the_quote(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    a, b = open_tab(alice), open_tab(bob)
    a.open_direct(bob)
    a.send("send me the chart")
    a.wait_texts(["send me the chart"])
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    b.page.wait_for_selector("[data-testid=message][data-seq='1']")

    # picked from the composer's file button while replying: an image that quotes seq 1
    start_reply(b, 1)
    b.page.set_input_files(
        "[data-testid=file-input]", files=[{"name": "chart.png", "mimeType": "image/png", "buffer": png(40, 30)}]
    )
    b.page.wait_for_selector("[data-testid=reply-bar]", state="detached")  # the send took the quote
    quote = b.page.wait_for_selector(
        "[data-testid=message][data-seq='2'] [data-testid=quote][data-seq='1']", timeout=20_000
    )
    assert "send me the chart" in quote.inner_text()
    stored = server_history(server, bob, conv)
    assert stored[-1]["kind"] == "image"
    assert stored[-1]["body"]["reply_to"] == {"seq": 1, "from": alice, "kind": "text", "text": "send me the chart"}
    # the peer sees the quote above the picture
    a.page.wait_for_selector("[data-testid=message][data-seq='2'] [data-testid=quote][data-seq='1']", timeout=20_000)

    # pasted while replying, two files at once: the first carries the quote, the second does not
    start_reply(b, 2)
    b.js(
        """b64 => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File(["the numbers"], "numbers.txt", { type: "text/plain" }));
            dt.items.add(new File([bytes], "second.png", { type: "image/png" }));
            const ta = document.querySelector("textarea[data-testid=composer], [data-testid=composer] textarea");
            ta.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
        }""",
        base64.b64encode(png(20, 20)).decode(),
    )
    b.page.wait_for_selector("[data-testid=reply-bar]", state="detached")
    b.page.wait_for_selector("[data-testid=message][data-seq='4']", timeout=20_000)
    stored = server_history(server, bob, conv)
    assert [m["kind"] for m in stored[-2:]] == ["file", "image"]
    assert stored[-2]["body"]["name"] == "numbers.txt"
    assert stored[-2]["body"]["reply_to"] == {"seq": 2, "from": bob, "kind": "image"}
    assert "reply_to" not in stored[-1]["body"]
    b.page.wait_for_selector("[data-testid=message][data-seq='3'] [data-testid=quote][data-seq='2']")
    assert b.page.locator("[data-testid=message][data-seq='4'] [data-testid=quote]").count() == 0
    b.assert_no_console_errors()
    a.assert_no_console_errors()
