"""The web client keeps its refresh token out of reach of scripts (issue 8, §5): an
HttpOnly, SameSite=Strict cookie scoped to /api/v1/auth; localStorage and
sessionStorage hold no token, and a reload signs in again through the cookie."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import new_user
from tests.support.server import ServerProcess

STORAGE_DUMP = """() => {
  const dump = (s) => Object.fromEntries([...Array(s.length).keys()].map((i) => [s.key(i), s.getItem(s.key(i))]));
  return JSON.stringify([dump(localStorage), dump(sessionStorage)]);
}"""


def test_no_refresh_token_in_web_storage_and_reload_keeps_the_login(server: ServerProcess, open_tab: Any) -> None:
    user = new_user(server, "cookie")
    tab = open_tab(user)
    cookies = {c["name"]: c for c in tab.context.cookies()}
    refresh = cookies["semot_refresh"]
    assert refresh["httpOnly"] is True and refresh["sameSite"] == "Strict" and refresh["path"] == "/api/v1/auth"
    access = tab.js("() => window.__semot.client.accessToken")
    assert access and tab.js("() => window.__semot.client.refreshToken") is None
    stored = tab.js(STORAGE_DUMP)
    assert refresh["value"] not in stored and access not in stored and "refresh_token" not in stored, stored
    assert "semot_refresh" not in tab.js("() => document.cookie")  # scripts cannot read it

    tab.page.reload()
    tab.wait_open()  # signed in again through the cookie: no login form
    assert tab.page.locator("[data-testid=submit]").count() == 0
    assert tab.js("() => window.__semot.client.userId") == user
    rotated = {c["name"]: c for c in tab.context.cookies()}["semot_refresh"]
    assert rotated["value"] != refresh["value"]  # the reload refreshed: a new refresh token
    stored = tab.js(STORAGE_DUMP)
    assert rotated["value"] not in stored and "refresh_token" not in stored
    tab.assert_no_console_errors()
