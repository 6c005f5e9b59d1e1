"""The server API in Chromium (docs/integration.md): an SSO ticket's `url` opens the web
client signed in as the ticket's user, once (a second use shows the login page with an
error); the console page api-keys creates a key (shown once, copied), the key works
against /api/server/v1, the call log lists its calls with filters, and revoking the key
ends it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

from tests.browser.admin.conftest import AdminConsole
from tests.browser.conftest import confirm_box

S = "/api/server/v1"


def server_call(base: str, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + S + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def test_sso_ticket_url_signs_in_once(admin_console: AdminConsole) -> None:
    kit = admin_console
    key = kit.api("POST", "/api/admin/v1/api-keys", {"name": f"sso-{uuid.uuid4().hex[:6]}", "scopes": ["users"]})["key"]
    uid = f"erp{uuid.uuid4().hex[:8]}"
    status, _ = server_call(kit.base, key, "PUT", f"/users/{uid}", {"display_name": "ERP 用户"})
    assert status == 201
    status, out = server_call(kit.base, key, "POST", f"/users/{uid}/tokens", {"type": "sso_ticket"})
    assert status == 200 and out["url"].startswith(kit.base + "/#/sso?ticket="), out

    tab = kit.open(path=out["url"][len(kit.base):])  # a browser opening the link
    tab.page.wait_for_selector("[data-testid=conv-list]", state="attached")
    tab.page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
    assert tab.js("() => window.__semot.client.userId") == uid
    assert "ticket" not in tab.js("() => location.href")  # the ticket left the address bar
    # a reload stays signed in (the refresh cookie of a cookie-mode login)
    tab.page.reload()
    tab.page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
    assert tab.js("() => window.__semot.client.userId") == uid
    tab.assert_no_console_errors()

    # the same link again, in another browser: the login page, with the reason
    again = kit.open(path="/", locale="en")  # the client already open: only the fragment changes
    again.page.goto(out["url"])
    alert = again.page.locator(".login-alert")
    alert.wait_for()
    assert "already used" in alert.inner_text()
    assert again.page.locator("[data-testid=username]").is_visible()
    assert again.js("() => window.__semot.client.userId") in (None, "")
    assert "ticket" not in again.js("() => location.href")
    # the failed POST /api/v1/auth/sso (401) is the only console error
    again.assert_no_console_errors(lambda m: "401" in m)


def test_api_keys_page_create_use_log_revoke(admin_console: AdminConsole) -> None:
    kit = admin_console
    tab = kit.tab
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=kit.base)
    tab.goto("api-keys")
    name = f"erp-{uuid.uuid4().hex[:6]}"
    tab.page.click("[data-testid=apikey-new]")
    tab.page.fill("[data-testid=apikey-name]", name)
    tab.page.click("[data-testid=apikey-create]")
    secret_el = tab.page.locator("[data-testid=apikey-secret]")
    secret_el.wait_for()
    secret = secret_el.inner_text().strip()
    assert secret.startswith("sk_")
    tab.page.click("[data-testid=apikey-copy]")
    tab.page.wait_for_function("s => navigator.clipboard.readText().then(t => t === s)", arg=secret)
    tab.page.wait_for_selector(f"[data-testid='apikey-row-{name}']")
    # the list never shows the key again, only its prefix
    listed = kit.api("GET", "/api/admin/v1/api-keys")["keys"]
    mine = next(k for k in listed if k["name"] == name)
    assert "key" not in mine and secret.startswith(mine["prefix"])
    assert secret not in tab.page.locator("[data-testid=apikeys-table]").inner_text()

    # the key works against the server API
    uid = f"ext{uuid.uuid4().hex[:8]}"
    assert server_call(kit.base, secret, "PUT", f"/users/{uid}", {"display_name": "Ext"})[0] == 201
    assert server_call(kit.base, secret, "GET", f"/users/{uid}/presence") == (200, {"user_id": uid, "status": "offline"})
    assert server_call(kit.base, secret, "GET", "/users/nobody-x/presence")[0] == 404

    # the call log tab, filtered by key and by status class
    tab.page.locator(".el-tabs__item", has_text="调用日志").click()
    table = tab.page.locator("[data-testid=apicalls-table]")
    tab.page.locator("[data-testid=apicalls-key]").click()
    tab.page.locator(".el-select-dropdown__item:visible", has_text=name).click()
    tab.page.wait_for_function(
        """uid => { const t = document.querySelector('[data-testid=apicalls-table]').innerText;
                    return t.includes('/api/server/v1/users/' + uid + '/presence') && t.includes('/api/server/v1/users/nobody-x/presence'); }""",
        arg=uid,
    )
    assert "PUT" in table.inner_text() and "404" in table.inner_text()
    tab.page.locator("[data-testid=apicalls-status]").click()
    tab.page.locator(".el-select-dropdown__item:visible", has_text="4xx").click()
    tab.page.wait_for_function(
        """() => { const rows = [...document.querySelectorAll('[data-testid=apicalls-table] .el-table__body tr')];
                   return rows.length === 1 && rows[0].innerText.includes('nobody-x'); }"""
    )
    tab.page.fill("[data-testid=apicalls-path]", f"/api/server/v1/users/{uid}")
    tab.page.press("[data-testid=apicalls-path]", "Enter")
    tab.page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=apicalls-table] .el-table__body tr').length === 0"
    )

    # revoke: the key stops working at once
    tab.page.locator(".el-tabs__item", has_text="接口密钥").click()
    tab.page.click(f"[data-testid='apikey-revoke-{name}']")
    confirm_box(tab.page)
    tab.page.wait_for_selector(f"[data-testid='apikey-revoke-{name}']", state="detached")
    assert server_call(kit.base, secret, "GET", f"/users/{uid}/presence")[0] == 401
    revoked = next(k for k in kit.api("GET", "/api/admin/v1/api-keys")["keys"] if k["name"] == name)
    assert revoked["revoked_at"]
    tab.assert_no_console_errors()
