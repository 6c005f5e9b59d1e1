"""The admin console's shell (/admin/): signing in (administrators only, zh-CN and
English), the menu filtered by the caller's permissions, signing out, a login that
ends or refreshes while the console is open, deep links, unknown pages, a tablet-wide
window, the chart component, and how the files are served."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.browser.admin.conftest import ADMIN, ADMIN_PASSWORD, AdminConsole, AdminTab, request_json
from tests.browser.conftest import PASSWORD
from tests.support.server import ServerProcess

TABLET = {"width": 768, "height": 1024}


def unauthorized(message: str) -> bool:
    """The browser's report of a 401 the console answers itself (refresh, or the login page)."""
    return "status of 401" in message


def login_cookie(tab: AdminTab) -> dict[str, Any] | None:
    return next((c for c in tab.context.cookies() if c["name"] == "semot_refresh"), None)


def test_admin_signs_in_in_chinese_and_english(admin_console: AdminConsole) -> None:
    tab = admin_console.open(locale="zh-CN")
    page = tab.page
    page.wait_for_selector("[data-testid=submit]")
    assert page.inner_text(".adm-login-title") == "登录管理后台"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    tab.login(ADMIN, ADMIN_PASSWORD)
    assert "root" in page.inner_text("[data-testid=user-menu-button]")
    assert page.title().endswith("Semot 管理后台")
    # the refresh token is the HttpOnly cookie; no token in web storage
    cookie = login_cookie(tab)
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/api/v1/auth"
    access = tab.js("() => window.__semotAdmin.client.accessToken")
    stored = tab.js("() => JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert access and access not in stored and cookie["value"] not in stored and "refresh_token" not in stored
    # switch to English: the shell follows, and so does Element Plus
    tab.set_language("en")
    assert page.title().endswith("Semot admin console")
    page.click("[data-testid=user-menu-button]")
    assert page.locator("[data-testid=logout]:visible").inner_text() == "Sign out"
    page.keyboard.press("Escape")

    # a browser that prefers English starts in English
    en = admin_console.open(locale="en-US")
    en.page.wait_for_selector("[data-testid=submit]")
    assert en.page.inner_text(".adm-login-title") == "Sign in to the admin console"
    en.login(ADMIN, ADMIN_PASSWORD)
    assert en.js("() => document.documentElement.lang") == "en"
    for t in (tab, en):
        t.assert_no_console_errors()


def test_wrong_password_and_non_admin_are_refused(admin_console: AdminConsole) -> None:
    tab = admin_console.open(locale="en")
    page = tab.page
    page.wait_for_selector("[data-testid=submit]")
    tab.login(ADMIN, "not-the-password", expect_ok=False)
    assert page.inner_text("[data-testid=login-error]") == "Wrong username or password"

    user = admin_console.new_user("plain")
    tab.login(user, PASSWORD, expect_ok=False)
    page.wait_for_selector("[data-testid=login-error]:has-text('not an administrator')")
    assert page.locator("[data-testid=admin-shell]").count() == 0
    # signed out again: no login kept for an account that cannot use the console
    page.wait_for_function("() => !window.__semotAdmin.client.userId")
    assert login_cookie(tab) is None
    assert tab.js("() => localStorage.getItem('semot.session')") is None
    page.reload()
    page.wait_for_selector("[data-testid=submit]")
    tab.assert_no_console_errors(allow=lambda m: unauthorized(m) or "status of 403" in m)


def test_a_user_signed_in_to_the_chat_client_is_told_they_are_no_admin(admin_console: AdminConsole) -> None:
    user = admin_console.new_user("chatter", display_name="Chatty")
    tab = admin_console.open(locale="en", path="/")
    page = tab.page
    page.fill("[data-testid=username]", user)
    page.fill("[data-testid=password]", PASSWORD)
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=conv-list]", state="attached")
    page.goto(admin_console.base + "/admin/")
    page.wait_for_selector("[data-testid=denied]")
    assert "Chatty" in page.inner_text("[data-testid=denied]")
    page.click("[data-testid=denied-other]")
    page.wait_for_selector("[data-testid=submit]")
    tab.login(ADMIN, ADMIN_PASSWORD)  # the same browser, now the administrator


def test_an_admin_signed_in_to_the_chat_client_needs_no_second_login(admin_console: AdminConsole) -> None:
    boss = admin_console.new_user("boss", admin=True)
    tab = admin_console.open(locale="zh-CN", path="/")
    page = tab.page
    page.fill("[data-testid=username]", boss)
    page.fill("[data-testid=password]", PASSWORD)
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=conv-list]", state="attached")
    page.goto(admin_console.base + "/admin/")
    tab.wait_shell()
    assert tab.js("() => window.__semotAdmin.session.user.username") == boss


def test_menu_lists_the_pages_the_caller_may_see(admin_console: AdminConsole) -> None:
    tab = admin_console.tab
    pages = tab.js("() => window.__semotAdmin.registry.pages.map(p => ({name: p.name, perm: p.perm}))")
    # the super admin sees every registered page, in the registry's order
    assert tab.menu() == [p["name"] for p in pages]
    names = tab.js("async () => (await (await fetch('/admin/pages.json')).json()).pages")
    assert {p["name"] for p in pages} <= set(names)

    auditor = admin_console.new_user("auditor")
    admin_console.grant(auditor, "auditor")
    narrow = admin_console.login_as(auditor, locale="en")
    perms = narrow.js("() => window.__semotAdmin.session.perms")
    assert perms is not None and "audit.view" in perms and "users.write" not in perms
    roles = narrow.js("() => window.__semotAdmin.session.roles")
    assert roles, "the caller's roles come from GET /api/admin/v1/me"

    def allowed(perm: Any) -> bool:
        want = perm if isinstance(perm, list) else [perm]
        return perm is None or any(p in perms for p in want)

    assert narrow.menu() == [p["name"] for p in pages if allowed(p["perm"])]
    hidden = [p for p in pages if not allowed(p["perm"])]
    if hidden:  # opened by address: says why instead of failing
        narrow.page.evaluate("h => { location.hash = h }", f"#/{hidden[0]['name']}")
        narrow.wait_page("forbidden")
    narrow.assert_no_console_errors()


def test_sign_out_ends_the_login(admin_console: AdminConsole) -> None:
    tab = admin_console.login_as(ADMIN, ADMIN_PASSWORD, locale="en")
    page = tab.page
    token = tab.js("() => window.__semotAdmin.client.accessToken")
    page.click("[data-testid=user-menu-button]")
    page.locator("[data-testid=logout]:visible").click()
    page.click(".el-message-box .el-message-box__btns .el-button--primary")
    page.wait_for_selector("[data-testid=submit]")
    assert login_cookie(tab) is None
    assert tab.js("() => localStorage.getItem('semot.session')") is None
    with pytest.raises(urllib.error.HTTPError) as err:
        request_json("GET", admin_console.base + "/api/v1/me", token=token)
    assert err.value.code == 401
    page.reload()
    page.wait_for_selector("[data-testid=submit]")  # stays signed out
    tab.assert_no_console_errors(allow=unauthorized)


def test_an_expired_access_token_is_refreshed_and_an_ended_login_returns_to_sign_in(
    admin_console: AdminConsole,
) -> None:
    tab = admin_console.login_as(ADMIN, ADMIN_PASSWORD, locale="en", path="/admin/#/no-such-page")
    page = tab.page
    tab.wait_page("notfound")
    before = login_cookie(tab)
    assert before is not None
    # an access token the server refuses: one refresh through the cookie, then the call goes through
    me = tab.js(
        """async () => {
            const a = window.__semotAdmin;
            a.client.accessToken = 'expired-' + a.client.accessToken;
            return await a.api.get('/api/v1/me');
        }"""
    )
    assert me["username"] == ADMIN
    after = login_cookie(tab)
    assert after is not None and after["value"] != before["value"]  # the refresh rotated it

    # the login ends elsewhere (here: its own logout through the API): the next call
    # finds out, the console shows the login page with a notice and keeps the address
    token = tab.js("() => window.__semotAdmin.client.accessToken")
    request_json("POST", admin_console.base + "/api/v1/auth/logout", {}, token=token)
    tab.js("() => window.__semotAdmin.api.get('/api/v1/me', null, { quiet: true }).catch(() => null)")
    page.wait_for_selector("[data-testid=login-notice]")
    assert "expired" in page.inner_text("[data-testid=login-notice]")
    assert page.locator(".el-message--error").count() == 0  # no error toast on top of the login page
    tab.login(ADMIN, ADMIN_PASSWORD)
    tab.wait_page("notfound")  # back where it was
    tab.assert_no_console_errors(allow=unauthorized)


def test_signing_out_in_another_tab_signs_this_one_out(admin_console: AdminConsole) -> None:
    tab = admin_console.login_as(ADMIN, ADMIN_PASSWORD, locale="en")
    other = tab.context.new_page()
    other.goto(admin_console.base + "/admin/")
    other.wait_for_selector("[data-testid=admin-shell]")  # signed in through the shared cookie
    other.evaluate("() => window.__semotAdmin.client.logout()")
    tab.page.wait_for_selector("[data-testid=login-notice]")


def test_deep_link_and_unknown_page(admin_console: AdminConsole) -> None:
    pages = admin_console.tab.js("() => window.__semotAdmin.registry.pages.map(p => p.name)")
    target = pages[-1] if pages else "no-such-page"
    tab = admin_console.open(locale="en", path=f"/admin/#/{target}?q=x")
    tab.login(ADMIN, ADMIN_PASSWORD)
    tab.wait_page(target if pages else "notfound")
    assert tab.js("() => location.hash") == f"#/{target}?q=x"
    assert tab.js("() => window.__semotAdmin.route.query.q") == "x"
    if pages:
        assert tab.page.get_attribute(f"[data-testid=menu-{target}]", "class").count("is-active") == 1

    tab.page.evaluate("() => { location.hash = '#/nothing-here' }")
    tab.wait_page("notfound")
    assert "nothing-here" in tab.page.inner_text("[data-testid=not-found]")
    tab.page.click("[data-testid=not-found] button")
    if pages:
        tab.wait_page(pages[0])  # #/ opens the first page
    tab.assert_no_console_errors()


def test_tablet_width_keeps_the_console_usable(admin_console: AdminConsole) -> None:
    tab = admin_console.login_as(ADMIN, ADMIN_PASSWORD, locale="zh-CN", viewport=TABLET)
    page = tab.page
    aside = page.locator(".adm-aside").bounding_box()
    main = page.locator("[data-testid=admin-main]").bounding_box()
    assert aside and main
    assert aside["width"] <= 64  # collapsed to icons
    assert main["width"] >= 700
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("[data-testid=menu-toggle]")
    page.wait_for_function("document.querySelector('.adm-aside').getBoundingClientRect().width >= 200")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    header = page.locator("[data-testid=user-menu-button]").bounding_box()
    assert header and header["x"] + header["width"] <= TABLET["width"]
    tab.assert_no_console_errors()


CHART_PROBE = """async (locale) => {
  const { createApp, h, ref } = await import('vue');
  const { default: AdminChart } = await import('/admin/components/chart.js');
  const { setLocale } = await import('/admin/i18n.js');
  const echarts = await import('echarts');
  const host = document.createElement('div');
  host.style.width = '400px';
  document.body.appendChild(host);
  const data = ref([3, 5, 2]);
  const app = createApp({ render: () => h(AdminChart, { height: 200, option: {
      xAxis: { type: 'category', data: ['a', 'b', 'c'] }, yAxis: { type: 'value' },
      series: [{ type: 'bar', data: data.value }] } }) });
  app.mount(host);
  const box = host.querySelector('[data-testid=chart]');
  const chart = echarts.getInstanceByDom(box);
  const out = { canvas: !!box.querySelector('canvas'), width: chart.getWidth(), height: chart.getHeight() };
  host.style.width = '600px';
  await new Promise((r) => setTimeout(r, 300));
  out.resized = echarts.getInstanceByDom(box).getWidth();
  setLocale(locale);
  await new Promise((r) => setTimeout(r, 50));
  out.reinit = echarts.getInstanceByDom(box) !== chart;
  app.unmount();
  out.disposed = chart.isDisposed() && !echarts.getInstanceByDom(box);
  host.remove();
  return out;
}"""


def test_chart_component_resizes_follows_the_language_and_is_disposed(admin_console: AdminConsole) -> None:
    tab = admin_console.tab
    out = tab.js(CHART_PROBE, "en")
    assert out == {"canvas": True, "width": 400, "height": 200, "resized": 600, "reinit": True, "disposed": True}
    tab.assert_no_console_errors()


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_console_files_are_served_with_the_pages_csp(admin_server: ServerProcess) -> None:
    status, headers, body = _get(admin_server.base + "/admin/")
    assert status == 200 and headers["Cache-Control"] == "no-cache"
    import_map = re.search(rb'<script type="importmap">(.*?)</script>', body, re.S)
    assert import_map
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(import_map.group(1)).digest()).decode() + "'"
    csp = headers["Content-Security-Policy"]
    assert digest in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = _get(admin_server.base + "/admin/main.js")
    assert status == 200 and headers["Cache-Control"] == "no-cache" and "javascript" in headers["Content-Type"]
    status, _, body = _get(admin_server.base + "/admin/pages.json")
    assert status == 200 and b'"pages"' in body and b'"index"' not in body
    for path in ("/admin/../app.py", "/admin/%2e%2e/app.py", "/admin/..%2fapp.py", "/admin/nope.js", "/admin/pages/"):
        assert _get(admin_server.base + path)[0] == 404, path
    # /admin without the slash goes to the console
    assert _get(admin_server.base + "/admin")[0] == 200
