"""The widget, the agent workbench and the sample shop, end to end in Chromium.

The shop (examples/shop) runs on `http://localhost:<port>`, Semot on `http://127.0.0.1:<port>`:
two origins, as in production. A signed-in buyer asks about a product from its page,
the agent answers in the workbench of the web client, the buyer comes back later to
the answer (unread badge), an order update reaches the buyer's chat from the shop's
account, the agent closes and the buyer rates; an anonymous visitor on a phone leaves
a message while nobody is online and an agent answers it later. Webhooks reach the
shop's receiver.
"""

from __future__ import annotations

import base64
import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import browser, playwright_sync  # noqa: F401  (the Chromium fixtures)
from tests.customer_service.widget_support import (
    STAFF_AUTH,
    STAFF_PASSWORD,
    Stack,
    agent_online,
    buyer_at_product,
    start_stack,
    wait_for,
    widget_frame,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from start_stack(tmp_path_factory.mktemp("cs-widget"))


def _new_context(browser: Any, errors: list[str], **kw: Any) -> Any:
    ctx = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN", **kw})
    ctx.set_default_timeout(20_000)
    ctx.on("page", lambda p: (p.on("pageerror", lambda e: errors.append(f"pageerror: {e}")),
                              p.on("console", lambda m: m.type == "error" and errors.append(m.text)),
                              p.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))))
    return ctx


def _frame_texts(frame: Any) -> list[str]:
    return list(frame.eval_on_selector_all("[data-testid=w-msg-text]", "els => els.map(e => e.textContent)"))


def test_widget_page_policy(stack: Stack) -> None:
    """The frame page may be framed by the configured shop only; the loader is a script."""
    with urllib.request.urlopen(stack.base + "/widget/?origin=x") as r:
        csp = r.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {stack.shop}" in csp and "script-src 'self';" in csp
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp.split("style-src")[0]
    with urllib.request.urlopen(stack.base + "/widget.js") as r:
        assert r.headers["Content-Type"].startswith("text/javascript")
    for bad in ("/widget/loader.js", "/widget/%2e%2e/app.py", "/widget/nope.js"):
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(stack.base + bad)
        assert exc.value.code == 404


def test_shop_staff_pages_and_sign_in_redirect(stack: Stack) -> None:
    """The shop's staff pages and webhook log need the staff password; after signing in,
    `next` goes to a path of the shop only; its buyers are synced as customers."""
    for method, path in [("GET", "/staff"), ("POST", "/staff/orders/A1001/status"), ("GET", "/events?format=json")]:
        for auth in (None, "Basic " + base64.b64encode(b"staff:wrong").decode()):
            req = urllib.request.Request(stack.shop + path, data=b"status=x" if method == "POST" else None, method=method)
            if auth:
                req.add_header("Authorization", auth)
            with pytest.raises(urllib.error.HTTPError) as exc:
                urllib.request.urlopen(req)
            assert exc.value.code == 401, (method, path, auth)
    req = urllib.request.Request(stack.shop + "/staff", headers={"Authorization": STAFF_AUTH})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    for nxt, where in [("/orders", "/orders"), ("/\\evil.example/x", "/"), ("//evil.example", "/"),
                       ("http://evil.example/", "/"), ("/%0d%0aSet-Cookie:x", "/")]:
        conn = http.client.HTTPConnection("127.0.0.1", stack.shop_port, timeout=20)
        conn.request("POST", "/login?next=" + urllib.parse.quote(nxt, safe="/%"), body="username=bob&password=bob12345",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        assert resp.status == 302 and resp.getheader("Location") == where, (nxt, resp.getheader("Location"))
        conn.close()
    # the sign-in synced bob as a customer: limited to customer service
    key_ok = stack.admin("GET", "/users/shop-bob")
    assert key_ok["external"] is True


def test_buyer_asks_agent_answers_order_update(stack: Stack, browser: Any) -> None:
    errors: list[str] = []
    try:
        _buyer_flow(stack, browser, errors)
    finally:
        for ctx in browser.contexts:
            ctx.close()


def _buyer_flow(stack: Stack, browser: Any, errors: list[str]) -> None:
    agent = stack.new_agent("mei", "小美")
    agent_id = stack.agents[agent]
    # the agent, in the web client's workbench, goes online
    actx = _new_context(browser, errors)
    ap = actx.new_page()
    agent_online(ap, stack, agent)

    # the buyer signs in at the shop; the widget becomes that buyer (ticket SSO), no anonymous visitor
    bctx = _new_context(browser, errors)
    bp = bctx.new_page()
    frame = buyer_at_product(bp, stack)
    assert frame.evaluate("window.__semotWidget.me.visitor") is False
    bp.click("[data-testid=ask-service]")
    assert bp.locator("[data-testid=semot-widget-frame]").is_visible()
    frame.wait_for_selector("[data-testid=w-banner][data-state=active]")
    frame.wait_for_selector("[data-testid=w-card-title]:has-text('青花瓷茶杯')")  # the product card, in the chat
    frame.fill("[data-testid=w-input]", "这个杯子有货吗？")
    frame.press("[data-testid=w-input]", "Enter")

    # the agent sees the session, the member, the product, and answers
    ap.wait_for_selector("[data-testid=cs-active] [data-testid=cs-session]")
    row = ap.locator("[data-testid=cs-active] [data-testid=cs-session]").first
    assert "Alice" in row.inner_text() and "会员" in row.inner_text()
    row.locator(".cs-row-main").click()
    ap.wait_for_selector("[data-testid=cs-context-title]:has-text('青花瓷茶杯')")
    ap.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('这个杯子有货吗？')")
    ap.fill("[data-testid=composer]", "有货，今天下单今天发货")
    ap.press("[data-testid=composer]", "Enter")
    wait_for(lambda: "有货，今天下单今天发货" in _frame_texts(frame), what="the answer in the widget")

    # the buyer leaves; the agent writes again; the buyer comes back to it (unread badge)
    bp.close()
    ap.fill("[data-testid=composer]", "另外送您一张优惠券")
    ap.press("[data-testid=composer]", "Enter")
    ap.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('另外送您一张优惠券')")
    bp = bctx.new_page()
    bp.goto(stack.shop + "/")
    bp.wait_for_selector("[data-testid=semot-widget-badge]:not([hidden])")
    assert bp.inner_text("[data-testid=semot-widget-badge]") == "1"
    bp.click("[data-testid=semot-widget-button]")
    frame = widget_frame(bp)
    wait_for(lambda: "另外送您一张优惠券" in _frame_texts(frame), what="the missed answer")
    assert bp.locator("[data-testid=semot-widget-badge]").is_hidden()

    # an order update: a card from the shop's account in the buyer's web client, and a live notification
    with bp.context.expect_page() as opened:
        bp.goto(stack.shop + "/orders")
        bp.click("[data-testid=nav-messages]")  # the web client, signed in by an SSO ticket
    web = opened.value
    web.wait_for_function("window.__semot && window.__semot.state.connection === 'open' && window.__semot.state.me",
                          timeout=30_000)
    assert web.evaluate("window.__semot.state.me.user_id") == "shop-alice"
    web.evaluate("() => { window.__notes = []; window.__semot.client.on('event', (e) => { if (e.evt === 'notify') window.__notes.push(e.data); }); }")
    sp = _new_context(browser, errors, http_credentials={"username": "staff", "password": STAFF_PASSWORD}).new_page()
    sp.goto(stack.shop + "/staff")  # the shop's staff (basic auth)
    sp.select_option("[data-testid=staff-order][data-order=A1001] [data-testid=staff-status]", "已发货")
    sp.click("[data-testid=staff-order][data-order=A1001] [data-testid=staff-save]")
    web.wait_for_function("window.__notes.some(n => n.type === 'order_status' && n.order_no === 'A1001' && n.status === '已发货')")
    web.click("[data-testid=conv-item][data-conv='d:shop:shop-alice']")
    web.wait_for_selector("[data-testid=chat] [data-testid=app-card-title]:has-text('订单 A1001 已发货')")
    msgs = web.evaluate("window.__semot.state.convs['d:shop:shop-alice'].messages.map(m => m.body)")
    assert any(b.get("type") == "app_card" and b["data"]["order_no"] == "A1001" and b["data"]["status"] == "已发货" for b in msgs)

    # the agent closes; the buyer rates; the agent sees the rating
    ap.click("[data-testid=cs-close]")
    bp2 = bctx.new_page()
    bp2.goto(stack.shop + "/")
    bp2.click("[data-testid=semot-widget-button]")
    frame = widget_frame(bp2)
    frame.wait_for_selector("[data-testid=w-rating]")
    frame.click("[data-testid=w-star][data-score='4']")
    frame.fill("[data-testid=w-rate-comment]", "回复很快")
    frame.click("[data-testid=w-rate-submit]")
    frame.wait_for_selector("[data-testid=w-thanks]")
    ap.wait_for_selector("[data-testid=cs-recent] [data-testid=cs-session]")
    recent = stack.as_user(agent, "GET", "/api/v1/cs/agent/workbench")["recent"]
    assert recent[0]["rating"] == {"score": 4, "comment": "回复很快"} and recent[0]["agent_id"] == agent_id
    assert recent[0]["first_response_at"] is not None

    # Semot's webhooks reached the shop's receiver (signature checked there)
    def hook_texts() -> set[str]:
        return {e["body"]["data"]["body"].get("text", "") for e in stack.shop_events() if e["event"] == "message.sent"}

    wait_for(lambda: {"这个杯子有货吗？", "有货，今天下单今天发货"} <= hook_texts(), what="webhooks at the shop")
    assert not errors, "\n".join(errors)


def test_visitor_leaves_message_answered_later_and_transfer(stack: Stack, browser: Any) -> None:
    """Nobody online: an anonymous visitor on a phone leaves a message; an agent (English
    client) accepts it later and answers; the visitor, back on the page, is the same
    visitor and reads it; the agent transfers to a colleague, who sees the history."""
    errors: list[str] = []
    lin = stack.new_agent("lin", "Lin", field_="订单咨询")
    zhou = stack.new_agent("zhou", "Zhou")
    contexts = []
    try:
        phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
        vctx = _new_context(browser, errors, **phone)
        contexts.append(vctx)
        vp = vctx.new_page()
        vp.goto(stack.shop + "/")
        vp.click("[data-testid=semot-widget-button]")
        frame = widget_frame(vp)
        box = vp.locator("[data-testid=semot-widget-frame]").bounding_box()
        assert box is not None and (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)  # full screen
        frame.wait_for_selector("[data-testid=w-offline]:has-text('客服下班了')")
        assert frame.evaluate("window.__semotWidget.me.visitor") is True
        visitor = frame.evaluate("window.__semotWidget.me.user_id")
        frame.click("[data-testid=w-start]")
        frame.wait_for_selector("[data-testid=w-banner][data-state=left_message]")
        frame.fill("[data-testid=w-input]", "Please call me back about order A1001")
        frame.press("[data-testid=w-input]", "Enter")
        wait_for(lambda: "Please call me back about order A1001" in _frame_texts(frame), what="the left message")
        vp.close()  # the visitor goes away

        # later: an agent comes online (English client) and takes the left message
        lctx = _new_context(browser, errors, locale="en")
        contexts.append(lctx)
        lp = lctx.new_page()
        agent_online(lp, stack, lin, "Online")
        left = lp.locator("[data-testid=cs-left] [data-testid=cs-session]")
        left.first.wait_for()
        assert "Left messages" in lp.inner_text("[data-testid=cs-workbench]")
        left.first.locator("[data-testid=cs-accept]").click()
        lp.wait_for_selector("[data-testid=cs-active] [data-testid=cs-session]")
        lp.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('Please call me back')")
        lp.fill("[data-testid=composer]", "We will call you at 3 pm")
        lp.press("[data-testid=composer]", "Enter")
        lp.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('We will call you at 3 pm')")

        # the visitor comes back: the same visitor (visitor_key), the answer is there
        vp = vctx.new_page()
        vp.goto(stack.shop + "/product/p2")
        vp.wait_for_selector("[data-testid=semot-widget-badge]:not([hidden])")
        vp.click("[data-testid=semot-widget-button]")
        frame = widget_frame(vp)
        assert frame.evaluate("window.__semotWidget.me.user_id") == visitor
        wait_for(lambda: _frame_texts(frame)[-2:] == ["Please call me back about order A1001", "We will call you at 3 pm"],
                 what="the history in the widget")

        # a colleague comes online; the session is transferred to them and they read what came before
        zctx = _new_context(browser, errors)
        contexts.append(zctx)
        zp = zctx.new_page()
        agent_online(zp, stack, zhou)
        wait_for(lambda: any(a["user_id"] == stack.agents[zhou] and a["state"] == "online"
                             for q in stack.widget()["queues"] for a in q["agents"]), what="zhou online")
        lp.reload()  # the transfer list is read when the client connects
        lp.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
        lp.click("[data-testid=nav-service]")
        lp.locator("[data-testid=cs-active] [data-testid=cs-session] .cs-row-main").first.click()
        lp.click("[data-testid=cs-transfer]")
        lp.click("[data-testid=cs-transfer-target]")
        lp.click(".el-select-dropdown__item:has-text('Zhou')")
        lp.click("[data-testid=cs-transfer-go]")
        zp.wait_for_selector("[data-testid=cs-active] [data-testid=cs-session]")
        zp.locator("[data-testid=cs-active] [data-testid=cs-session] .cs-row-main").first.click()
        zp.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('We will call you at 3 pm')")
        zp.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('Please call me back')")
        wait_for(lambda: not lp.locator("[data-testid=cs-active] [data-testid=cs-session]").count(), what="gone from Lin")
        wait_for(lambda: frame.evaluate("window.__semotWidget.session.agent_id") == stack.agents[zhou], what="the widget follows")
        assert not errors, "\n".join(errors)
    finally:
        for ctx in contexts:
            ctx.close()


def test_frame_obeys_only_its_host(stack: Stack, browser: Any) -> None:
    """A widget frame opened for another host origin ignores this page's messages, while
    the page's own widget frame obeys the same message; the frame speaks English on ?lang=en."""
    errors: list[str] = []
    ctx = _new_context(browser, errors)
    try:
        page = ctx.new_page()
        page.goto(stack.shop + "/product/p3")
        real = widget_frame(page)
        page.evaluate("""base => {
            const f = document.createElement('iframe');
            f.id = 'other';
            f.src = base + '/widget/?lang=en&origin=' + encodeURIComponent('https://evil.example');
            document.body.appendChild(f);
        }""", stack.base)
        # page.frames is Playwright's cached view: a Playwright call (the evaluate) lets it catch up
        other = wait_for(lambda: page.evaluate("1") and next((f for f in page.frames if "evil.example" in f.url), None),
                         what="the other frame")
        other.wait_for_selector("[data-testid=w-start]")
        assert other.get_attribute("[data-testid=w-close]", "aria-label") == "Close"
        msg = {"semot_widget": 1, "type": "open", "context": {"type": "product", "title": "伪造的商品"}}
        page.evaluate("""msg => {
            document.getElementById('other').contentWindow.postMessage(msg, '*');
            document.querySelector('[data-testid=semot-widget-frame]').contentWindow.postMessage(msg, '*');
        }""", msg)
        real.wait_for_selector("[data-testid=w-card-title]:has-text('伪造的商品')", state="attached")  # the page's own widget obeys
        assert other.evaluate("window.__semotWidget.session") is None
        assert other.evaluate("window.__semotWidget.view") == "home"
        # what the other frame says goes nowhere (its host origin is not this page's): only that error
        assert all("evil.example" in e for e in errors), errors
    finally:
        ctx.close()
