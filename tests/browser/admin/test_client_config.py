"""The client configuration page (终端配置) used for real: an administrator changes the
product name, a feature switch, quick phrases, a custom page and self-registration in
the console, and a web client that is already open applies each at once, without a
reload (the `__noReload` marker set before the change survives it).

The admin server is shared by every console test: each test puts the defaults back."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from semot.protocol import client_config as cc
from tests.browser.admin.conftest import AdminConsole, AdminTab
from tests.browser.conftest import PASSWORD

CLIENT = "/api/admin/v1/client-config"


@pytest.fixture
def kit(admin_console: AdminConsole) -> Iterator[AdminConsole]:
    yield admin_console
    admin_console.api("PUT", CLIENT, cc.defaults(self_registration=True, direct_message_policy="anyone"))


@pytest.fixture
def intranet_page() -> Iterator[str]:
    """An "intranet" page on another origin (a port of its own), as a school's timetable."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = "<!doctype html><meta charset=utf-8><title>t</title><p id=ok>课表 OK</p>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/timetable"
    httpd.shutdown()


def chat_client(kit: AdminConsole, user: str, *, locale: str = "zh-CN") -> AdminTab:
    """The web client at /, signed in as `user`, with a marker that a reload would lose."""
    context = kit.browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    tab = AdminTab(page, context, user, kit.base)

    def console(m: Any) -> None:
        if m.type == "error":
            tab.errors.append(m.text)

    def crashed(e: Any) -> None:
        tab.errors.append(f"pageerror: {e}")

    page.on("console", console)
    page.on("pageerror", crashed)
    kit.tabs.append(tab)
    page.goto(kit.base + "/")
    page.fill("[data-testid=username]", user)
    page.fill("[data-testid=password]", PASSWORD)
    page.click("[data-testid=submit]")
    page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
    page.evaluate("() => { window.__noReload = true }")
    return tab


def open_chat(tab: AdminTab, peer: str) -> None:
    tab.page.click("[data-testid=new-menu]")
    tab.page.click("[data-testid=new-chat]")
    tab.page.fill("[data-testid=new-chat-user]", peer)
    tab.page.click("[data-testid=new-chat-start]")
    tab.page.wait_for_selector("[data-testid=chat] [data-testid=composer]")


def save(console: AdminTab) -> int:
    """Save and push (confirming), wait for the new version; returns it."""
    before = console.page.locator("[data-testid=cc-meta]").inner_text()
    console.page.click("[data-testid=cc-save]")
    console.page.click(".el-message-box .el-message-box__btns .el-button--primary")
    console.page.wait_for_function(
        "b => { const m = document.querySelector('[data-testid=cc-meta]'); return m && m.textContent !== b"
        " && !document.querySelector('[data-testid=cc-dirty]') }",
        arg=before,
    )
    version: Any = console.js("() => document.querySelector('[data-testid=cc-meta]').textContent.match(/\\d+/)[0]")
    return int(version)


def applied(tab: AdminTab, version: int) -> None:
    """The open client has applied `version`, and was not reloaded to do so."""
    tab.page.wait_for_function("v => Number(document.documentElement.dataset.cfgVersion) >= v", arg=version)
    assert tab.js("() => window.__noReload === true"), "the client was reloaded"


def test_product_name_reaches_an_open_client_and_the_login_page(kit: AdminConsole, tmp_path: Path) -> None:
    user = kit.new_user("cfgname")
    client = chat_client(kit, user)
    console = kit.tab
    console.goto("client-config")
    console.page.wait_for_selector("[data-testid=client-config-page] [data-testid=cc-product-name]")
    name = "实验中学 · 校园通"
    console.page.fill("[data-testid=cc-product-name]", name)
    console.page.fill("[data-testid=cc-tagline]", "家校沟通，安全可靠")
    console.page.fill("[data-testid=cc-login-notice]", "请使用学号登录")
    # the preview follows the form before anything is saved
    assert console.page.locator("[data-testid=cc-preview-name]").inner_text() == name
    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), "teal").save(logo)
    console.page.set_input_files("[data-testid=cc-logo-input]", str(logo))  # uploaded with tus
    console.page.wait_for_function(
        "() => document.querySelector('[data-testid=cc-preview-logo]').src.startsWith('blob:')"
    )
    version = save(console)
    applied(client, version)
    client.page.wait_for_function("n => document.title.includes(n)", arg=name)
    file_id = kit.api("GET", CLIENT)["config"]["logo_file_id"]
    assert file_id
    client.page.wait_for_function(  # the favicon is the logo now
        "f => document.querySelector('link[rel=icon]').getAttribute('href').endsWith(f)", arg=file_id
    )
    # a login page opened now: name, tagline and notice, before anyone signs in
    fresh = kit.open(path="/")
    fresh.page.wait_for_function(
        "n => (document.querySelector('[data-testid=brand-name]') || {}).textContent === n", arg=name
    )
    assert fresh.page.locator(".brand-tag").inner_text() == "家校沟通，安全可靠"
    assert "请使用学号登录" in fresh.page.locator("[data-testid=login-notice]").inner_text()
    assert name in fresh.page.title()
    fresh.page.wait_for_function(  # the logo, loaded before signing in
        "f => { const i = document.querySelector('[data-testid=brand-logo]');"
        " return i && i.getAttribute('src').endsWith(f) && i.complete && i.naturalWidth === 64 }",
        arg=file_id,
    )
    # the administrator's audit log has it
    log = kit.api("GET", "/api/admin/v1/audit-log?action=client_config.update")
    assert log["entries"][0]["after"]["product_name"] == name
    client.assert_no_console_errors()
    console.assert_no_console_errors()


def test_switched_off_features_disappear_from_an_open_client(kit: AdminConsole) -> None:
    user, peer = kit.new_user("cfgfeat"), kit.new_user("cfgpeer")
    client = chat_client(kit, user)
    open_chat(client, peer)
    for testid in ("burn-btn", "location-btn", "card-btn"):
        assert client.page.locator(f"[data-testid={testid}]").is_visible()
    assert client.page.locator("[data-testid=nav-directory]").is_visible()
    console = kit.tab
    console.goto("client-config")
    for feature in ("burn", "location", "directory"):
        console.page.click(f"[data-testid=cc-feature-{feature}]")
    version = save(console)
    applied(client, version)
    for testid in ("burn-btn", "location-btn", "nav-directory"):
        client.page.wait_for_selector(f"[data-testid={testid}]", state="hidden")
    assert client.page.locator("[data-testid=card-btn]").is_visible()  # still on
    # and back, still without a reload
    console.page.click("[data-testid=cc-feature-burn]")
    applied(client, save(console))
    client.page.wait_for_selector("[data-testid=burn-btn]", state="visible")
    client.assert_no_console_errors()


def test_a_quick_phrase_is_inserted_and_sent(kit: AdminConsole) -> None:
    user, peer = kit.new_user("cfgqp"), kit.new_user("cfgqp")
    client = chat_client(kit, user)
    open_chat(client, peer)
    assert client.page.locator("[data-testid=quick-phrases-btn]").count() == 0  # none configured
    console = kit.tab
    console.goto("client-config")
    for phrase in ("收到，马上处理", "请稍等"):
        console.page.fill("[data-testid=cc-phrase-new]", phrase)
        console.page.click("[data-testid=cc-phrase-add]")
    assert console.page.locator("[data-testid=cc-phrase]").count() == 2
    applied(client, save(console))
    client.page.click("[data-testid=quick-phrases-btn]")
    client.page.locator("[data-testid=quick-phrase]:visible", has_text="收到，马上处理").click()
    assert client.page.locator("[data-testid=composer]").input_value() == "收到，马上处理"
    client.page.press("[data-testid=composer]", "Enter")
    client.page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=chat] [data-testid=msg-text]')]"
        ".some(e => e.textContent === '收到，马上处理')"
    )
    client.assert_no_console_errors()


def test_custom_page_tab_and_self_registration(kit: AdminConsole, intranet_page: str) -> None:
    user = kit.new_user("cfgh5")
    client = chat_client(kit, user, locale="en")
    console = kit.tab
    console.set_language("en")
    console.goto("client-config")
    assert console.page.locator("[data-testid=cc-pages] .cc-title").inner_text() == "Custom pages (H5 apps)"
    console.page.click("[data-testid=cc-page-add]")
    console.page.fill("[data-testid=cc-page-title]", "Timetable")
    console.page.fill("[data-testid=cc-page-icon]", "📅")
    url = intranet_page
    console.page.fill("[data-testid=cc-page-url]", "javascript:alert(1)")
    assert console.page.locator("[data-testid=cc-save]").is_disabled()  # refused before it is sent
    console.page.fill("[data-testid=cc-page-url]", url)
    console.page.click("[data-testid=cc-self-registration]")  # off
    applied(client, save(console))
    nav = client.page.locator("[data-testid=h5-nav][data-title=Timetable]")
    nav.click()
    # this tab's CSP was set before the page existed: it says so and offers a reload...
    client.page.wait_for_selector("[data-testid=h5-blocked]")
    client.page.click("[data-testid=h5-reload]")
    client.page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
    # ...after which the server's CSP lets exactly that origin be framed: the page shows
    client.page.click("[data-testid=h5-nav][data-title=Timetable]")
    frame = client.page.wait_for_selector("[data-testid=h5-frame]")
    assert frame.get_attribute("src") == url
    sandbox = frame.get_attribute("sandbox") or ""
    assert "allow-scripts" in sandbox and "allow-same-origin" in sandbox  # another origin: its own cookies
    assert client.page.frame_locator("[data-testid=h5-frame]").locator("#ok").inner_text() == "课表 OK"
    client.errors[:] = [e for e in client.errors if "frame-src" not in e]  # the refusal above, reported
    # the sign-up link is gone from a login page
    fresh = kit.open(path="/", locale="en")
    fresh.page.wait_for_selector("[data-testid=submit]")
    fresh.page.wait_for_function("() => document.documentElement.dataset.cfgVersion !== undefined")
    assert fresh.page.locator("[data-testid=toggle-mode]").count() == 0
    client.assert_no_console_errors()
    console.assert_no_console_errors()
