"""Presence in the directory tab: a colleague who is not a friend shows online, busy and
offline live (the tab follows the people it shows with `presence_sub`), the list is
sent again after a reconnect, friends' presence keeps arriving meanwhile, and leaving
the tab follows no one."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.browser.conftest import PASSWORD, http_json
from tests.browser.test_directory_ui import ADMIN, ADMIN_PW, server  # noqa: F401  (the module's server, with an admin)
from tests.browser.test_social import shot
from tests.support.server import ServerProcess


def login(server: ServerProcess, user: str, password: str = PASSWORD) -> str:
    return str(http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": password})["access_token"])


def pump_until(page: Any, pred: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for a condition on what Playwright's event handlers collected (they run
    while Playwright is busy, so wait inside the page)."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(50)


def test_a_colleague_s_presence_is_live_in_the_directory(server: ServerProcess, open_tab: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    me, col, fr = f"pv{tag}", f"pc{tag}", f"pf{tag}"
    for name, display in ((me, "Viewer"), (col, "王芳"), (fr, "Friend F")):
        http_json("POST", server.base + "/api/v1/auth/register", {"username": name, "password": PASSWORD, "display_name": display})
    admin = login(server, ADMIN, ADMIN_PW)
    dept = http_json("POST", server.base + "/api/admin/v1/departments", {"name": f"市场部{tag}"}, admin)["department_id"]
    for name, title in ((me, "经理"), (col, "专员")):
        http_json("PUT", f"{server.base}/api/admin/v1/departments/{dept}/members/{name}", {"title": title}, admin)
    # fr is a friend of mine, not in the directory; col is a colleague, not a friend
    tok = {u: login(server, u) for u in (me, col, fr)}
    req = http_json("POST", server.base + "/api/v1/friends/requests", {"user_id": fr}, tok[me])
    if req.get("status") != "friends":
        http_json("POST", f"{server.base}/api/v1/friends/requests/{req['request_id']}", {"action": "accept"}, tok[fr])

    c = open_tab(col)
    a = open_tab(me)
    sent: list[dict[str, Any]] = []  # a's presence_sub frames (on the sockets opened from now on)
    replies: dict[Any, Any] = {}

    def watch_socket(ws: Any) -> None:
        def on_sent(payload: Any) -> None:
            f = json.loads(payload)
            if f.get("t") == "presence_sub":
                sent.append(f)

        def on_received(payload: Any) -> None:
            f = json.loads(payload)
            if f.get("t") == "res":
                replies[f.get("rid")] = f

        ws.on("framesent", on_sent)
        ws.on("framereceived", on_received)

    a.page.on("websocket", watch_socket)
    a.page.wait_for_function("() => window.__semot.state.contacts.loaded")
    assert a.js("() => window.__semot.state.contacts.friends.map(f => f.user_id)") == [fr]

    def row(tab: Any, user: str) -> str:
        return f"[data-testid=dir-member][data-user='{user}']"

    def wait_status(tab: Any, user: str, status: str, text: str) -> None:
        tab.page.wait_for_selector(f"{row(tab, user)} [data-testid=presence][data-status={status}]", timeout=20_000)
        label = tab.page.locator(f"{row(tab, user)} [data-testid=presence-text]").inner_text()
        assert text in label, label

    for tab in (a, c):
        tab.page.click("[data-testid=nav-directory]")
        tab.page.click(f"[data-testid=dir-dept][data-dept='{dept}']")
    # online: the colleague's tab is open
    wait_status(a, col, "online", "在线")
    wait_status(c, me, "online", "在线")
    # busy, with a status text, changed on the colleague's side: the dot follows live
    c.js("() => window.__semot.client.http('PUT', '/api/v1/me/presence', {status: 'busy', text: '开会中'})")
    wait_status(a, col, "busy", "忙碌 · 开会中")
    shot(a.page, "directory-presence-zh.png")
    # search results have it too
    a.page.fill("[data-testid=dir-search]", col)
    a.page.wait_for_selector(f"[data-testid=dir-result][data-user='{col}'] [data-testid=presence][data-status=busy]")
    assert "忙碌 · 开会中" in a.page.locator(f"[data-testid=dir-result][data-user='{col}']").inner_text()
    a.page.fill("[data-testid=dir-search]", "")
    a.page.wait_for_selector(row(a, col))

    # a friend (not in the directory) still gets through while the tab follows colleagues
    a.js(
        """([url, token]) => new Promise((resolve, reject) => {
            const ws = new WebSocket(url);
            window.__friendSocket = ws;
            ws.onopen = () => ws.send(JSON.stringify({t: 'auth', rid: 1, token, device: {id: 'fr-test', platform: 'sdk'}}));
            ws.onmessage = (ev) => resolve(JSON.parse(ev.data).ok);
            ws.onerror = reject;
        })""",
        [server.ws_url, tok[fr]],
    )
    http_json("PUT", server.base + "/api/v1/me/presence", {"status": "away", "text": "lunch"}, tok[fr])
    a.page.wait_for_function(
        "u => { const p = window.__semot.state.presence[u]; return p && p.status === 'away' && p.text === 'lunch'; }", arg=fr
    )

    # a reconnect: the list ends with the connection; the tab sends it again when the
    # connection is back
    a.js(
        """() => {
            const c = window.__semot.client;
            window.__wsUrl = c.wsUrl;
            c.wsUrl = 'ws://127.0.0.1:9/ws';  // nowhere, until restored
            c.dropConnection();
        }"""
    )
    wait_status(c, me, "offline", "离线")  # settled offline on the server: a's list is gone
    a.js("() => { const c = window.__semot.client; c.wsUrl = window.__wsUrl; c.reconnectNow(); }")
    a.wait_open(timeout=30_000)
    pump_until(a.page, lambda: any(f["users"] and f["rid"] in replies for f in sent), "the list sent again, and its reply")
    assert {col, me} <= set(sent[-1]["users"])
    c.js("() => window.__semot.client.http('PUT', '/api/v1/me/presence', {status: 'away', text: '午饭'})")
    wait_status(a, col, "away", "离开 · 午饭")

    # the colleague closes their tab: offline
    c.context.close()
    wait_status(a, col, "offline", "离线")

    # leaving the tab follows no one; the friend's status is still shown in contacts
    a.page.click("[data-testid=nav-contacts]")
    pump_until(a.page, lambda: sent[-1]["users"] == [], "an empty presence_sub")
    a.page.wait_for_selector(f"[data-testid=friend][data-user='{fr}'] [data-testid=presence][data-status=away]")
    a.js("() => window.__friendSocket.close()")
    a.assert_no_console_errors(lambda m: "127.0.0.1:9/ws" in m)  # the blocked reconnects
