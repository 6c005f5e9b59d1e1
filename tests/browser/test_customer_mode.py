"""The web client's customer mode, over a real server and Chromium.

An external customer (a shop's buyer synced by the server API with `external: true`)
opens the client through an SSO ticket, as from the shop's "Messages" link: `GET
/api/v1/me` says `restricted`, and the page shows their chats, the shop's notice, a
"contact support" button, sending, their own profile and sign-out, but no contacts,
directory, '+' menu, H5 pages, workbench, contact cards, group details or place
search; nothing the page asks for during all this answers 403 (every response and
every WebSocket reply is watched). They chat with an agent both ways. A staff member
on the same server still sees everything (docs/customer-service.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.admin.conftest import create_admin
from tests.browser.conftest import PASSWORD, Tab, direct, http_json, new_user
from tests.support.server import ServerProcess

pytestmark = pytest.mark.timeout(300)
ADMIN, ADMIN_PASSWORD = "cmadmin", "admin-password-123"
S = "/api/server/v1"


class Setup:
    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.admin = http_json("POST", srv.base + "/api/v1/auth/login",
                               {"username": ADMIN, "password": ADMIN_PASSWORD})["access_token"]
        self.key = http_json("POST", srv.base + "/api/admin/v1/api-keys", {"name": "shop"}, self.admin)["key"]
        self.queue = http_json("POST", srv.base + "/api/admin/v1/cs/queues", {"name": "售前", "description": "商品咨询"},
                               self.admin)["queue_id"]
        # an H5 page for staff (the customer must not see it: app identity tokens are closed to them)
        pages = [{"title": "审批", "url": "https://example.com/approve", "open": "tab", "icon": "A"}]
        http_json("PUT", srv.base + "/api/admin/v1/client-config", {"pages": pages}, self.admin)

    def server(self, method: str, path: str, body: Any = None) -> Any:
        return http_json(method, self.srv.base + S + path, body, self.key)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("customer-mode") / "data")
    create_admin(srv.data_dir, ADMIN, ADMIN_PASSWORD, srv.env)
    srv.start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def setup(server: ServerProcess) -> Setup:
    return Setup(server)


def _watch(page: Any, bad: list[str]) -> None:
    """Every HTTP response of 400 or more, and every WebSocket reply with an error."""
    page.on("response", lambda r: r.status >= 400 and bad.append(f"{r.status} {r.request.method} {r.url}"))

    def on_ws(ws: Any) -> None:
        def frame(payload: Any) -> None:
            try:
                f = json.loads(payload)
            except (TypeError, ValueError):
                return
            if isinstance(f, dict) and (f.get("error") or f.get("t") == "error"):
                bad.append(f"ws {payload[:300]}")

        ws.on("framereceived", frame)

    page.on("websocket", on_ws)


def _tab(browser: Any, url: str, user: str, bad: list[str], **ctx: Any) -> Tab:
    context = browser.new_context(**{"locale": "zh-CN", "viewport": {"width": 1280, "height": 800}, **ctx})
    page = context.new_page()
    page.set_default_timeout(20_000)
    tab = Tab(page, context, user)
    page.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    page.on("pageerror", lambda e: tab.errors.append(f"pageerror: {e}"))
    _watch(page, bad)
    page.goto(url)
    return tab


def _login(tab: Tab, base: str) -> None:
    tab.page.fill("[data-testid=username]", tab.user)
    tab.page.fill("[data-testid=password]", PASSWORD)
    tab.page.click("[data-testid=submit]")
    tab.page.wait_for_selector("[data-testid=conv-list]", state="attached")
    tab.wait_open()


def _absent(page: Any, *testids: str) -> None:
    for tid in testids:
        assert page.locator(f"[data-testid={tid}]:visible").count() == 0, tid


def _customer(setup: Setup) -> tuple[str, str]:
    """A buyer synced as a customer, the shop's account (staff-like), and the shop's order notice."""
    buyer, shop = f"buyer-{uuid.uuid4().hex[:6]}", f"shop-{uuid.uuid4().hex[:6]}"
    setup.server("PUT", f"/users/{shop}", {"display_name": "小店"})
    setup.server("PUT", f"/users/{buyer}", {"display_name": "买家小王", "external": True})
    setup.server("POST", "/messages", {"from": shop, "to": buyer, "kind": "text", "body": {"text": "订单已发货"}})
    return buyer, shop


def _ticket_url(setup: Setup, user: str) -> str:
    return str(setup.server("POST", f"/users/{user}/tokens", {"type": "sso_ticket"})["url"])


def test_a_customer_sees_only_what_they_may_use_and_chats_with_an_agent(browser: Any, setup: Setup) -> None:
    base = setup.srv.base
    agent = new_user(setup.srv, "agent")
    agent_id = http_json("POST", base + "/api/v1/auth/login", {"username": agent, "password": PASSWORD})["user_id"]
    http_json("PUT", f"{base}/api/admin/v1/cs/agents/{agent_id}", {"queues": [setup.queue], "field": "售前",
                                                                   "max_concurrent": 5}, setup.admin)
    buyer, shop = _customer(setup)
    staff_bad: list[str] = []
    bad: list[str] = []

    # the agent goes online in the workbench (sessions go to agents seen online)
    ag = _tab(browser, base + "/", agent, staff_bad)
    _login(ag, base)
    ag.page.click("[data-testid=nav-service]")
    ag.page.click("[data-testid=cs-state]")
    ag.page.click(".el-select-dropdown__item:has-text('在线')")
    ag.page.wait_for_function("""async () => (await window.__semot.client.http('GET', '/api/v1/cs/agent/workbench'))
                                 .me.state === 'online'""")

    # the buyer opens the client from the shop's link: an SSO ticket
    cu = _tab(browser, _ticket_url(setup, buyer), buyer, bad)
    cu.wait_open()
    cu.page.wait_for_function("window.__semot.state.me && window.__semot.state.me.restricted === true")
    page = cu.page
    page.wait_for_selector("[data-testid=cs-contact]")
    _absent(page, "nav-contacts", "nav-directory", "nav-service", "h5-nav", "new-menu", "tab-contacts")
    assert page.locator("a.rail-item[href='/docs']").count() == 0
    assert page.locator("html.customer-mode").count() == 1

    # the shop's notice is there, and may be answered
    notice = direct(buyer, shop)
    page.wait_for_selector(f"[data-testid=conv-item][data-conv='{notice}']")
    cu.open_conv(notice)
    cu.wait_texts(["订单已发货"])
    _absent(page, "card-btn", "group-info")
    assert page.locator("[data-testid=location-btn]").is_visible()
    cu.send("收到，谢谢")
    cu.wait_texts(["订单已发货", "收到，谢谢"])

    # the location picker: no place search (closed to customers), the rest works
    page.click("[data-testid=location-btn]")
    page.wait_for_selector("[data-testid=dlg-location] [data-testid=loc-title]")
    _absent(page, "loc-search-box", "loc-search")
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-testid=dlg-location]", state="hidden")

    # "contact support": a session with the agent, in a chat of its own
    page.click("[data-testid=cs-contact]")
    page.wait_for_selector("[data-testid=chat][data-conv^='g:cs_']")
    conv = page.get_attribute("[data-testid=chat]", "data-conv")
    _absent(page, "group-info", "card-btn", "mention-btn")
    cu.send("杯子有货吗？")
    cu.wait_texts(["杯子有货吗？"])
    ag.page.click("[data-testid=nav-chats]")
    ag.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']", timeout=30_000)
    ag.open_conv(conv)
    ag.wait_texts(["杯子有货吗？"])
    ag.send("有货，今天下单明天到")
    cu.wait_texts(["杯子有货吗？", "有货，今天下单明天到"], timeout=30_000)

    # the agent's card: their profile, no "message" / "add friend" (nor a directory lookup)
    page.click(f"[data-testid=chat] [data-testid=profile-trigger][data-user='{agent_id}'] >> nth=0")
    page.wait_for_selector(f"[data-testid=profile-card][data-user='{agent_id}']")
    _absent(page, "pc-message", "pc-add", "pc-call")
    page.wait_for_timeout(500)
    page.keyboard.press("Escape")

    # their own account: the menu (a customer tag), profile, status; message search
    page.click("[data-testid=user-menu]")
    page.wait_for_selector("[data-testid=customer-tag]:visible")
    page.locator("[data-testid=status-busy]:visible").click()
    page.wait_for_selector("[data-testid=my-presence][data-status=busy]")
    page.click("[data-testid=user-menu]")
    page.locator("[data-testid=menu-profile]:visible").click()
    page.wait_for_selector("[data-testid=profile-dialog]")
    page.wait_for_timeout(500)
    page.keyboard.press("Escape")
    page.click("[data-testid=msg-search]")
    page.wait_for_timeout(800)
    page.keyboard.press("Escape")

    # the rail's tabs cannot be reached by a stale tab either
    cu.js("window.__semot.state.tab = 'directory'")
    page.wait_for_function("window.__semot.state.tab === 'chats'")
    page.wait_for_timeout(1000)  # late background requests (profiles, presence, receipts)
    assert not bad, f"refused requests in the customer's page: {bad}"
    cu.assert_no_console_errors()

    # a phone: the tab bar has chats only
    phone_bad: list[str] = []
    ph = _tab(browser, _ticket_url(setup, buyer), buyer, phone_bad, viewport={"width": 390, "height": 800}, is_mobile=True,
              has_touch=True)
    ph.wait_open()
    ph.page.wait_for_selector("[data-testid=tab-chats]")
    ph.page.wait_for_selector("[data-testid=cs-contact]")
    _absent(ph.page, "tab-contacts", "tab-directory", "h5-tab", "new-menu")
    assert ph.js("document.documentElement.scrollWidth") <= 390
    assert not phone_bad, phone_bad

    # sign-out works as for anyone
    page.click("[data-testid=user-menu]")
    page.click("[data-testid=menu-logout]")
    page.click(".el-message-box .el-message-box__btns .el-button--primary")
    page.wait_for_selector("[data-testid=username]")
    assert not bad, bad
    for t in (cu, ph, ag):
        t.context.close()


def test_staff_still_see_everything(browser: Any, setup: Setup) -> None:
    bad: list[str] = []
    user = new_user(setup.srv, "staff")
    tab = _tab(browser, setup.srv.base + "/", user, bad)
    _login(tab, setup.srv.base)
    page = tab.page
    page.wait_for_function("window.__semot.state.me && window.__semot.state.me.restricted === false")
    for tid in ("nav-contacts", "nav-directory", "h5-nav", "new-menu"):
        page.wait_for_selector(f"[data-testid={tid}]:visible")
    _absent(page, "cs-contact", "customer-tag")
    assert page.locator("html.customer-mode").count() == 0
    page.click("[data-testid=new-menu]")
    for tid in ("new-chat", "new-group", "find-group"):
        page.wait_for_selector(f"[data-testid={tid}]:visible")
    page.keyboard.press("Escape")
    page.click("[data-testid=nav-directory]")
    page.wait_for_selector("[data-testid=nav-directory].active")
    page.click("[data-testid=nav-contacts]")
    page.wait_for_selector("[data-testid=nav-contacts].active")
    assert not bad, bad
    tab.assert_no_console_errors()
    tab.context.close()
