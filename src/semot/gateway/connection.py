"""One authenticated (or authenticating) WebSocket and its bounded send path.

Outgoing frames are written straight to the transport: fan-out hands every recipient
the same pre-built bytes, and no connection ever awaits another. A peer that stops
reading lets its kernel and transport buffers fill; past `send_buffer_bytes` the
connection is aborted (the client resyncs on reconnect), so one stalled reader can
never hold up the node or grow its memory without bound.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from semot.protocol.session import SessionProtocol

if TYPE_CHECKING:
    from semot.metrics import Metrics

_PING = b"\x89\x00"  # unmasked PING frame, empty payload


class Connection:
    __slots__ = (
        "ws",
        "transport",
        "proto",
        "user_id",
        "device_id",
        "platform",
        "session_id",
        "closed",
        "_limit",
        "_metrics",
        "task",
        "receiving",
        "close_request",
    )

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        proto: SessionProtocol,
        *,
        send_limit: int,
        metrics: Metrics,
    ) -> None:
        self.ws = ws
        self.transport = transport
        self.proto = proto
        self.user_id = ""
        self.device_id = ""
        self.platform = ""
        self.session_id = ""
        self.closed = False
        self._limit = send_limit
        self._metrics = metrics
        self.task: asyncio.Task[Any] | None = None  # the session loop reading this socket
        self.receiving = False  # the session loop is idle, waiting for a frame
        self.close_request: tuple[int, str] | None = None

    def send(self, frame: bytes) -> bool:
        """Queue one pre-built frame; False if the connection is gone or was dropped."""
        if self.closed:
            return False
        t = self.transport
        if t.is_closing():
            self.closed = True
            return False
        if t.get_write_buffer_size() > self._limit:
            self._metrics.dropped_slow.inc()
            self.abort()
            return False
        t.write(frame)
        return True

    def ping(self) -> None:
        if not self.closed and not self.transport.is_closing():
            self.transport.write(_PING)

    def abort(self) -> None:
        """Drop without a closing handshake: the peer is not reading anyway."""
        self.closed = True
        self.transport.abort()

    def close(self, code: int, reason: str) -> None:
        """End the session with `code` (does not wait); nothing more is pushed to it.

        The session loop performs the close itself: interrupted if it is idle, or
        right after the request it is serving."""
        if self.closed:
            return
        self.closed = True
        self.close_request = (code, reason)
        if self.task is not None and self.receiving:
            self.task.cancel()
