#!/usr/bin/env python3
"""Take the screenshots in docs/screenshots/ of the web client's main screens.

Starts a throwaway server, seeds a few users and conversations with the Python SDK,
then drives Debian's Chromium (headless, Playwright) through the screens:

    python scripts/screenshots.py            # needs: pip install playwright, apt-get install chromium
    python scripts/screenshots.py --out /tmp/shots

For Chinese text and emoji to render, install fonts-noto-cjk and fonts-noto-color-emoji.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

from semot.client import SemotClient  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "password123"


async def seed(base: str) -> None:
    people = {"alice": "王小明", "bob": "Bob Li", "carol": "陈静", "dave": "Dave", "erin": "Erin"}
    clients: dict[str, SemotClient] = {}
    for name, display in people.items():
        c = SemotClient(base, device_id=f"seed-{name}")
        await c.register(name, PASSWORD, display)
        await c.login(name, PASSWORD)
        await c.connect()
        clients[name] = c
    a, b, c, d, e = (clients[n] for n in people)
    group = await c.create_group("产品研发群", ["alice", "bob", "dave", "erin"])
    await c.send_text(group["conv"], "大家好，这周五发布 v2.0 🎉 请各自确认负责的模块")
    await b.send_text(group["conv"], "后端接口已经全部联调完成 👍")
    await d.send(group["conv"], "text", {"text": "@alice 测试报告已经更新了，麻烦看一下", "mentions": ["alice"]})
    await b.send_text("alice", "早上好！今天的评审会改到下午三点了")
    await a.send_text("bob", "收到，我会准时参加")
    await b.send_text("alice", "会议材料在这里：https://example.com/review/2024 ，请提前看一下")
    await b.send("alice", "location", {"lat": 31.230416, "lng": 121.473701, "title": "人民广场会议中心", "address": "上海市黄浦区人民大道 200 号"})
    await b.send("alice", "card", {"user_id": "carol"})
    await a.send_text("bob", "好的，谢谢！<b>加粗</b> 这种标签会按原样显示")
    await e.send_text("alice", "Hi! Are we still on for the demo tomorrow?")
    oops = await c.send_text("alice", "这条消息发错了")
    await c.recall(oops["conv"], oops["seq"])
    await d.send_text("alice", "周末一起打球吗？🏀")
    await d.send_text("alice", "周六下午两点，老地方")
    for cl in clients.values():
        await cl.close()


def login(page: Page, base: str, user: str) -> None:
    page.goto(base + "/")
    page.fill("[data-testid=username]", user)
    page.fill("[data-testid=password]", PASSWORD)
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=conv-item]")
    page.wait_for_function("document.querySelectorAll('[data-testid=conv-item]').length >= 5")
    time.sleep(0.3)


def open_conv(page: Page, conv: str) -> None:
    page.click(f"[data-testid=conv-item][data-conv='{conv}']")
    page.wait_for_selector(f"[data-testid=chat][data-conv='{conv}'] [data-testid=message]")
    time.sleep(0.4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp) / "data").start()
        try:
            asyncio.run(seed(srv.base))
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                # login page, Chinese
                ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", device_scale_factor=1)
                page = ctx.new_page()
                page.goto(srv.base + "/")
                page.wait_for_selector("[data-testid=submit]")
                page.screenshot(path=str(out / "login-zh.png"))
                # the main screen: a direct chat with text, link, location, card
                login(page, srv.base, "alice")
                open_conv(page, "d:alice:bob")
                page.fill("[data-testid=composer]", "下午见 😊")
                page.wait_for_selector("[data-testid=send]:not(.is-disabled)")
                time.sleep(0.3)
                page.screenshot(path=str(out / "chat-desktop-zh.png"))
                # a group with an @ mention picker open
                open_conv(page, "g:" + page.eval_on_selector("[data-testid=conv-item][data-conv^='g:']", "e => e.dataset.conv.slice(2)"))
                page.fill("[data-testid=composer]", "")
                page.click("[data-testid=mention-btn]")
                page.wait_for_selector("[data-testid=mention-list]")
                time.sleep(0.2)
                page.screenshot(path=str(out / "group-mention-zh.png"))
                page.keyboard.press("Escape")
                page.fill("[data-testid=composer]", "")
                # creating a group
                page.click("[data-testid=new-menu]")
                page.click("[data-testid=new-group]")
                page.fill("[data-testid=new-group-name]", "周末球队")
                members = page.locator("[data-testid=dlg-new-group] .el-input-tag input")
                members.fill("dave")
                members.press("Enter")
                time.sleep(0.4)
                page.screenshot(path=str(out / "new-group-zh.png"))
                page.keyboard.press("Escape")
                time.sleep(0.3)
                # English
                page.click("[data-testid=user-menu]")
                page.click("[data-testid=menu-lang-en]")
                open_conv(page, "d:alice:bob")
                page.fill("[data-testid=composer]", "")
                time.sleep(0.3)
                page.screenshot(path=str(out / "chat-desktop-en.png"))
                ctx.close()
                # phone: list and chat
                phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", device_scale_factor=2, is_mobile=True, has_touch=True)
                page = phone.new_page()
                login(page, srv.base, "alice")
                page.screenshot(path=str(out / "phone-list-zh.png"))
                open_conv(page, "d:alice:bob")
                page.screenshot(path=str(out / "phone-chat-zh.png"))
                # offline: the banner and a queued message
                phone.set_offline(True)
                page.wait_for_selector("[data-testid=conn-banner][data-state=offline]")
                page.fill("[data-testid=composer]", "这条消息会在联网后自动发送")
                page.keyboard.press("Enter")
                page.wait_for_selector("[data-testid=st-queued]")
                time.sleep(0.3)
                page.screenshot(path=str(out / "phone-offline-zh.png"))
                phone.set_offline(False)
                phone.close()
                browser.close()
        finally:
            srv.kill()
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main()
