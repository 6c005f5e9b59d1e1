"""Idle anonymous visitors are forgotten (services/customer_service.py `purge_idle`), over
real HTTP on a server of its own (an idle time of seconds would forget the other
tests' visitors): a visitor unseen that long with no open session loses its key, its
logins and the name it typed; one with an open session, or coming back in time, stays."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from semot.domain.customer_service import FORGOTTEN_NAME
from tests.customer_service.cs_fixtures import V, admin_token, new_agent, new_queue, ok, visitor
from tests.integration.harness import Api, ServerProcess, eventually
from tests.integration_api.webhook_fixtures import start_server

IDLE_S = 4.0


@pytest.fixture(scope="module")
def purging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_CS_VISITOR_IDLE_DAYS": str(IDLE_S / 86400), "SEMOT_CS_VISITOR_PURGE_INTERVAL_S": "0.3"}
    yield from start_server("sqlite", tmp_path_factory.mktemp("cs-purge"), env)


async def test_idle_visitors_are_forgotten(purging: ServerProcess, api: Api) -> None:
    srv = purging
    boss = await admin_token(api, srv)
    q = await new_queue(api, srv, boss)
    agent = await new_agent(api, srv, boss, [q])  # not online: sessions become left messages

    gone, gone_key = await visitor(api, srv, name="李四")
    done = await ok(api, srv, "POST", f"{V}/sessions", {"queue_id": q}, token=gone.access_token)
    await ok(api, srv, "POST", f"{V}/sessions/{done['session_id']}/close", token=gone.access_token)
    waiting, waiting_key = await visitor(api, srv, name="张三")
    await ok(api, srv, "POST", f"{V}/sessions", {"queue_id": q}, token=waiting.access_token)  # stays open
    regular, regular_key = await visitor(api, srv, name="王五")

    async def forgotten() -> bool:
        # the regular comes back all the time (the widget on every page): never idle
        again, _ = await visitor(api, srv, key=regular_key)
        assert again.user_id == regular.user_id
        status, _ = await api.call(srv, "GET", "/api/v1/me", token=gone.access_token)
        return status == 401
    await eventually(forgotten, 10 * IDLE_S, "the idle visitor forgotten")

    # its key resumes nobody: the browser gets a new visitor; its sessions keep no name
    fresh, _ = await visitor(api, srv, key=gone_key)
    assert fresh.user_id != gone.user_id
    past = await ok(api, srv, "GET", f"{V}/visitors/{gone.user_id}/sessions", token=agent.access_token)
    assert [(s["session_id"], s["visitor"]["display_name"]) for s in past["sessions"]] == [
        (done["session_id"], FORGOTTEN_NAME)]
    # an open session keeps its visitor, however long it waits
    again, _ = await visitor(api, srv, key=waiting_key)
    assert again.user_id == waiting.user_id
    status, me = await api.call(srv, "GET", "/api/v1/me", token=again.access_token)
    assert status == 200 and me["display_name"] == "张三"
