"""LDAP in Chromium: a directory user signs in to the web client with the directory
password (a wrong one is refused on the login page), and a directory administrator (a
member of the group mapped to super_admin) signs in to the console, syncs the
directory from the "Directory sync" page and maps a group to a role there."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, browser, playwright_sync  # noqa: F401  (fixtures)
from tests.sso.slapd_support import GROUPS, Slapd
from tests.sso.support import uid
from tests.support.server import ServerProcess

SUPERS = f"cn=im-admins,{GROUPS}"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    with Slapd(tmp_path_factory.mktemp("slapd-browser")) as d:
        d.add_ou("ou=Support", "Support")
        d.add_group("im-admins", [f"cn=nobody,{GROUPS}"])
        yield d


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, directory: Slapd) -> Iterator[ServerProcess]:
    env = directory.settings_env(SEMOT_LDAP_GROUP_ROLES=json.dumps({SUPERS: "super_admin"}))
    srv = ServerProcess(tmp_path_factory.mktemp("ldap-browser") / "data", env).start()
    yield srv
    srv.kill()


def new_page(browser: Any, url: str, locale: str = "zh-CN") -> tuple[Any, Any, list[str]]:
    context = browser.new_context(locale=locale, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(url)
    return context, page, errors


def test_web_client_login_with_the_directory_password(browser: Any, server: ServerProcess, directory: Slapd) -> None:
    name = uid("wang")
    directory.add_user(name, "wang-directory-pw", ou="ou=Support", cn="王芳")
    context, page, errors = new_page(browser, server.base + "/")
    try:
        page.wait_for_selector("[data-testid=ldap-hint]")  # the login page says the directory password works
        page.fill("[data-testid=username]", name)
        page.fill("[data-testid=password]", "not-the-password")
        page.click("[data-testid=submit]")
        page.wait_for_selector("[data-testid=login-error]")
        page.fill("[data-testid=password]", "wang-directory-pw")
        page.click("[data-testid=submit]")
        page.wait_for_selector("[data-testid=conv-list]", state="attached")
        page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
        assert page.evaluate("() => window.__semot.client.userId") == name
        assert not errors, errors
    finally:
        context.close()


def test_console_sync_and_group_mapping(browser: Any, server: ServerProcess, directory: Slapd) -> None:
    boss = uid("boss")
    boss_dn = directory.add_user(boss, "boss-directory-pw", ou="ou=Support", cn="Boss")
    directory.set_members(SUPERS, [boss_dn])
    newcomer = uid("li")
    directory.add_user(newcomer, "li-directory-pw", ou="ou=Support", cn="李雷")
    context, page, errors = new_page(browser, server.base + "/admin/", locale="en")
    try:
        page.fill("[data-testid=username]", boss)
        page.fill("[data-testid=password]", "boss-directory-pw")
        page.click("[data-testid=submit]")
        page.wait_for_selector("[data-testid=admin-shell]")
        page.evaluate("() => { location.hash = '#/ldap' }")
        page.wait_for_selector("[data-testid=admin-main][data-page='ldap']")
        assert page.text_content("[data-testid=ldap-url]") == directory.url
        page.click("[data-testid=ldap-sync]")
        page.wait_for_selector("[data-testid=ldap-run-state][data-state='ok']", timeout=30_000)
        assert "Created" in page.text_content("[data-testid=ldap-runs]")
        # map another group to the auditor role on the page
        page.click("[data-testid=ldap-map-add]")
        rows = page.locator("[data-testid=ldap-map-group]")
        rows.nth(rows.count() - 1).fill(f"cn=auditors,{GROUPS}")
        page.click("[data-testid=ldap-map-save]")
        page.wait_for_selector(".el-message--success")
        assert not errors, errors
    finally:
        context.close()
    # through the API as the boss: the mapping saved, the run, and the newcomer made by the
    # sync (in the Support department) before ever signing in

    def call(method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        req = urllib.request.Request(server.base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=15) as r:
            return json.loads(r.read())

    token = call("POST", "/api/v1/auth/login", body={"username": boss, "password": "boss-directory-pw"})["access_token"]
    status = call("GET", "/api/admin/v1/ldap", token)
    assert status["group_roles"] == {SUPERS: "super_admin", f"cn=auditors,{GROUPS}": "auditor"}
    assert status["runs"][0]["counts"]["created"] >= 1 and status["runs"][0]["by"] == boss
    person = call("GET", f"/api/admin/v1/users/{newcomer}", token)
    assert person["display_name"] == "李雷" and [d["name"] for d in person["departments"]] == ["Support"]
