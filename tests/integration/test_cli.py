"""The `semot` command as an operator meets it (PROTOCOL.md §5; issue 2, "Package and CLI")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def semot(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
    return subprocess.run(
        [sys.executable, "-m", "semot", *args], capture_output=True, text=True, env={**clean, **(env or {})}, timeout=timeout
    )


def test_bad_setting_stops_the_server_with_a_clear_message(tmp_path: Path) -> None:
    out = semot("serve", "--port", "0", "--data-dir", str(tmp_path), env={"SEMOT_HEARTBEAT_S": "0"})
    assert out.returncode == 2
    assert "SEMOT_HEARTBEAT_S" in out.stderr
    out = semot("serve", "--port", "0", "--data-dir", str(tmp_path), env={"SEMOT_MAX_FRAME_BYTES": "lots"})
    assert out.returncode == 2 and "SEMOT_MAX_FRAME_BYTES" in out.stderr


def test_help_on_every_command() -> None:
    for args in ((), ("serve",), ("migrate",), ("create-admin",)):
        out = semot(*args, "--help")
        assert out.returncode == 0, out.stderr
        assert "Usage" in out.stdout


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    out = semot("migrate", "--data-dir", str(tmp_path / "d"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "d" / "semot.db").exists()
    again = semot("migrate", "--data-dir", str(tmp_path / "d"))
    assert again.returncode == 0, again.stderr
