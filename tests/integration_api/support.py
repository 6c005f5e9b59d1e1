"""Shared by the server API tests: a real server (SQLite or PostgreSQL), an administrator
and server API keys made through the admin API."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.harness import Account, Api, ServerProcess, unique

A = "/api/admin/v1"
S = "/api/server/v1"


async def admin(server: ServerProcess, api: Api) -> Account:
    name = unique("adm")
    await asyncio.to_thread(server.create_admin, name)
    status, body = await api.login(server, name)
    assert status == 200, body
    return Account(body["user_id"], "", body["access_token"], body["refresh_token"])


async def new_key(server: ServerProcess, api: Api, boss: Account, **fields: Any) -> dict[str, Any]:
    status, body = await api.call(server, "POST", f"{A}/api-keys", {"name": unique("key"), **fields},
                                  token=boss.access_token)
    assert status == 201, body
    assert body["key"].startswith("sk_") and body["key_id"]
    return dict(body)


async def server_call(
    api: Api, server: ServerProcess, key: str | None, method: str, path: str, body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    h = {"Authorization": f"Bearer {key}"} if key else {}
    h |= headers or {}
    kw: dict[str, Any] = {"headers": h}
    if body is not None:
        kw["json"] = body
    async with api.session.request(method, server.base_url + S + path, **kw) as resp:
        data = await resp.json(content_type=None) if (await resp.read()) else None
        return resp.status, data, dict(resp.headers)
