"""The developer tools page in Chromium against a real server: the protocol log of a user
whose browser speaks to the server over a real WebSocket (frames both ways, the token
redacted, pretty JSON, filter, pause and resume, stop), and an error thrown in the web
client reaching the client errors list with its stack trace; zh-CN and English."""

from __future__ import annotations

import uuid
from typing import Any

from tests.browser.admin.conftest import AdminConsole
from tests.browser.conftest import PASSWORD

FRAME = "[data-testid=plog-frame]"

# a real WebSocket from a page of the server's origin: auth, then pings with given rids
OPEN_WS = """async ([token, device]) => {
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
  window.__plogWs = ws;
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  const authed = new Promise((ok) => { ws.onmessage = (e) => ok(JSON.parse(e.data)); });
  ws.send(JSON.stringify({t: "auth", rid: 1, token, device: {id: device, platform: "web"}}));
  return await authed;
}"""
PING = "(rid) => window.__plogWs.send(JSON.stringify({t: 'ping', rid}))"


def _frames(tab: Any, direction: str | None = None) -> list[str]:
    sel = FRAME + (f"[data-dir={direction}]" if direction else "")
    return list(tab.page.eval_on_selector_all(sel + " .plog-text", "els => els.map(e => e.textContent)"))


def _wait_frame(tab: Any, direction: str, needle: str, timeout: float = 15_000) -> None:
    tab.page.wait_for_function(
        """([dir, needle]) => [...document.querySelectorAll(`[data-testid=plog-frame][data-dir=${dir}] .plog-text`)]
              .some(e => e.textContent.includes(needle))""",
        arg=[direction, needle],
        timeout=timeout,
    )


def _others(message: str) -> bool:
    """Console noise about other pages' files (built by others, at other times)."""
    return "/admin/pages/" in message and "/devtools" not in message


def _pick_user(tab: Any, username: str) -> None:
    box = tab.page.locator("[data-testid=plog-user] input")
    box.click()
    box.fill(username)
    tab.page.wait_for_timeout(400)  # the remote search (allow-create offers the typed id meanwhile)
    box.press("Enter")
    tab.page.wait_for_selector("[data-testid=plog-status][data-on='0']")


def test_protocol_log_of_a_live_user(admin_console: AdminConsole) -> None:
    kit = admin_console
    tab = kit.tab
    user = kit.new_user("plog")
    token = kit.user_token(user)
    tab.goto("devtools")
    tab.page.wait_for_selector("[data-testid=devtools-page] [data-testid=plog]")
    _pick_user(tab, user)
    assert "user=" + user in tab.js("() => location.hash")
    tab.page.click("[data-testid=plog-start]")
    tab.page.wait_for_selector("[data-testid=plog-status][data-on='1']")
    tab.page.wait_for_selector(f"[data-testid=plog-session][data-user='{user}']")

    # the user's own browser (another context), connected over a real WebSocket
    ctx = kit.browser.new_context()
    other = ctx.new_page()
    other.goto(kit.base + "/")  # the web client, signed out: a page of the origin, under its CSP
    reply = other.evaluate(OPEN_WS, [token, "plog-dev"])
    assert reply["ok"] is True, reply
    other.evaluate(PING, 4242)

    _wait_frame(tab, "in", '"t":"auth"')
    _wait_frame(tab, "out", '"rid":4242')
    _wait_frame(tab, "in", '"rid":4242')
    ins = _frames(tab, "in")
    auth = next(t for t in ins if '"t":"auth"' in t)
    assert '"token":"[redacted]"' in auth and token not in tab.page.content()
    assert tab.page.locator(f"{FRAME}[data-dir=in]").first.evaluate(
        "e => getComputedStyle(e).borderLeftColor"
    ) != tab.page.locator(f"{FRAME}[data-dir=out]").first.evaluate("e => getComputedStyle(e).borderLeftColor")

    # the pretty JSON view of one frame
    tab.page.locator(f"{FRAME}[data-dir=in]", has_text='"t":"auth"').locator(".plog-line").click()
    pretty = tab.page.locator("[data-testid=plog-json]").inner_text()
    assert '"token": "[redacted]"' in pretty and '"platform": "web"' in pretty and "plog-dev" in pretty

    # filter, then direction
    tab.page.fill("[data-testid=plog-filter]", "4242")
    tab.page.wait_for_function("() => document.querySelectorAll('[data-testid=plog-frame]').length === 2")
    tab.page.click("[data-testid=plog-dir] label:nth-child(3)")  # out
    tab.page.wait_for_function("() => document.querySelectorAll('[data-testid=plog-frame]').length === 1")
    tab.page.click("[data-testid=plog-dir] label:nth-child(1)")
    tab.page.fill("[data-testid=plog-filter]", "")

    # paused: nothing new shows; resumed: what came meanwhile shows (the cursor was kept)
    tab.page.click("[data-testid=plog-pause]")
    other.evaluate(PING, 4343)
    tab.page.wait_for_timeout(2500)
    assert not any('"rid":4343' in t for t in _frames(tab))
    tab.page.click("[data-testid=plog-pause]")
    _wait_frame(tab, "out", '"rid":4343')

    # stopped: off, and later frames are not captured
    tab.page.click("[data-testid=plog-stop]")
    tab.page.wait_for_selector("[data-testid=plog-status][data-on='0']")
    other.evaluate(PING, 4444)
    tab.page.wait_for_timeout(2500)
    assert not any('"rid":4444' in t for t in _frames(tab))
    ctx.close()

    # the same page in English
    tab.set_language("en")
    assert tab.page.locator("[data-testid=devtools-tab-protocol]").inner_text() == "Protocol log"
    assert tab.page.locator("[data-testid=plog-status]").inner_text() == "Not recording"
    tab.assert_no_console_errors(allow=_others)


def test_error_in_the_web_client_reaches_the_list(admin_console: AdminConsole) -> None:
    kit = admin_console
    user = kit.new_user("cerr")
    tag = uuid.uuid4().hex[:10]

    # the web client, signed in through its login form, throws (uncaught, and a rejection)
    ctx = kit.browser.new_context(locale="en")
    page = ctx.new_page()
    page.goto(kit.base + "/")
    page.fill("[data-testid=username]", user)
    page.fill("[data-testid=password]", PASSWORD)
    page.click("[data-testid=submit]")
    page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=15_000)
    page.evaluate(f"() => {{ setTimeout(() => {{ throw new TypeError('boom-{tag} thrown') }}, 0) }}")
    page.evaluate(f"() => {{ Promise.reject(new Error('boom-{tag} rejected')) }}")
    page.evaluate(f"() => {{ setTimeout(() => {{ throw new TypeError('boom-{tag} thrown') }}, 0) }}")  # same: once

    def reports() -> list[dict[str, Any]]:
        return kit.api("GET", f"/api/admin/v1/client-errors?q=boom-{tag}")["errors"]  # type: ignore[no-any-return]

    page.wait_for_timeout(300)
    for _ in range(50):
        if len(reports()) >= 2:
            break
        page.wait_for_timeout(200)
    got = reports()
    assert sorted(r["message"] for r in got) == [f"Error: boom-{tag} rejected", f"TypeError: boom-{tag} thrown"], got
    thrown = next(r for r in got if "thrown" in r["message"])
    assert thrown["app"] == "web" and thrown["user_id"] == user and thrown["url"].endswith("/")
    assert "(sdk " in thrown["version"] and thrown["user_agent"]
    ctx.close()

    # the console lists it; its stack trace opens in the drawer
    tab = kit.tab
    tab.goto("devtools", "tab=errors")
    tab.page.wait_for_selector("[data-testid=cerr]")
    tab.page.fill("[data-testid=cerr-search]", f"boom-{tag}")
    tab.page.press("[data-testid=cerr-search]", "Enter")
    tab.page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=cerr-table] [data-testid=cerr-row]').length === n", arg=2
    )
    assert tab.page.locator("[data-testid=cerr-message]", has_text=f"TypeError: boom-{tag} thrown").count() == 1
    tab.page.locator("[data-testid=cerr-message]", has_text="thrown").click()
    stack = tab.page.locator("[data-testid=cerr-stack]").inner_text()
    assert f"boom-{tag}" in stack and "at " in stack
    assert tab.page.locator("[data-testid=cerr-drawer]").get_by_text(user).count() >= 1
    tab.page.keyboard.press("Escape")

    # zh-CN labels (the tab starts in zh-CN), then English
    assert tab.page.locator("[data-testid=devtools-tab-errors]").inner_text() == "客户端错误"
    tab.set_language("en")
    assert tab.page.locator("[data-testid=devtools-tab-errors]").inner_text() == "Client errors"
    tab.assert_no_console_errors(allow=_others)


def test_an_error_in_the_console_itself_is_reported(admin_console: AdminConsole) -> None:
    tab = admin_console.tab
    tag = uuid.uuid4().hex[:10]
    tab.goto("devtools")
    tab.js(f"() => {{ setTimeout(() => {{ throw new RangeError('console-{tag}') }}, 0) }}")
    for _ in range(50):
        found = admin_console.api("GET", f"/api/admin/v1/client-errors?q=console-{tag}")["errors"]
        if found:
            break
        tab.page.wait_for_timeout(200)
    assert found and found[0]["app"] == "admin" and found[0]["message"] == f"RangeError: console-{tag}"
    assert found[0]["url"].endswith("/admin/#/devtools")
    tab.errors.clear()  # the thrown error is the console's own, on purpose


def test_hidden_without_the_permission(admin_console: AdminConsole) -> None:
    kit = admin_console
    name = kit.new_user("nodev")
    user_id = name
    kit.api("PUT", f"/api/admin/v1/admins/{user_id}", {"roles": ["user_admin"]})
    tab = kit.login_as(name)
    assert "devtools" not in tab.menu()
    tab.page.evaluate("() => { location.hash = '#/devtools' }")
    tab.page.wait_for_selector("[data-testid=forbidden]")
