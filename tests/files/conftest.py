"""A real server for the file tests: small limits so 413s are cheap to reach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

MAX_BYTES = 8_000_000
QUOTA = 12_000_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_FILE_MAX_BYTES": str(MAX_BYTES), "SEMOT_FILE_QUOTA_BYTES": str(QUOTA)}
    srv = ServerProcess(tmp_path_factory.mktemp("files") / "data", env=env).start()
    try:
        yield srv
    finally:
        assert srv.stop() == 0
        log = Path(srv.log_path).read_text()
        assert "Traceback" not in log and "does not match its declaration" not in log, log[-3000:]
