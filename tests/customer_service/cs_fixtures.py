"""Fixtures of the customer-service server tests: a real server on SQLite and on
PostgreSQL (module-scoped), an administrator, and helpers to make queues, agents and
visitors over the real HTTP API (docs/customer-service.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.harness import WS, Account, Api, Clients, ServerProcess, unique
from tests.integration_api.webhook_fixtures import start_server

ADMIN = "hookadmin"  # start_server's administrator
ADMIN_PW = "admin-password-1"
A = "/api/admin/v1/cs"
V = "/api/v1/cs"
VISITOR_IP_MAX = 12


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_CS_VISITOR_IP_MAX": str(VISITOR_IP_MAX), "SEMOT_ABUSE_LIMITS": "true", "SEMOT_CS_DRAIN_S": "0.5"}
    yield from start_server(request.param, tmp_path_factory.mktemp(f"cs-{request.param}"), env)


async def ok(api: Api, srv: ServerProcess, method: str, path: str, body: Any = None, *, token: str | None,
             status: int = 200) -> Any:
    got, reply = await api.call(srv, method, path, body, token=token)
    assert got == status, (method, path, got, reply)
    return reply


async def admin_token(api: Api, srv: ServerProcess) -> str:
    status, body = await api.login(srv, ADMIN, ADMIN_PW)
    assert status == 200, body
    return str(body["access_token"])


async def new_queue(api: Api, srv: ServerProcess, token: str, name: str | None = None) -> str:
    q = await ok(api, srv, "POST", f"{A}/queues", {"name": name or unique("队列"), "description": "d"}, token=token,
                 status=201)
    return str(q["queue_id"])


async def new_agent(api: Api, srv: ServerProcess, token: str, queues: list[str], *, max_concurrent: int = 1,
                    field: str = "售后问题") -> Account:
    who = await api.account(srv, "agent")
    await ok(api, srv, "PUT", f"{A}/agents/{who.user_id}",
             {"queues": queues, "field": field, "max_concurrent": max_concurrent}, token=token)
    return who


async def online(api: Api, srv: ServerProcess, clients: Clients, agent: Account, state: str = "online") -> WS:
    """The agent connected (a disconnected agent counts as offline) and in `state`."""
    ws = await clients.connect(srv, agent)
    me = await ok(api, srv, "PUT", f"{V}/agent/state", {"state": state}, token=agent.access_token)
    assert me["state"] == state and me["connected"] is True
    return ws


async def visitor(api: Api, srv: ServerProcess, key: str | None = None, name: str | None = None) -> tuple[Account, str]:
    body: dict[str, Any] = {}
    if key:
        body["visitor_key"] = key
    if name:
        body["name"] = name
    v = await ok(api, srv, "POST", f"{V}/visitors", body, token=None)
    assert v["user_id"].startswith("v.") and v["expires_in"] > 0
    return Account(v["user_id"], "", v["access_token"], v["refresh_token"]), str(v["visitor_key"])


def cs_event(kind: str, session_id: str | None = None) -> Any:
    def match(f: dict[str, Any]) -> bool:
        return bool(f.get("t") == "evt" and f.get("evt") == "cs" and f.get("type") == kind
                    and (session_id is None or (f.get("session") or {}).get("session_id") == session_id))
    return match
