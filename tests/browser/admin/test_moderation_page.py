"""The moderation page (内容审核) in Chromium against a real server: the pending queue of a
group with review on (set from the console's group API), the conversation around an
item, approve one, reject a selection in bulk with a reason, the status filter, the
timeout setting; message text shown as text; zh-CN and English."""

from __future__ import annotations

import asyncio
import threading

from semot.client import SemotAPIError, SemotClient
from tests.browser.admin.conftest import AdminConsole, AdminTab, request_json
from tests.browser.conftest import PASSWORD
from tests.support.server import ServerProcess

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def send(server: ServerProcess, user: str, conv: str, texts: list[str], *, held: bool) -> list[str]:
    """Send `texts` over a WebSocket (a thread of its own: Playwright owns this one's loop);
    returns the held mids (held=True) or the stored mids."""
    out: list[str] = []
    problem: list[BaseException] = []

    async def run() -> None:
        async with SemotClient(server.base, reconnect=False) as c:
            await c.login(user, PASSWORD)
            await c.connect()
            for text in texts:
                try:
                    ack = await c.send_text(conv, text)
                    out.append(ack["mid"])
                except SemotAPIError as exc:
                    assert held and exc.code == "pending_review", exc
                    out.append("held")

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            problem.append(exc)

    th = threading.Thread(target=target)
    th.start()
    th.join(60)
    if problem:
        raise problem[0]
    return out


def rows(tab: AdminTab) -> int:
    return int(tab.page.locator("[data-testid=mod-table] .el-table__body-wrapper tr").count())


def wait_rows(tab: AdminTab, n: int) -> None:
    tab.page.wait_for_function(
        "n => !document.querySelector('[data-testid=mod-table] .el-loading-mask')"
        " && document.querySelectorAll('[data-testid=mod-table] .el-table__body-wrapper tr').length === n", arg=n)


def test_review_queue_context_bulk_and_timeout(admin_console: AdminConsole) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    owner = kit.new_user("mown", display_name="群主")
    bob = kit.new_user("mbob", display_name="小明")
    g = request_json("POST", kit.base + "/api/v1/groups", {"name": "审核测试群", "members": [kit.ids[bob]]},
                     kit.user_token(owner))
    gid, conv = g["group_id"], g["conv"]
    detail = kit.api("PATCH", f"/api/admin/v1/groups/{gid}", {"review": True})
    assert detail["settings"]["review"] is True
    send(kit.server, owner, conv, ["上下文消息"], held=False)  # the owner is never held
    send(kit.server, bob, conv, ["待审一", "待审二", HOSTILE], held=True)

    tab.goto("moderation", f"group={gid}")
    wait_rows(tab, 3)
    contents = page.eval_on_selector_all("[data-testid=mod-content]", "els => els.map(e => e.textContent)")
    assert contents == ["待审一", "待审二", HOSTILE]  # oldest first; the hostile text as text
    assert page.evaluate("() => window.__pwned") is None
    assert "小明" in page.inner_text("[data-testid=mod-table]") and "审核测试群" in page.inner_text("[data-testid=mod-table]")

    # the conversation around it
    page.locator("[data-testid=mod-context]").first.click()
    drawer = page.locator("[data-testid=mod-context-drawer]")
    drawer.get_by_text("上下文消息").wait_for()
    assert "待审一" in drawer.locator("[data-testid=mod-context-item]").inner_text()
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-testid=mod-context-item]", state="detached")

    # approve one
    page.locator("[data-testid=mod-approve]").first.click()
    wait_rows(tab, 2)
    stored = request_json("GET", f"{kit.base}/api/v1/conversations/{conv}/messages?after=0&limit=50", token=kit.user_token(bob))
    assert [m["body"]["text"] for m in stored["messages"] if m["kind"] == "text"] == ["上下文消息", "待审一"]

    # reject the rest in bulk, with a reason
    for box in page.locator("[data-testid=mod-table] .el-table__body-wrapper .el-checkbox").all():
        box.click()
    page.click("[data-testid=mod-bulk-reject]")
    page.locator(".el-message-box input").fill("不合规")
    page.locator(".el-message-box__btns .el-button").last.click()
    wait_rows(tab, 0)
    queue = kit.api("GET", f"/api/admin/v1/moderation?status=rejected&conv={conv}")
    assert sorted((i["body"]["text"], i["reason"]) for i in queue["items"]) == [(HOSTILE, "不合规"), ("待审二", "不合规")]

    # the status filter shows them with the reason and the reviewer
    page.click("[data-testid=mod-status]")
    page.locator("[data-testid=mod-status-rejected]:visible").click()
    wait_rows(tab, 2)
    assert page.locator("[data-testid=mod-reason]").first.inner_text() == "不合规"
    assert "status=rejected" in page.evaluate("() => location.hash")

    # the timeout setting
    try:
        page.locator("[data-testid=mod-timeout] input").fill("15")
        page.locator("[data-testid=mod-timeout] input").press("Tab")
        page.click("[data-testid=mod-timeout-approve]")
        page.click("[data-testid=mod-timeout-save]")
        for _ in range(50):
            s = kit.api("GET", "/api/admin/v1/moderation/settings")
            if s["timeout_s"]:
                break
            page.wait_for_timeout(100)
        assert (s["timeout_s"], s["timeout_action"], s["updated_by"]) == (900, "approve", kit.admin)
        log = kit.api("GET", "/api/admin/v1/audit-log?limit=50")["entries"]
        assert {"moderation.approve", "moderation.reject", "moderation.settings"} <= {e["action"] for e in log}
    finally:
        kit.api("PUT", "/api/admin/v1/moderation/settings", {"timeout_s": 0, "timeout_action": "reject"})

    # English
    tab.set_language("en")
    page.get_by_text("Review timeout").wait_for()
    assert page.locator("[data-testid=mod-state]").first.inner_text() == "Rejected"
    tab.set_language("zh-CN")
    tab.assert_no_console_errors()


def test_reviewer_without_other_rights_and_refusal(admin_console: AdminConsole) -> None:
    kit = admin_console
    outsider = kit.new_user("mout")
    try:
        request_json("GET", kit.base + "/api/admin/v1/moderation", token=kit.user_token(outsider))
    except Exception as exc:
        assert getattr(exc, "code", None) == 403
    else:
        raise AssertionError("a plain user read the moderation queue")
