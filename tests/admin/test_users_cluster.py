"""User administration across two nodes (PostgreSQL and Redis): an administrator on one
node sees a user connected to the other as online, with the device and its login, and
signing that login out or disabling the user closes the socket on the other node."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.harness import WS, eventually
from tests.support.cluster import two_nodes
from tests.support.server import ServerProcess

ROOT, ROOT_PW, PASSWORD = "clusterroot", "cluster-root-pw", "password123"
A = "/api/admin/v1"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with two_nodes(tmp_path_factory.mktemp("userscluster"), "users") as c:
        made = subprocess.run(
            [sys.executable, "-m", "semot", "create-admin", ROOT, "--password", ROOT_PW, "--data-dir", str(c.a.data_dir)],
            capture_output=True, text=True, env=c.a.env, timeout=60,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        yield c.a, c.b


def call(node: ServerProcess, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    req = urllib.request.Request(
        node.base + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(req, timeout=15) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


async def acall(node: ServerProcess, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    return await asyncio.to_thread(call, node, method, path, body, token)


async def connect(node: ServerProcess, token: str, device: str) -> WS:
    ws = await WS.open(node)  # type: ignore[arg-type]  # the support server has the same ws_url
    await ws.call("auth", token=token, device={"id": device, "platform": "android"})
    return ws


async def test_online_devices_kick_and_disable_across_nodes(nodes: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = nodes
    root = (await acall(a, "POST", "/api/v1/auth/login", {"username": ROOT, "password": ROOT_PW}))["access_token"]
    name = f"cl{uuid.uuid4().hex[:8]}"
    await acall(b, "POST", "/api/v1/auth/register", {"username": name, "password": PASSWORD})
    first = await acall(b, "POST", "/api/v1/auth/login", {"username": name, "password": PASSWORD})
    second = await acall(b, "POST", "/api/v1/auth/login", {"username": name, "password": PASSWORD})
    phone = await connect(b, first["access_token"], "phone-1")
    tablet = await connect(b, second["access_token"], "tablet-1")
    try:

        async def seen_on_a() -> bool:
            d = await acall(a, "GET", f"{A}/users/{name}/devices", token=root)
            return len(d["connections"]) == 2 and all(c["login_id"] for c in d["connections"])

        await eventually(seen_on_a, timeout=10, what="node A sees both devices of node B")
        assert (await acall(a, "GET", f"{A}/users/{name}", token=root))["online"] is True
        devices = await acall(a, "GET", f"{A}/users/{name}/devices", token=root)
        phone_login = next(c["login_id"] for c in devices["connections"] if c["device_id"] == "phone-1")
        await acall(a, "DELETE", f"{A}/users/{name}/devices/{phone_login}", token=root)
        await phone.wait_closed(10)
        assert phone.close_code == 4401
        assert not tablet.closed.is_set()
        await acall(a, "PATCH", f"{A}/users/{name}", {"disabled": True}, token=root)
        await tablet.wait_closed(10)
        assert tablet.close_code == 1008

        async def offline_on_a() -> bool:
            return (await acall(a, "GET", f"{A}/users/{name}", token=root))["online"] is False

        await eventually(offline_on_a, timeout=10, what="offline everywhere")
    finally:
        for ws in (phone, tablet):
            await ws.close()
