"""Names of people who are not friends (public profiles fetched in batches), read marks
on a fresh device (sync's peer_read_seq) and signing out (the login ends on the server),
in a real browser against a real server."""

from __future__ import annotations

import urllib.error
import urllib.parse
import uuid
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, direct, http_json
from tests.support.server import ServerProcess


def register(server: ServerProcess, prefix: str, display: str) -> str:
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    http_json("POST", server.base + "/api/v1/auth/register", {"username": name, "password": PASSWORD, "display_name": display})
    return name


def token(server: ServerProcess, user: str) -> str:
    return str(http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})["access_token"])


def sign_in(tab: Any, server: ServerProcess) -> None:
    """The login form of a tab that has no session (as conftest's open_tab does)."""
    page = tab.page
    page.fill("[data-testid=username]", tab.user)
    page.fill("[data-testid=password]", PASSWORD)
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=conv-list]", state="attached")
    tab.wait_open()


def test_strangers_are_shown_by_their_display_names(server: ServerProcess, open_tab: Any) -> None:
    """In a group of people who are not friends, senders and members show their display
    names (fetched with GET /api/v1/users in batches, each id once), and so does the peer
    of a direct chat with a stranger."""
    alice = register(server, "alice", "Alice 爱丽丝")
    carol = register(server, "carol", "Carol <卡罗尔>")  # markup stays text
    dave = register(server, "dave", "Dave 大卫")
    erin = register(server, "erin", "Erin 艾琳")
    group = http_json("POST", server.base + "/api/v1/groups", {"name": "陌生人群", "members": [carol, dave]}, token(server, alice))
    conv = group["conv"]

    a = open_tab(alice)
    asked: list[str] = []  # every id alice's tab asks the profiles endpoint for

    def on_request(req: Any) -> None:
        url = urllib.parse.urlparse(req.url)
        if url.path == "/api/v1/users":
            asked.extend(urllib.parse.parse_qs(url.query)["ids"][0].split(","))

    a.page.on("request", on_request)
    c = open_tab(carol)
    c.open_conv(conv)
    c.send("大家好")
    c.wait_texts(["大家好"])

    # the sender's name above the message, and in the list's preview
    a.open_conv(conv)
    a.wait_texts(["大家好"])
    name = a.page.wait_for_selector("[data-testid=chat] [data-testid=message] .msg-name")
    a.page.wait_for_function(
        "el => el.textContent === 'Carol <卡罗尔>'", arg=name, timeout=10_000
    )
    preview = a.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]")
    assert preview.inner_text() == "Carol <卡罗尔>: 大家好"
    # the member list of the group panel: dave never spoke, and is named all the same
    a.page.click("[data-testid=group-info]")
    a.page.wait_for_function(
        """([dave, carol]) => {
            const name = (u) => document.querySelector(`[data-testid=gp-member][data-user='${u}'] .ct-name`);
            return name(dave) && name(dave).textContent.trim() === 'Dave 大卫'
                && name(carol) && name(carol).textContent.trim() === 'Carol <卡罗尔>';
        }""",
        arg=[dave, carol],
        timeout=10_000,
    )
    a.page.keyboard.press("Escape")

    # a direct chat with a stranger: the title is their display name, not their id
    a.open_direct(erin)
    a.page.wait_for_function(
        "t => document.querySelector('[data-testid=chat-title]').textContent === t", arg="Erin 艾琳", timeout=10_000
    )
    title = a.page.locator(f"[data-testid=conv-item][data-conv='{direct(alice, erin)}'] [data-testid=conv-title]")
    assert title.inner_text() == "Erin 艾琳"

    # batched and de-duplicated: each stranger asked for once, friends and I never
    assert sorted(set(asked)) == sorted(asked), asked
    assert {carol, dave, erin} <= set(asked) and alice not in asked
    for tab in (a, c):
        tab.assert_no_console_errors()


def test_read_marks_come_back_from_sync_on_a_fresh_device(server: ServerProcess, open_tab: Any) -> None:
    """Alice's read marks are shown from sync's peer_read_seq after she reloads with
    cleared storage, although she was away when Bob read (no live `evt read` reached her)."""
    alice = register(server, "alice", "Alice")
    bob = register(server, "bob", "Bob")
    conv = direct(alice, bob)
    a = open_tab(alice)
    a.open_direct(bob)
    a.send("第一条")
    a.send("第二条")
    a.wait_texts(["第一条", "第二条"])
    a.page.wait_for_selector("[data-testid=message][data-seq='2'][data-status=unread]")
    # alice goes away: her tab is closed to the server
    a.page.goto("about:blank")

    b = open_tab(bob)
    b.open_conv(conv)
    b.wait_texts(["第一条", "第二条"])
    b.page.wait_for_function(f"window.__semot.state.convs['{conv}'].readSeq === 2")

    # back, on what is a new device to the app: no session, no remembered read positions
    # (the refresh-token cookie too; storage is cleared from a page of the origin where
    # the app is not running, so nothing of it can write the storage again)
    a.context.clear_cookies()
    blank = server.base + "/__blank"
    a.page.route(blank, lambda route: route.fulfill(body='<link rel="icon" href="data:,">', content_type="text/html"))
    a.page.goto(blank)
    a.js("() => { localStorage.clear(); sessionStorage.clear(); }")
    a.page.goto(server.base + "/")
    assert a.js("() => localStorage.length") == 0
    sign_in(a, server)
    a.open_conv(conv)
    a.page.wait_for_selector("[data-testid=message][data-seq='2'][data-status=read]")
    assert a.page.locator("[data-testid=message][data-seq='1'][data-status=read]").count() == 1
    assert a.page.locator("[data-testid=st-unread]").count() == 0
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_sign_out_ends_the_login_on_the_server(server: ServerProcess, open_tab: Any) -> None:
    """After signing out from the user menu, the refresh token the tab held is refused."""
    user = register(server, "leaver", "Leaver")
    a = open_tab(user)
    # the refresh token is an HttpOnly cookie: out of the page's reach, visible to the browser
    refresh_token = next(c["value"] for c in a.context.cookies() if c["name"] == "semot_refresh")
    assert refresh_token and a.js("() => window.__semot.client.refreshToken") is None
    a.page.click("[data-testid=user-menu]")
    a.page.click("[data-testid=menu-logout]")
    a.page.click(".el-message-box .el-message-box__btns .el-button--primary")
    a.page.wait_for_selector("[data-testid=username]")
    assert not [c for c in a.context.cookies() if c["name"] == "semot_refresh"]  # cleared
    with pytest.raises(urllib.error.HTTPError) as info:
        http_json("POST", server.base + "/api/v1/auth/refresh", {"refresh_token": refresh_token})
    assert info.value.code == 401
    a.assert_no_console_errors()
