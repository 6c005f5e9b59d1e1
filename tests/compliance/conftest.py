"""Fixtures the compliance modules share: one server per module on each backend (the
module's name names its data directory), an HTTP session and a pool of WebSocket clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.hardening.ws_support import BACKENDS, assert_clean_log, run_backend
from tests.integration.harness import Api, Clients, ServerProcess


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    for srv in run_backend(request.param, tmp_path_factory.mktemp(name) / "data"):
        yield srv
        assert_clean_log(srv)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session)


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    c = Clients()
    yield c
    await c.close_all()
