"""The login-method switch with every sign-in on at once: a real OpenLDAP (slapd), a
real OpenID Connect provider (oidc-provider, npm) and one `semot serve` (docs/sso.md).

"SSO only" switches local passwords and self-registration off, but directory (LDAP)
accounts keep the password form (labelled as the directory sign-in), the break-glass
super administrator still gets in (a wrong password is 401 for everyone: the switch is
asked only after the password), and OpenID Connect sign-ins are logged as `oidc` and
bring the display name and departments up to date at every sign-in (joining and leaving
the claim's departments, never one an administrator chose). A directory-managed account
is never linked to the provider.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.sso.conftest import CLIENT_ID, CLIENT_SECRET, OidcProvider
from tests.sso.slapd_support import Slapd
from tests.sso.support import browser_page, call, create_admin, login, provider_login
from tests.support.server import ServerProcess, free_port

TAG = uuid.uuid4().hex[:6]
ROOT, PAT, LIN, ERIN = f"root{TAG}", f"pat{TAG}", f"lin{TAG}", f"erin{TAG}"
ADMIN_PW, PAT_PW, LIN_PW = "admin-password-123", "pat-password-123", "lin-directory-pw"
OPS, HAND = f"Ops{TAG}", f"Hand{TAG}"


@dataclass
class Env:
    provider: OidcProvider
    server: ServerProcess
    admin: str  # the break-glass super administrator's access token


def _logs_until(env: Env, ok: Any) -> list[dict[str, Any]]:
    """The login log (written in batches within a second) once `ok(entries)` holds (20 s at most)."""
    deadline = time.monotonic() + 20
    while True:
        logs: list[dict[str, Any]] = call(env.server, "GET", "/api/admin/v1/login-logs?limit=200",
                                           token=env.admin)[1]["logs"]
        if ok(logs) or time.monotonic() > deadline:
            return logs
        time.sleep(0.3)


def _code(reply: tuple[int, Any]) -> tuple[int, str]:
    status, body = reply
    return status, body["error"]["code"] if isinstance(body, dict) and "error" in body else ""


@pytest.fixture(scope="module")
def env(oidc_provider_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    port = free_port()
    provider = oidc_provider_factory(
        [f"http://127.0.0.1:{port}/api/v1/auth/oidc/callback"],
        {"sub-erin": {"preferred_username": ERIN, "name": "Erin", "departments": [OPS]},
         "sub-lin": {"preferred_username": LIN, "name": "Lin at the provider"}},
    )
    with Slapd(tmp_path_factory.mktemp("slapd-switch")) as directory:
        directory.add_user(LIN, LIN_PW, cn="林晓")
        server = ServerProcess(tmp_path_factory.mktemp("switch") / "data", env=directory.settings_env(
            SEMOT_OIDC_ISSUER=provider.issuer, SEMOT_OIDC_CLIENT_ID=CLIENT_ID, SEMOT_OIDC_CLIENT_SECRET=CLIENT_SECRET,
            SEMOT_OIDC_AUTO_CREATE="true", SEMOT_OIDC_DEPARTMENTS_CLAIM="departments",
        ), port=port).start()
        try:
            create_admin(server, ROOT, ADMIN_PW)
            # a local account from before the switch, with a password of its own
            assert call(server, "POST", "/api/v1/auth/register", {"username": PAT, "password": PAT_PW})[0] == 201
            status, body = login(server, ROOT, ADMIN_PW)
            assert status == 200, body
            admin = body["access_token"]
            status, view = call(server, "PUT", "/api/admin/v1/sso", {"login_methods": "sso"}, token=admin)
            assert status == 200 and view["effective"]["password"] is False, view
            yield Env(provider, server, admin)
        finally:
            server.kill()


def test_sso_only_keeps_directory_logins_and_refuses_local_passwords(env: Env) -> None:
    server = env.server
    methods = call(server, "GET", "/api/v1/auth/methods")[1]
    assert methods["password"] is False and methods["ldap"] is True and methods["oidc"]
    # local passwords and self-registration are off; the switch is asked after the password,
    # so a wrong one is 401 for everybody: nothing tells who is a (break-glass) super administrator
    assert _code(login(server, PAT, PAT_PW)) == (403, "password_login_disabled")
    for user in (PAT, ROOT, f"nobody{TAG}"):
        assert _code(login(server, user, "wrong-password")) == (401, "unauthorized"), user
    assert _code(call(server, "POST", "/api/v1/auth/register",
                      {"username": f"new{TAG}", "password": "password123"})) == (403, "password_login_disabled")
    assert call(server, "GET", f"/api/admin/v1/users/new{TAG}", token=env.admin)[0] == 404
    # the directory decides directory logins: a wrong directory password is just wrong
    assert _code(login(server, LIN, "not-the-password")) == (401, "unauthorized")
    status, body = login(server, LIN, LIN_PW)
    assert status == 200 and body["user_id"] == LIN, body
    assert login(server, ROOT, ADMIN_PW)[0] == 200  # break-glass
    logs = _logs_until(env, lambda logs: any(e["user_id"] == LIN for e in logs))
    assert any(e["user_id"] == LIN and e["method"] == "ldap" and e["ok"] for e in logs), logs[:5]
    # PAT's right password, refused by the switch, is in the log too
    assert any(e["user_id"] == PAT and not e["ok"] for e in logs), logs[:5]


def test_a_directory_account_is_never_linked_to_the_provider(env: Env, browser: Any) -> None:
    """Lin is directory-managed (no local password, no link: what a pre-provisioned
    account looks like too): the provider's "lin" is refused, the directory keeps it."""
    assert login(env.server, LIN, LIN_PW)[0] == 200  # the directory made the account (as in the test above)
    with browser_page(browser) as page:
        page.goto(env.server.base + "/")
        page.click("[data-testid=oidc-login]")
        provider_login(page, "sub-lin")
        page.wait_for_selector("[data-testid=login-error]")
        assert "cannot be linked to single sign-on" in page.inner_text("[data-testid=login-error]")
    person = call(env.server, "GET", f"/api/admin/v1/users/{LIN}", token=env.admin)[1]
    assert person["display_name"] == "林晓", person  # the provider's name never reached it
    assert login(env.server, LIN, LIN_PW)[0] == 200


def test_login_pages_offer_the_directory_form(env: Env, browser: Any) -> None:
    server = env.server
    with browser_page(browser, "zh-CN") as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.base + "/")
        page.wait_for_selector("[data-testid=directory-title]")
        assert page.inner_text("[data-testid=directory-title]").strip() == "域账号登录"
        assert "域账号" in page.inner_text("[data-testid=password-form]")
        assert page.locator("[data-testid=oidc-login]").count() == 1
        assert page.locator("[data-testid=sso-only]").count() == 0
        assert page.locator("[data-testid=toggle-mode]").count() == 0  # no self-registration
        page.fill("[data-testid=username]", LIN)
        page.fill("[data-testid=password]", LIN_PW)
        page.click("[data-testid=submit]")
        page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=30_000)
        assert page.evaluate("window.__semot.client.userId") == LIN
        # the console keeps its form too, named the same way (and the break-glass hint)
        page.evaluate("window.__semot.client.logout()")
        page.context.clear_cookies()
        page.goto(server.base + "/admin/")
        page.wait_for_selector("[data-testid=directory-only]")
        assert "域账号" in page.inner_text("[data-testid=password-form]")
        assert page.locator("[data-testid=sso-only]").count() == 0
        assert not errors, errors


def test_oidc_sign_in_is_logged_as_oidc_and_refreshes_the_profile(env: Env, browser: Any) -> None:
    server = env.server
    with browser_page(browser) as page:
        page.goto(server.base + "/")
        page.click("[data-testid=oidc-login]")
        provider_login(page, "sub-erin")
        page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=30_000)
        me = page.evaluate("window.__semot.client.http('GET', '/api/v1/me')")
        assert (me["username"], me["display_name"]) == (ERIN, "Erin")
        # an administrator puts Erin in a department of their own choosing
        status, hand = call(server, "POST", "/api/admin/v1/departments", {"name": HAND}, token=env.admin)
        assert status == 201, hand
        assert call(server, "PUT", f"/api/admin/v1/departments/{hand['department_id']}/members/{ERIN}", {},
                    token=env.admin)[0] == 200
        # the provider renames Erin and adds a department; the next sign-in brings them over
        env.provider.set_claims("sub-erin", {"preferred_username": ERIN, "name": "Erin Zhang",
                                             "departments": [OPS, f"{OPS}/Night"]})
        page.evaluate("window.__semot.client.logout()")
        page.goto(server.base + "/")
        page.click("[data-testid=oidc-login]")  # the provider remembers the browser: straight back
        page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=30_000)
        me = page.evaluate("window.__semot.client.http('GET', '/api/v1/me')")
        assert (me["user_id"], me["display_name"]) == (ERIN, "Erin Zhang")
        person = call(server, "GET", f"/api/admin/v1/users/{ERIN}", token=env.admin)[1]
        assert sorted(d["name"] for d in person["departments"]) == [HAND, "Night", OPS], person
        # Erin moves from Ops to its night shift only: the next sign-in leaves Ops, not HAND
        env.provider.set_claims("sub-erin", {"preferred_username": ERIN, "name": "Erin Zhang",
                                             "departments": [f"{OPS}/Night"]})
        page.evaluate("window.__semot.client.logout()")
        page.goto(server.base + "/")
        page.click("[data-testid=oidc-login]")
        page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=30_000)
    person = call(server, "GET", f"/api/admin/v1/users/{ERIN}", token=env.admin)[1]
    assert sorted(d["name"] for d in person["departments"]) == [HAND, "Night"], person
    logs = _logs_until(env, lambda logs: len([e for e in logs if e["user_id"] == ERIN]) >= 3)
    mine = [e for e in logs if e["user_id"] == ERIN]
    assert len(mine) == 3 and all(e["method"] == "oidc" and e["ok"] for e in mine), mine
