"""Long histories in the web client (issue 11, defect 2 and the unread divider): the
message list is virtual (a bounded number of rows in the DOM however far one scrolls
back), keeps the reading position when older pages are prepended, sticks to the bottom,
and offers the "New messages" divider with a jump to the first unread message."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, direct, new_user
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of this module's own, whose per-connection rate limit lets thousands of
    messages be seeded in seconds."""
    env = {"SEMOT_RATE_PER_S": "1000000", "SEMOT_RATE_BURST": "1000000"}
    srv = ServerProcess(tmp_path_factory.mktemp("msglist") / "data", env=env).start()
    yield srv
    srv.kill()


def seed(server: ServerProcess, sender: str, to: str, n: int, *, read_upto: tuple[str, int] | None = None) -> None:
    """`n` texts from `sender` to `to` through the Python SDK (100 in flight at a time),
    in a thread of its own (Playwright's sync API owns this one). `read_upto=(user, seq)`
    then marks the conversation read up to seq for that user."""
    from semot.client import SemotClient

    async def run() -> None:
        async with SemotClient(server.base) as c:
            await c.login(sender, PASSWORD)
            await c.connect()
            for lo in range(0, n, 100):
                await asyncio.gather(*(c.send_text(to, f"msg {i}") for i in range(lo, min(n, lo + 100))))
        if read_upto:
            async with SemotClient(server.base) as r:
                await r.login(read_upto[0], PASSWORD)
                await r.connect()
                await r.request("read", conv=direct(sender, to), seq=read_upto[1])

    errors: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # pragma: no cover - diagnostic
            errors.append(exc)

    th = threading.Thread(target=main)
    th.start()
    th.join(120)
    assert not errors, errors


def send_one(server: ServerProcess, sender: str, to: str, text: str) -> None:
    from semot.client import SemotClient

    async def run() -> None:
        async with SemotClient(server.base) as c:
            await c.login(sender, PASSWORD)
            await c.connect()
            await c.send_text(to, text)

    th = threading.Thread(target=lambda: asyncio.run(run()))
    th.start()
    th.join(30)


WINDOW = "c => { const x = window.__semot.state.convs[c]; return x ? [x.messages.length ? x.messages[0].seq : 0, x.hasMoreBefore, x.loadingOlder] : null; }"

# Layout errors the page would otherwise swallow (a ResizeObserver loop, say).
CATCH_ERRORS = "window.__errs = []; window.addEventListener('error', (e) => window.__errs.push(String(e.message)));"


def rows(page: Any) -> dict[str, int]:
    got: dict[str, int] = page.evaluate(
        """() => ({ rows: document.querySelectorAll('[data-testid=messages] .vrow').length,
                    msgs: document.querySelectorAll('[data-testid=messages] [data-testid=message]').length,
                    all: document.querySelectorAll('[data-testid=messages] *').length })"""
    )
    return got


def scroll_top_and_see(page: Any) -> tuple[str, float]:
    """Scroll the pane to its top; then, in the next frame (after the scroll event and the
    re-render, before an older page can arrive), the first message row whose top is in
    the pane and that top relative to the pane."""
    got = page.evaluate(
        """async () => {
            const el = document.querySelector('[data-testid=messages]');
            el.scrollTop = 0;
            await new Promise((r) => requestAnimationFrame(r));
            const pane = el.getBoundingClientRect();
            for (const el of document.querySelectorAll('[data-testid=messages] [data-testid=message]')) {
                const r = el.getBoundingClientRect();
                if (r.top >= pane.top) return [el.dataset.seq, r.top - pane.top];
            }
            return null;
        }"""
    )
    assert got
    return str(got[0]), float(got[1])


def test_scrolling_back_through_2000_messages_keeps_the_dom_bounded(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    seed(server, bob, alice, 2000)
    a = open_tab(alice)
    a.page.evaluate(CATCH_ERRORS)
    a.open_conv(conv)
    a.page.wait_for_selector("[data-testid=message][data-seq='2000']")
    assert a.page.locator("[data-testid=message][data-seq='2000']").is_visible()
    most = 0
    for _ in range(200):  # scroll to the top until the history's start is loaded
        first, more, _busy = a.js(WINDOW, conv)
        if not more and first == 1:
            break
        a.page.eval_on_selector("[data-testid=messages]", "el => el.scrollTop = 0")
        a.page.wait_for_function(f"c => {{ const w = ({WINDOW})(c); return w[0] < {first} || !w[1]; }}", arg=conv)
        most = max(most, rows(a.page)["msgs"])
    assert a.js(WINDOW, conv)[0] == 1
    a.page.eval_on_selector("[data-testid=messages]", "el => el.scrollTop = 0")
    a.page.wait_for_selector("[data-testid=message][data-seq='1']")
    assert a.js("c => window.__semot.state.convs[c].messages.length", conv) == 2000
    counts = rows(a.page)
    assert counts["msgs"] < 200 and most < 200, (counts, most)
    assert counts["all"] < 3000, counts  # it was 58k elements before the list became virtual

    # scrolled up: a new message is counted on the jump-to-bottom button, which brings it in
    send_one(server, bob, alice, "the newest one")
    a.page.wait_for_selector("[data-testid=jump-bottom]:has-text('(1)')")
    a.page.click("[data-testid=jump-bottom]")
    a.page.wait_for_selector("[data-testid=message][data-seq='2001']")
    a.page.wait_for_function("() => { const el = document.querySelector(\"[data-testid=message][data-seq='2001']\"); const p = document.querySelector('[data-testid=messages]').getBoundingClientRect(); const r = el.getBoundingClientRect(); return r.bottom <= p.bottom + 1 && r.top >= p.top; }")
    a.page.wait_for_selector("[data-testid=jump-bottom]", state="detached")
    # at the bottom: the next one shows at once and the list follows it
    send_one(server, bob, alice, "and one more")
    a.page.wait_for_selector("[data-testid=message][data-seq='2002']")
    a.wait_texts(["the newest one", "and one more"])
    assert rows(a.page)["msgs"] < 200
    assert a.js("window.__errs") == []
    a.assert_no_console_errors()


def test_older_pages_keep_the_reading_position(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    seed(server, bob, alice, 600)
    a = open_tab(alice)
    a.page.evaluate(CATCH_ERRORS)
    a.open_conv(conv)
    a.page.wait_for_selector("[data-testid=message][data-seq='600']")
    first = a.js(WINDOW, conv)[0]
    assert first > 1, "only the latest page is loaded at first"
    for _ in range(5):
        first, more, _busy = a.js(WINDOW, conv)
        if not more:
            break
        seq, y = scroll_top_and_see(a.page)
        a.page.wait_for_function(f"c => ({WINDOW})(c)[0] < {first}", arg=conv)
        a.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        box = a.page.locator(f"[data-testid=message][data-seq='{seq}']").bounding_box()
        pane = a.page.locator("[data-testid=messages]").bounding_box()
        assert box and pane and abs(box["y"] - pane["y"] - y) <= 2, (seq, y, box, pane)
    assert a.js(WINDOW, conv)[0] == 1
    assert a.js("window.__errs") == []
    a.assert_no_console_errors()


def test_unread_divider_and_jump_to_first_unread(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    seed(server, bob, alice, 320, read_upto=(alice, 40))
    a = open_tab(alice, locale="en-US")
    a.page.evaluate(CATCH_ERRORS)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}'] .el-badge__content")
    a.open_conv(conv)
    a.page.wait_for_selector("[data-testid=message][data-seq='320']")
    # the first unread (41) is not loaded yet: the button says how many are waiting
    jump = a.page.locator("[data-testid=jump-unread]")
    jump.wait_for()
    assert jump.inner_text().strip() == "↑ 280 new messages"
    assert a.page.locator("[data-testid=unread-divider]").count() == 0
    jump.click()
    divider = a.page.locator("[data-testid=unread-divider]")
    divider.wait_for()
    assert a.js(WINDOW, conv)[0] <= 41
    # the divider sits right above message 41, in view, and the button is gone
    a.page.wait_for_selector("[data-testid=jump-unread]", state="detached")
    order = a.page.evaluate(
        """() => { const d = document.querySelector('[data-testid=unread-divider]').closest('.vrow');
                   return d.nextElementSibling.querySelector('[data-testid=message]').dataset.seq; }"""
    )
    assert order == "41"
    assert divider.inner_text().strip() == "New messages"
    box, pane = divider.bounding_box(), a.page.locator("[data-testid=messages]").bounding_box()
    assert box and pane and pane["y"] <= box["y"] <= pane["y"] + pane["height"]
    # read marks: opening the chat read everything
    a.page.wait_for_function(f"() => window.__semot.state.convs['{conv}'].readSeq === 320")
    assert a.js("window.__errs") == []
    a.assert_no_console_errors()


def test_divider_in_view_when_few_unread(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    seed(server, bob, alice, 12, read_upto=(alice, 9))
    a = open_tab(alice)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}'] .el-badge__content")
    a.open_conv(conv)
    a.page.wait_for_selector("[data-testid=unread-divider]")
    nxt = a.page.evaluate(
        "() => document.querySelector('[data-testid=unread-divider]').closest('.vrow').nextElementSibling.querySelector('[data-testid=message]').dataset.seq"
    )
    assert nxt == "10"
    assert a.page.locator("[data-testid=unread-divider]").inner_text().strip() == "以下为新消息"
    # all of it fits on screen: no button to jump to it
    a.page.wait_for_timeout(300)
    assert a.page.locator("[data-testid=jump-unread]").count() == 0
    a.assert_no_console_errors()
