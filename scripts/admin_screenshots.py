#!/usr/bin/env python3
"""Take the screenshots in docs/screenshots/admin/ of every admin console page, in
Simplified Chinese and English.

Starts a throwaway server with a super admin (`semot create-admin`), seeds demo data
(departments with members and titles, users, groups with messages, a failed login, an
auditor), then drives Debian's Chromium (headless, Playwright) through the login page
and every page the console has registered:

    python scripts/admin_screenshots.py                 # needs playwright and chromium
    python scripts/admin_screenshots.py --out /tmp/shots --pages users,dashboard

Files: `login-<lang>.png` and `<page>-<lang>.png` (lang: zh-CN, en). For Chinese text
to render, install fonts-noto-cjk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

from semot.client import SemotClient  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ADMIN, ADMIN_PASSWORD = "admin", "admin-password-123"
PASSWORD = "password123"
LANGS = ("zh-CN", "en")

PEOPLE = {
    "wangxm": ("王小明", "研发部", "技术总监"),
    "lijing": ("李静", "后端组", "高级工程师"),
    "zhangwei": ("张伟", "后端组", "工程师"),
    "chenyu": ("陈雨", "前端组", "前端工程师"),
    "liuyang": ("刘洋", "前端组", "设计师"),
    "zhaomin": ("赵敏", "市场部", "市场经理"),
    "sunli": ("孙丽", "市场部", "运营专员"),
    "zhoujie": ("周杰", "人力资源部", "HRBP"),
    "bob": ("Bob Li", "研发部", "Architect"),
    "erin": ("Erin Smith", "市场部", "Marketing"),
}


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def try_call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    """Seeding that depends on a part of the console still being built: skipped if absent."""
    try:
        return call(base, method, path, body, token)
    except urllib.error.HTTPError as exc:
        print(f"  (skipped {method} {path}: {exc.code})")
        return None


async def seed_chats(base: str) -> None:
    clients: dict[str, SemotClient] = {}
    for name in ("wangxm", "lijing", "zhangwei", "chenyu", "zhaomin", "bob"):
        c = SemotClient(base, device_id=f"seed-{name}")
        await c.login(name, PASSWORD)
        await c.connect()
        clients[name] = c
    w, li, zw, cy, zm, bob = clients.values()
    dev = await w.create_group("研发中心", ["lijing", "zhangwei", "chenyu", "bob"])
    await w.send_text(dev["conv"], "本周五发布 v2.0，请各模块负责人确认进度")
    await li.send_text(dev["conv"], "后端接口已全部联调完成")
    await cy.send_text(dev["conv"], "前端还剩两个页面，周四前完成")
    market = await zm.create_group("市场推广", ["wangxm", "bob"])
    await zm.send_text(market["conv"], "新版宣传材料已上传，请查收")
    await bob.send_text(market["conv"], "Looks great, thanks!")
    await zw.send_text("lijing", "下午的评审会改到三点")
    await li.send_text("zhangwei", "收到")
    for c in clients.values():
        await c.close()


def seed(base: str) -> None:
    token = call(base, "POST", "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PASSWORD})["access_token"]
    ids: dict[str, str] = {}
    for name, (display, _dept, _title) in PEOPLE.items():
        ids[name] = call(
            base, "POST", "/api/v1/auth/register", {"username": name, "password": PASSWORD, "display_name": display}
        )["user_id"]
    depts: dict[str, str] = {}

    def dept(name: str, parent: str | None = None) -> None:
        out = call(
            base, "POST", "/api/admin/v1/departments", {"name": name, "parent_id": depts.get(parent or "")}, token
        )
        depts[name] = out["department_id"]

    dept("总部")
    dept("研发部", "总部")
    dept("后端组", "研发部")
    dept("前端组", "研发部")
    dept("市场部", "总部")
    dept("人力资源部", "总部")
    for name, (_display, d, title) in PEOPLE.items():
        call(base, "PUT", f"/api/admin/v1/departments/{depts[d]}/members/{ids[name]}", {"title": title}, token)
    # an auditor (roles API) and a failed login for the login log
    roles = try_call(base, "GET", "/api/admin/v1/roles", token=token)
    if roles:
        by_name = {r["name"]: r["role_id"] for r in roles["roles"]}
        if "auditor" in by_name:
            try_call(base, "PUT", f"/api/admin/v1/admins/{ids['zhoujie']}", {"roles": [by_name["auditor"]]}, token)
    try:  # refused: a failed login in the login log
        call(base, "POST", "/api/v1/auth/login", {"username": "zhaomin", "password": "wrong-password"})
    except urllib.error.HTTPError:
        pass
    asyncio.run(seed_chats(base))


def settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    time.sleep(0.8)  # charts animate, tables fade in


def shoot(page: Page, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    print("  ", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "admin")
    ap.add_argument("--pages", default="", help="comma-separated page names (default: every registered page)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only = {p for p in args.pages.split(",") if p}

    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp) / "data")
        srv.data_dir.mkdir(parents=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "semot",
                "create-admin",
                ADMIN,
                "--password",
                ADMIN_PASSWORD,
                "--data-dir",
                str(srv.data_dir),
            ],
            env=srv.env,
            check=True,
            capture_output=True,
        )
        srv.start()
        try:
            seed(srv.base)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                for lang in LANGS:
                    ctx = browser.new_context(
                        locale=lang, viewport={"width": 1440, "height": 900}, device_scale_factor=1
                    )
                    page = ctx.new_page()
                    page.set_default_timeout(30_000)
                    page.goto(srv.base + "/admin/")
                    page.wait_for_selector("[data-testid=submit]")
                    settle(page)
                    shoot(page, args.out, f"login-{lang}")
                    page.fill("[data-testid=username]", ADMIN)
                    page.fill("[data-testid=password]", ADMIN_PASSWORD)
                    page.click("[data-testid=submit]")
                    page.wait_for_selector("[data-testid=admin-shell]")
                    names = page.evaluate("() => window.__semotAdmin.registry.pages.map(p => p.name)")
                    for name in names:
                        if only and name not in only:
                            continue
                        page.evaluate("h => { location.hash = h }", f"#/{name}")
                        page.wait_for_selector(f"[data-testid=admin-main][data-page='{name}']")
                        settle(page)
                        shoot(page, args.out, f"{name}-{lang}")
                    ctx.close()
                browser.close()
        finally:
            srv.kill()


if __name__ == "__main__":
    main()
