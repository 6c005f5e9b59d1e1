"""OpenID Connect sign-in end to end against a real provider (oidc-provider, npm) in
Chromium, and the login-method switch (docs/sso.md).

Two servers share the provider: `auto` creates accounts at the first sign-in (and puts
them in the departments of their claim), `strict` signs in only accounts that exist.
An existing account is linked only when it has no way in of its own (no password): an
account someone registered with the username first is never handed to the provider's
person.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.sso.conftest import CLIENT_ID, CLIENT_SECRET, OidcProvider
from tests.sso.support import browser_page, call, create_admin, login, provider_login
from tests.support.server import ServerProcess, free_port

ADMIN_PW = "admin-password-123"
TAG = uuid.uuid4().hex[:6]
CAROL, DAVE, ROOT, BOSS, EVE = f"carol{TAG}", f"dave{TAG}", f"root{TAG}", f"boss{TAG}", f"eve{TAG}"


@dataclass
class Env:
    provider: OidcProvider
    auto: ServerProcess
    strict: ServerProcess


@pytest.fixture(scope="module")
def env(oidc_provider_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    ports = {"auto": free_port(), "strict": free_port()}
    provider = oidc_provider_factory(
        [f"http://127.0.0.1:{p}/api/v1/auth/oidc/callback" for p in ports.values()],
        {
            "sub-carol": {"preferred_username": CAROL, "name": "Carol Chen", "departments": [f"SSO{TAG}/East"]},
            "sub-dave": {"preferred_username": DAVE, "name": "Dave"},
            "sub-root": {"preferred_username": ROOT, "name": "Root"},
            "sub-boss": {"preferred_username": BOSS, "name": "Boss"},
            "sub-eve": {"preferred_username": EVE, "name": "Eve"},
        },
    )
    common = {
        "SEMOT_OIDC_ISSUER": provider.issuer, "SEMOT_OIDC_CLIENT_ID": CLIENT_ID,
        "SEMOT_OIDC_CLIENT_SECRET": CLIENT_SECRET, "SEMOT_OIDC_BUTTON_LABEL": "Company SSO",
    }
    servers = {}
    for name, port in ports.items():
        extra = {"SEMOT_OIDC_AUTO_CREATE": "true", "SEMOT_OIDC_DEPARTMENTS_CLAIM": "departments"} if name == "auto" \
            else {"SEMOT_OIDC_AUTO_CREATE": "false"}
        servers[name] = ServerProcess(tmp_path_factory.mktemp(name) / "data", env={**common, **extra}, port=port).start()
    strict = servers["strict"]
    create_admin(strict, ROOT, ADMIN_PW)
    yield Env(provider, servers["auto"], strict)
    for s in servers.values():
        s.kill()


def test_web_client_sso_creates_the_account(env: Env, browser: Any) -> None:
    server = env.auto
    methods = call(server, "GET", "/api/v1/auth/methods")[1]
    assert methods == {
        "password": True, "ldap": False,
        "oidc": {"label": "Company SSO", "start_url": "/api/v1/auth/oidc/start?to=app",
                 "admin_start_url": "/api/v1/auth/oidc/start?to=admin"},
    }
    with browser_page(browser) as page:
        page.goto(server.base + "/")
        page.click("[data-testid=oidc-login]")  # the button says "Company SSO"
        provider_login(page, "sub-carol")
        # back at the web client, signed in as the account made from the claims
        page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=30_000)
        me = page.evaluate("window.__semot.client.http('GET', '/api/v1/me')")
        assert (me["username"], me["display_name"]) == (CAROL, "Carol Chen")
        assert "ticket" not in page.url  # the single-use ticket left the address bar
        # signed out and in again: the same account, found by its (issuer, sub) link
        page.evaluate("window.__semot.client.logout()")
        page.goto(server.base + "/")
        page.click("[data-testid=oidc-login]")
        page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=30_000)
        assert page.evaluate("window.__semot.client.userId") == me["user_id"]
    # the departments claim put the new account in SSO<tag>/East (created on the way)
    status, _ = call(server, "POST", "/api/v1/auth/register",
                     {"username": f"obs{TAG}", "password": "password123"})
    assert status == 201
    token = login(server, f"obs{TAG}", "password123")[1]["access_token"]
    tree = call(server, "GET", "/api/v1/directory/departments", token=token)[1]
    east = [d for d in tree["departments"] if d["name"] == "East"]
    assert east, tree
    members = call(server, "GET", f"/api/v1/directory/departments/{east[0]['department_id']}/members",
                   token=token)[1]
    assert [m["user_id"] for m in members["members"]] == [me["user_id"]]


def test_strict_server_and_the_console(env: Env, browser: Any) -> None:
    server = env.strict
    with browser_page(browser) as page:
        # a person the provider knows but this server does not: refused, told why
        page.goto(server.base + "/")
        page.click("[data-testid=oidc-login]")
        provider_login(page, "sub-dave")
        page.wait_for_selector("[data-testid=login-error]")
        assert "not been set up" in page.inner_text("[data-testid=login-error]")
        assert call(server, "GET", f"/api/v1/users/{DAVE}")[0] in (401, 404)
        # the console's button: the provider remembers this browser (Dave), straight back, refused
        page.goto(server.base + "/admin/")
        page.click("[data-testid=oidc-login]")
        page.wait_for_selector("[data-testid=login-notice]")
        assert "not been set up" in page.inner_text("[data-testid=login-notice]")
        assert page.evaluate("window.__semotAdmin.session.phase") == "login"
    # an administrator made by an administrator without a password: pre-provisioned, waiting for its person
    admin = login(server, ROOT, ADMIN_PW)[1]["access_token"]
    assert call(server, "POST", "/api/admin/v1/users", {"username": BOSS}, token=admin)[0] == 201
    assert call(server, "PATCH", f"/api/admin/v1/users/{BOSS}", {"is_admin": True}, token=admin)[0] == 200
    with browser_page(browser) as page:  # another browser: the administrator's account exists here, linked now
        page.goto(server.base + "/admin/")
        page.click("[data-testid=oidc-login]")
        provider_login(page, "sub-boss")
        page.wait_for_function(
            "window.__semotAdmin && window.__semotAdmin.session.phase === 'app'", timeout=30_000)
        assert page.evaluate("window.__semotAdmin.session.user.username") == BOSS
        assert "ticket" not in page.url
        # the chat client shares the console's login (one cookie): open, signed in as the admin
        page.goto(server.base + "/")
        page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=30_000)
        assert page.evaluate("window.__semot.client.userId") == BOSS
    # the login log has the refusal and the ticket's redemption, both with method oidc
    logs = call(server, "GET", "/api/admin/v1/login-logs?limit=200", token=admin)[1]["logs"]
    refused = [e for e in logs if e["username"] == DAVE]
    assert refused and refused[0]["method"] == "oidc" and not refused[0]["ok"], refused
    assert any(e["user_id"] == BOSS and e["method"] == "oidc" and e["ok"] for e in logs), logs[:5]


def test_an_account_with_a_password_is_never_handed_over(env: Env, browser: Any) -> None:
    """Eve's username was registered by somebody else first, and the super administrator
    has a password of their own: the provider's Eve and Root are refused (`conflict`),
    never signed in to those accounts, which keep their passwords."""
    server = env.auto
    assert call(server, "POST", "/api/v1/auth/register", {"username": EVE, "password": "squatter-pw-1"})[0] == 201
    strict_root = call(env.strict, "GET", f"/api/admin/v1/users/{ROOT}",
                       token=login(env.strict, ROOT, ADMIN_PW)[1]["access_token"])[1]
    assert strict_root["has_password"] is True
    for server_, sub, landing, notice in ((server, "sub-eve", "/", "[data-testid=login-error]"),
                                          (env.strict, "sub-root", "/admin/", "[data-testid=login-notice]")):
        with browser_page(browser) as page:
            page.goto(server_.base + landing)
            page.click("[data-testid=oidc-login]")
            provider_login(page, sub)
            page.wait_for_selector(notice)
            assert "cannot be linked to single sign-on" in page.inner_text(notice)
            if landing == "/admin/":
                assert page.evaluate("window.__semotAdmin.session.phase") == "login"
    # the squatter still has only their own password, and the provider's Eve no account here
    assert login(server, EVE, "squatter-pw-1")[0] == 200
    assert login(env.strict, ROOT, ADMIN_PW)[0] == 200
    root = login(env.strict, ROOT, ADMIN_PW)[1]["access_token"]
    deadline = time.monotonic() + 20  # the login log is written in batches
    while True:
        logs = call(env.strict, "GET", "/api/admin/v1/login-logs?limit=200", token=root)[1]["logs"]
        refused = [e for e in logs if e["username"] == ROOT and e["method"] == "oidc"]
        if refused or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert refused and not any(e["ok"] for e in refused), refused


def test_an_external_customer_is_never_handed_over(env: Env, browser: Any) -> None:
    """A shop's buyer synced through the server API (`external`, no password) has no way
    in of its own either, but is a customer: a provider's person of that username is
    refused (`conflict`), never signed in as the buyer."""
    server = env.strict
    root = login(server, ROOT, ADMIN_PW)[1]["access_token"]
    status, key = call(server, "POST", "/api/admin/v1/api-keys", {"name": f"shop{TAG}", "scopes": ["users"]},
                       token=root)
    assert status == 201, key
    buyer = f"buyer{TAG}"
    status, made = call(server, "PUT", f"/api/server/v1/users/{buyer}", {"display_name": "Buyer", "external": True},
                        token=key["key"])
    assert status == 201, made
    env.provider.set_claims("sub-buyer", {"preferred_username": buyer, "name": "Mallory"})
    with browser_page(browser) as page:
        page.goto(server.base + "/")
        page.click("[data-testid=oidc-login]")
        provider_login(page, "sub-buyer")
        page.wait_for_selector("[data-testid=login-error]")
        assert "cannot be linked to single sign-on" in page.inner_text("[data-testid=login-error]")


def test_the_login_method_switch(env: Env, browser: Any) -> None:
    server = env.strict
    admin = login(server, ROOT, ADMIN_PW)[1]["access_token"]
    assert call(server, "POST", "/api/v1/auth/register",
                {"username": f"pat{TAG}", "password": "password123"})[0] == 201
    assert login(server, f"pat{TAG}", "password123")[0] == 200
    view = call(server, "GET", "/api/admin/v1/sso", token=admin)[1]
    assert view["login_methods"] == "" and view["setting"] == "both"
    assert view["oidc"]["redirect_uri"] == server.base + "/api/v1/auth/oidc/callback"
    assert "client_secret" not in json.dumps(view["oidc"]).replace("client_secret_set", "")
    # nobody but an administrator with sso.write changes it
    pat = login(server, f"pat{TAG}", "password123")[1]["access_token"]
    assert call(server, "PUT", "/api/admin/v1/sso", {"login_methods": "sso"}, token=pat)[0] == 403
    assert call(server, "PUT", "/api/admin/v1/sso", {"login_methods": "nope"}, token=admin)[0] == 400
    # the console page "Sign-in methods" switches password sign-in off
    with browser_page(browser) as page:
        page.goto(server.base + "/admin/")
        page.fill("[data-testid=username]", ROOT)
        page.fill("[data-testid=password]", ADMIN_PW)
        page.click("[data-testid=submit]")
        page.wait_for_function("window.__semotAdmin.session.phase === 'app'")
        page.goto(server.base + "/admin/#/sso")
        page.wait_for_selector("[data-testid=sso-redirect]")
        assert page.inner_text("[data-testid=sso-eff-password]") == "Yes"
        page.click("[data-testid=sso-mode-sso]")
        page.click("[data-testid=sso-save]")
        page.wait_for_function("document.querySelector('[data-testid=sso-eff-password]').textContent === 'No'")
    try:
        view = call(server, "GET", "/api/admin/v1/sso", token=admin)[1]
        assert view["login_methods"] == "sso" and view["effective"]["oidc"]
        assert call(server, "GET", "/api/v1/auth/methods")[1]["password"] is False
        status, body = login(server, f"pat{TAG}", "password123")
        assert (status, body["error"]["code"]) == (403, "password_login_disabled")
        # the switch is asked after the password: a wrong one is 401 for everyone, so the
        # replies tell nobody which usernames are super administrators
        for user in (f"pat{TAG}", ROOT, f"nobody{TAG}"):
            status, body = login(server, user, "wrong-password")
            assert (status, body["error"]["code"]) == (401, "unauthorized"), (user, body)
        assert login(server, ROOT, ADMIN_PW)[0] == 200  # break-glass: a full super administrator
        # the web client's login page offers the button only
        with browser_page(browser, "zh-CN") as page:
            page.goto(server.base + "/")
            page.wait_for_selector("[data-testid=sso-only]")
            assert page.locator("[data-testid=oidc-login]").inner_text().strip() == "Company SSO"
            assert page.locator("[data-testid=password-form]").count() == 0
            assert page.locator("[data-testid=password]").count() == 0
        audit = call(server, "GET", "/api/admin/v1/audit-log?action=sso.update", token=admin)[1]
        assert any(e["action"] == "sso.update" for e in audit.get("entries", audit.get("logs", [])))
    finally:
        status, view = call(server, "PUT", "/api/admin/v1/sso", {"login_methods": ""}, token=admin)
        assert status == 200 and view["effective"]["password"] is True
    assert login(server, f"pat{TAG}", "password123")[0] == 200


def test_callback_refuses_forged_or_missing_state(env: Env) -> None:
    server = env.auto
    opener = urllib.request.build_opener(_NoRedirect())
    for query in ("code=abc&state=def", "error=access_denied&state=x", ""):
        try:
            opener.open(f"{server.base}/api/v1/auth/oidc/callback?{query}", timeout=15)
            raise AssertionError("expected a redirect")
        except urllib.error.HTTPError as exc:
            assert exc.code == 302
            location = exc.headers["Location"]
            assert location.startswith("/#/login?sso_error="), location
            assert ("denied" if "access_denied" in query else "failed") in location
    # the start redirects to the provider with PKCE (S256) and a signed state cookie
    try:
        opener.open(f"{server.base}/api/v1/auth/oidc/start?to=admin", timeout=15)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        location = exc.headers["Location"]
        assert location.startswith(env.provider.issuer + "/auth?")
        assert "code_challenge_method=S256" in location and "nonce=" in location
        cookie = exc.headers["Set-Cookie"]
        assert "semot_oidc=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert call(server, "GET", "/api/v1/auth/oidc/start?to=elsewhere")[0] == 400


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
