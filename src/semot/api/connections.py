"""HTTP connection guards: the read deadlines aiohttp's server does not have.

aiohttp (3.14) closes a kept-alive connection that stays idle for `keepalive_timeout`,
but nothing bounds how long a client may take to send a request head or its body: a
slowloris client trickling one header line every few seconds holds a socket and a task
for as long as it likes, and so do hundreds of them. Like Go's ReadHeaderTimeout and
hyper's header_read_timeout, `GuardedRequestHandler` adds:

- a head deadline: the request line and headers must be complete within
  `header_timeout` of connecting, or of the first byte of a later request on a kept-alive
  connection (the idle time between requests stays governed by `keepalive_timeout`, so
  keep-alive clients are not penalised). Past it the connection is closed;
- a body deadline: a body announced by the head (Content-Length, chunked) must have
  arrived within `body_timeout`; a handler still reading it gets 408 and the connection
  is closed after that answer (`client_max_size` separately bounds its size);
- a cap on the connections of one peer address that are still without a complete head
  a second (`slow_after`) after they started one, so one address cannot hold thousands
  of half-open requests. Only slow heads count: an office behind one NAT address whose
  hundreds of clients reconnect at once, or a busy server that has not read their heads
  yet, is never refused for it. A reverse proxy sends complete heads only, so clients
  behind it are not lumped together by this cap.

What aiohttp's own parser refuses (a request line over 8 KiB, a malformed header) is
answered with the API's JSON error, like everything else (`handle_error`).

`GuardedSite` is aiohttp's TCPSite with this handler: the runner, app, shutdown and
connection bookkeeping (runner.server) are aiohttp's own, untouched.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.web_request import BaseRequest

log = logging.getLogger(__name__)
_PARSER_CODES = {413: "too_large", 504: "unavailable"}  # semot.errors' codes for these statuses
_QUOTED = re.compile(r":?\s*(?:bytearray\()?b['\"]")


@dataclass(slots=True)
class ConnectionGuard:
    """The limits, and the per-address count of connections slow to send a head."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_pending_per_ip: int = 64  # 0: no cap
    slow_after: float = 1.0  # a head still incomplete after this long counts against the cap
    pending: dict[str, int] = field(default_factory=dict)
    refused: int = 0  # connections closed at once because their address was over the cap
    timed_out: int = 0  # connections closed by the head deadline

    def enter(self, ip: str) -> bool:
        n = self.pending.get(ip, 0)
        if self.max_pending_per_ip and n >= self.max_pending_per_ip:
            self.refused += 1
            return False
        self.pending[ip] = n + 1
        return True

    def leave(self, ip: str) -> None:
        n = self.pending.get(ip, 0) - 1
        if n > 0:
            self.pending[ip] = n
        else:
            self.pending.pop(ip, None)


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's connection handler with the head and body deadlines (module docstring).

    Bytes that are neither a WebSocket's nor the latest request's body belong to a
    request head, and start its clock. One gap remains: the start of a pipelined head
    that arrives in the same packet as the end of a body, then nothing more, waits for
    keepalive_timeout instead (any further byte starts the clock).

    It reads three of aiohttp's own attributes: `_upgraded` (now a WebSocket),
    `_request_count` (heads parsed so far) and `_messages` (parsed requests not yet
    handled); tests/hardening/test_transport.py fails if an aiohttp upgrade changes them."""

    __slots__ = ("_body", "_body_timer", "_counted", "_guard", "_head_timer", "_ip", "_slow_timer")

    def __init__(self, manager: web.Server, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._ip = ""
        self._head_timer: asyncio.TimerHandle | None = None
        self._slow_timer: asyncio.TimerHandle | None = None
        self._counted = False  # this connection's slow head is in guard.pending
        self._body_timer: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None  # the latest request's body while it is arriving

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self._ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        self._start_head()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None:
            body = self._body
            if self._upgraded or not data or (body is not None and not body.is_eof()):
                # WebSocket frames, or the body of the latest request: aiohttp's path, untouched
                super().data_received(data)
                return
            # the first bytes of another request on a kept-alive connection: its clock starts now
            # (an idle connection sends nothing, and stays under keepalive_timeout)
            if not self._start_head():
                return
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:
            self._head_complete()

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        """What aiohttp answers itself (a request line or header over 8 KiB, a malformed
        head: before any middleware) as the API's JSON `Error`, not aiohttp's text/plain:
        /openapi.json promises that shape for every 4xx and 5xx, and a client parses one."""
        super().handle_error(request, status, exc, message)  # logs it; raises if a reply was begun
        code = _PARSER_CODES.get(status, "bad_request" if status < 500 else "internal")
        # aiohttp's words without the refused bytes it quotes (on the next lines, or after ": b'")
        if status < 500:
            text = (
                _QUOTED.split((message or "").split("\n", 1)[0], 1)[0].strip()[:200] or "the request could not be read"
            )
        else:
            text = "internal error"  # as error_middleware says it (the log has the rest)
        body = {"error": {"code": code, "message": text}}
        resp = web.Response(status=status, body=orjson.dumps(body), content_type="application/json")
        resp.force_close()
        return resp

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_head()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().connection_lost(exc)

    # --- the head deadline
    def _start_head(self) -> bool:
        self._head_timer = self._loop.call_later(self._guard.header_timeout, self._head_expired)
        if self._guard.max_pending_per_ip and self._guard.slow_after < self._guard.header_timeout:
            self._slow_timer = self._loop.call_later(self._guard.slow_after, self._head_slow)
        return True

    def _head_slow(self) -> None:
        self._slow_timer = None
        if self._guard.enter(self._ip):
            self._counted = True
            return
        log.debug("%s: too many connections slow to send a request head; closed", self._ip)
        self._stop_head()
        self.force_close()

    def _stop_head(self) -> None:
        if self._slow_timer is not None:
            self._slow_timer.cancel()
            self._slow_timer = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._counted:
            self._counted = False
            self._guard.leave(self._ip)

    def _head_expired(self) -> None:
        self._head_timer = None
        self._stop_head()
        self._guard.timed_out += 1
        log.debug("%s: request head not complete in %ss; closed", self._ip, self._guard.header_timeout)
        self.force_close()

    def _head_complete(self) -> None:
        self._stop_head()
        if not self._messages:
            return
        _, payload = self._messages[-1]  # only the newest request can still be receiving its body
        self._body = payload if isinstance(payload, StreamReader) and not payload.is_eof() else None
        if self._body is not None and self._guard.body_timeout > 0:
            if self._body_timer is not None:
                self._body_timer.cancel()
            self._body_timer = self._loop.call_later(self._guard.body_timeout, self._body_expired, self._body)

    # --- the body deadline
    def extend_body_deadline(self) -> None:
        """Restart the body deadline: called by a handler streaming a long body (a tus
        PATCH) each time a chunk arrives, so there it bounds silence, not the transfer."""
        body = self._body
        if self._body_timer is None or body is None or self._guard.body_timeout <= 0:
            return
        now = self._loop.time()
        if self._body_timer.when() - now > self._guard.body_timeout - 1.0:
            return  # restarted less than a second ago
        self._body_timer.cancel()
        self._body_timer = self._loop.call_later(self._guard.body_timeout, self._body_expired, body)

    def _body_expired(self, payload: StreamReader) -> None:
        self._body_timer = None
        if payload.is_eof():
            return
        log.debug("%s: request body not complete in %ss", self._ip, self._guard.body_timeout)
        # the handler reading the body gets 408; the connection closes after the answer,
        # without lingering for the rest of a body that is not coming
        self._lingering_time = 0.0
        payload.set_exception(web.HTTPRequestTimeout(text="request body not received in time"))
        self.close()


class GuardedSite(web.BaseSite):
    """A TCP listener whose connections are GuardedRequestHandlers of the runner's server."""

    __slots__ = ("_guard", "_handler_args", "_host", "_port")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        guard: ConnectionGuard,
        backlog: int = 4096,
        ssl_context: ssl.SSLContext | None = None,
        **handler_args: Any,
    ) -> None:
        super().__init__(runner, backlog=backlog, ssl_context=ssl_context)
        self._host = host
        self._port = port
        self._guard = guard
        self._handler_args = handler_args

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        guard, args = self._guard, self._handler_args

        def protocol() -> GuardedRequestHandler:
            return GuardedRequestHandler(server, loop=loop, guard=guard, **args)

        self._server = await loop.create_server(
            protocol, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog, reuse_address=True
        )
