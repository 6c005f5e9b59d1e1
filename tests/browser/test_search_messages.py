"""The web client's message search (issue 13), in Chromium against a real server: `合同`
found inside `请把合同发给我` across every conversation, the hit opened in its chat
(history loaded around it, scrolled to it and flashed) far back in a long history;
search within one conversation, the sender / type / date filters and "load more"; user
text shown as text."""

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
    """A server of this module's own whose rate limit lets hundreds of messages be seeded."""
    env = {"SEMOT_RATE_PER_S": "1000000", "SEMOT_RATE_BURST": "1000000"}
    srv = ServerProcess(tmp_path_factory.mktemp("search-ui") / "data", env=env).start()
    yield srv
    srv.kill()


def send(server: ServerProcess, sender: str, to: str, texts: list[str]) -> list[dict[str, Any]]:
    """Send these texts in order through the Python SDK (in a thread: Playwright owns this
    one); returns the acks."""
    from semot.client import SemotClient

    acks: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    async def run() -> None:
        async with SemotClient(server.base) as c:
            await c.login(sender, PASSWORD)
            await c.connect()
            for lo in range(0, len(texts), 100):
                acks.extend(await asyncio.gather(*(c.send_text(to, t) for t in texts[lo:lo + 100])))

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # pragma: no cover - diagnostic
            errors.append(exc)

    th = threading.Thread(target=main)
    th.start()
    th.join(120)
    assert not errors, errors
    return acks


def search_for(page: Any, q: str) -> None:
    page.fill("[data-testid=search-input]", q)
    page.click("[data-testid=search-go]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=search-results], [data-testid=search-none]')"
        " && !document.querySelector('[data-testid=search-go].is-loading')"
    )


def hits(page: Any) -> list[dict[str, str]]:
    got: list[dict[str, str]] = page.eval_on_selector_all(
        "[data-testid=search-hit]",
        """els => els.map(e => ({ conv: e.dataset.conv, seq: e.dataset.seq,
              text: e.querySelector('[data-testid=search-hit-text]').textContent,
              from: e.querySelector('[data-testid=search-hit-from]').textContent,
              title: e.querySelector('[data-testid=search-hit-conv]').textContent,
              marks: [...e.querySelectorAll('[data-testid=search-mark]')].map(m => m.textContent) }))""",
    )
    return got


def in_view(page: Any, seq: str) -> bool:
    return bool(page.evaluate(
        """seq => {
            const pane = document.querySelector('[data-testid=messages]').getBoundingClientRect();
            const row = document.querySelector(`[data-testid=messages] .vrow[data-key="s${seq}"]`);
            if (!row) return false;
            const r = row.getBoundingClientRect();
            return r.top >= pane.top - 1 && r.bottom <= pane.bottom + 1;
        }""",
        seq,
    ))


def test_search_every_chat_and_open_a_hit_far_back(server: ServerProcess, open_tab: Any) -> None:
    alice, bob, carol = new_user(server, "a"), new_user(server, "b"), new_user(server, "c")
    target = send(server, bob, alice, ["请把合同发给我"])[0]
    send(server, bob, alice, [f"msg {i}" for i in range(600)])  # the hit is 600 messages back
    send(server, carol, alice, ["<img src=x onerror=alert(1)>合同已经签好了"])
    tab = open_tab(alice)
    page = tab.page

    page.click("[data-testid=msg-search]")
    page.wait_for_selector("[data-testid=search-panel] [data-testid=search-hint]")
    search_for(page, "合同")
    got = hits(page)
    assert [h["text"] for h in got] == ["<img src=x onerror=alert(1)>合同已经签好了", "请把合同发给我"]  # newest first, as text
    assert got[1]["conv"] == direct(alice, bob) and got[1]["seq"] == str(target["seq"])
    assert got[1]["from"] == bob and got[1]["title"] == bob and got[0]["from"] == carol
    assert got[0]["marks"] == ["合同"] and got[1]["marks"] == ["合同"]
    assert page.locator("[data-testid=search-hit] img").count() == 0
    assert page.inner_text("[data-testid=search-end]")

    page.locator("[data-testid=search-hit]").nth(1).click()
    page.wait_for_selector(f"[data-testid=chat][data-conv='{direct(alice, bob)}']")
    page.wait_for_selector(f"[data-testid=messages] .vrow.flash[data-key='s{target['seq']}']")
    assert in_view(page, str(target["seq"]))
    page.wait_for_selector("[data-testid=search-panel]", state="hidden")  # closed once shown
    # the history around it, not the 600 messages after it
    window = page.evaluate("c => { const x = window.__semot.state.convs[c]; return [x.messages.length, !!x.hasMoreAfter]; }", direct(alice, bob))
    assert window[1] and window[0] < 100, window
    # scrolling down loads newer pages; the "↓" button goes to the latest
    page.evaluate("() => { const el = document.querySelector('[data-testid=messages]'); el.scrollTop = el.scrollHeight; }")
    page.wait_for_function("c => window.__semot.state.convs[c].messages.length > 70", arg=direct(alice, bob))
    page.click("[data-testid=jump-bottom]")
    tab.wait_texts(["msg 598", "msg 599"])
    assert not page.evaluate("c => !!window.__semot.state.convs[c].hasMoreAfter", direct(alice, bob))
    tab.assert_no_console_errors()


def test_search_in_a_chat_with_filters_and_more(server: ServerProcess, open_tab: Any) -> None:
    alice, bob, carol = new_user(server, "a"), new_user(server, "b"), new_user(server, "c")
    send(server, bob, alice, [f"报价 {i} 号" for i in range(25)])
    send(server, alice, bob, ["报价收到了，合同明天给"])
    send(server, carol, alice, ["报价 from carol"])
    conv = direct(alice, bob)
    tab = open_tab(alice, locale="en")
    page = tab.page
    tab.open_conv(conv)

    page.click("[data-testid=chat-search]")
    page.wait_for_selector("[data-testid=search-panel][data-scope]")
    assert "Search" in page.inner_text("[data-testid=search-panel] .el-drawer__header")
    search_for(page, "报价")
    got = hits(page)
    assert len(got) == 20 and {h["conv"] for h in got} == {conv}  # this chat only, a page of 20
    assert got[0]["text"] == "报价收到了，合同明天给"
    page.click("[data-testid=search-more]")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=search-hit]').length === 26")
    page.wait_for_selector("[data-testid=search-end]")
    assert page.inner_text("[data-testid=search-count]") == "26 shown"

    # every chat: carol's too
    page.click("[data-testid=search-scope-all]")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=search-hit]').length === 20")
    assert page.locator(f"[data-testid=search-hit][data-conv='{direct(alice, carol)}']").count() == 1
    page.click("[data-testid=search-scope-conv]")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=search-hit]').length === 20")

    # sender: me
    page.click("[data-testid=search-sender]")
    page.locator(f"[data-testid=search-sender-option][data-user='{alice}']:visible").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=search-hit]').length === 1")
    assert [h["text"] for h in hits(page)] == ["报价收到了，合同明天给"]
    # type: images (none) then text
    page.click("[data-testid=search-kind]")
    page.locator("[data-testid=search-kind-option][data-kind=image]:visible").click()
    page.wait_for_selector("[data-testid=search-none]")
    page.click("[data-testid=search-kind]")
    page.locator("[data-testid=search-kind-option][data-kind=text]:visible").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=search-hit]').length === 1")
    page.click("[data-testid=search-reset]")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=search-hit]').length === 20")

    # dates: a range long past finds nothing, one with today finds them again
    inputs = page.locator("[data-testid=search-panel] .sp-range input")
    inputs.nth(0).fill("2020-01-01")
    inputs.nth(1).fill("2020-01-31")
    inputs.nth(1).press("Enter")
    page.wait_for_selector("[data-testid=search-none]")
    page.click("[data-testid=search-reset]")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=search-hit]').length === 20")
    today = page.evaluate("() => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; }")
    inputs.nth(0).fill(today)
    inputs.nth(1).fill(today)
    inputs.nth(1).press("Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=search-reset]')")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=search-hit]').length === 20")

    # a hit close to the loaded messages: opened in the same chat, no detached window
    seq = hits(page)[3]["seq"]
    page.locator("[data-testid=search-hit]").nth(3).click()
    page.wait_for_selector(f"[data-testid=messages] .vrow.flash[data-key='s{seq}']")
    assert in_view(page, seq)
    assert not page.evaluate("c => !!window.__semot.state.convs[c].hasMoreAfter", conv)
    tab.assert_no_console_errors()
