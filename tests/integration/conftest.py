"""Fixtures for the integration suite: the real `semot serve` in a subprocess, real sockets.

One shared server (session scope) serves every test that needs no special settings;
tests keep out of each other's way with unique usernames. A second shared "tuned"
server runs with short timers (heartbeat, auth timeout, recall window). Tests that
need other limits, or that stop, kill or restart a server, start their own with
`spawn_server`. The helpers themselves live in harness.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.harness import ServerProcess

TUNED_ENV = {
    "SEMOT_HEARTBEAT_S": "1",
    "SEMOT_AUTH_TIMEOUT_S": "0.5",
    "SEMOT_RECALL_WINDOW_S": "1",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in this folder starts real servers: mark it so `-m "not integration"` skips it."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.integration)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: starts the real server in a subprocess")


def _shutdown(server: ServerProcess) -> None:
    if server.running:
        rc = server.stop()
        assert rc == 0, f"server exited with {rc} on SIGTERM:\n{server.log_tail()}"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The shared server with default settings."""
    srv = ServerProcess(tmp_path_factory.mktemp("shared") / "data")
    srv.start()
    yield srv
    _shutdown(srv)


@pytest.fixture(scope="session")
def tuned_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A shared server with short timers: heartbeat 1 s, auth timeout 0.5 s, recall window 1 s."""
    srv = ServerProcess(tmp_path_factory.mktemp("tuned") / "data", TUNED_ENV)
    srv.start()
    yield srv
    _shutdown(srv)


@pytest.fixture
def spawn_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start a dedicated server (its own data dir unless given); stopped at teardown."""
    started: list[ServerProcess] = []

    def spawn(env: dict[str, str] | None = None, data_dir: Path | None = None) -> ServerProcess:
        srv = ServerProcess(data_dir or tmp_path / f"data{len(started)}", env)
        srv.start()
        started.append(srv)
        return srv

    yield spawn
    for srv in started:
        if srv.running:
            srv.stop()
