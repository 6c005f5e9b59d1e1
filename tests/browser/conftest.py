"""Browser tests: Debian's Chromium driven by Playwright (headless), against a real
`semot serve` subprocess. Never downloads a browser. Skipped when Chromium or Playwright
is missing, except under CI (CI=true), where that is a failure."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess

CHROMIUM = os.environ.get("SEMOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "password123"
IN_CI = os.environ.get("CI") == "true"


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"browser tests cannot run in CI: {why}")
    pytest.skip(why)


# Playwright's sync API runs its event loop in a greenlet of this thread: while it is
# alive, asyncio believes a loop is running here, which breaks the async tests of other
# folders. So it lives for one module at a time, never for the whole session.
@pytest.fixture(scope="module")
def playwright_sync() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_sync: Any) -> Iterator[Any]:
    b = playwright_sync.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("browser") / "data").start()
    yield srv
    srv.kill()


def http_json(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def new_user(server: ServerProcess, prefix: str = "u") -> str:
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    http_json("POST", server.base + "/api/v1/auth/register", {"username": name, "password": PASSWORD})
    return name


@dataclass
class Tab:
    """A signed-in browser tab, collecting what the console says."""

    page: Any
    context: Any
    user: str
    errors: list[str] = field(default_factory=list)

    def js(self, expr: str, arg: Any = None) -> Any:
        return self.page.evaluate(expr, arg)

    def wait_open(self, timeout: float = 15_000) -> None:
        self.page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=timeout)

    def open_direct(self, peer: str) -> None:
        """Start (or open) the direct chat with `peer` through the UI."""
        self.page.click("[data-testid=new-menu]")
        self.page.click("[data-testid=new-chat]")
        self.page.fill("[data-testid=new-chat-user]", peer)
        self.page.click("[data-testid=new-chat-start]")
        self.page.wait_for_selector(f"[data-testid=chat][data-conv='{direct(self.user, peer)}']")

    def open_conv(self, conv: str) -> None:
        self.page.click(f"[data-testid=conv-item][data-conv='{conv}']")
        self.page.wait_for_selector(f"[data-testid=chat][data-conv='{conv}']")

    def send(self, text: str) -> None:
        self.page.fill("[data-testid=composer]", text)
        self.page.press("[data-testid=composer]", "Enter")

    def texts(self) -> list[str]:
        """The texts of the open chat, top to bottom (pending sends included)."""
        return self.page.eval_on_selector_all("[data-testid=chat] [data-testid=msg-text]", "els => els.map(e => e.textContent)")

    def wait_texts(self, expected: list[str], timeout: float = 15_000) -> None:
        self.page.wait_for_function(
            """exp => {
                const got = [...document.querySelectorAll('[data-testid=chat] [data-testid=msg-text]')].map(e => e.textContent);
                return got.length >= exp.length && JSON.stringify(got.slice(-exp.length)) === JSON.stringify(exp);
            }""",
            arg=expected,
            timeout=timeout,
        )

    def assert_no_console_errors(self, allow: Callable[[str], bool] = lambda _m: False) -> None:
        bad = [e for e in self.errors if not allow(e)]
        assert not bad, f"console errors in {self.user}'s tab: {bad}"


def direct(a: str, b: str) -> str:
    return f"d:{a}:{b}" if a < b else f"d:{b}:{a}"


@pytest.fixture
def open_tab(browser: Any, server: ServerProcess) -> Iterator[Callable[..., Tab]]:
    """open_tab(user, **context_options) -> a Tab signed in through the login form."""
    tabs: list[Tab] = []

    def make(user: str, *, login: bool = True, locale: str = "zh-CN", **ctx: Any) -> Tab:
        context = browser.new_context(locale=locale, **{"viewport": {"width": 1280, "height": 800}, **ctx})
        page = context.new_page()
        page.set_default_timeout(15_000)
        tab = Tab(page, context, user)
        page.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
        page.on("pageerror", lambda e: tab.errors.append(f"pageerror: {e}"))
        page.on("dialog", lambda d: (tab.errors.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(server.base + "/")
        if login:
            page.fill("[data-testid=username]", user)
            page.fill("[data-testid=password]", PASSWORD)
            page.click("[data-testid=submit]")
            page.wait_for_selector("[data-testid=conv-list]", state="attached")
            tab.wait_open()
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.context.close()


def server_history(server: ServerProcess, user: str, conv: str) -> list[dict[str, Any]]:
    tokens = http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})
    try:
        page = http_json("GET", f"{server.base}/api/v1/conversations/{conv}/messages?after=0&limit=200", token=tokens["access_token"])
    except urllib.error.HTTPError as exc:  # pragma: no cover - diagnostic
        raise AssertionError(exc.read()) from exc
    return page["messages"]


def confirm_box(page: Any) -> None:
    page.click(".el-message-box .el-message-box__btns .el-button--primary")


def member_cmd(page: Any, user: str, item: str) -> None:
    """Choose an action from a group member's menu (opened again if a live reload closed it)."""
    for attempt in range(3):
        page.click(f"[data-testid=gp-member][data-user='{user}'] [data-testid=gp-member-more]")
        try:
            page.locator(f"[data-testid={item}]:visible").click(timeout=3_000)
            return
        except Exception:
            if attempt == 2:
                raise
            page.wait_for_timeout(300)
