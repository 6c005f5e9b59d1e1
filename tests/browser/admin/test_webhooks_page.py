"""The webhooks page (事件回调) in Chromium against a real server: register a hook
(events multi-select, timeout, on_timeout), its secret shown once; a real receiver gets
a signed delivery; the deliveries tab with filters shows it; replay posts the same id
again; delete; zh-CN and English."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.admin.conftest import AdminConsole, AdminTab, request_json


class _Receiver:
    def __init__(self) -> None:
        self.hits: list[tuple[bytes, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hits.append((raw, self.headers.get("X-Semot-Signature", "")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.server.shutdown()


def wait_rows(tab: AdminTab, testid: str, n: int) -> None:
    tab.page.wait_for_function(
        "([id, n]) => !document.querySelector(`[data-testid=${id}] .el-loading-mask`)"
        " && document.querySelectorAll(`[data-testid=${id}] .el-table__body-wrapper tr`).length === n",
        arg=[testid, n])


def test_register_deliver_replay_delete(admin_console: AdminConsole, receiver: _Receiver) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    before = {h["webhook_id"] for h in kit.api("GET", "/api/admin/v1/webhooks")["webhooks"]}
    tab.goto("webhooks")
    page.click("[data-testid=wh-add]")
    page.fill("[data-testid=wh-form-url]", receiver.url)
    page.click("[data-testid=wh-form-events]")
    page.locator("[data-testid='wh-opt-group.created']:visible").click()
    page.locator("[data-testid='wh-opt-message.before_send']:visible").click()
    page.keyboard.press("Escape")
    page.locator("[data-testid=wh-form-timeout] input").fill("1500")
    page.locator("[data-testid=wh-form-timeout] input").press("Tab")
    page.click("[data-testid=wh-form-block]")
    page.click("[data-testid=wh-form-save]")
    secret = page.locator("[data-testid=wh-secret]").input_value()
    assert len(secret) >= 32
    page.click("[data-testid=wh-secret-done]")
    [hook] = [h for h in kit.api("GET", "/api/admin/v1/webhooks")["webhooks"] if h["webhook_id"] not in before]
    try:
        assert (hook["url"], sorted(hook["events"]), hook["timeout_ms"], hook["on_timeout"]) == (
            receiver.url, ["group.created", "message.before_send"], 1500, "block")
        row = page.locator("[data-testid=wh-table] tr", has_text=receiver.url)
        row.wait_for()
        assert "创建群组" in row.inner_text() and "拦截" in row.inner_text()
        assert secret not in page.content()  # shown once: never listed

        # a real event reaches the receiver, signed
        owner = kit.new_user("whown")
        g = request_json("POST", kit.base + "/api/v1/groups", {"name": "回调群", "members": []}, kit.user_token(owner))
        for _ in range(100):
            if receiver.hits:
                break
            page.wait_for_timeout(50)
        raw, signature = receiver.hits[0]
        assert signature == "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        doc = json.loads(raw)
        assert doc["event"] == "group.created" and doc["data"]["group_id"] == g["group_id"]

        # the deliveries tab, filtered to this hook
        row.locator("[data-testid=wh-show-deliveries]").click()
        wait_rows(tab, "wd-table", 1)
        page.locator("[data-testid=wd-status-cell][data-status=delivered]").wait_for()
        assert page.locator("[data-testid=wd-tries]").inner_text() == "1"
        assert "group.created" in page.locator("[data-testid=wd-event-cell]").inner_text()
        assert f"webhook_id={hook['webhook_id']}" in page.evaluate("() => location.hash")
        # the status filter: nothing dead
        page.click("[data-testid=wd-status]")
        page.locator("[data-testid=wd-status-dead]:visible").click()
        wait_rows(tab, "wd-table", 0)
        page.click("[data-testid=wd-reset]")
        wait_rows(tab, "wd-table", 1)

        # replay: the same id and body again
        page.click("[data-testid=wd-replay]")
        for _ in range(100):
            if len(receiver.hits) >= 2:
                break
            page.wait_for_timeout(50)
        assert receiver.hits[1][0] == raw
        for _ in range(50):  # the replayed delivery is recorded as delivered again
            page.click("[data-testid=wd-search]")
            wait_rows(tab, "wd-table", 1)
            if page.locator("[data-testid=wd-status-cell][data-status=delivered]").count():
                break
            page.wait_for_timeout(100)
        log = kit.api("GET", "/api/admin/v1/audit-log?limit=50")["entries"]
        assert {"webhook.create", "webhook.replay"} <= {e["action"] for e in log}

        # English
        tab.set_language("en")
        page.get_by_text("Deliveries").first.wait_for()
        assert page.locator("[data-testid=wd-status-cell]").first.inner_text() == "Delivered"
        tab.set_language("zh-CN")

        # delete
        page.click("#tab-hooks")
        row = page.locator("[data-testid=wh-table] tr", has_text=receiver.url)
        row.locator("[data-testid=wh-delete]").click()
        page.locator(".el-message-box__btns .el-button--primary").click()
        row.wait_for(state="detached")
        assert hook["webhook_id"] not in {h["webhook_id"] for h in kit.api("GET", "/api/admin/v1/webhooks")["webhooks"]}
    finally:
        try:
            kit.api("DELETE", f"/api/admin/v1/webhooks/{hook['webhook_id']}")
        except Exception:
            pass
    tab.assert_no_console_errors()
