"""POST /api/v1/me/password: every other login ends (refresh refused, socket closed),
the caller's own goes on; a wrong current password is refused and counted."""

from __future__ import annotations

from pathlib import Path

from tests.integration.harness import PASSWORD, Api, Clients, ServerProcess
from tests.profile.conftest import ok

NEW = "brand-new-password-1"


async def test_password_change_ends_other_logins(server: ServerProcess, api: Api, clients: Clients) -> None:
    mine = await api.account(server, "pw")
    status, other = await api.login(server, mine.user_id)
    assert status == 200
    other_ws = await clients.connect(server, type(mine)(mine.user_id, PASSWORD, other["access_token"],
                                                        other["refresh_token"]))
    my_ws = await clients.connect(server, mine)

    status, reply = await api.call(server, "POST", "/api/v1/me/password",
                                   {"old_password": "not-my-password", "new_password": NEW}, token=mine.access_token)
    assert status == 403 and "current password" in reply["error"]["message"]
    status, reply = await api.call(server, "POST", "/api/v1/me/password",
                                   {"old_password": PASSWORD, "new_password": "short"}, token=mine.access_token)
    assert status == 400

    assert await ok(api, server, mine, "POST", "/api/v1/me/password",
                    {"old_password": PASSWORD, "new_password": NEW}) == {"status": "password_changed"}
    # the other login: its socket closes, its refresh token and access token are refused
    assert await other_ws.wait_closed(10) is not None
    status, _ = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": other["refresh_token"]})
    assert status == 401
    status, _ = await api.call(server, "GET", "/api/v1/me", token=other["access_token"])
    assert status == 401
    # mine goes on: the socket, the access token, the refresh token
    assert "server_time" in await my_ws.call("ping")
    assert not my_ws.closed.is_set()
    await ok(api, server, mine, "GET", "/api/v1/me")
    status, _ = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": mine.refresh_token})
    assert status == 200
    # the new password logs in, the old one does not
    assert (await api.login(server, mine.user_id, NEW))[0] == 200
    assert (await api.login(server, mine.user_id, PASSWORD))[0] == 401


async def test_wrong_old_passwords_count_towards_the_lockout(tmp_path: Path, api: Api) -> None:
    srv = ServerProcess(tmp_path / "data", {"SEMOT_ABUSE_LIMITS": "true", "SEMOT_LOGIN_FAIL_ACCOUNT_MAX": "2"})
    await srv.astart()
    try:
        me = await api.account(srv, "pl")
        wrong = {"old_password": "guess-guess-1", "new_password": NEW}
        for _ in range(2):
            status, _ = await api.call(srv, "POST", "/api/v1/me/password", wrong, token=me.access_token)
            assert status == 403
        status, reply = await api.call(srv, "POST", "/api/v1/me/password", wrong, token=me.access_token)
        assert status == 429, reply  # locked, as failed logins of the account are
        assert (await api.login(srv, me.user_id))[0] == 429
    finally:
        assert await srv.astop() == 0
