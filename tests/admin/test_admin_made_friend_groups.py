"""Accounts administrators make get the client configuration's default friend groups,
like registered ones: made one by one through the admin API (`POST /api/admin/v1/users`),
by the bulk import over HTTP and by `semot users import`. Checked as the new user sees
it, through the client API (`GET /api/v1/contacts` lists the tags), on a real server.

The friend groups used to be made only by AccountService.create_user (registration), so
every account an administrator created started with none.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from semot.protocol import client_config as cc
from tests.integration.harness import PASSWORD, Api, ServerProcess, unique

A = "/api/admin/v1"
GROUPS = ["同事", "家人", "Friends"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("fg") / "data")
    srv.start()
    srv.create_admin("fgroot")
    yield srv
    if srv.running:
        assert srv.stop() == 0, srv.log_tail()


@pytest.fixture
async def admin(server: ServerProcess, api: Api) -> AsyncIterator[str]:
    """The administrator's token, with GROUPS as the default friend groups (reset after)."""
    status, body = await api.login(server, "fgroot")
    assert status == 200, body
    token = str(body["access_token"])
    status, body = await api.call(server, "PUT", f"{A}/client-config", {"default_friend_groups": GROUPS}, token=token)
    assert status == 200, body
    yield token
    base = cc.defaults(self_registration=True, direct_message_policy="anyone")
    status, body = await api.call(server, "PUT", f"{A}/client-config", base, token=token)
    assert status == 200, body


async def tags_of(api: Api, server: ServerProcess, username: str, password: str = PASSWORD) -> list[str]:
    """The new user's friend groups, as their own client reads them."""
    status, body = await api.login(server, username, password)
    assert status == 200, body
    status, contacts = await api.call(server, "GET", "/api/v1/contacts", token=body["access_token"])
    assert status == 200, contacts
    return sorted(t["name"] for t in contacts["tags"])


async def import_csv(api: Api, server: ServerProcess, token: str, text: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    async with api.session.post(f"{server.base_url}{A}/users/import", data=text.encode(), headers=headers) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return dict(body)


async def test_users_created_through_the_admin_api_get_them(server: ServerProcess, api: Api, admin: str) -> None:
    name = unique("made")
    status, body = await api.call(server, "POST", f"{A}/users", {"username": name, "password": PASSWORD}, token=admin)
    assert status == 201, body
    assert await tags_of(api, server, name) == sorted(GROUPS)
    # once the configuration has none, a new account gets none
    status, body = await api.call(server, "PUT", f"{A}/client-config", {"default_friend_groups": []}, token=admin)
    assert status == 200, body
    later = unique("made")
    status, body = await api.call(server, "POST", f"{A}/users", {"username": later, "password": PASSWORD}, token=admin)
    assert status == 201, body
    assert await tags_of(api, server, later) == []


async def test_imported_users_get_them_existing_ones_do_not(server: ServerProcess, api: Api, admin: str) -> None:
    old = unique("old")
    status, body = await api.call(server, "POST", f"{A}/users", {"username": old, "password": PASSWORD}, token=admin)
    assert status == 201, body
    status, body = await api.login(server, old)
    assert status == 200, body
    # the existing user's own groups are left alone: they are updated, not made again
    mine = body["access_token"]
    for tag in (await api.call(server, "GET", "/api/v1/contacts", token=mine))[1]["tags"]:
        assert (await api.call(server, "DELETE", f"/api/v1/contacts/tags/{tag['tag_id']}", token=mine))[0] == 200
    a, b = unique("imp"), unique("imp")
    report = await import_csv(
        api, server, admin, f"username,password,display_name\n{a},{PASSWORD},A\n{b},{PASSWORD},B\n{old},,Old renamed\n"
    )
    assert (report["created"], report["updated"], report["errors"]) == (2, 1, []), report
    assert await tags_of(api, server, a) == sorted(GROUPS)
    assert await tags_of(api, server, b) == sorted(GROUPS)
    assert await tags_of(api, server, old) == []


async def test_the_cli_import_gives_them_too(server: ServerProcess, api: Api, admin: str, tmp_path: Path) -> None:
    name = unique("cli")
    src = tmp_path / "people.csv"
    src.write_text(f"username,password\n{name},{PASSWORD}\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "semot", "users", "import", str(src), "--data-dir", str(server.data_dir)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=server._environ(), timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 created" in out.stdout, out.stdout
    assert await tags_of(api, server, name) == sorted(GROUPS)
