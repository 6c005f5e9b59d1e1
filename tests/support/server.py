"""Start a real `semot serve` process on a free port, for tests that need one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.ports import free_port


def data_dir_log(data_dir: Path, port: int) -> Path:
    return data_dir.parent / f"server-{port}.log"


class ServerProcess:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.data_dir = data_dir
        self._fixed_port = port is not None
        self.port = port or free_port()
        # abuse limits off unless a test turns them on (contract §5: test suites run without them)
        self.env = {**os.environ, "SEMOT_LOG_LEVEL": "WARNING", "SEMOT_ABUSE_LIMITS": "false",
                    "SEMOT_VALIDATE_REPLIES": "true", **(env or {})}
        self.env.setdefault("SEMOT_VALIDATE_EVENTS", "true")  # every push checked against its model
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir_log(data_dir, self.port)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start and wait for /healthz (the deadline is generous: parallel test workers
        load the machine); a free port taken meanwhile by someone else is retried on
        another, unless the test chose the port."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(5):
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "semot", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                        if r.status == 200:
                            return self
                except OSError:
                    time.sleep(0.05)
            else:
                self.kill()
                raise RuntimeError(f"server did not become healthy in {timeout}s: {self.log_path.read_text()[-2000:]}")
            tail = self.log_path.read_text()[-2000:]
            if self._fixed_port or attempt == 4 or "address already in use" not in tail.lower():
                raise RuntimeError(f"server exited with {self.proc.returncode}: {tail}")
            self.port = free_port()  # a log of its own: that one stays as it was
            self.log_path = data_dir_log(self.data_dir, self.port)
        raise AssertionError("unreachable")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
