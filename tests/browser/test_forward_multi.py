"""Multi-select in a chat and forwarding the selection, one by one or merged into one
chat-history card (custom type "forward_bundle"), in the web client (Debian Chromium,
real server; other users' messages sent over a real WebSocket with the Python SDK)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import direct, new_user, server_history
from tests.browser.test_media_messages import as_user, msg, open_menu, png, send, send_upload, shot
from tests.support.server import ServerProcess

BAR = "[data-testid=chat] [data-testid=sel-bar]"


def row(seq: int) -> str:
    return f"[data-testid=chat] .vrow[data-key='s{seq}']"


def select_three(page: Any, seqs: list[int]) -> None:
    """Message menu -> Select on the first, then a click on each other row."""
    open_menu(page, seqs[0])
    page.locator("[data-testid=select]:visible").click()
    page.locator(BAR).wait_for()
    for seq in seqs[1:]:
        page.locator(row(seq)).click()
    for seq in seqs:
        page.locator(f"[data-testid=sel-check][data-seq='{seq}'][aria-checked=true]").wait_for()


def forward_to(page: Any, button: str, conv: str) -> Any:
    page.locator(f"{BAR} [data-testid={button}]").click()
    dlg = page.locator("[data-testid=dlg-forward]")
    dlg.wait_for()
    what = dlg.locator("[data-testid=fwd-what]").inner_text()
    dlg.locator(f"[data-testid=fwd-target][data-conv='{conv}']").click()
    dlg.locator("[data-testid=fwd-send]").click()
    dlg.locator(f"[data-testid=fwd-target][data-conv='{conv}'] [data-testid=fwd-status][data-status=sent]").wait_for()
    dlg.locator("[data-testid=fwd-cancel]").click()
    dlg.wait_for(state="hidden")
    return what


def test_select_three_messages_forward_them_one_by_one_then_merged(server: ServerProcess, open_tab: Any) -> None:
    alice, bob, carol = (new_user(server, p) for p in ("alice", "bob", "carol"))
    src, dst = direct(alice, bob), direct(alice, carol)
    send(server, carol, alice, "text", {"text": "hi alice"})
    one = send(server, bob, alice, "text", {"text": "first line"})
    img = send_upload(server, bob, alice, "image", png(120, 90), "p.png", "image/png")
    three = send(server, bob, alice, "text", {"text": "third line"})
    seqs = [one["seq"], img["seq"], three["seq"]]
    file_id = server_history(server, alice, src)[1]["body"]["file_id"]

    a = open_tab(alice)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{src}']")
    a.open_conv(src)
    a.page.wait_for_selector(msg(three["seq"]))
    # picked in another order than seq order: sent in seq order all the same
    select_three(a.page, [seqs[2], seqs[0], seqs[1]])
    assert a.page.locator(f"{BAR} [data-testid=sel-count]").inner_text() == "已选择 3 条"
    # a click on a row picks it and opens nothing (no lightbox for the image)
    assert a.page.locator("[data-testid=lightbox]").count() == 0
    shot(a.page, "forward-select-zh.png")
    assert forward_to(a.page, "sel-each", dst) == "3 条消息（逐条转发）"
    a.page.locator(BAR).wait_for(state="detached")  # forwarded: selection mode ends
    got = server_history(server, carol, dst)[-3:]
    assert [m["kind"] for m in got] == ["text", "image", "text"]
    assert [m["from"] for m in got] == [alice] * 3
    assert got[0]["body"] == {"text": "first line"} and got[2]["body"] == {"text": "third line"}
    assert got[1]["body"]["file_id"] == file_id
    assert got[0]["seq"] < got[1]["seq"] < got[2]["seq"]

    # merged: one custom message, a card
    select_three(a.page, seqs)
    assert forward_to(a.page, "sel-merged", dst) == f"[聊天记录] {alice} 和 {bob} 的聊天记录"
    bundle = server_history(server, carol, dst)[-1]
    assert bundle["kind"] == "custom" and bundle["body"]["type"] == "forward_bundle"
    data = bundle["body"]["data"]
    assert data["title"] == f"{alice} 和 {bob} 的聊天记录"
    assert [(i["from"], i["kind"]) for i in data["items"]] == [(bob, "text"), (bob, "image"), (bob, "text")]
    assert data["items"][0]["body"] == {"text": "first line"}
    assert data["items"][1]["body"] == {"file_id": file_id}

    c = open_tab(carol, locale="en-US")
    c.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{dst}']")
    c.open_conv(dst)
    c.wait_texts(["first line", "third line"])
    card = c.page.locator(f"{msg(bundle['seq'])} [data-testid=bundle-card]")
    card.wait_for()
    assert card.locator("[data-testid=bundle-title]").inner_text() == data["title"]
    assert card.locator("[data-testid=bundle-line]").all_inner_texts() == [
        f"{bob}: first line",
        f"{bob}: [Image]",
        f"{bob}: third line",
    ]
    card.click()
    viewer = c.page.locator("[data-testid=bundle-viewer]")
    viewer.wait_for()
    items = viewer.locator("[data-testid=bundle-item]")
    assert items.count() == 3
    assert viewer.locator("[data-testid=bundle-item-text]").all_inner_texts() == ["first line", "[Image]", "third line"]
    assert viewer.locator("[data-testid=bundle-note]").is_visible()
    shot(c.page, "forward-bundle-en.png")
    c.page.keyboard.press("Escape")
    viewer.wait_for(state="hidden")

    # Esc leaves selection mode
    open_menu(a.page, seqs[0])
    a.page.locator("[data-testid=select]:visible").click()
    a.page.locator(BAR).wait_for()
    assert a.page.locator(f"{BAR} [data-testid=sel-count]").inner_text() == "已选择 1 条"
    a.page.keyboard.press("Escape")
    a.page.locator(BAR).wait_for(state="detached")
    assert a.page.locator("[data-testid=chat] [data-testid=sel-check]").count() == 0
    a.assert_no_console_errors()
    c.assert_no_console_errors()


def test_a_bundle_over_the_server_limit_is_refused_in_the_browser(open_tab: Any, server: ServerProcess) -> None:
    """What the bar checks before a merged forward: 100 items at most, data within the
    server's 16 KiB (as UTF-8 compact JSON) and depth; and a malformed bundle reads safely."""
    alice = new_user(server, "alice")
    a = open_tab(alice, locale="en-US")
    out = a.js(
        """async () => {
            const b = await import('/web/app/stores/bundles.js');
            const conv = { id: 'd:x:y', type: 'direct', peer: 'y', members: [] };
            const texts = (n, len) => Array.from({ length: n }, (_, i) => (
                { seq: i + 1, from: 'y', ts: 1, kind: 'text', body: { text: '文'.repeat(len) } }));
            const small = b.makeBundle(conv, texts(3, 10));
            const big = b.makeBundle(conv, texts(20, 300));
            return {
                small: b.bundleProblem(small, 3), big: b.bundleProblem(big, 20), many: b.bundleProblem(small, 101),
                title: small.data.title, items: small.data.items.length,
                bad: b.readBundle({ type: 'forward_bundle', data: { title: 5, items: [null, { kind: 'evil', body: [] }] } }),
                none: b.readBundle({ type: 'forward_bundle', data: 'x' }),
            };
        }"""
    )
    assert out["small"] == ""
    assert out["big"].startswith("Too much to merge (") and "16 KiB" in out["big"]
    assert out["many"] == "You can select up to 100 messages"
    assert out["items"] == 3 and out["title"].startswith("Chat history of ")
    assert out["bad"]["title"] == "Chat history" and [i["kind"] for i in out["bad"]["items"]] == ["unsupported"]
    assert out["none"] is None
    a.assert_no_console_errors()


def test_picks_survive_scrolling_in_the_virtual_list(server: ServerProcess, open_tab: Any) -> None:
    """Rows are destroyed and made again as the list scrolls: the picks live in a store."""
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)

    async def many(c: Any) -> None:
        for i in range(1, 121):
            await c.send(alice, "text", {"text": f"m{i}"})

    as_user(server, bob, many)
    a = open_tab(alice, locale="en-US")
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    a.open_conv(conv)
    a.page.wait_for_selector(msg(120))
    open_menu(a.page, 120)
    a.page.locator("[data-testid=select]:visible").click()
    a.page.locator(BAR).wait_for()
    # to the top (older pages load on the way), pick the first message
    a.page.wait_for_function(
        """() => {
            const el = document.querySelector('[data-testid=chat] [data-testid=messages]');
            el.scrollTop = 0;
            return !!document.querySelector("[data-testid=chat] .vrow[data-key='s1']");
        }""",
        polling=100,
    )
    assert a.page.locator(row(120)).count() == 0  # that row is gone from the DOM
    a.page.locator(row(1)).click()
    assert a.page.locator(f"{BAR} [data-testid=sel-count]").inner_text() == "2 selected"
    a.page.evaluate(
        "() => { const el = document.querySelector('[data-testid=chat] [data-testid=messages]');"
        " el.scrollTop = el.scrollHeight; }"
    )
    a.page.locator("[data-testid=sel-check][data-seq='120'][aria-checked=true]").wait_for()
    assert forward_to(a.page, "sel-each", conv) == "2 messages, one by one"
    got = server_history(server, bob, conv)[-2:]
    assert [m["body"]["text"] for m in got] == ["m1", "m120"]
    a.assert_no_console_errors()
