"""Helpers of the integration suite: a server subprocess, HTTP calls, WebSocket clients.

`ServerProcess` runs the real `python -m semot serve` on a free port. `WS` is an aiohttp
WebSocket with a background reader (so it answers pings like any live client) that
routes replies by rid and keeps pushes in an inbox. `RawWS` speaks RFC 6455 by hand
over a plain socket, to play peers that never answer pings or never read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.ports import free_port

PASSWORD = "correct-horse-9"

# --------------------------------------------------------------------------- server




class ServerProcess:
    """`python -m semot serve` on a free port with its own data dir and environment."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = dict(env or {})
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def _environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
        env["PYTHONUNBUFFERED"] = "1"
        env["SEMOT_ABUSE_LIMITS"] = "false"  # contract §5: test suites run without; a test's env may turn them on
        env["SEMOT_VALIDATE_REPLIES"] = "true"  # every HTTP reply checked against its /openapi.json model
        env["SEMOT_VALIDATE_EVENTS"] = "true"  # every push checked against its model (protocol/events.py)
        env.update(self.env)
        return env

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait for /healthz; a port taken meanwhile is retried on another."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        for _ in range(5):
            self.port = free_port()
            self.starts += 1
            log = open(self.log_path, "ab")
            log.write(f"\n===== start #{self.starts} on port {self.port}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "semot", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._environ(),
            )
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as resp:
                        if resp.status == 200 and json.loads(resp.read())["status"] == "ok":
                            return
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
                time.sleep(0.05)
            else:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"server did not become healthy in {timeout}s:\n{self.log_tail()}")
            if "address already in use" not in self.log_tail().lower():
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
        raise RuntimeError("could not find a free port")

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the graceful path. Returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"server ignored SIGTERM for {timeout}s:\n{self.log_tail()}") from None
        return self.proc.returncode

    async def astop(self, timeout: float = 20.0) -> int:
        return await asyncio.to_thread(self.stop, timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def create_admin(self, username: str, password: str = PASSWORD) -> None:
        """`semot create-admin` against this server's data dir (it may be running)."""
        out = subprocess.run(
            [sys.executable, "-m", "semot", "create-admin", username, "--password", password, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            env=self._environ(),
            timeout=60,
        )
        assert out.returncode == 0, out.stderr + out.stdout


# --------------------------------------------------------------------------- HTTP


def unique(prefix: str = "u") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass
class Account:
    user_id: str
    password: str
    access_token: str
    refresh_token: str


class Api:
    """Plain HTTP calls against one server: (status, JSON body)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def call(
        self,
        server: ServerProcess,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        data: bytes | None = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kw: dict[str, Any] = {"headers": headers}
        if data is not None:
            kw["data"] = data
            headers["Content-Type"] = "application/json"
        elif body is not None:
            kw["json"] = body
        async with self.session.request(method, server.base_url + path, **kw) as resp:
            text = await resp.text()
            try:
                payload = json.loads(text) if text else None
            except json.JSONDecodeError:
                payload = text
            return resp.status, payload

    async def register(self, server: ServerProcess, username: str, password: str = PASSWORD) -> tuple[int, Any]:
        return await self.call(server, "POST", "/api/v1/auth/register", {"username": username, "password": password})

    async def login(self, server: ServerProcess, username: str, password: str = PASSWORD) -> tuple[int, Any]:
        return await self.call(server, "POST", "/api/v1/auth/login", {"username": username, "password": password})

    async def account(self, server: ServerProcess, prefix: str = "u") -> Account:
        """Register a fresh user and log it in."""
        name = unique(prefix)
        status, body = await self.register(server, name)
        assert status == 201, body
        assert body == {"user_id": name}
        status, body = await self.login(server, name)
        assert status == 200, body
        return Account(body["user_id"], PASSWORD, body["access_token"], body["refresh_token"])

    async def accounts(self, server: ServerProcess, n: int, prefix: str = "u") -> list[Account]:
        return list(await asyncio.gather(*(self.account(server, prefix) for _ in range(n))))

    async def group(self, server: ServerProcess, owner: Account, members: list[Account], name: str = "team") -> str:
        status, body = await self.call(
            server, "POST", "/api/v1/groups", {"name": name, "members": [m.user_id for m in members]}, token=owner.access_token
        )
        assert status == 201, body
        assert body["conv"] == f"g:{body['group_id']}"
        return body["conv"]


# --------------------------------------------------------------------------- WebSocket


class WSClosed(Exception):
    """The connection ended before the reply arrived."""


class WSError(Exception):
    def __init__(self, reply: dict[str, Any]) -> None:
        err = reply.get("error") or {}
        super().__init__(f"{err.get('code')}: {err.get('message')}")
        self.code = err.get("code")
        self.reply = reply


class WS:
    """A live client: a background reader answers pings, routes replies, keeps pushes."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.inbox: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []  # every JSON frame, in arrival order
        self.close_code: int | None = None
        self.end: tuple[Any, Any] | None = None  # how the read loop ended, for diagnostics
        self.closed = asyncio.Event()
        self._cond = asyncio.Condition()
        self._pending: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._rid = 0
        self.user_id: str | None = None
        self.session_id: str | None = None
        self.auth_data: dict[str, Any] | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server: ServerProcess, **kw: Any) -> WS:
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(server.ws_url, autoping=True, max_msg_size=0, **kw)
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    async def _read(self) -> None:
        try:
            while True:
                msg = await self.ws.receive()
                if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    frame = json.loads(msg.data)
                    self.received.append(frame)
                    if frame.get("t") == "res":
                        fut = self._pending.pop(frame.get("rid"), None)
                        if fut is not None and not fut.done():
                            fut.set_result(frame)
                            continue
                    async with self._cond:
                        self.inbox.append(frame)
                        self._cond.notify_all()
                    continue
                if msg.type is aiohttp.WSMsgType.CLOSE:
                    self.close_code = msg.data
                self.end = (msg.type, msg.data)
                break
        except Exception as exc:
            self.end = ("exc", exc)
        finally:
            if self.close_code is None:
                self.close_code = self.ws.close_code
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(WSClosed(f"closed with {self.close_code}"))
            self._pending.clear()
            async with self._cond:
                self._cond.notify_all()

    # --- sending
    def next_rid(self) -> int:
        self._rid += 1
        return self._rid

    async def send_json(self, obj: Any) -> None:
        await self.ws.send_str(json.dumps(obj))

    async def send_raw(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    def start_request(self, t: str, **fields: Any) -> asyncio.Future[dict[str, Any]]:
        """Send without waiting; the future resolves with the reply frame."""
        rid = fields.pop("rid", None) or self.next_rid()
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if self.closed.is_set():
            fut.set_exception(WSClosed(f"closed with {self.close_code}"))
            return fut
        self._pending[rid] = fut

        async def go() -> None:
            try:
                await self.ws.send_str(json.dumps({"t": t, "rid": rid, **fields}))
            except Exception as exc:
                self._pending.pop(rid, None)
                if not fut.done():
                    fut.set_exception(WSClosed(repr(exc)))

        task = asyncio.ensure_future(go())
        self._tasks.add(task)  # held: the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)
        return fut

    async def request(self, t: str, *, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """One request; returns the whole reply frame (ok or not)."""
        return await asyncio.wait_for(self.start_request(t, **fields), timeout)

    async def call(self, t: str, *, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """One request that must succeed; returns its data."""
        reply = await self.request(t, timeout=timeout, **fields)
        if not reply["ok"]:
            raise WSError(reply)
        return reply["data"]

    async def error(self, t: str, **fields: Any) -> str:
        """One request that must fail; returns its error code."""
        reply = await self.request(t, **fields)
        assert reply["ok"] is False, reply
        assert set(reply["error"]) >= {"code", "message"}, reply
        return reply["error"]["code"]

    async def send_text(self, to: str, text: str, **fields: Any) -> dict[str, Any]:
        fields.setdefault("cid", uuid.uuid4().hex)
        return await self.call("send", to=to, kind="text", body={"text": text}, **fields)

    # --- receiving
    def take(self, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        for i, f in enumerate(self.inbox):
            if pred(f):
                return self.inbox.pop(i)
        return None

    async def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        """The first inbox frame matching `pred`, waiting for it if needed (and removing it)."""
        found: list[dict[str, Any]] = []

        def ready() -> bool:
            f = self.take(pred)
            if f is not None:
                found.append(f)
                return True
            return self.closed.is_set()

        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(ready), timeout)
            except TimeoutError:
                raise AssertionError(f"no matching frame within {timeout}s; inbox: {self.inbox[-5:]}") from None
        if not found:
            raise WSClosed(f"closed with {self.close_code} while waiting; inbox: {self.inbox[-5:]}")
        return found[0]

    async def wait_msgs(self, conv: str, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        return [await self.wait_for(lambda f: f.get("t") == "msg" and f.get("conv") == conv, timeout) for _ in range(n)]

    def pushes(self, pred: Callable[[dict[str, Any]], bool] = lambda f: True) -> list[dict[str, Any]]:
        return [f for f in self.inbox if pred(f)]

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"connection still open after {timeout}s") from None
        return self.close_code

    async def close(self) -> None:
        if not self.ws.closed:
            try:
                await asyncio.wait_for(self.ws.close(), 2)
            except Exception:
                pass
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self.session.close()


class Clients:
    """Opens WebSocket clients for a test and closes them all afterwards."""

    def __init__(self) -> None:
        self.opened: list[WS] = []

    async def raw(self, server: ServerProcess, **kw: Any) -> WS:
        ws = await WS.open(server, **kw)
        self.opened.append(ws)
        return ws

    async def connect(self, server: ServerProcess, account: Account, device: str | None = None, platform: str = "sdk") -> WS:
        """Open and authenticate; the auth must succeed."""
        ws = await self.raw(server)
        data = await ws.call(
            "auth", token=account.access_token, device={"id": device or unique("dev"), "platform": platform}
        )
        ws.user_id = data["user_id"]
        ws.session_id = data["session_id"]
        ws.auth_data = data
        return ws

    async def close_all(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.opened), return_exceptions=True)


async def assert_chat_works(clients: Clients, api: Api, server: ServerProcess) -> None:
    """Two fresh users can still exchange a message both ways: the server is fine."""
    a, b = await api.accounts(server, 2, "ok")
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    ack = await wa.send_text(b.user_id, "still alive?")
    m = await wb.wait_for(lambda f: f.get("t") == "msg" and f.get("seq") == ack["seq"])
    assert m["body"] == {"text": "still alive?"} and m["from"] == a.user_id
    ack2 = await wb.send_text(a.user_id, "yes")
    m2 = await wa.wait_for(lambda f: f.get("t") == "msg" and f.get("seq") == ack2["seq"])
    assert m2["body"] == {"text": "yes"} and ack2["seq"] == ack["seq"] + 1


async def all_history(ws: WS, conv: str) -> list[dict[str, Any]]:
    """Every message of `conv`, paging `history` forward 200 at a time."""
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await ws.call("history", conv=conv, after=after, limit=200)
        out.extend(page["messages"])
        if not page["more"]:
            return out
        assert page["messages"], page
        after = page["messages"][-1]["seq"]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll `check` until it holds; for state with no event to wait on (metrics)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout}s")
        await asyncio.sleep(0.05)


def direct_conv(a: str, b: str) -> str:
    lo, hi = sorted((a, b), key=lambda s: s.encode())
    return f"d:{lo}:{hi}"


async def metric(api: Api, server: ServerProcess, name: str) -> float:
    """The value of one unlabelled Prometheus sample from /metrics."""
    status, text = await api.call(server, "GET", "/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


# --------------------------------------------------------------------------- raw RFC 6455


class RawWS:
    """A WebSocket client by hand over a plain non-blocking socket.

    It reads only when told to, and never answers pings: the peer the server must
    notice (dead or stalled) and drop without hurting anyone else.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def connect(cls, server: ServerProcess, rcvbuf: int | None = None) -> RawWS:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        self = cls(sock)
        key = base64.b64encode(os.urandom(16)).decode()
        await loop.sock_sendall(
            sock,
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode(),
        )
        while b"\r\n\r\n" not in self.buf:
            chunk = await loop.sock_recv(sock, 4096)
            assert chunk, "connection closed during the handshake"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.split(b"\r\n")[0].split()[1] == b"101", head
        return self

    async def send_text(self, payload: str | bytes, opcode: int = 0x1) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        await self.loop.sock_sendall(self.sock, header + mask + masked)

    async def _fill(self, n: int) -> bool:
        while len(self.buf) < n:
            try:
                chunk = await self.loop.sock_recv(self.sock, 65536)
            except (ConnectionResetError, BrokenPipeError):
                return False
            if not chunk:
                return False
            self.buf += chunk
        return True

    async def read_frame(self) -> tuple[int, bytes] | None:
        """(opcode, payload) of the next frame, or None at end of stream."""
        if not await self._fill(2):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            if not await self._fill(4):
                return None
            n = struct.unpack("!H", self.buf[2:4])[0]
            pos = 4
        elif n == 127:
            if not await self._fill(10):
                return None
            n = struct.unpack("!Q", self.buf[2:10])[0]
            pos = 10
        if not await self._fill(pos + n):
            return None
        payload = self.buf[pos : pos + n]
        self.buf = self.buf[pos + n :]
        return b0 & 0x0F, payload

    async def auth(self, account: Account, device: str | None = None) -> dict[str, Any]:
        await self.send_text(
            json.dumps({"t": "auth", "rid": 1, "token": account.access_token, "device": {"id": device or unique("raw"), "platform": "sdk"}})
        )
        while True:
            frame = await self.read_frame()
            assert frame is not None, "closed during auth"
            if frame[0] == 0x1:
                reply = json.loads(frame[1])
                assert reply["ok"], reply
                return reply["data"]

    def close(self) -> None:
        self.sock.close()
