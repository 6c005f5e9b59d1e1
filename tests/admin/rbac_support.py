"""What the RBAC tests share: a real server with a `semot create-admin` super administrator,
people who sign in over HTTP, and short ways to grant roles and expect refusals."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Awaitable
from typing import Any

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.support.server import ServerProcess

PASSWORD = "password123"
ADMIN_PW = "admin-password-1"
A = "/api/admin/v1"


def create_admin(server: ServerProcess, name: str) -> None:
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "semot",
            "create-admin",
            name,
            "--password",
            ADMIN_PW,
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        env=server.env,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr


def tag() -> str:
    return uuid.uuid4().hex[:6]


async def login(server: ServerProcess, name: str, password: str = ADMIN_PW) -> SemotClient:
    c = SemotClient(server.base)
    await c.login(name, password)
    return c


async def person(server: ServerProcess, name: str, display: str | None = None) -> SemotClient:
    c = SemotClient(server.base)
    await c.register(name, PASSWORD, display or name.capitalize())
    await c.login(name, PASSWORD)
    return c


async def grant(admin: SemotClient, user_id: str, roles: list[str], departments: list[str] | None = None) -> Any:
    body: dict[str, Any] = {"roles": roles}
    if departments is not None:
        body["departments"] = departments
    return await admin.http("PUT", f"{A}/admins/{user_id}", body)


async def status(coro: Awaitable[Any]) -> int:
    """The HTTP status a call ends with (200 for any success)."""
    try:
        await coro
    except SemotAPIError as exc:
        assert exc.status is not None
        return exc.status
    return 200


async def refused(coro: Awaitable[Any], code: int = 403) -> SemotAPIError:
    with pytest.raises(SemotAPIError) as info:
        await coro
    assert info.value.status == code, info.value
    return info.value


async def mkdept(admin: SemotClient, name: str, parent: str | None = None) -> str:
    body: dict[str, Any] = {"name": name}
    if parent is not None:
        body["parent_id"] = parent
    return str((await admin.http("POST", f"{A}/departments", body))["department_id"])


async def audit(caller: SemotClient, **filters: Any) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in {"limit": 200, **filters}.items())
    page = await caller.http("GET", f"{A}/audit-log?{query}")
    entries: list[dict[str, Any]] = page["entries"]
    return entries
