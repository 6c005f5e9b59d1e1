"""Helpers the compliance modules share."""

from __future__ import annotations

import asyncio

from tests.integration.harness import Account, Api, ServerProcess, unique


async def admin(server: ServerProcess, api: Api) -> Account:
    """A fresh super administrator, logged in."""
    name = unique("adm")
    await asyncio.to_thread(server.create_admin, name)
    status, body = await api.login(server, name)
    assert status == 200, body
    return Account(body["user_id"], "", body["access_token"], body["refresh_token"])
