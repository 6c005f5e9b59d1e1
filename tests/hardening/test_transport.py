"""Transport hardening over real connections (issue 8): the WebSocket flood close, the HTTP
read deadlines (slowloris), /metrics access, and the data directory's permissions."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from semot.datadir import ensure_private_dir
from tests.integration.harness import Api, Clients, ServerProcess, assert_chat_works

BASE_ENV = {"SEMOT_ABUSE_LIMITS": "false"}


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(env: dict[str, str] | None = None, data_dir: Path | None = None) -> ServerProcess:
        srv = ServerProcess(data_dir or tmp_path / f"data{len(started)}", {**BASE_ENV, **(env or {})})
        srv.start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        if srv.running:
            assert srv.stop() == 0, srv.log_tail()


def assert_clean_log(srv: ServerProcess) -> None:
    log = srv.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "Unhandled exception" not in log, srv.log_tail()


# --------------------------------------------------------------------------- WebSocket flood


FLOOD_ENV = {
    "SEMOT_RATE_PER_S": "10",
    "SEMOT_RATE_BURST": "5",
    "SEMOT_RATE_CLOSE_AFTER": "100000",  # only the time rule closes here
    "SEMOT_RATE_CLOSE_AFTER_S": "2",
}


def _limited(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("t") == "res" and not f["ok"] and f["error"]["code"] == "rate_limited"]


async def _send_at(ws: Any, per_s: float, seconds: float, rid0: int) -> float | None:
    """Pings at `per_s` for `seconds` (or until closed); the time of the first refusal."""
    start = time.monotonic()
    first_refusal = None
    rid = rid0
    while time.monotonic() - start < seconds and not ws.closed.is_set():
        await ws.send_json({"t": "ping", "rid": rid})
        rid += 1
        if first_refusal is None and _limited(ws.received):
            first_refusal = time.monotonic()
        await asyncio.sleep(1 / per_s)
    return first_refusal


async def test_flooding_at_three_times_the_rate_is_closed_4429_after_close_after_s(
    spawn: Callable[..., ServerProcess], api: Api, clients: Clients
) -> None:
    """Before: the refusal streak reset whenever one token refilled, so a client at 3x
    the rate (one request in three served) was never closed."""
    srv = spawn(FLOOD_ENV)
    flooder_acct, slow_acct, burst_acct = await api.accounts(srv, 3)
    flooder = await clients.connect(srv, flooder_acct)
    slow = await clients.connect(srv, slow_acct)
    burster = await clients.connect(srv, burst_acct)

    async def burst() -> None:
        for rid in range(100, 115):  # 15 at once against a burst of 5
            await burster.send_json({"t": "ping", "rid": rid})
        await asyncio.sleep(1.0)
        await burster.call("ping")  # then it behaves, past close_after_s
        await asyncio.sleep(2.5)
        await burster.call("ping")

    async def closed_at() -> float:
        await flooder.closed.wait()
        return time.monotonic()

    closing = asyncio.create_task(closed_at())
    first_refusal, _, _ = await asyncio.gather(
        _send_at(flooder, 30, 8.0, 1000),
        _send_at(slow, 7, 5.0, 1000),  # 0.7x the rate, for more than twice close_after_s
        burst(),
    )
    assert await flooder.wait_closed(1.0) == 4429
    assert first_refusal is not None
    closed_after = await closing - first_refusal
    assert 1.5 <= closed_after <= 3.5, closed_after
    served = [f for f in flooder.received if f.get("t") == "res" and f["ok"]]
    assert len(served) >= 15, "the flooder was served at its rate until the close"

    assert not slow.closed.is_set() and not _limited(slow.received), "just under the rate: never refused"
    assert len([f for f in slow.received if f.get("t") == "res"]) >= 25

    limited = _limited(burster.received)
    assert 8 <= len(limited) <= 10 and {f["rid"] for f in limited} <= set(range(100, 115))
    assert not burster.closed.is_set(), "a short burst is only answered rate_limited"
    await assert_chat_works(clients, api, srv)
    assert_clean_log(srv)


# --------------------------------------------------------------------------- HTTP deadlines


HTTP_ENV = {
    "SEMOT_HTTP_HEADER_TIMEOUT_S": "2",
    "SEMOT_HTTP_BODY_TIMEOUT_S": "3",
    "SEMOT_HTTP_MAX_PENDING_PER_IP": "60",
}


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("http") / "data", {**BASE_ENV, **HTTP_ENV})
    srv.start()
    yield srv
    if srv.running:
        assert srv.stop() == 0, srv.log_tail()


async def _closed_at(reader: asyncio.StreamReader, start: float, limit: float) -> float | None:
    """Seconds until the server closed the connection (None: still open at `limit`)."""
    try:
        while True:
            data = await asyncio.wait_for(reader.read(4096), max(0.01, start + limit - time.monotonic()))
            if not data:
                return time.monotonic() - start
    except TimeoutError:
        return None
    except ConnectionError:
        return time.monotonic() - start


async def _slow_client(port: int, kind: str, limit: float) -> float | None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start = time.monotonic()
    closed = asyncio.create_task(_closed_at(reader, start, limit))
    try:
        if kind == "half":  # half a request, then silence
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        elif kind == "trickle":  # one header line per second, forever
            writer.write(b"GET /healthz HTTP/1.1\r\n")
            n = 0
            while not closed.done():
                await asyncio.sleep(1.0)
                n += 1
                try:
                    writer.write(f"X-Slow-{n}: {n}\r\n".encode())
                    await writer.drain()
                except ConnectionError:
                    break
        return await closed
    finally:
        writer.close()


async def test_slow_request_heads_are_closed_while_everyone_else_is_served(
    http_server: ServerProcess, api: Api, clients: Clients
) -> None:
    """Before: aiohttp has no head deadline; these stayed open for minutes."""
    kinds = ["trickle"] * 30 + ["half"] * 10 + ["silent"] * 10
    slow = asyncio.gather(*(_slow_client(http_server.port, k, limit=8.0) for k in kinds))
    await asyncio.sleep(0.5)
    for _ in range(5):  # the server stays responsive meanwhile
        status, body = await api.call(http_server, "GET", "/healthz")
        assert status == 200 and body["status"] == "ok"
    await assert_chat_works(clients, api, http_server)
    closed = await slow
    assert all(c is not None for c in closed), f"still open after 8 s: {closed.count(None)} of {len(closed)}"
    assert all(1.8 <= c <= 4.5 for c in closed if c is not None), sorted(c for c in closed if c is not None)
    assert_clean_log(http_server)


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
    return int(head.split()[1]), await asyncio.wait_for(reader.readexactly(length), 5)


async def test_idle_keep_alive_between_requests_is_not_a_slow_head(http_server: ServerProcess) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", http_server.port)
    try:
        assert (await _request(reader, writer, "/healthz"))[0] == 200
        await asyncio.sleep(3.0)  # longer than the head deadline, shorter than keepalive_timeout
        assert (await _request(reader, writer, "/healthz"))[0] == 200
        # a later request's head has its own deadline, from its first byte
        writer.write(b"GET /healthz HTTP/1.1\r\n")
        start = time.monotonic()
        took = await _closed_at(reader, start, 6.0)
        assert took is not None and 1.8 <= took <= 4.0, took
    finally:
        writer.close()


async def test_a_body_trickled_slowly_gets_408_and_the_connection_closes(http_server: ServerProcess) -> None:
    """Content-Length 1,000,000 is under client_max_size; the body deadline bounds the wait."""
    reader, writer = await asyncio.open_connection("127.0.0.1", http_server.port)
    start = time.monotonic()
    writer.write(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000\r\n\r\n{"
    )

    async def trickle() -> None:
        try:
            while True:
                await asyncio.sleep(0.5)
                writer.write(b" ")
                await writer.drain()
        except ConnectionError:
            pass

    feeder = asyncio.create_task(trickle())
    try:
        data = await asyncio.wait_for(reader.read(), 8.0)  # until the server closes
    finally:
        feeder.cancel()
        writer.close()
    took = time.monotonic() - start
    assert data.startswith(b"HTTP/1.1 408 "), data[:200]
    assert json.loads(data.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "bad_request"
    assert 2.8 <= took <= 5.5, took
    assert_clean_log(http_server)


async def test_one_address_cannot_hold_more_unfinished_heads_than_the_cap(
    spawn: Callable[..., ServerProcess], api: Api
) -> None:
    http_server = spawn({**HTTP_ENV, "SEMOT_HTTP_HEADER_TIMEOUT_S": "20"})  # the held ones outlive the test
    held = [await asyncio.open_connection("127.0.0.1", http_server.port) for _ in range(60)]
    try:
        await asyncio.sleep(1.3)  # past slow_after: the 60 silent connections now count
        reader, writer = await asyncio.open_connection("127.0.0.1", http_server.port)
        took = await _closed_at(reader, time.monotonic(), 1.9)
        writer.close()
        assert took is not None and took < 1.8, "the 61st slow connection is closed once it is slow"
    finally:
        for _, w in held:
            w.close()
    await asyncio.sleep(0.3)
    assert (await api.call(http_server, "GET", "/healthz"))[0] == 200


async def test_many_connections_opened_at_once_from_one_address_are_all_served(http_server: ServerProcess) -> None:
    """An office behind one NAT address reconnecting at once (or a benchmark client): the
    cap counts only heads that are slow, so 3x the cap of prompt requests all get answers."""

    async def one() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", http_server.port)
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return await asyncio.wait_for(reader.read(), 20)
        finally:
            writer.close()

    replies = await asyncio.gather(*(one() for _ in range(180)), return_exceptions=True)
    failed = [r for r in replies if not (isinstance(r, bytes) and r.startswith(b"HTTP/1.1 200"))]
    assert not failed, failed[:3]


# --------------------------------------------------------------------------- /metrics


async def _metrics(srv: ServerProcess, headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as s, s.get(srv.base_url + "/metrics", headers=headers or {}) as r:
        return r.status, await r.text(), r.headers


async def test_metrics_are_public_by_default(spawn: Callable[..., ServerProcess]) -> None:
    srv = spawn()
    status, text, _ = await _metrics(srv)
    assert status == 200 and "semot_" in text


async def test_metrics_token_or_allowed_network(spawn: Callable[..., ServerProcess]) -> None:
    token = "metrics-" + os.urandom(12).hex()
    srv = spawn(
        {"SEMOT_METRICS_TOKEN": token, "SEMOT_METRICS_ALLOW": "10.1.2.0/24", "SEMOT_TRUSTED_PROXIES": "127.0.0.1"}
    )
    status, text, headers = await _metrics(srv)
    assert status == 401 and json.loads(text)["error"]["code"] == "unauthorized"
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert (await _metrics(srv, {"Authorization": "Bearer wrong-token-0123456789"}))[0] == 401
    status, text, _ = await _metrics(srv, {"Authorization": f"Bearer {token}"})
    assert status == 200 and "semot_" in text
    # the client address is what the trusted proxy (here 127.0.0.1) reports
    assert (await _metrics(srv, {"X-Forwarded-For": "10.1.2.3"}))[0] == 200
    assert (await _metrics(srv, {"X-Forwarded-For": "192.0.2.7"}))[0] == 401


async def test_metrics_allowlist_alone_answers_403(spawn: Callable[..., ServerProcess]) -> None:
    srv = spawn({"SEMOT_METRICS_ALLOW": "10.0.0.0/8"})
    status, text, _ = await _metrics(srv)
    assert status == 403 and json.loads(text)["error"]["code"] == "forbidden"
    # not a trusted proxy: its X-Forwarded-For is not believed
    assert (await _metrics(srv, {"X-Forwarded-For": "10.1.2.3"}))[0] == 403
    srv2 = spawn({"SEMOT_METRICS_ALLOW": "127.0.0.0/8, ::1"})
    assert (await _metrics(srv2))[0] == 200


# --------------------------------------------------------------------------- permissions


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


async def test_a_fresh_data_dir_is_private(spawn: Callable[..., ServerProcess], api: Api, tmp_path: Path) -> None:
    """Before: the directory was 0755 and semot.db 0644 (readable by every local user)."""
    old = os.umask(0o022)  # the usual umask, inherited by the server
    try:
        (tmp_path / "fresh").mkdir()
        srv = spawn(data_dir=tmp_path / "fresh" / "data")  # data/ itself does not exist yet
    finally:
        os.umask(old)
    await api.account(srv)  # a write: the WAL is in use
    data = srv.data_dir
    assert _mode(data) == 0o700
    files = {p.name: _mode(p) for p in data.iterdir() if not p.is_dir()}
    assert {"semot.db", "semot.db-wal", "semot.db-shm", "secret.key"} <= set(files), files
    assert all(mode == 0o600 for mode in files.values()), {k: oct(v) for k, v in files.items()}
    dirs = {p.name: _mode(p) for p in data.iterdir() if p.is_dir()}  # e.g. files/ of uploads
    assert all(mode == 0o700 for mode in dirs.values()), {k: oct(v) for k, v in dirs.items()}


def test_an_existing_semot_dir_is_tightened_a_foreign_one_is_not(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o755)
    os.chmod(ours, 0o755)
    (ours / "semot.db").write_bytes(b"")
    os.chmod(ours / "semot.db", 0o644)
    ensure_private_dir(ours)
    assert _mode(ours) == 0o700 and _mode(ours / "semot.db") == 0o600

    empty = tmp_path / "empty"
    empty.mkdir()
    os.chmod(empty, 0o755)
    ensure_private_dir(empty)
    assert _mode(empty) == 0o700

    foreign = tmp_path / "shared"
    foreign.mkdir()
    os.chmod(foreign, 0o755)
    (foreign / "notes.txt").write_text("someone else's")
    os.chmod(foreign / "notes.txt", 0o644)
    ensure_private_dir(foreign)
    assert _mode(foreign) == 0o755 and _mode(foreign / "notes.txt") == 0o644
