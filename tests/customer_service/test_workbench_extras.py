"""Customer service in the web client beyond the main flow (test_widget_shop.py):

- only agents use the agent routes: `GET /api/v1/me` says `cs_agent`, and a user who is
  not one asks nothing of `/api/v1/cs/` (no list of queues, no 403 from the workbench);
- the visitor's context card (`custom` {"type":"cs_context"}) is a card in the chat and a
  readable line in the conversation list, not "[自定义消息：cs_context]";
- its product picture, from the shop's origin, loads under the client's CSP, whose
  img-src has the widget's sites next to the client configuration's logo: each change
  replaces only its own part;
- a group I leave (here: a service session transferred away) has its read marks
  dropped, not reloaded (which answered 403).
"""

from __future__ import annotations

import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, browser, playwright_sync  # noqa: F401  (the Chromium fixtures)
from tests.customer_service.widget_support import Stack, call, start_stack, wait_for, web_login

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from start_stack(tmp_path_factory.mktemp("cs-extras"))


def _img_src(stack: Stack) -> list[str]:
    with urllib.request.urlopen(stack.base + "/") as r:
        policy = r.headers["Content-Security-Policy"]
    return next(d for d in policy.split("; ") if d.startswith("img-src")).split()[1:]


def _plain_user(stack: Stack, display: str) -> str:
    name = f"u{uuid.uuid4().hex[:8]}"
    call("POST", stack.base + "/api/v1/auth/register", {"username": name, "password": PASSWORD, "display_name": display})
    return name


def test_me_says_agent_and_picture_sources_join_the_csp(stack: Stack) -> None:
    agent = stack.new_agent("wu", "Wu")
    assert stack.as_user(agent, "GET", "/api/v1/me")["cs_agent"] is True
    assert stack.as_user(_plain_user(stack, "Plain"), "GET", "/api/v1/me")["cs_agent"] is False
    visitor = call("POST", stack.base + "/api/v1/cs/visitors", {})
    assert call("GET", stack.base + "/api/v1/me", token=visitor["access_token"])["cs_agent"] is False

    # the widget's site is in the client's img-src; a logo from elsewhere joins it, and a
    # change of either part keeps the other
    assert stack.shop in _img_src(stack)
    stack.admin("PUT", "/client-config", {"logo_url": "https://cdn.example.com/logo.png"})
    try:
        assert {stack.shop, "https://cdn.example.com"} <= set(_img_src(stack))
        settings = stack.admin("GET", "/cs/settings")
        origins = settings["allowed_origins"]
        stack.admin("PUT", "/cs/settings", {**settings, "allowed_origins": [*origins, "https://img.example.org"]})
        try:
            assert {stack.shop, "https://cdn.example.com", "https://img.example.org"} <= set(_img_src(stack))
        finally:
            stack.admin("PUT", "/cs/settings", settings)
        assert "https://img.example.org" not in _img_src(stack)
        assert {stack.shop, "https://cdn.example.com"} <= set(_img_src(stack))
    finally:
        stack.admin("PUT", "/client-config", {"logo_url": None})
    assert "https://cdn.example.com" not in _img_src(stack) and stack.shop in _img_src(stack)


def _watch(ctx: Any, errors: list[str], urls: list[str]) -> None:
    ctx.set_default_timeout(20_000)
    ctx.on("page", lambda p: (p.on("pageerror", lambda e: errors.append(f"pageerror: {e}")),
                              p.on("console", lambda m: m.type == "error" and errors.append(m.text)),
                              p.on("request", lambda r: urls.append(r.url)),
                              p.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))))


def test_card_in_chat_picture_and_no_stray_requests(stack: Stack, browser: Any) -> None:
    errors: list[str] = []
    contexts = []
    try:
        # a user who is no agent: their client asks nothing of the customer-service routes
        urls: list[str] = []
        pctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        contexts.append(pctx)
        _watch(pctx, errors, urls)
        pp = pctx.new_page()
        web_login(pp, stack.base, _plain_user(stack, "普通用户"))
        # (Playwright's sync API delivers its events during its own calls: the evaluate)
        wait_for(lambda: pp.evaluate("1") and any(u.endswith("/api/v1/me") for u in urls), what="the client to ask who it is")
        pp.wait_for_selector("[data-testid=conv-list], [data-testid=chats]", state="attached")
        assert not [u for u in urls if "/api/v1/cs/" in u], urls
        assert pp.locator("[data-testid=nav-service]").count() == 0

        # an agent: online; a visitor asks about a product from the shop
        kai = stack.new_agent("kai", "小凯")
        ren = stack.new_agent("ren", "小任")
        aurls: list[str] = []
        actx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        contexts.append(actx)
        _watch(actx, errors, aurls)
        ap = actx.new_page()
        web_login(ap, stack.base, kai)
        ap.click("[data-testid=nav-service]")
        ap.wait_for_selector("[data-testid=cs-workbench]")
        stack.as_user(kai, "PUT", "/api/v1/cs/agent/state", {"state": "online"})
        visitor = call("POST", stack.base + "/api/v1/cs/visitors", {"name": "看杯子的人"})
        ctx = {"type": "product", "title": "青花瓷茶杯", "url": stack.shop + "/product/p1",
               "image_url": stack.shop + "/static/cup.svg", "price": "59.00"}
        session = call("POST", stack.base + "/api/v1/cs/sessions", {"queue_id": stack.queue_id, "context": ctx},
                       visitor["access_token"])
        assert session["state"] == "active" and session["agent"]["user_id"] == stack.agents[kai]
        conv = session["conv"]
        reads_url = f"/conversations/{urllib.parse.quote(conv, safe='')}/reads"

        # the workbench: the card's picture from the shop's origin loads (the CSP allows it)
        row = ap.locator(f"[data-testid=cs-active] [data-testid=cs-session][data-session='{session['session_id']}']")
        row.wait_for()
        row.locator(".cs-row-main").click()
        side = "[data-testid=cs-info] [data-testid=cs-context-img]"
        ap.wait_for_function(f"(() => {{ const i = document.querySelector({side!r}); return i && i.complete && i.naturalWidth > 0; }})()")
        # the chat: the card message is a card, with its picture and a link to the product
        # (the chats tab keeps its own view of the open chat, hidden: this is the workbench's)
        card = ap.locator(".cs-chat [data-testid=chat] [data-testid=cs-context]")
        card.wait_for()
        assert card.get_attribute("data-type") == "product"
        assert card.locator("[data-testid=cs-context-title]").inner_text() == "青花瓷茶杯"
        assert card.locator("[data-testid=cs-context-title]").get_attribute("href") == stack.shop + "/product/p1"
        assert "59.00" in card.inner_text()
        ap.wait_for_function("(() => { const i = document.querySelector('.cs-chat [data-testid=chat] [data-testid=cs-context-img]');"
                             " return i && i.complete && i.naturalWidth > 0; })()")
        assert "自定义消息" not in ap.inner_text(".cs-chat [data-testid=chat]")
        # the visitor turns to an order: a second card, an order's, the conversation's last
        # message; the conversation list says what it is
        order = {"type": "order", "title": "订单 A1001", "order_no": "A1001", "status": "已发货"}
        again = call("POST", stack.base + "/api/v1/cs/sessions", {"queue_id": stack.queue_id, "context": order},
                     visitor["access_token"])
        assert again["session_id"] == session["session_id"]
        ap.locator(".cs-chat [data-testid=chat] [data-testid=cs-context][data-type=order]").wait_for()
        ap.click("[data-testid=nav-chats]")
        item = ap.locator(f"[data-testid=conv-item][data-conv='{conv}']")
        item.wait_for()
        wait_for(lambda: "[咨询订单] 订单 A1001" in item.inner_text(), what="the card's line in the list")
        assert "自定义消息" not in item.inner_text()
        item.click()
        ap.fill("[data-testid=composer]", "您好，这款有货")
        ap.press("[data-testid=composer]", "Enter")
        ap.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('您好，这款有货')")
        wait_for(lambda: ap.evaluate("1") and any(reads_url in u for u in aurls),
                 what="the group's read marks loaded")

        # removed from a group whose read marks I loaded: they are dropped, not reloaded (403)
        ap.evaluate("() => { window.__out = []; window.__semot.client.on('event', (e) => { if (e.evt === 'group' && e.change"
                    " && ['member_left', 'member_removed'].includes(e.change.type)) window.__out.push(e.conv); }); }")
        group = stack.as_user(ren, "POST", "/api/v1/groups", {"name": "值班群", "members": [stack.agents[kai]]})
        gurl = f"/conversations/{urllib.parse.quote(group['conv'], safe='')}/reads"
        ap.locator(f"[data-testid=conv-item][data-conv='{group['conv']}']").click()
        ap.fill("[data-testid=composer]", "我今天值班")
        ap.press("[data-testid=composer]", "Enter")
        wait_for(lambda: ap.evaluate("1") and any(gurl in u for u in aurls), what="the group's read marks loaded")
        item.click()  # another chat: the group's marks stay loaded
        loaded = sum(gurl in u for u in aurls)
        stack.as_user(ren, "DELETE", f"/api/v1/groups/{group['group_id']}/members/{stack.agents[kai]}")
        ap.wait_for_function("c => window.__out.includes(c)", arg=group["conv"])
        ap.evaluate("() => window.__semot.client.me()")  # one more round trip after the change
        assert sum(gurl in u for u in aurls) == loaded

        # transferred away: I leave the session's group, nothing of it is asked for after
        ap.click("[data-testid=nav-service]")
        ap.locator(f"[data-testid=cs-session][data-session='{session['session_id']}'] .cs-row-main").click()
        ap.click("[data-testid=cs-transfer]")
        ap.click("[data-testid=cs-transfer-target]")
        ap.click(".el-select-dropdown__item:has-text('小任')")
        ap.click("[data-testid=cs-transfer-go]")
        ap.wait_for_function("c => window.__out.includes(c)", arg=conv)
        wait_for(lambda: stack.as_user(ren, "GET", "/api/v1/cs/agent/workbench")["active"], what="the colleague has it")
        wait_for(lambda: not ap.locator(f"[data-testid=cs-active] [data-testid=cs-session][data-session='{session['session_id']}']").count(),
                 what="gone from my workbench")
        ap.evaluate("() => window.__semot.client.me()")
        assert not errors, "\n".join(errors)
    finally:
        for c in contexts:
            c.close()
