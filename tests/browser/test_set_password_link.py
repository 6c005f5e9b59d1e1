"""One-time set-password links in the web client (Chromium, real server): an
administrator makes a link for an account that has no password; the link opens the
set-password page, which sets the password and signs in; the link then works no more;
an expired link says so; a tab signed in as someone else ends up signed in as the
link's owner. In zh-CN and English."""

from __future__ import annotations

import sqlite3
import urllib.error
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.admin.conftest import create_admin
from tests.browser.conftest import PASSWORD, http_json
from tests.support.server import ServerProcess

ADMIN, ADMIN_PW = "linkroot", "link-root-password"


@pytest.fixture(scope="module")
def link_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("setpw") / "data")
    create_admin(srv.data_dir, ADMIN, ADMIN_PW, srv.env)
    srv.start()
    yield srv
    srv.kill()


def _admin(server: ServerProcess) -> str:
    return str(
        http_json("POST", server.base + "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PW})["access_token"]
    )


def _account_and_link(server: ServerProcess, display: str) -> tuple[str, str]:
    """A new account without a password, and the path of its set-password link."""
    token = _admin(server)
    name = f"link{uuid.uuid4().hex[:8]}"
    http_json("POST", server.base + "/api/admin/v1/users", {"username": name, "display_name": display}, token)
    link = http_json("POST", f"{server.base}/api/admin/v1/users/{name}/password-link", {}, token)
    assert link["path"].startswith("/#/set-password?token=")
    return name, str(link["path"])


def _open(browser: Any, server: ServerProcess, path: str, locale: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(server.base + path)
    return context, page, errors


def _can_login(server: ServerProcess, name: str, password: str) -> bool:
    try:
        http_json("POST", server.base + "/api/v1/auth/login", {"username": name, "password": password})
    except urllib.error.HTTPError as exc:
        assert exc.code == 401
        return False
    return True


def _signed_in(page: Any) -> None:
    page.wait_for_selector("[data-testid=conv-list]", state="attached")
    page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")


def _expected_errors(message: str) -> bool:
    """The 404s the page asks for on purpose (a used or expired link)."""
    return "404" in message


def test_link_sets_the_password_and_signs_in(browser: Any, link_server: ServerProcess) -> None:
    name, path = _account_and_link(link_server, "林新")
    context, page, errors = _open(browser, link_server, path, "zh-CN")
    page.wait_for_selector("[data-testid=set-password-page]")
    assert "林新" in page.inner_text("[data-testid=setpw-for]") and name in page.inner_text("[data-testid=setpw-for]")
    assert "设置密码" in page.inner_text("[data-testid=set-password-page]")
    page.fill("[data-testid=setpw-password]", "my-own-password")
    page.fill("[data-testid=setpw-password2]", "my-own-passw0rd")
    page.click("[data-testid=setpw-submit]")
    page.wait_for_selector("text=两次输入的密码不一致")
    page.fill("[data-testid=setpw-password2]", "my-own-password")
    page.click("[data-testid=setpw-submit]")
    _signed_in(page)
    assert page.evaluate("() => window.__semot.state.me && window.__semot.state.me.user_id") == name
    assert "token" not in page.evaluate("() => location.href")  # the token left the address bar
    assert _can_login(link_server, name, "my-own-password")
    assert not errors, errors
    context.close()

    # the link is used up: a second visit says so, and leads to the login form
    context, page, errors = _open(browser, link_server, path, "zh-CN")
    page.wait_for_selector("[data-testid=setpw-invalid]")
    assert "已被使用" in page.inner_text("[data-testid=setpw-invalid]")
    page.click("[data-testid=setpw-to-login]")
    page.wait_for_selector("[data-testid=submit]")
    assert not [e for e in errors if not _expected_errors(e)], errors
    context.close()


def test_expired_link_and_another_user_signed_in(browser: Any, link_server: ServerProcess) -> None:
    name, path = _account_and_link(link_server, "Lin Xin")
    db = sqlite3.connect(link_server.data_dir / "semot.db", timeout=10)
    db.execute("UPDATE password_links SET expires_at = 1 WHERE user_id = ?", (name,))
    db.commit()
    db.close()
    context, page, errors = _open(browser, link_server, path, "en")
    page.wait_for_selector("[data-testid=setpw-invalid]")
    assert "has expired" in page.inner_text("[data-testid=setpw-invalid]")
    context.close()

    # a tab signed in as someone else: the link's owner is signed in afterwards
    other = f"oth{uuid.uuid4().hex[:8]}"
    http_json("POST", link_server.base + "/api/v1/auth/register", {"username": other, "password": PASSWORD})
    name2, path2 = _account_and_link(link_server, "Second Person")
    context, page, errors = _open(browser, link_server, "/", "en")
    page.fill("[data-testid=username]", other)
    page.fill("[data-testid=password]", PASSWORD)
    page.click("[data-testid=submit]")
    _signed_in(page)
    page.goto(link_server.base + path2)
    page.wait_for_selector("[data-testid=set-password-page]")
    assert "Choose a password for Second Person" in page.inner_text("[data-testid=setpw-for]")
    page.fill("[data-testid=setpw-password]", "second-password")
    page.fill("[data-testid=setpw-password2]", "second-password")
    page.click("[data-testid=setpw-submit]")
    _signed_in(page)
    page.wait_for_function("n => window.__semot.state.me && window.__semot.state.me.user_id === n", arg=name2)
    assert _can_login(link_server, name2, "second-password")
    assert not [e for e in errors if not _expected_errors(e)], errors
    context.close()
