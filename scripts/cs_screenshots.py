#!/usr/bin/env python3
"""Take the screenshots in docs/screenshots/customer-service/ of the customer service
(docs/customer-service.md), in Simplified Chinese.

Starts a throwaway `semot serve` with a super admin and the sample shop
(examples/shop) on another origin, exactly as tests/customer_service/test_widget_shop.py
does; sets up two queues and three agents through the admin API, seeds a few rated
sessions for the statistics (Python SDK), then drives Debian's Chromium (headless,
Playwright): an anonymous visitor on a phone leaves a message while nobody is online,
an agent goes online in the web client's workbench, a signed-in buyer asks about a
product and the agent answers, and the admin console's 客服 page:

    python scripts/cs_screenshots.py                    # needs playwright, chromium, flask
    python scripts/cs_screenshots.py --out /tmp/shots

For Chinese text and the emoji of the widget's toolbar to render, install fonts-noto-cjk and
fonts-noto-color-emoji.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402
from tests.browser.admin.conftest import ADMIN, ADMIN_PASSWORD  # noqa: E402
from tests.browser.conftest import PASSWORD  # noqa: E402
from tests.customer_service.widget_support import (  # noqa: E402
    Stack,
    agent_online,
    buyer_at_product,
    call,
    start_stack,
    widget_frame,
)

from semot.client import SemotClient  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
V = "/api/v1/cs"


class Loop:
    """An asyncio loop in a thread: keeps an SDK agent connected (an agent counts as
    online only while connected) while Playwright drives the browser synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def seed(stack: Stack, loop: Loop) -> tuple[SemotClient, str]:
    """A second queue, agents 小美 (售前), 阿强 (售前 + 售后, connected by the SDK) and 老王
    (售后, never connected); three rated sessions of 阿强 for the statistics."""
    after = stack.admin("POST", "/cs/queues", {"name": "售后", "description": "退换货、物流与发票",
                                                    "position": 1})["queue_id"]
    settings = stack.admin("GET", "/cs/settings")
    stack.admin("PUT", "/cs/settings", {**settings, "timezone": "Asia/Shanghai"})
    mei = stack.new_agent("mei", "小美", field_="售前咨询")
    qiang = stack.new_agent("qiang", "阿强", field_="订单咨询")
    stack.admin("PUT", f"/cs/agents/{stack.agents[qiang]}", {"queues": [stack.queue_id, after], "field": "订单咨询",
                                                             "max_concurrent": 5})
    wang = stack.new_agent("wang", "老王", field_="售后问题", max_concurrent=3)
    stack.admin("PUT", f"/cs/agents/{stack.agents[wang]}", {"queues": [after], "field": "售后问题", "max_concurrent": 3})

    agent = SemotClient(stack.base, device_id="shots-qiang")

    async def online() -> None:
        await agent.login(qiang, PASSWORD)
        await agent.connect()
        await agent.http("PUT", V + "/agent/state", {"state": "online"})

    loop.run(online())
    rated = [("张先生", "退货地址是哪里？", "您好，退货地址已发到您的订单备注里", 5, "很耐心"),
             ("陈女士", "发票什么时候开？", "电子发票会在发货后 24 小时内发到邮箱", 4, ""),
             ("Li", "物流三天没更新了", "已帮您联系快递，明天上午送达", 5, "解决了")]
    for i, (name, _q, answer, score, comment) in enumerate(rated):
        vis = call("POST", stack.base + V + "/visitors", {"name": name})
        sess = call("POST", stack.base + V + "/sessions", {"queue_id": after}, vis["access_token"])
        assert sess["agent_id"] == stack.agents[qiang], sess
        time.sleep(2 + 3 * i)  # a first-response time the statistics can show
        loop.run(agent.send_text(sess["conv"], answer))
        loop.run(agent.http("POST", f"{V}/sessions/{sess['session_id']}/close"))
        call("POST", f"{stack.base}{V}/sessions/{sess['session_id']}/rating", {"score": score, "comment": comment},
             vis["access_token"])
    loop.run(agent.http("PUT", V + "/agent/state", {"state": "offline"}))
    return agent, mei


def shoot(target: Page, out: Path, name: str, **kw: Any) -> None:
    time.sleep(0.6)  # transitions, fonts
    path = out / f"{name}.png"
    target.screenshot(path=str(path), **kw)
    print("  ", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def new_context(browser: Browser, **kw: Any) -> BrowserContext:
    ctx = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN",
                                 "device_scale_factor": 1, **kw})
    ctx.set_default_timeout(30_000)
    return ctx


def phone_visitor(stack: Stack, browser: Browser, out: Path) -> None:
    """Nobody online: an anonymous visitor on a phone sees the offline message and leaves one."""
    ctx = new_context(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                      has_touch=True)
    page = ctx.new_page()
    page.goto(stack.shop + "/")
    page.click("[data-testid=semot-widget-button]")
    frame = widget_frame(page)
    frame.wait_for_selector("[data-testid=w-offline]")
    shoot(page, out, "phone-offline-zh")
    frame.click("[data-testid=w-start]")
    frame.wait_for_selector("[data-testid=w-banner][data-state=left_message]")
    frame.fill("[data-testid=w-input]", "想问一下青花瓷茶杯能不能刻字？方便的话请回电 138****5678")
    frame.press("[data-testid=w-input]", "Enter")
    frame.wait_for_selector("[data-testid=w-msg-text]:has-text('能不能刻字')")
    shoot(page, out, "phone-left-message-zh")
    ctx.close()


def buyer_and_agent(stack: Stack, browser: Browser, mei: str, out: Path) -> BrowserContext:
    """小美 online in the workbench; the buyer alice asks about a product; 小美 answers."""
    actx = new_context(browser, viewport={"width": 1440, "height": 900})
    ap = actx.new_page()
    agent_online(ap, stack, mei)

    bctx = new_context(browser)
    bp = bctx.new_page()
    frame = buyer_at_product(bp, stack)
    bp.click("[data-testid=semot-widget-button]")
    frame.wait_for_selector("[data-testid=w-agent]")
    bp.wait_for_load_state("networkidle")
    shoot(bp, out, "widget-agents-zh")

    bp.click("[data-testid=ask-service]")
    frame.wait_for_selector("[data-testid=w-banner][data-state=active]")
    frame.wait_for_selector("[data-testid=w-card-title]:has-text('青花瓷茶杯')")
    frame.fill("[data-testid=w-input]", "这个杯子有货吗？可以送礼盒包装吗？")
    frame.press("[data-testid=w-input]", "Enter")

    ap.wait_for_selector("[data-testid=cs-active] [data-testid=cs-session]")
    ap.locator("[data-testid=cs-active] [data-testid=cs-session]").first.locator(".cs-row-main").click()
    ap.wait_for_selector("[data-testid=cs-context-title]:has-text('青花瓷茶杯')")
    ap.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('有货吗')")
    for text in ("您好，有货的，今天下单今天发货", "礼盒包装免费，下单时备注“礼盒”就可以"):
        ap.fill("[data-testid=composer]", text)
        ap.press("[data-testid=composer]", "Enter")
        frame.wait_for_selector(f"[data-testid=w-msg-text]:has-text('{text[:6]}')")
    ap.wait_for_selector("[data-testid=chat] [data-testid=msg-text]:has-text('礼盒包装免费')")
    shoot(bp, out, "widget-chat-zh")
    shoot(ap, out, "workbench-zh")
    bctx.close()
    return actx  # 小美 stays online for the console's list of agents


def console(stack: Stack, browser: Browser, out: Path) -> None:
    ctx = new_context(browser, viewport={"width": 1440, "height": 1000})
    page = ctx.new_page()
    page.goto(stack.base + "/admin/")
    page.fill("[data-testid=username]", ADMIN)
    page.fill("[data-testid=password]", ADMIN_PASSWORD)
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=admin-shell]")
    page.evaluate("() => { location.hash = '#/customer-service' }")
    page.wait_for_selector("[data-testid=cs-queues-table] .el-table__row")
    shoot(page, out, "console-queues-zh")
    page.click(".el-tabs__item:has-text('客服人员')")
    page.wait_for_selector("[data-testid=cs-agents-table] .el-table__row")
    shoot(page, out, "console-agents-zh")
    page.click(".el-tabs__item:has-text('网站插件')")
    page.wait_for_selector("[data-testid=cs-snippet]")
    page.set_viewport_size({"width": 1440, "height": 1160})  # the console scrolls inside: the form and the snippet
    shoot(page, out, "console-widget-zh")
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.click(".el-tabs__item:has-text('统计')")
    page.wait_for_selector("[data-testid=cs-stat-conversations]")
    page.wait_for_load_state("networkidle")
    shoot(page, out, "console-stats-zh")
    ctx.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "customer-service")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    loop = Loop()
    with tempfile.TemporaryDirectory() as tmp, contextlib.contextmanager(start_stack)(Path(tmp)) as stack:
        agent, mei = seed(stack, loop)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                phone_visitor(stack, browser, args.out)
                loop.run(agent.http("PUT", V + "/agent/state", {"state": "busy"}))
                agent_ctx = buyer_and_agent(stack, browser, mei, args.out)
                console(stack, browser, args.out)
                agent_ctx.close()
                browser.close()
        finally:
            loop.run(agent.close())
            loop.stop()


if __name__ == "__main__":
    main()
