"""GET /ws: the session loop of one client, and the dispatch of its requests.

Requests are read and answered in order. A `send` is validated inline but not awaited
until stored: it is queued for the group-commit writer and its reply is written when
the commit lands, so a client may pipeline sends (their seqs follow the order sent)
while its other requests keep being served.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from semot.config import Settings
from semot.domain.records import AppendResult
from semot.errors import Forbidden, NotFound, SemotError, as_outage
from semot.ids import new_session_id, now_ms
from semot.metrics import Metrics
from semot.protocol import frames, replies
from semot.protocol.session import (
    CLOSE_AUTH_TIMEOUT,
    CLOSE_POLICY,
    Close,
    Dispatch,
    Reply,
    SessionProtocol,
)
from semot.services.accounts import AccountService
from semot.services.client_ip import client_ip
from semot.services.conv_settings import ConvSettingsService
from semot.services.messaging import MessageService
from semot.services.presence import PresenceService
from semot.services.protocol_log import ProtocolLog
from semot.services.search import SearchService

from .connection import Connection, GatewayWebSocket, WriteCoalescer
from .hub import Hub

log = logging.getLogger(__name__)

Handler = Callable[[Connection, Any], Awaitable[dict[str, Any] | None]]
"""Serves one request type: the reply's data, or None when the reply comes later."""


def _shed_http_state(request: web.Request) -> None:
    """Free aiohttp's HTTP/1 parser of an upgraded socket (~1.5 KiB with its buffers),
    and its request queue.

    From the upgrade on, every byte goes to the WebSocket reader and aiohttp consults
    the HTTP parser only for a declined upgrade (`_payload_parser` None) or before it
    (`_upgraded` False); an idle connection would keep it for hours. Checked against
    aiohttp 3.14; if its attributes ever differ, this does nothing."""
    proto: Any = request.protocol
    upgraded = getattr(proto, "_upgraded", False) and getattr(proto, "_payload_parser", None) is not None
    if not upgraded:
        return
    if getattr(proto, "_parser", None) is not None:
        proto._parser = None
    # the queue of parsed HTTP requests (a 760-byte deque, empty from now on): aiohttp
    # and GuardedRequestHandler only append to it while parsing HTTP; an empty tuple
    # answers their emptiness checks, and fails loudly if that ever changes
    if isinstance(getattr(proto, "_messages", None), deque) and not proto._messages:
        proto._messages = ()


class Gateway:
    def __init__(
        self,
        settings: Settings,
        hub: Hub,
        accounts: AccountService,
        messages: MessageService,
        metrics: Metrics,
        client_config: dict[str, Any],
        presence: PresenceService,
        conv_settings: ConvSettingsService | None = None,
    ) -> None:
        self._s = settings
        self._conv_settings = conv_settings
        self._hub = hub
        self._accounts = accounts
        self._messages = messages
        self._metrics = metrics
        self._client_config = client_config
        self._presence = presence
        self.accepting = True
        self.protocol_log: ProtocolLog | None = None  # the developer tools' frame capture (app.py sets it)
        self.search: SearchService | None = None  # message search (services/search.py; app.py sets it)
        # customer service's visitors and customers (services/customer_service.py; app.py sets
        # both): `restricted(user)` users may make only the `restricted_frames` requests
        self.restricted: Callable[[str], Awaitable[bool]] | None = None
        self.restricted_frames: frozenset[str] = frozenset()
        # told of each authenticated socket (user, login, device, platform, ip): services/device_records.py
        self.on_auth: Callable[[str, str, str, str, str], None] | None = None
        # labels() is a dict lookup under a lock: resolve each child once, not per frame
        self._count_request = {t: metrics.requests.labels(t).inc for t in frames.FRAME_TYPES}
        self._error_counters: dict[str, Any] = {}
        self._coalescer = WriteCoalescer()  # one write() per connection per burst of frames
        # frame type -> handler (auth is the handshake's, in _auth): a new request type is one entry
        self._handlers: dict[str, Handler] = {
            "send": self._send,
            "ping": self._ping,
            "sync": self._sync,
            "history": self._history,
            "read": self._read,
            "typing": self._typing,
            "recall": self._recall,
            "presence": self._set_presence,
            "presence_sub": self._presence_sub,
            "edit": self._edit,  # edits and reactions: services/message_changes.py
            "react": self._react,
            "changes": self._changes,
            "conv_set": self._conv_set,
            "search": self._search,  # extension: services/search.py
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = GatewayWebSocket(
            autoping=False,
            max_msg_size=self._s.max_frame_bytes,
            compress=False,
            decode_text=False,
            timeout=5.0,  # how long a close waits for the client's close frame
        )
        if not self.accepting:
            raise web.HTTPServiceUnavailable(text="shutting down")
        await ws.prepare(request)
        _shed_http_state(request)
        loop = asyncio.get_running_loop()
        proto = SessionProtocol(
            loop.time(),
            auth_timeout=self._s.auth_timeout_s,
            rate_per_s=self._s.rate_per_s,
            burst=self._s.rate_burst,
            close_after=self._s.rate_close_after,
            close_after_s=self._s.rate_close_after_s,
        )
        transport = request.transport
        assert transport is not None
        conn = Connection(
            ws, transport, proto,
            send_limit=self._s.send_buffer_bytes, metrics=self._metrics, coalescer=self._coalescer,
        )
        conn.ip = client_ip(request.remote, request.headers.getall("X-Forwarded-For", []), self._s.trusted_proxies)
        conn.task = asyncio.current_task()
        try:
            # The session loop runs right here, not in a coroutine of its own: every
            # suspended frame is kept by every idle connection (memory per connection).
            if await self._handshake(conn, ws, loop):
                while True:
                    if conn.close_request is not None:
                        await self._close_requested(conn, ws)
                        break
                    conn.receiving = True
                    try:
                        msg = await ws.receive()
                    except asyncio.CancelledError:
                        if conn.close_request is None:
                            raise
                        task = asyncio.current_task()
                        if task is not None:
                            task.uncancel()
                        continue
                    finally:
                        conn.receiving = False
                    t = msg.type
                    if t is WSMsgType.TEXT or t is WSMsgType.BINARY:
                        data = msg.data
                        del msg  # nothing of a served frame stays referenced while the session idles
                        if conn.tap is not None:  # the protocol log watches this user
                            conn.tap.inbound(data)
                        if not await self._apply(conn, ws, proto.receive(data, loop.time())):
                            break
                        del data
                    elif t is WSMsgType.PING:
                        proto.last_seen = loop.time()
                        await ws.pong(msg.data)
                    elif t is WSMsgType.PONG:  # only if aiohttp's internals changed (_Inbox stamps them)
                        proto.last_seen = loop.time()
                    else:
                        await self._finish_control(ws, msg)
                        break
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("websocket session failed")
            if not ws.closed:
                await ws.close(code=1011, message=b"internal error")
        finally:
            conn.closed = True
            if conn.user_id:
                self._hub.unregister(conn)
                self._presence.disconnected(conn.user_id, conn.session_id)
        return ws

    async def _handshake(self, conn: Connection, ws: web.WebSocketResponse, loop: asyncio.AbstractEventLoop) -> bool:
        """The first frame must be a valid auth, in time; False ends the session. WebSocket
        pings are not frames of the protocol: answer them (RFC 6455 §5.5.2), don't close."""
        proto = conn.proto
        while True:
            try:
                # at least 1 ms: aiohttp reads a timeout of 0 as "no timeout"
                msg = await ws.receive(timeout=max(0.001, proto.auth_deadline - loop.time()))
            except TimeoutError:
                await ws.close(code=CLOSE_AUTH_TIMEOUT, message=b"auth timeout")
                return False
            if msg.type is WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type is not WSMsgType.PONG:
                break
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            await self._finish_control(ws, msg)
            return False
        return await self._apply(conn, ws, proto.receive(msg.data, loop.time()))

    async def _close_requested(self, conn: Connection, ws: web.WebSocketResponse) -> None:
        """Close from this session's own task, so aiohttp waits for the client's close
        frame: closing the socket with unread input would reset it and lose the code."""
        code, reason = conn.close_request  # type: ignore[misc]
        try:
            await ws.close(code=code, message=reason.encode()[:120])
        except (ConnectionError, RuntimeError):
            conn.transport.abort()

    async def _finish_control(self, ws: web.WebSocketResponse, msg: Any) -> None:
        """CLOSE / CLOSED / ERROR: aiohttp already answered (1009 for oversize frames)."""
        if msg.type is WSMsgType.ERROR:
            log.debug("websocket error: %r", msg.data)
        if not ws.closed:
            await ws.close()

    async def _apply(self, conn: Connection, ws: web.WebSocketResponse, action: Any) -> bool:
        """Carry out what the session decided; False ends the session."""
        if isinstance(action, Dispatch):
            req = action.request
            if isinstance(req, frames.Auth):
                return await self._auth(conn, ws, req)
            await self._dispatch(conn, req)
            return True
        if isinstance(action, Reply):
            self._count_error(action.code)
            conn.send(action.payload)
            return True
        assert isinstance(action, Close)
        if action.reply is not None:
            conn.send(action.reply)
        conn.closed = True
        await ws.close(code=action.code, message=action.reason.encode()[:120])
        return False

    async def _auth(self, conn: Connection, ws: web.WebSocketResponse, req: frames.Auth) -> bool:
        try:
            user, login_id = await self._accounts.authenticate_login(req.token)
        except SemotError as exc:
            return await self._apply(conn, ws, conn.proto.auth_failed(req.rid, exc.message))
        # set first: if this task is cancelled inside `connected`, cleanup still removes
        # the session it may have recorded
        conn.user_id = user.id
        conn.device_id = req.device.id
        conn.platform = req.device.platform
        conn.session_id = new_session_id()
        conn.login_id = login_id
        # counted on every node, checked and recorded at once; the device now connecting
        # replaces its own older session, so it does not count against itself
        limit = self._s.max_devices_per_user
        if not await self._presence.connected(user.id, conn.session_id, conn.device_id, max_devices=limit):
            conn.send(replies.error(req.rid, "forbidden", f"at most {limit} devices at once"))
            await ws.close(code=CLOSE_POLICY, message=b"too many devices")
            return False
        if self._accounts.logins.is_revoked(login_id):  # signed out while we waited above
            return await self._apply(conn, ws, conn.proto.auth_failed(req.rid, "this login has ended: sign in again"))
        conn.proto.auth_succeeded()
        # No await from here to the reply: a push must never reach the client before it
        # (the presence write above may wait on Redis, while pushes for this user flow).
        self._hub.register(conn)
        if self.protocol_log is not None:  # taps the connection if an admin watches this user
            self.protocol_log.attach(conn, req)
        self._accounts.device_connected(user.id, conn.device_id, conn.session_id)
        if self.on_auth is not None:  # never waits: the admin's device records are written later
            self.on_auth(user.id, login_id, conn.device_id, conn.platform, conn.ip)
        conn.send(
            replies.ok(
                req.rid,
                {
                    "user_id": user.id,
                    "session_id": conn.session_id,
                    "server_time": now_ms(),
                    "heartbeat_s": self._s.heartbeat_s,
                    "config": self._client_config,
                },
            )
        )
        return True

    async def _dispatch(self, conn: Connection, req: frames.Request) -> None:
        rid = req.rid
        t = req.t
        self._count_request[t]()
        try:
            if self.restricted is not None and t not in self.restricted_frames and await self.restricted(conn.user_id):
                raise Forbidden("customers and visitors may use customer service only")
            data = await self._handlers[t](conn, req)
        except SemotError as exc:
            self._count_error(exc.code)
            conn.send(replies.from_exception(rid, exc))
            return
        except Exception as exc:
            if (outage := as_outage(exc)) is not None:  # Redis down or just back: the client retries
                log.warning("request %s met an outage: %r", t, exc)
                self._count_error(outage.code)
                conn.send(replies.from_exception(rid, outage))
                return
            log.exception("request %s failed", t)
            self._count_error("internal")
            conn.send(replies.error(rid, "internal", "internal error"))
            return
        if data is not None:
            conn.send(replies.ok(rid, data))

    # --- request handlers (the table in __init__): the reply's data, or None when the
    # reply is written later (a send's, once stored)
    async def _send(self, conn: Connection, req: frames.Send) -> None:
        started = asyncio.get_running_loop().time()
        item = await self._messages.prepare(
            conn.user_id, cid=req.cid, to=req.to, kind=req.kind, body=req.body, opts=req.opts, ip=conn.ip or None
        )
        fut = self._messages.submit(item, conn.session_id)
        rid = req.rid
        fut.add_done_callback(lambda f: self._send_done(conn, rid, f, started))

    async def _ping(self, conn: Connection, req: frames.Ping) -> dict[str, Any]:
        return {"server_time": now_ms()}

    async def _sync(self, conn: Connection, req: frames.Sync) -> dict[str, Any]:
        states = await self._messages.sync(conn.user_id, req.convs, req.changes)
        out: dict[str, Any] = {"convs": [s.to_wire() for s in states]}
        if req.convs and self._conv_settings is not None:  # extension: what `convs` left out may have changed
            out["settings"] = [c.to_wire() for c in await self._conv_settings.non_default(conn.user_id)]
        return out

    async def _history(self, conn: Connection, req: frames.History) -> dict[str, Any]:
        msgs, more = await self._messages.history(
            conn.user_id, req.conv, after=req.after, before=req.before, limit=req.limit
        )
        return {"messages": [m.to_wire() for m in msgs], "more": more}

    async def _search(self, conn: Connection, req: frames.Search) -> dict[str, Any]:
        if self.search is None:
            raise NotFound("search is not available")
        return await self.search.user_search(
            conn.user_id, q=req.q, conv=req.conv, sender=req.sender, kind=req.kind, since=req.since,
            until=req.until, limit=req.limit, cursor=req.cursor,
        )

    async def _read(self, conn: Connection, req: frames.Read) -> dict[str, Any]:
        await self._messages.read(conn.user_id, conn.session_id, req.conv, req.seq)
        return {}

    async def _typing(self, conn: Connection, req: frames.Typing) -> dict[str, Any]:
        await self._messages.typing(conn.user_id, req.conv)
        return {}

    async def _recall(self, conn: Connection, req: frames.Recall) -> dict[str, Any]:
        await self._messages.recall(conn.user_id, conn.session_id, req.conv, req.seq)
        return {}

    async def _set_presence(self, conn: Connection, req: frames.SetPresence) -> dict[str, Any]:
        return await self._presence.set_manual(conn.user_id, req.status, req.text)

    async def _edit(self, conn: Connection, req: frames.Edit) -> dict[str, Any]:
        return await self._messages.changes.edit(
            conn.user_id, conn.session_id, req.conv, req.seq, req.text, ip=conn.ip or None
        )

    async def _react(self, conn: Connection, req: frames.React) -> dict[str, Any]:
        return await self._messages.changes.react(conn.user_id, conn.session_id, req.conv, req.seq, req.emoji, req.on)

    async def _changes(self, conn: Connection, req: frames.Changes) -> dict[str, Any]:
        return await self._messages.changes.changes(conn.user_id, req.conv, req.after, req.limit)

    async def _presence_sub(self, conn: Connection, req: frames.PresenceSub) -> dict[str, Any]:
        return {"users": await self._presence.subscribe(conn.user_id, conn.session_id, req.users)}

    async def _conv_set(self, conn: Connection, req: frames.ConvSet) -> dict[str, Any]:
        if self._conv_settings is None:
            raise SemotError("conversation settings are not served here")
        return await self._conv_settings.set(
            conn.user_id, conn.session_id, req.conv, pinned=req.pinned, dnd=req.dnd, hidden=req.hidden
        )

    def _count_error(self, code: str) -> None:
        inc = self._error_counters.get(code)
        if inc is None:
            inc = self._error_counters[code] = self._metrics.errors.labels(code).inc
        inc()

    def _send_done(self, conn: Connection, rid: Any, fut: asyncio.Future[AppendResult], started: float) -> None:
        exc = fut.exception()
        if exc is None:
            m = fut.result().message
            ack = {"conv": m.conv, "seq": m.seq, "mid": m.mid, "ts": m.ts}
            if "reply_to" in m.body:  # extension: the quote the server filled, for the sender's own copy
                ack["reply_to"] = m.body["reply_to"]
            conn.send(replies.ok(rid, ack))
            self._metrics.send_ack.observe(asyncio.get_running_loop().time() - started)
        elif isinstance(exc := as_outage(exc) or exc, SemotError):  # an outage is `unavailable`
            self._count_error(exc.code)
            conn.send(replies.from_exception(rid, exc))
        else:
            self._count_error("internal")
            conn.send(replies.error(rid, "internal", "internal error"))
