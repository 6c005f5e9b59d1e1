"""One authenticated (or authenticating) WebSocket and its bounded send path.

Outgoing frames never wait: fan-out hands every recipient the same pre-built bytes,
and no connection ever awaits another. The frames a connection gets during one burst of
callbacks (a commit's pushes, then its acks) are joined into ONE transport write by the
WriteCoalescer: under load that is one syscall per connection per commit batch instead
of one per frame. A peer that stops reading lets its kernel and transport buffers fill;
past `send_buffer_bytes` the connection is aborted (the client resyncs on reconnect),
so one stalled reader can never hold up the node or grow its memory without bound.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from aiohttp._websocket.reader import WebSocketDataQueue, WebSocketReader

from semot.protocol.session import SessionProtocol

if TYPE_CHECKING:
    from semot.metrics import Metrics
    from semot.services.protocol_log import Tap

_PING = b"\x89\x00"  # unmasked PING frame, empty payload
log = logging.getLogger(__name__)


class WriteCoalescer:
    """Joins the frames queued for each connection and writes them once, a little later.

    The flush runs two loop iterations after the first queued frame: the writer's
    fan-out queues the pushes of a commit, the acks follow from the futures' callbacks
    one iteration later, and both leave in the same write(). Quiet connections pay two
    ready-queue hops (microseconds); no timer is involved."""

    __slots__ = ("_armed", "_dirty")

    def __init__(self) -> None:
        self._dirty: list[Connection] = []
        self._armed = False

    def add(self, conn: Connection) -> None:
        self._dirty.append(conn)
        if not self._armed:
            self._armed = True
            asyncio.get_running_loop().call_soon(self._arm)

    def _arm(self) -> None:
        asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._armed = False
        dirty, self._dirty = self._dirty, []
        for conn in dirty:
            try:
                conn.flush()
            except Exception:  # one broken transport must not keep the others' frames
                log.exception("writing to a connection failed")


class _Inbox(WebSocketDataQueue):
    """aiohttp's queue of received messages, minus the PONGs.

    A pong only proves the peer is alive: it stamps the session's `last_seen` right in
    the reader's callback instead of waking the session's task through the queue, which
    at 100,000 connections and one heartbeat each was a task wakeup per connection per
    interval (the largest part of the idle CPU, benchmarks/README.md)."""

    __slots__ = ("_clock", "session")

    def __init__(self, protocol: Any, limit: int, *, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(protocol, limit, loop=loop)
        self.session: SessionProtocol | None = None
        self._clock = loop.time

    def feed_data(self, data: Any, size: int) -> None:
        if data[0] is WSMsgType.PONG:
            if self.session is not None:
                self.session.last_seen = self._clock()
            return
        super().feed_data(data, size)


class GatewayWebSocket(web.WebSocketResponse):
    """aiohttp's WebSocket that first writes the frames still queued for it when it
    closes (ours or aiohttp's own close), so none lands after the close frame, and
    whose inbox handles PONGs without waking the session (`_Inbox`)."""

    __slots__ = ("before_close",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_close: Connection | None = None

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: Any) -> None:
        # aiohttp's own _post_start (3.14), with _Inbox for its WebSocketDataQueue; this
        # server never uses aiohttp's heartbeat (no data-received callback needed)
        assert self._heartbeat is None, "the Hub pings; aiohttp's heartbeat would need its callback"
        self._ws_protocol = protocol
        self._writer = writer
        loop = self._loop
        assert loop is not None
        self._reader = _Inbox(request._protocol, 2**16, loop=loop)
        self._parser = WebSocketReader(
            self._reader, self._max_msg_size, compress=bool(self._compress), decode_text=self._decode_text
        )
        request.protocol.set_parser(self._parser)
        request.protocol.keep_alive(False)

    def watch_pongs(self, session: SessionProtocol) -> None:
        """From now on a PONG stamps `session.last_seen` (and is not queued)."""
        if isinstance(self._reader, _Inbox):
            self._reader.session = session

    async def close(self, *, code: int = 1000, message: bytes = b"", drain: bool = True) -> bool:
        if self.before_close is not None:
            self.before_close.flush()
        return await super().close(code=code, message=message, drain=drain)


class Connection:
    __slots__ = (
        "_coalescer",
        "_limit",
        "_metrics",
        "_out",
        "close_request",
        "closed",
        "device_id",
        "ip",
        "login_id",
        "platform",
        "proto",
        "receiving",
        "session_id",
        "tap",
        "task",
        "transport",
        "user_id",
        "ws",
    )

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        proto: SessionProtocol,
        *,
        send_limit: int,
        metrics: Metrics,
        coalescer: WriteCoalescer | None = None,
    ) -> None:
        self.ws = ws
        self.transport = transport
        self.proto = proto
        self.user_id = ""
        self.device_id = ""
        self.platform = ""
        self.session_id = ""
        self.ip = ""  # the client address (through trusted proxies), for limits and logs
        self.login_id = ""  # the login (`sid`) of the access token it authenticated with
        self.closed = False
        self._limit = send_limit
        self._metrics = metrics
        self.task: asyncio.Task[Any] | None = None  # the session loop reading this socket
        self.receiving = False  # the session loop is idle, waiting for a frame
        self.close_request: tuple[int, str] | None = None
        # the protocol log's tap while this user is watched (services/protocol_log.py):
        # None otherwise, so an unwatched frame costs one attribute test
        self.tap: Tap | None = None
        # frames queued for the next coalesced write: one burst, bounded by a commit batch
        self._out: list[bytes] | None = None
        self._coalescer = coalescer
        if isinstance(ws, GatewayWebSocket):
            ws.before_close = self
            ws.watch_pongs(proto)

    def send(self, frame: bytes) -> bool:
        """Queue one pre-built frame; False if the connection is gone or was dropped."""
        if self.closed:
            return False
        if self.tap is not None:
            self.tap.out(frame)
        t = self.transport
        if t.is_closing():
            self.closed = True
            return False
        if t.get_write_buffer_size() > self._limit:
            self._metrics.dropped_slow.inc()
            self.abort()
            return False
        if self._coalescer is None:
            t.write(frame)
            return True
        out = self._out
        if out is None:
            self._out = [frame]
            self._coalescer.add(self)
        else:
            out.append(frame)
        return True

    def flush(self) -> None:
        """Write the queued frames now, in one write()."""
        out = self._out
        if out is None:
            return
        self._out = None
        t = self.transport
        if not t.is_closing():
            t.write(out[0] if len(out) == 1 else b"".join(out))

    def ping(self) -> None:
        self.send(_PING)

    def abort(self) -> None:
        """Drop without a closing handshake: the peer is not reading anyway."""
        self.closed = True
        self._out = None
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
