"""Downloads through sendfile(2) (api/file_send.py): the exact bytes of whole files and
Ranges, keep-alive connections reused after one, slow readers (the socket fills and the
event loop waits for room), clients that go away mid-body; and, in-process, that the
kernel path is the one taken (not the streamed fallback)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import requests
from aiohttp import web

from semot.api.file_send import SendfileResponse
from tests.files.support import FILES, account
from tests.support.server import ServerProcess

SIZE = 7_500_000  # under the fixture's 8 MB limit; more than loopback's socket buffers take at once


def _raw_get(server: ServerProcess, token: str, file_id: str, extra: str = "", rcvbuf: int = 0) -> socket.socket:
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", server.port))
    s.sendall((f"GET {FILES}{file_id}/content HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
               f"{extra}\r\n").encode())
    return s


def _read_reply(s: socket.socket, pause_every: int = 0) -> tuple[bytes, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, body = buf.partition(b"\r\n\r\n")
    length = int(next(ln.split(b":")[1] for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")))
    reads = 0
    while len(body) < length:
        got = s.recv(min(65536, length - len(body)))
        assert got, "the connection closed early"
        body += got
        reads += 1
        if pause_every and reads % pause_every == 0 and len(body) < 2_000_000:
            time.sleep(0.05)  # a slow reader at first: the server's socket is full meanwhile
    return head, body


def test_whole_and_ranges_over_one_kept_alive_connection(server: ServerProcess) -> None:
    alice = account(server)
    data = os.urandom(SIZE)
    file_id = alice.upload(data)
    url = f"{server.base}{FILES}{file_id}/content"
    with requests.Session() as http:
        http.headers.update(alice.auth)
        for _ in range(2):
            r = http.get(url)
            assert r.status_code == 200 and r.content == data
            r = http.get(url, headers={"Range": "bytes=4194000-7000000"})
            assert r.status_code == 206 and r.content == data[4_194_000:7_000_001]
            assert r.headers["Content-Range"] == f"bytes 4194000-7000000/{SIZE}"
            r = http.get(url, headers={"If-None-Match": r.headers["ETag"]})
            assert r.status_code == 304 and not r.content
            r = http.get(url, headers={"Range": f"bytes={SIZE - 1}-"})
            assert r.status_code == 206 and r.content == data[-1:]


def test_a_slow_reader_gets_every_byte(server: ServerProcess) -> None:
    alice = account(server)
    data = os.urandom(SIZE)
    file_id = alice.upload(data)
    with _raw_get(server, alice.token, file_id, "Range: bytes=100-\r\n", rcvbuf=16384) as s:
        head, body = _read_reply(s, pause_every=4)
    assert head.startswith(b"HTTP/1.1 206") and body == data[100:]


def test_clients_going_away_mid_body_harm_no_one(server: ServerProcess) -> None:
    alice = account(server)
    data = os.urandom(SIZE)
    file_id = alice.upload(data)
    for _ in range(5):
        with _raw_get(server, alice.token, file_id) as s:
            s.recv(100_000)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    r = alice.get(file_id)  # others are served the right bytes (the module's log check: no traceback)
    assert r.status_code == 200 and r.content == data


async def test_the_kernel_path_is_taken_on_plain_tcp(tmp_path: Path) -> None:
    data = os.urandom(3_000_000)
    path = tmp_path / "blob"
    path.write_bytes(data)
    sent: list[SendfileResponse] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        start = int(request.query.get("start", "0"))
        resp = SendfileResponse(status=200, headers={"Content-Length": str(len(data) - start), "ETag": '"x"'},
                                fd=os.open(path, os.O_RDONLY), offset=start, count=len(data) - start,
                                chunks=_never)
        sent.append(resp)
        return resp

    app = web.Application()
    app.router.add_get("/f", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            for start in (0, 1_234_567):
                async with http.get(f"http://127.0.0.1:{port}/f?start={start}") as r:
                    assert r.headers["ETag"] == '"x"'
                    assert await r.read() == data[start:]
    finally:
        await runner.cleanup()
    assert [r.sent_by_kernel for r in sent] == [True, True]


async def _never() -> AsyncIterator[bytes]:  # the fallback must not run here
    raise AssertionError("streamed instead of sendfile")
    yield b""
