"""Apps inside the client, end to end in Chromium (docs/apps.md): the sample approval page
(examples/approval/, its own backend on another origin) opens as a tab of the web client,
shows the user's name as its backend verified it with the server API, sends an approval
card into the approver's chat once the user confirms (and nothing when they cancel),
shows a notification and opens the chat; the bridge answers unknown methods and versions
with errors and ignores messages that do not come from the page's frame. And CORS as a
browser enforces it: a listed origin reads the client API, never the server API; an
unlisted origin reads nothing."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from semot.server import ServerClient
from tests.browser.admin.conftest import create_admin
from tests.browser.conftest import PASSWORD, Tab, direct, http_json, server_history
from tests.support.server import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PASSWORD = "appadmin", "admin-password-123"
APPROVAL_PORT = free_port()
APPROVAL = f"http://127.0.0.1:{APPROVAL_PORT}"
PLAIN_PORT = free_port()  # a plain page for the CORS checks: listed as 127.0.0.1, not as localhost


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own: CORS for the plain page's origin, the approval page configured."""
    srv = ServerProcess(tmp_path_factory.mktemp("apps") / "data",
                        env={"SEMOT_CORS_ORIGINS": f"http://127.0.0.1:{PLAIN_PORT}"})
    create_admin(srv.data_dir, ADMIN, ADMIN_PASSWORD, srv.env)
    srv.start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def approval(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """examples/approval/app.py on its own origin, with a key of scope users, as a custom page."""
    boss = http_json("POST", server.base + "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PASSWORD})
    token = boss["access_token"]
    key = http_json("POST", server.base + "/api/admin/v1/api-keys", {"name": "approval", "scopes": ["users"]}, token)
    pages = [{"title": "请假审批", "url": APPROVAL + "/", "open": "tab", "icon": "📝"}]
    http_json("PUT", server.base + "/api/admin/v1/client-config", {"pages": pages}, token)
    log = tmp_path_factory.mktemp("approval") / "approval.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "examples" / "approval" / "app.py"), "--semot", server.base,
             "--port", str(APPROVAL_PORT)],
            env={**os.environ, "SEMOT_API_KEY": key["key"]}, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(APPROVAL + "/", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the approval app did not start: {log.read_text()}") from None
            time.sleep(0.1)
    yield APPROVAL
    proc.kill()
    proc.wait(10)


@pytest.fixture(scope="module")
def plain_page() -> Iterator[None]:
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><meta charset=utf-8><title>plain</title><p>plain</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", PLAIN_PORT), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield
    httpd.shutdown()


def user(server: ServerProcess, prefix: str, display_name: str) -> str:
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    http_json("POST", server.base + "/api/v1/auth/register",
              {"username": name, "password": PASSWORD, "display_name": display_name})
    return name


def notifications(tab: Tab) -> int:
    return int(tab.page.locator(".bridge-notify").count())


def test_approval_page_in_the_client(server: ServerProcess, approval: str, open_tab: Callable[..., Tab]) -> None:
    alice, bob = user(server, "ap", "王小明"), user(server, "boss", "李经理")
    tab = open_tab(alice)
    page = tab.page
    failed: list[str] = []  # answers >= 400 the tab got (the console names no URL)
    page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
    page.click("[data-testid=h5-nav][data-title=请假审批]")
    frame = page.frame_locator("[data-testid=h5-frame]")
    # the name comes from the backend, which had the token verified by Semot
    frame.locator("[data-testid=applicant]").filter(has_text="王小明").wait_for(timeout=30_000)

    # submit: the client asks the user; cancelled: nothing is sent
    frame.locator("[data-testid=reason]").fill("回老家参加婚礼")
    frame.locator("[data-testid=days]").fill("2")
    frame.locator("[data-testid=approver]").fill(bob)
    frame.locator("[data-testid=submit]").click()
    box = page.locator(".bridge-confirm-box")
    box.wait_for()
    assert box.locator("[data-testid=app-card-title]").inner_text() == "请假审批"
    box.filter(has_text="李经理").wait_for()  # the approver's name, once the client has it
    box.locator(".el-message-box__btns .el-button:not(.el-button--primary)").click()
    frame.locator("[data-testid=status]").filter(has_text="已取消发送").wait_for()

    # submit again and confirm: the card reaches bob's chat, sent as alice
    frame.locator("[data-testid=submit]").click()
    page.locator(".bridge-confirm-box .el-button--primary").click()
    frame.locator("[data-testid=status]").filter(has_text="已发送给审批人").wait_for(timeout=20_000)
    conv = direct(alice, bob)
    cards = [m for m in server_history(server, bob, conv) if m["kind"] == "custom"]
    assert len(cards) == 1 and cards[0]["from"] == alice
    body = cards[0]["body"]
    assert body["type"] == "app_card" and body["data"]["title"] == "请假审批"
    assert body["data"]["text"] == "回老家参加婚礼"
    assert {"label": "申请人", "value": "王小明"} in body["data"]["fields"]
    assert body["data"]["app"] == {"title": "请假审批", "origin": approval}
    assert body["data"]["url"].startswith(approval + "/r/")
    # the request's page is reached by its unguessable link only (not r1, r2, ...)
    rid = body["data"]["url"].removeprefix(approval + "/r/")
    assert len(rid) >= 20, rid
    with urllib.request.urlopen(body["data"]["url"], timeout=10) as r:
        assert "回老家参加婚礼" in r.read().decode()
    for guess in ("r1", "1", "r0"):
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{approval}/r/{guess}", timeout=10)
        assert missing.value.code == 404

    # a notification shown by the client
    frame.locator("[data-testid=notify]").click()
    page.locator(".bridge-notify").filter(has_text="记得跟进你的申请").wait_for()
    before = notifications(tab)

    # the bridge refuses what it does not know, with errors the page can read
    frame_el = page.frame_locator("[data-testid=h5-frame]").locator("body")
    unknown = frame_el.evaluate("() => SemotBridge.call('deleteEverything').catch(e => e.code)")
    assert unknown == "unknown_method"
    bad_card = frame_el.evaluate("(_, to) => SemotBridge.sendCard(to, {text: 'no title'}).catch(e => e.code)", bob)
    assert bad_card == "bad_request"
    not_mine = frame_el.evaluate("() => SemotBridge.openChat('g:nosuchgroup').catch(e => e.code)")
    assert not_mine == "not_found"
    version = frame_el.evaluate("""() => new Promise(resolve => {
        addEventListener('message', e => { if (e.data && e.data.id === 'v2') resolve(e.data.error.code) });
        parent.postMessage({semot_bridge: 2, type: 'request', id: 'v2', method: 'notify', params: {title: 'x'}}, '*');
    })""")
    assert version == "unsupported_version"
    # a message from anywhere but the page's frame is ignored (here: the client's own window)
    page.evaluate("""() => window.postMessage({semot_bridge: 1, type: 'request', id: 'x', method: 'notify',
                                               params: {title: 'forged'}}, '*')""")
    page.wait_for_timeout(1000)
    assert page.locator(".bridge-notify").filter(has_text="forged").count() == 0
    assert notifications(tab) == before

    # open the approver's chat from the page: the client switches to it, the card shown as a card
    frame.locator("[data-testid=open-chat]").click()
    page.wait_for_selector(f"[data-testid=chat][data-conv='{conv}']")
    card = page.locator(f"[data-testid=chat][data-conv='{conv}'] [data-testid=app-card]")
    card.wait_for()
    assert card.locator("[data-testid=app-card-title]").inner_text() == "请假审批"
    # from the configured page: its configured name, not marked
    assert card.locator("[data-testid=app-card-app]").inner_text() == "请假审批"
    assert card.locator("[data-unverified]").count() == 0
    assert card.locator("[data-testid=app-card-open]").get_attribute("href", timeout=5_000).startswith(approval + "/r/")
    # the customer-service workbench asks whether this user is an agent (403: not one)
    others = [u for u in failed if "/api/v1/cs/" not in u]
    assert not others, others
    tab.assert_no_console_errors(lambda m: m.startswith("Failed to load resource") and len(others) == 0)


def test_cors_in_the_browser(server: ServerProcess, plain_page: None, browser: Any) -> None:
    """A listed origin's script signs in and reads the client API; the server API stays
    closed to it; an unlisted origin (localhost: another origin for the same server) reads nothing."""
    name = user(server, "cors", "Cors")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{PLAIN_PORT}/")
        got = page.evaluate(
            """async ([base, name, password]) => {
                const login = await fetch(base + '/api/v1/auth/login', {method: 'POST',
                    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({username: name, password})});
                const tokens = await login.json();
                const me = await (await fetch(base + '/api/v1/me', {headers: {Authorization: 'Bearer ' + tokens.access_token}})).json();
                let server = 'readable';
                try { await fetch(base + '/api/server/v1/users/' + name + '/presence', {headers: {Authorization: 'Bearer sk_x'}}) }
                catch (e) { server = 'blocked' }
                return {me: me.user_id, server};
            }""",
            [server.base, name, PASSWORD],
        )
        assert got == {"me": name, "server": "blocked"}
        page.goto(f"http://localhost:{PLAIN_PORT}/")
        blocked = page.evaluate(
            """async (base) => { try { await fetch(base + '/api/v1/client-config'); return 'readable' }
                                 catch (e) { return 'blocked' } }""",
            server.base,
        )
        assert blocked == "blocked"
    finally:
        context.close()


def test_forged_app_cards_are_marked(server: ServerProcess, approval: str, open_tab: Callable[..., Tab]) -> None:
    """Anyone can send a custom message of type app_card naming any app: the client shows
    an app's name only for a configured page's origin with its link on that origin;
    otherwise the origin the card claims, marked unverified (never the card's own name)."""
    alice, mallory = user(server, "fa", "Alice"), user(server, "ml", "Mallory")
    boss = http_json("POST", server.base + "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PASSWORD})
    key = http_json("POST", server.base + "/api/admin/v1/api-keys", {"name": "forger", "scopes": ["messages"]},
                    boss["access_token"])
    forged = [
        ("HR Approvals", {"title": "HR Approvals", "origin": "https://hr-approvals.example.net"},
         "https://hr-approvals.example.net/login", "https://hr-approvals.example.net"),
        # the approval app's origin, but a link elsewhere: not shown as that app either
        ("请假审批", {"title": "请假审批", "origin": approval}, "https://phish.example.net/r/1", approval),
    ]
    semot = ServerClient(server.base, key["key"])
    for title, app, url, _ in forged:
        semot.send_message(mallory, alice, "custom", {"type": "app_card", "data": {"title": title, "app": app, "url": url}})
    tab = open_tab(alice)
    conv = direct(alice, mallory)
    tab.open_conv(conv)
    cards = tab.page.locator(f"[data-testid=chat][data-conv='{conv}'] [data-testid=app-card]")
    cards.nth(len(forged) - 1).wait_for()
    for i, (_, _, _, shown) in enumerate(forged):
        app = cards.nth(i).locator("[data-testid=app-card-app]")
        assert app.get_attribute("data-unverified") == "true"
        text = app.inner_text()
        assert shown in text and "未验证" in text and "HR Approvals" not in text, text
        assert text.replace(shown, "").strip() == "未验证", text
    tab.assert_no_console_errors()
