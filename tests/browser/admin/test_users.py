"""The users page (用户管理) in Chromium against a real server: search and filters (the
department picker included), online state, the devices drawer and signing a login out
(its socket closes), create (without a password: a one-time link with a copy button),
edit, reset a password, disable and enable, bulk move and disable, the way to the import
page; in English too, and read-only for an auditor."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import uuid
from typing import Any

import aiohttp

from tests.browser.admin.conftest import AdminConsole, AdminTab, request_json
from tests.browser.conftest import PASSWORD

A = "/api/admin/v1"


class LiveSocket:
    """A user's WebSocket, signed in and kept open in a thread of its own until the
    server closes it (or `close`); `code` is the close code then."""

    def __init__(self, base: str, username: str, device: str, platform: str = "ios") -> None:
        self.code: int | None = None
        self.ready = threading.Event()
        self.done = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        tokens = request_json("POST", base + "/api/v1/auth/login", {"username": username, "password": PASSWORD})
        self._args = (base.replace("http", "ws", 1) + "/ws", tokens["access_token"], device, platform)
        threading.Thread(target=self._run, daemon=True).start()
        assert self.ready.wait(15), f"the socket did not open: {self._error!r}"

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self.ready.set()
        finally:
            self.done.set()

    async def _main(self) -> None:
        url, token, device, platform = self._args
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with aiohttp.ClientSession() as s, s.ws_connect(url, autoping=True) as ws:
            await ws.send_str(
                json.dumps({"t": "auth", "rid": 1, "token": token, "device": {"id": device, "platform": platform}})
            )
            reply = json.loads((await ws.receive()).data)
            assert reply["ok"], reply
            self.ready.set()
            reader = asyncio.ensure_future(ws.receive())
            stopper = asyncio.ensure_future(self._stop.wait())
            while True:
                done, _ = await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    reader.cancel()
                    return
                msg = reader.result()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                    self.code = ws.close_code if msg.type is not aiohttp.WSMsgType.CLOSE else msg.data
                    stopper.cancel()
                    return
                reader = asyncio.ensure_future(ws.receive())

    def wait_closed(self, timeout: float = 10) -> int | None:
        assert self.done.wait(timeout), "the socket is still open"
        return self.code

    def close(self) -> None:
        if self._loop is not None and self._stop is not None and not self.done.is_set():
            self._loop.call_soon_threadsafe(self._stop.set)
            self.done.wait(5)


def _until(predicate: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _others(message: str) -> bool:
    """Console errors of other pages' files (the console opens the dashboard first), or
    the 404 of the import page when it is not installed."""
    return ("/admin/pages/" in message and "/admin/pages/users" not in message) or "404" in message


def _row(tab: AdminTab, text: str) -> Any:
    return tab.page.locator("[data-testid=users-table] .el-table__body-wrapper tr", has_text=text)


def _confirm(tab: AdminTab) -> None:
    tab.page.locator(".el-message-box .el-message-box__btns .el-button--primary").click()


def _search(tab: AdminTab, text: str, rows: int) -> None:
    page = tab.page
    page.fill("[data-testid=users-search]", text)
    page.keyboard.press("Enter")
    _until(
        lambda: page.locator("[data-testid=users-table] [data-testid=user-name]").count() == rows,
        f"{rows} rows for {text}",
    )


def _user(kit: AdminConsole, name: str) -> dict[str, Any]:
    return dict(kit.api("GET", f"{A}/users/{kit.ids.get(name, name)}"))


def test_manage_users_in_the_console(admin_console: AdminConsole) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=kit.base)
    tag = uuid.uuid4().hex[:6]
    ann, bo = kit.new_user("uann", display_name=f"安妮 {tag}"), kit.new_user("ubo", display_name=f"Bo {tag}")
    dept = kit.api("POST", f"{A}/departments", {"name": f"研发 {tag}"})["department_id"]
    other = kit.api("POST", f"{A}/departments", {"name": f"市场 {tag}"})["department_id"]
    kit.api("PUT", f"{A}/departments/{dept}/members/{kit.ids[ann]}", {"title": "工程师"})
    phone = LiveSocket(kit.base, ann, f"phone-{tag}")
    try:
        tab.goto("users")
        _search(tab, tag, 2)
        assert f"q={tag}" in page.evaluate("() => location.hash")
        row = _row(tab, ann)
        assert row.locator("[data-testid=user-online]").get_attribute("data-online") == "true"
        assert _row(tab, bo).locator("[data-testid=user-online]").get_attribute("data-online") == "false"
        assert "研发" in row.locator("[data-testid=user-depts]").inner_text() and "工程师" in row.inner_text()

        # the department picker keeps the department's people (and those below it)
        page.click(".el-select[data-testid=users-dept]")
        page.locator(".el-select-dropdown:visible .el-tree-node__content", has_text=f"研发 {tag}").click()
        _until(
            lambda: page.locator("[data-testid=users-table] [data-testid=user-name]").count() == 1, "department filter"
        )
        assert f"dept={dept}" in page.evaluate("() => location.hash")
        page.click("[data-testid=users-reset]")
        _search(tab, tag, 2)

        # devices: the phone's login, online; signing it out closes its socket
        row.locator("[data-testid=user-devices]").click()
        drawer = page.locator("[data-testid=devices-drawer]")
        drawer.locator("[data-testid=login-online]").wait_for()
        assert "iOS" in drawer.locator("[data-testid=login-platform]").first.inner_text()
        assert f"phone-{tag}" in drawer.locator("[data-testid=devices-connections]").inner_text()
        drawer.locator("[data-testid=login-kick]").first.click()
        _confirm(tab)
        assert phone.wait_closed() == 4401
        drawer.locator("[data-testid=devices-logins] .el-table__empty-text").wait_for()
        page.keyboard.press("Escape")
        drawer.wait_for(state="hidden")
    finally:
        phone.close()

    # create without a password: a one-time link, copied to the clipboard
    newbie = f"unew{tag}"
    page.click("[data-testid=users-create]")
    dialog = page.locator("[data-testid=user-dialog]")
    dialog.locator("[data-testid=ud-username]").fill(newbie)
    dialog.locator("[data-testid=ud-name]").fill(f"新人 {tag}")
    dialog.locator("[data-testid=ud-save]").click()
    link_box = page.locator("[data-testid=password-dialog] [data-testid=link-url]")
    link_box.wait_for()
    _until(lambda: "/#/set-password?token=" in link_box.input_value(), "the link")
    url = link_box.input_value()
    assert url.startswith(kit.base + "/#/set-password?token=")
    page.click("[data-testid=link-copy]")
    _until(lambda: page.evaluate("() => navigator.clipboard.readText()") == url, "the copied link")
    page.keyboard.press("Escape")
    assert _user(kit, newbie)["has_password"] is False
    _search(tab, tag, 3)
    assert _row(tab, newbie).locator("[data-testid=user-nopw]").count() == 1

    # edit: a new display name
    _row(tab, bo).locator("[data-testid=user-edit]").click()
    dialog.locator("[data-testid=ud-name]").fill(f"Bob {tag}")
    dialog.locator("[data-testid=ud-save]").click()
    page.wait_for_selector(f"[data-testid=users-table] [data-testid=user-name]:text-is('Bob {tag}')")

    # reset a password: generated, set, and it works (the old one does not)
    _row(tab, bo).locator("[data-testid=user-password]").click()
    pw_dialog = page.locator("[data-testid=password-dialog]")
    pw_dialog.locator("[data-testid=pw-generate]").click()
    new_password = pw_dialog.locator("[data-testid=pw-new]").input_value()
    assert len(new_password) == 16
    pw_dialog.locator("[data-testid=pw-set]").click()
    pw_dialog.wait_for(state="hidden")
    kit.user_token(bo, new_password)
    try:
        kit.user_token(bo)
        raise AssertionError("the old password still works")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401

    # disable and enable one user from its row
    _row(tab, bo).locator("[data-testid=user-disable]").click()
    _confirm(tab)
    _row(tab, bo).locator("[data-testid=user-disabled]").wait_for()
    assert _user(kit, bo)["disabled"] is True
    _row(tab, bo).locator("[data-testid=user-enable]").click()
    _until(lambda: _user(kit, bo)["disabled"] is False, "enabled again")

    # bulk: move both to another department, then disable both. The row shows its enabled
    # state once the list reloaded after the change: a reload landing between the clicks
    # below would clear a selection already made
    _row(tab, bo).locator("[data-testid=user-disable]").wait_for()

    def select_both() -> bool:
        for name in (ann, bo):
            if not _row(tab, name).locator(".el-checkbox.is-checked").count():
                _row(tab, name).locator(".el-checkbox").click()
        return "2" in page.locator("[data-testid=users-selected]").inner_text()

    _until(select_both, "both rows selected")
    page.click("[data-testid=bulk-move]")
    page.click(".el-select[data-testid=move-department]")
    page.locator(".el-select-dropdown:visible .el-tree-node__content", has_text=f"市场 {tag}").click()
    page.click("[data-testid=move-go]")
    # the server moves the users one after the other: wait for both
    _until(
        lambda: all([d["department_id"] for d in _user(kit, u)["departments"]] == [other] for u in (ann, bo)), "moved"
    )
    _row(tab, ann).locator("[data-testid=user-depts]", has_text="市场").wait_for()
    for name in (ann, bo):
        if not _row(tab, name).locator(".el-checkbox.is-checked").count():
            _row(tab, name).locator(".el-checkbox").click()
    page.click("[data-testid=bulk-disable]")
    _confirm(tab)
    _until(lambda: _user(kit, ann)["disabled"] and _user(kit, bo)["disabled"], "bulk disabled")

    # the way to the bulk import page
    page.click("[data-testid=users-import]")
    _until(lambda: page.evaluate("() => location.hash").startswith("#/user-import"), "the import page")
    tab.assert_no_console_errors(allow=_others)


def test_english_and_read_only_for_an_auditor(admin_console: AdminConsole) -> None:
    kit = admin_console
    tag = uuid.uuid4().hex[:6]
    kit.new_user("uen", display_name=f"Eve {tag}")
    auditor = kit.new_user("uaud", admin=True)
    kit.grant(auditor, "auditor")
    tab = kit.login_as(auditor, locale="en")
    tab.set_language("en")
    tab.goto("users")
    page = tab.page
    _search(tab, tag, 1)
    assert page.locator("[data-testid=users-query]").inner_text().strip() == "Search"
    header = page.locator("[data-testid=users-table] .el-table__header").inner_text()
    assert "User" in header and "Departments" in header and "Online" in header
    assert "Offline" in _row(tab, f"Eve {tag}").inner_text()
    # users.view only: nothing that changes a user is offered
    for control in ("users-create", "user-edit", "user-password", "user-disable"):
        assert page.locator(f"[data-testid={control}]").count() == 0, control
    assert page.locator("[data-testid=users-table] .el-checkbox").count() == 0
    _row(tab, f"Eve {tag}").locator("[data-testid=user-devices]").click()
    drawer = page.locator("[data-testid=devices-drawer]")
    drawer.locator("[data-testid=devices-offline]").wait_for()
    assert drawer.locator("[data-testid=devices-offline]").inner_text().strip() == "Offline"
    assert drawer.locator("[data-testid=login-kick]").count() == 0
    tab.assert_no_console_errors(allow=_others)
