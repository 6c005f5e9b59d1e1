"""What the user-administration tests share: a real server with a `semot create-admin`
super administrator, plain HTTP calls as that administrator, and people who sign in."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.integration.harness import PASSWORD, Account, Api, Clients, ServerProcess

A = "/api/admin/v1"


@dataclass
class World:
    server: ServerProcess
    api: Api
    root: Account

    async def call(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> tuple[int, Any]:
        return await self.api.call(self.server, method, path, body, token=token or self.root.access_token)

    async def ok(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> Any:
        status, reply = await self.call(method, path, body, token=token)
        assert status in (200, 201), (method, path, status, reply)
        return reply

    async def refused(
        self, method: str, path: str, body: Any = None, *, token: str | None = None, code: int = 403
    ) -> Any:
        status, reply = await self.call(method, path, body, token=token)
        assert status == code, (method, path, status, reply)
        return reply["error"]

    async def login(self, username: str, password: str = PASSWORD) -> Account:
        status, body = await self.api.login(self.server, username, password)
        assert status == 200, body
        return Account(body["user_id"], password, body["access_token"], body["refresh_token"])

    async def person(self, prefix: str = "p", display: str | None = None) -> Account:
        name = unique(prefix)
        status, body = await self.api.call(
            self.server,
            "POST",
            "/api/v1/auth/register",
            {"username": name, "password": PASSWORD, "display_name": display or name},
        )
        assert status == 201, body
        return await self.login(name)

    async def audit(self, target: str) -> list[dict[str, Any]]:
        page = await self.ok("GET", f"{A}/audit-log?limit=200&target={target}")
        return list(page["entries"])

    def expire_links(self, user_id: str) -> None:
        """Make the user's links expired, in the server's own database (SQLite)."""
        db = sqlite3.connect(self.server.data_dir / "semot.db", timeout=10)
        try:
            db.execute("UPDATE password_links SET expires_at = 1 WHERE user_id = ?", (user_id,))
            db.commit()
        finally:
            db.close()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def make_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[ServerProcess, str]]:
    srv = ServerProcess(tmp_path_factory.mktemp(name) / "data")
    srv.start()
    root = unique("root")
    srv.create_admin(root)
    try:
        yield srv, root
    finally:
        rc = srv.stop()
        log = srv.log_path.read_text(errors="replace")
        assert rc == 0 and "Traceback" not in log and "failed its schema" not in log, log[-3000:]


async def world_of(server: ServerProcess, root: str) -> AsyncIterator[World]:
    async with aiohttp.ClientSession() as session:
        api = Api(session)
        status, body = await api.login(server, root)
        assert status == 200, body
        yield World(server, api, Account(root, PASSWORD, body["access_token"], body["refresh_token"]))


__all__ = ["PASSWORD", "A", "Clients", "World", "make_server", "unique", "world_of"]
