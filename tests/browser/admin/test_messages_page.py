"""The message audit page (消息审计, issue 13) in Chromium against a real server: search by
keyword and sender, the keyword marked, the sending IP; the conversation around a hit;
the CSV export of the current filters; recall from a row (messages.recall) and an
auditor without it; user text shown as text."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from pathlib import Path
from typing import Any

from tests.browser.admin.conftest import AdminConsole
from tests.browser.conftest import PASSWORD


def send(base: str, sender: str, to: str, texts: list[str]) -> list[dict[str, Any]]:
    """Send these texts in order through the Python SDK, in a thread (Playwright owns this one)."""
    from semot.client import SemotClient

    acks: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    async def run() -> None:
        async with SemotClient(base) as c:
            await c.login(sender, PASSWORD)
            await c.connect()
            for t in texts:
                acks.append(await c.send_text(to, t))

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # pragma: no cover - diagnostic
            errors.append(exc)

    th = threading.Thread(target=main)
    th.start()
    th.join(60)
    assert not errors, errors
    return acks


def rows(page: Any) -> list[dict[str, str]]:
    got: list[dict[str, str]] = page.eval_on_selector_all(
        "[data-testid=msg-table] .el-table__body-wrapper tr.el-table__row",
        """trs => trs.map(tr => ({
              content: tr.querySelector('[data-testid=msg-content]').textContent,
              marks: [...tr.querySelectorAll('[data-testid=msg-mark]')].map(m => m.textContent).join('|'),
              from: tr.querySelector('[data-testid=msg-from]').dataset.user,
              kind: tr.querySelector('[data-testid=msg-kind-cell]').dataset.kind,
              ip: (tr.querySelector('[data-testid=msg-ip-cell]') || {}).textContent || '' }))""",
    )
    return got


def search(page: Any, **fields: str) -> None:
    for name, value in fields.items():
        page.fill(f"[data-testid=msg-{name}]", value)
    with page.expect_response(lambda r: "/api/admin/v1/messages?" in r.url):
        page.click("[data-testid=msg-search]")
    page.wait_for_function("() => !document.querySelector('[data-testid=msg-table] .el-loading-mask:not([style*=\"display: none\"])')")


def test_search_context_export_and_recall(admin_console: AdminConsole, tmp_path: Path) -> None:
    kit = admin_console
    alice, bob = kit.new_user("alice", display_name="爱丽丝"), kit.new_user("bob", display_name="鲍勃")
    bob_id = kit.ids[bob]
    send(kit.base, alice, kit.ids[bob], ["早上好", "周五之前要签字"])
    send(kit.base, bob, kit.ids[alice], ["请把合同发给我", "<b>合同</b> 第二版"])
    send(kit.base, alice, kit.ids[bob], ["好的，马上发"])

    tab = kit.tab
    page = tab.page
    tab.goto("messages")
    search(page, q="合同", sender=bob_id)
    got = rows(page)
    assert [r["content"] for r in got] == ["<b>合同</b> 第二版", "请把合同发给我"]  # newest first, as text
    assert all(r["marks"] == "合同" and r["from"] == bob_id and r["kind"] == "text" for r in got)
    assert got[0]["ip"] == "127.0.0.1"
    assert page.locator("[data-testid=msg-table] b").count() == 0
    assert "2" in page.inner_text("[data-testid=msg-total]")
    assert "鲍勃" in page.inner_text("[data-testid=msg-table]")  # names from the profiles
    assert "q=" in page.evaluate("() => location.hash") and bob_id in page.evaluate("() => location.hash")

    # the conversation around the older hit, the hit marked
    page.locator("[data-testid=msg-table] tr.el-table__row").nth(1).click()
    page.wait_for_selector("[data-testid=msg-ctx-row][data-hit=true]")
    ctx = page.eval_on_selector_all("[data-testid=msg-ctx-row]", "els => els.map(e => [e.dataset.hit, e.querySelector('[data-testid=msg-ctx-text]').textContent])")
    assert [c[1] for c in ctx] == ["早上好", "周五之前要签字", "请把合同发给我", "<b>合同</b> 第二版", "好的，马上发"]
    assert [c[0] for c in ctx].index("true") == 2
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-testid=msg-ctx-row]", state="detached")

    # CSV of the same filters
    with page.expect_download() as info:
        page.click("[data-testid=msg-export]")
    saved = tmp_path / "messages.csv"
    info.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw[3:].decode())))
    assert len(table) == 3, table
    texts = {cell for row in table[1:] for cell in row}
    assert "请把合同发给我" in texts and "<b>合同</b> 第二版" in texts and bob_id in texts

    # recall the newest hit from its row
    page.locator("[data-testid=msg-recall]").first.click()
    page.click(".el-message-box .el-message-box__btns .el-button--primary")
    page.wait_for_selector("[data-testid=msg-kind-cell][data-kind=recalled]")
    assert page.locator("[data-testid=msg-recall]").first.is_disabled()
    conv = "d:" + ":".join(sorted([kit.ids[alice], bob_id]))
    stored = kit.api("GET", f"/api/admin/v1/conversations/{conv}/messages?around=4&limit=10")["messages"]
    assert [m["kind"] for m in stored if m["from"] == bob_id] == ["text", "recalled"]
    tab.assert_no_console_errors()


def test_auditor_searches_without_recall_in_english(admin_console: AdminConsole) -> None:
    kit = admin_console
    carol, dave = kit.new_user("carol"), kit.new_user("dave")
    send(kit.base, carol, kit.ids[dave], ["quarterly contract draft", "lunch?"])
    auditor = kit.new_user("auditor")
    kit.grant(auditor, "auditor")
    tab = kit.login_as(auditor, locale="en")
    perms = tab.js("() => window.__semotAdmin.session.perms")
    assert "messages.audit" in perms
    tab.goto("messages")
    page = tab.page
    assert "Export CSV" in page.inner_text("[data-testid=messages-page]")
    search(page, q="contract", receiver=kit.ids[dave])
    got = rows(page)
    assert [r["content"] for r in got] == ["quarterly contract draft"] and got[0]["marks"] == "contract"
    assert (page.locator("[data-testid=msg-recall]").count() > 0) == ("messages.recall" in perms)
    tab.assert_no_console_errors()
