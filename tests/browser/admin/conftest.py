"""Browser tests of the admin console (/admin/): a real `semot serve` subprocess with a
super admin made by `semot create-admin`, and Debian's Chromium driven by Playwright.

    def test_users_page(admin_console: AdminConsole) -> None:
        tab = admin_console.tab              # a super admin, signed in, zh-CN
        tab.goto("users")                    # /admin/#/users, waits until the page shows
        alice = admin_console.new_user("alice")            # a plain user (API)
        tab_en = admin_console.login_as(alice, locale="en")  # another browser, signed in
        admin_console.api("GET", "/api/admin/v1/users")    # the API as the super admin

The server is shared by every admin test of the session: make names unique
(`new_user` does), and do not count on an empty database.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD
from tests.support.server import ServerProcess

ADMIN = "root"
ADMIN_PASSWORD = "admin-password-123"
DESKTOP = {"width": 1440, "height": 900}


def create_admin(data_dir: Path, username: str, password: str, env: dict[str, str]) -> None:
    """`semot create-admin` on a data directory (before the server starts)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", username, "--password", password, "--data-dir", str(data_dir)],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own (the chat client's tests share theirs) with the super admin `root`."""
    srv = ServerProcess(tmp_path_factory.mktemp("admin") / "data")
    create_admin(srv.data_dir, ADMIN, ADMIN_PASSWORD, srv.env)
    srv.start()
    yield srv
    srv.kill()


def request_json(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    """One HTTP call; raises urllib.error.HTTPError (with .code) on 4xx/5xx."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=15) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


@dataclass
class AdminTab:
    """One browser context on the console, collecting what the browser console says."""

    page: Any
    context: Any
    user: str | None
    base: str
    errors: list[str] = field(default_factory=list)

    def js(self, expr: str, arg: Any = None) -> Any:
        return self.page.evaluate(expr, arg)

    def login(self, user: str, password: str = PASSWORD, *, expect_ok: bool = True) -> None:
        """Fill and send the login form (the page must show it)."""
        self.page.fill("[data-testid=username]", user)
        self.page.fill("[data-testid=password]", password)
        self.page.click("[data-testid=submit]")
        if expect_ok:
            self.wait_shell()
            self.user = user

    def wait_shell(self, timeout: float = 15_000) -> None:
        self.page.wait_for_selector("[data-testid=admin-shell]", timeout=timeout)

    def goto(self, name: str, query: str = "") -> None:
        """Open /admin/#/<name> and wait until the content area shows that page."""
        self.page.evaluate("h => { location.hash = h }", f"#/{name}{'?' + query if query else ''}")
        self.wait_page(name)

    def wait_page(self, name: str, timeout: float = 15_000) -> None:
        self.page.wait_for_selector(f"[data-testid=admin-main][data-page='{name}']", timeout=timeout)

    def set_language(self, locale: str) -> None:
        """Choose "zh-CN" or "en" with the language switch in the header (or on the login page)."""
        if self.js("() => document.documentElement.lang") == locale:
            return
        self.page.locator("[data-testid=lang-switch]:visible").first.click()
        self.page.locator(f"[data-testid=lang-{locale}]:visible").click()
        self.page.wait_for_function("l => document.documentElement.lang === l", arg=locale)

    def menu(self) -> list[str]:
        """The page names in the sidebar menu, top to bottom."""
        names = self.page.eval_on_selector_all(
            "[data-testid=admin-menu] [data-testid^=menu-]", "els => els.map(e => e.dataset.testid.slice(5))"
        )
        return [str(n) for n in names]

    def assert_no_console_errors(self, allow: Callable[[str], bool] = lambda _m: False) -> None:
        bad = [e for e in self.errors if not allow(e)]
        assert not bad, f"console errors in the admin console ({self.user}): {bad}"


@dataclass
class AdminConsole:
    """The admin test kit: the server, the super admin's API access and browser tabs."""

    server: ServerProcess
    browser: Any
    tab: AdminTab
    admin: str = ADMIN
    admin_password: str = ADMIN_PASSWORD
    tabs: list[AdminTab] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # username -> user_id of new_user's users
    _token: str | None = None

    @property
    def base(self) -> str:
        return self.server.base

    def token(self, fresh: bool = False) -> str:
        if self._token is None or fresh:
            tokens = request_json(
                "POST", self.base + "/api/v1/auth/login", {"username": self.admin, "password": self.admin_password}
            )
            self._token = tokens["access_token"]
        assert self._token is not None
        return self._token

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """Call the API as the super admin (or with `token`); HTTPError on failure."""
        try:
            return request_json(method, self.base + path, body, token or self.token())
        except urllib.error.HTTPError as exc:
            if exc.code != 401 or token is not None:
                raise
        return request_json(method, self.base + path, body, self.token(fresh=True))

    def new_user(self, prefix: str = "u", *, admin: bool = False, display_name: str | None = None) -> str:
        """Register a user (password PASSWORD); `admin=True` makes it an is_admin super admin."""
        name = f"{prefix}{uuid.uuid4().hex[:8]}"
        body: dict[str, Any] = {"username": name, "password": PASSWORD}
        if display_name:
            body["display_name"] = display_name
        user_id = request_json("POST", self.base + "/api/v1/auth/register", body)["user_id"]
        self.ids[name] = user_id
        if admin:
            self.api("PATCH", f"/api/admin/v1/users/{user_id}", {"is_admin": True})
        return name

    def grant(self, username: str, *roles: str, departments: list[str] | None = None) -> None:
        """Make a new_user user an administrator with these roles (names: "auditor", ...),
        through the roles API; pytest.skip when the server has none yet."""
        try:
            listed = self.api("GET", "/api/admin/v1/roles")["roles"]
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                pytest.skip("the server has no roles API yet")
            raise
        by_name = {r["name"]: r["role_id"] for r in listed}
        body: dict[str, Any] = {"roles": [by_name[r] for r in roles]}
        if departments is not None:
            body["departments"] = departments
        self.api("PUT", f"/api/admin/v1/admins/{self.ids[username]}", body)

    def user_token(self, username: str, password: str = PASSWORD) -> str:
        tokens = request_json("POST", self.base + "/api/v1/auth/login", {"username": username, "password": password})
        return str(tokens["access_token"])

    def open(self, *, locale: str = "zh-CN", viewport: dict[str, int] | None = None, path: str = "/admin/") -> AdminTab:
        """A new browser context at the console, not signed in (the login page)."""
        context = self.browser.new_context(locale=locale, viewport=viewport or DESKTOP)
        page = context.new_page()
        page.set_default_timeout(30_000)
        tab = AdminTab(page, context, None, self.base)
        page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: tab.errors.append(f"pageerror: {e}"))
        page.goto(self.base + path)
        self.tabs.append(tab)
        return tab

    def login_as(
        self,
        user: str,
        password: str = PASSWORD,
        *,
        locale: str = "zh-CN",
        viewport: dict[str, int] | None = None,
        path: str = "/admin/",
    ) -> AdminTab:
        """A new browser context signed in to the console as `user` (an administrator)."""
        tab = self.open(locale=locale, viewport=viewport, path=path)
        tab.page.wait_for_selector("[data-testid=submit]")
        tab.login(user, password)
        return tab


@pytest.fixture
def admin_console(browser: Any, admin_server: ServerProcess) -> Iterator[AdminConsole]:
    """The kit with `tab`: a fresh browser context signed in as the super admin, zh-CN."""
    kit = AdminConsole(admin_server, browser, tab=None)  # type: ignore[arg-type]
    kit.tab = kit.login_as(ADMIN, ADMIN_PASSWORD)
    yield kit
    for tab in kit.tabs:
        tab.context.close()


@pytest.fixture
def admin_console_en(admin_console: AdminConsole) -> AdminConsole:
    """The same kit with its tab switched to English."""
    admin_console.tab.set_language("en")
    return admin_console
