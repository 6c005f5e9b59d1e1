"""A deliberately minimal asyncio WebSocket client for load generation.

Why not aiohttp's client or the Semot SDK: a load generator that shares a 2-core
machine with the server must spend as little CPU per frame as possible. This client

* frames outgoing text with an all-zero masking key (legal per RFC 6455 §5.3: the key
  is sent in the frame and the server XORs with it; a zero key leaves the payload
  unchanged, so the client never touches the payload bytes),
* parses incoming (unmasked) server frames straight out of `data_received`, handing
  each payload to a callback without decoding it (the caller decides whether it needs
  JSON at all),
* answers pings and nothing more (no fragmentation, no compression, no close handshake
  beyond echoing the code: the server never fragments and never compresses).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import Any

import orjson

_HANDSHAKE = (
    "GET /ws HTTP/1.1\r\n"
    "Host: 127.0.0.1:{port}\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: c2Vtb3QtYmVuY2gta2V5IQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n"
)
_ZERO_MASK = b"\x00\x00\x00\x00"
_H16 = struct.Struct("!BBH").pack
_H64 = struct.Struct("!BBQ").pack


def client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """FIN + opcode, MASK bit set, zero masking key, payload unchanged."""
    n = len(payload)
    b0 = 0x80 | opcode
    if n < 126:
        return bytes((b0, 0x80 | n)) + _ZERO_MASK + payload
    if n < 65536:
        return _H16(b0, 0x80 | 126, n) + _ZERO_MASK + payload
    return _H64(b0, 0x80 | 127, n) + _ZERO_MASK + payload


FrameHandler = Callable[["WSClient", bytes], None]


class WSClient(asyncio.Protocol):
    __slots__ = ("_buf", "_hs", "_hs_buf", "_waiter", "closed", "on_frame", "port", "state", "transport", "user")

    def __init__(self, port: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.port = port
        self.on_frame: FrameHandler | None = None
        self.user = ""
        self.closed = False
        self.state: Any = None  # free slot for the load that owns this connection
        self._buf = b""
        self._hs: asyncio.Future[None] | None = None
        self._hs_buf = b""
        self._waiter: asyncio.Future[bytes] | None = None

    # --- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._hs = asyncio.get_running_loop().create_future()
        transport.write(_HANDSHAKE.format(port=self.port).encode())  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for fut in (self._hs, self._waiter):
            if fut is not None and not fut.done():
                fut.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        hs = self._hs
        if hs is not None and not hs.done():
            self._hs_buf += data
            end = self._hs_buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._hs_buf[:end]
            data = self._hs_buf[end + 4 :]
            self._hs_buf = b""
            if not head.startswith(b"HTTP/1.1 101"):
                hs.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace")))
                return
            hs.set_result(None)
            if not data:
                return
        if self._buf:
            data = self._buf + data
            self._buf = b""
        pos = 0
        n = len(data)
        while n - pos >= 2:
            b1 = data[pos + 1] & 0x7F  # server frames are never masked
            if b1 < 126:
                hl = 2
                ln = b1
            elif b1 == 126:
                if n - pos < 4:
                    break
                ln = (data[pos + 2] << 8) | data[pos + 3]
                hl = 4
            else:
                if n - pos < 10:
                    break
                ln = int.from_bytes(data[pos + 2 : pos + 10], "big")
                hl = 10
            end = pos + hl + ln
            if end > n:
                break
            op = data[pos] & 0x0F
            payload = data[pos + hl : end]
            pos = end
            if op == 1 or op == 2:
                w = self._waiter
                if w is not None:
                    self._waiter = None
                    if not w.done():
                        w.set_result(payload)
                elif self.on_frame is not None:
                    self.on_frame(self, payload)
            elif op == 9:  # ping -> pong with the same payload
                self.transport.write(client_frame(payload, 0xA))  # type: ignore[union-attr]
            elif op == 8:
                self.closed = True
                if self.transport is not None and not self.transport.is_closing():
                    self.transport.write(client_frame(payload[:2], 0x8))
                    self.transport.close()
        if pos < n:
            self._buf = data[pos:]

    # --- API
    def send(self, payload: bytes) -> None:
        self.transport.write(client_frame(payload))  # type: ignore[union-attr]

    def send_raw(self, frames: bytes) -> None:
        """Write already-framed bytes (several frames joined = one syscall)."""
        self.transport.write(frames)  # type: ignore[union-attr]

    async def next_frame(self, timeout: float = 10.0) -> bytes:
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        return await asyncio.wait_for(self._waiter, timeout)

    async def request(self, obj: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send one request and return its reply, skipping pushes in between."""
        rid = obj["rid"]
        self.send(orjson.dumps(obj))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            reply = orjson.loads(await self.next_frame(max(0.01, deadline - loop.time())))
            if reply.get("t") == "res" and reply.get("rid") == rid:
                return reply

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(struct.pack("!H", 1000), 0x8))
            self.transport.close()
        self.closed = True


async def connect(
    port: int, token: str, device: str = "bench", timeout: float = 20.0, local_addr: tuple[str, int] | None = None
) -> WSClient:
    """Open /ws, authenticate, and return the ready client (on_frame not yet set).

    `local_addr`: the source address, e.g. ("127.0.0.5", 0): each source address has its
    own ~28,000 ephemeral ports towards the server's one port."""
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: WSClient(port), "127.0.0.1", port, local_addr=local_addr), timeout
    )
    assert client._hs is not None
    await asyncio.wait_for(client._hs, timeout)
    reply = await client.request(
        {"t": "auth", "rid": 1, "token": token, "device": {"id": device, "platform": "sdk"}}, timeout
    )
    if not reply.get("ok"):
        client.close()
        raise ConnectionError(f"auth failed: {reply}")
    client.user = reply["data"]["user_id"]
    return client


async def connect_many(
    port: int, tokens: list[str], *, concurrency: int = 64, device: str = "bench", timeout: float = 30.0,
    sources: list[str] | None = None,
) -> list[WSClient]:
    """Connect and authenticate every token, at most `concurrency` handshakes at once
    (from the `sources` addresses in turn, if given)."""
    sem = asyncio.Semaphore(concurrency)
    out: list[WSClient | None] = [None] * len(tokens)

    async def one(i: int, tok: str) -> None:
        async with sem:
            for attempt in range(3):
                try:
                    src = (sources[i % len(sources)], 0) if sources else None
                    out[i] = await connect(port, tok, device, timeout, src)
                    return
                except (TimeoutError, OSError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))

    await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
    return out  # type: ignore[return-value]
