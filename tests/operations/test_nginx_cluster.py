"""Debian's nginx with deploy/nginx/semot.conf (as shipped, only ports, certificate and
node addresses changed) in front of two nodes of a real cluster (PostgreSQL + Redis,
one files directory): HTTPS, the redirect from HTTP, wss through the WebSocket upgrade,
a tus upload in several PATCHes, and a lost node's client moved to the other node."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from semot.client import SemotClient
from tests.operations.deploy_support import nginx_main_conf, nginx_test, require_nginx, self_signed, site_for_test
from tests.support.cluster import two_nodes
from tests.support.server import ServerProcess, free_port


@dataclass
class Front:
    a: ServerProcess
    b: ServerProcess
    https: str  # nginx's TLS site
    http: str  # nginx's plain site (redirects)
    cert: Path


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited {proc.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not listen")


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    nginx = require_nginx()
    root = tmp_path_factory.mktemp("nginx-cluster")
    files = root / "files"  # the nodes share one files directory, as on a network filesystem
    extra = {"SEMOT_FILES_DIR": str(files), "SEMOT_TRUSTED_PROXIES": "127.0.0.1", "SEMOT_NODE_TIMEOUT_S": "3"}
    with two_nodes(root, "nginx", extra) as cluster:
        conf_dir = root / "nginx"
        conf_dir.mkdir()
        cert, key = self_signed(conf_dir)
        http_port, https_port = free_port(), free_port()
        site = site_for_test(conf_dir, cert, key, http_port=http_port, https_port=https_port,
                             upstreams=[f"127.0.0.1:{cluster.a.port}", f"127.0.0.1:{cluster.b.port}"])
        conf = nginx_main_conf(conf_dir, site)
        checked = nginx_test(conf, conf_dir)
        assert checked.returncode == 0, checked.stderr
        log = conf_dir / "error.log"
        proc = subprocess.Popen([nginx, "-p", str(conf_dir), "-e", str(log), "-c", str(conf)])
        try:
            _wait_port(https_port, proc, log)
            yield Front(cluster.a, cluster.b, f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", cert)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _tls(front: Front) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(front.cert))


async def _user(base: str, name: str, ctx: ssl.SSLContext | None = None) -> SemotClient:
    c = SemotClient(base, device_id=f"dev-{name}")
    if ctx is not None:  # the SDK's session, trusting the test's certificate
        c._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx))
    await c.register(name, "password123")
    await c.login(name, "password123")
    await c.connect()
    return c


async def _connections(node: ServerProcess) -> float:
    async with aiohttp.ClientSession() as s, s.get(node.base + "/metrics") as r:
        for line in (await r.text()).splitlines():
            if line.startswith("semot_connections "):
                return float(line.split()[1])
    raise AssertionError("no semot_connections")


async def _until(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def _handshake(ctx: ssl.SSLContext, host: str, port: int) -> str | None:
    with socket.create_connection((host, port), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=host) as tls:
        return tls.version()


@pytest.fixture
async def names() -> AsyncIterator[tuple[str, str]]:
    s = uuid.uuid4().hex[:6]
    yield f"ann{s}", f"ben{s}"


async def test_http_redirects_and_https_uses_modern_tls(front: Front) -> None:
    async with aiohttp.ClientSession() as s, s.get(front.http + "/healthz", allow_redirects=False) as r:
        assert r.status == 301 and r.headers["Location"].startswith("https://")
    ctx = _tls(front)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as s, s.get(front.https + "/healthz") as r:
        assert r.status == 200 and (await r.json())["status"] == "ok"
    host, port = front.https.removeprefix("https://").split(":")
    assert _handshake(_tls(front), host, int(port)) == "TLSv1.3"
    # TLS 1.2 only with forward-secret AEAD ciphers: a static-RSA CBC suite is refused
    weak = _tls(front)
    weak.maximum_version = ssl.TLSVersion.TLSv1_2
    weak.set_ciphers("AES256-SHA256")
    with pytest.raises(ssl.SSLError):
        _handshake(weak, host, int(port))
    strong = _tls(front)
    strong.maximum_version = ssl.TLSVersion.TLSv1_2
    assert _handshake(strong, host, int(port)) == "TLSv1.2"
    # /metrics stays on the nodes (Prometheus scrapes them directly)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as s, s.get(front.https + "/metrics") as r:
        assert r.status == 404


async def test_websocket_and_tus_upload_through_nginx_then_a_node_is_lost(
    front: Front, names: tuple[str, str], tmp_path: Path
) -> None:
    ann = await _user(front.https, names[0], _tls(front))  # through nginx, wss
    # which node nginx chose for this address (ip_hash): its connection count shows it
    counts = [await _connections(front.a), await _connections(front.b)]
    assert sorted(counts) == [0.0, 1.0], counts
    chosen, other = (front.a, front.b) if counts[0] == 1.0 else (front.b, front.a)
    ben = await _user(other.base, names[1])  # directly on the other node: pushes cross Redis
    try:
        ack = await ann.send_text(names[1], "through nginx")
        got = await ben.next_message(10)
        assert got["body"] == {"text": "through nginx"} and got["seq"] == ack["seq"]
        await ben.send_text(names[0], "back over wss")
        assert (await ben.next_message(10))["seq"] == ack["seq"] + 1  # the SDK hands ben its own send
        assert (await ann.next_message(10))["seq"] == ack["seq"]  # its own send first
        assert (await ann.next_message(10))["body"] == {"text": "back over wss"}

        # a 3 MiB tus upload in 1 MiB PATCHes through nginx (streamed, not buffered)
        data = os.urandom(3 * 1024 * 1024 + 17)
        src = tmp_path / "big.bin"
        src.write_bytes(data)
        info = await ann.upload(src, chunk_size=1024 * 1024)
        assert info.size == len(data)
        await ann.send_file(names[1], info)
        msg = await ben.next_message(10)
        assert msg["kind"] == "file"
        out = tmp_path / "got.bin"
        assert await ben.download(msg, out) == len(data)  # from the other node, same files store
        assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()

        # the node nginx sends ann to dies: ann's reconnect goes through nginx to the other one
        reconnects = ann.reconnects
        chosen.kill()

        async def moved() -> bool:
            return ann.reconnects > reconnects and ann.connected

        await _until(moved, 60)
        assert await _connections(other) == 2.0  # ann and ben both on the survivor now
        await ben.send_text(names[0], "after the loss")
        while True:
            m = await ann.next_message(15)
            if m["body"] == {"text": "after the loss"}:
                break
        assert m["from"] == names[1]
    finally:
        await ann.close()
        await ben.close()
