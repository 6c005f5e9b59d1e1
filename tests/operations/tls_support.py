"""A `semot serve --tls-cert/--tls-key` process for the TLS tests, and a client context
that trusts its self-signed certificate."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.server import free_port


def self_signed(cert: Path, key: Path, *hosts: str) -> str:
    """`semot tls self-signed` (the real command); returns the SPKI pin it prints."""
    args = [sys.executable, "-m", "semot", "tls", "self-signed", "--cert", str(cert), "--key", str(key), "--force"]
    for host in hosts or ("127.0.0.1", "localhost"):
        args += ["--host", host]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("SPKI pin:"))


def trusting(cert: Path) -> ssl.SSLContext:
    """A client context that trusts exactly `cert` (and checks the host name)."""
    return ssl.create_default_context(cafile=str(cert))


class TlsServer:
    def __init__(self, data_dir: Path, cert: Path, key: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir, self.cert, self.key = data_dir, cert, key
        self.port = free_port()
        self.redirect_port = free_port()
        self.env = {**os.environ, "SEMOT_LOG_LEVEL": "INFO", "SEMOT_ABUSE_LIMITS": "false",
                    "SEMOT_VALIDATE_REPLIES": "true", "SEMOT_TLS_REDIRECT_PORT": str(self.redirect_port), **(env or {})}
        self.log_path = data_dir.parent / f"tls-server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 60.0) -> TlsServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "semot", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
                 "--tls-cert", str(self.cert), "--tls-key", str(self.key)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        ctx = trusting(self.cert)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1, context=ctx) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"TLS server not healthy in {timeout}s: {self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def hup(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
