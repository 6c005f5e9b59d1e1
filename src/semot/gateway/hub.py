"""The node's map of user -> live connections; the bus delivers into it."""

from __future__ import annotations

import asyncio
import logging

from semot.bus.base import Delivery, Disconnect
from semot.metrics import Metrics
from semot.protocol.codec import text_frame
from semot.protocol.session import CLOSE_REPLACED

from .connection import Connection

log = logging.getLogger(__name__)
_HEARTBEAT_SLICE = 500  # connections pinged at once, at most...
_HEARTBEAT_TICK_S = 0.05  # ...unless that would mean slices closer than this


class Hub:
    def __init__(self, metrics: Metrics, *, heartbeat_s: float) -> None:
        self._users: dict[str, list[Connection]] = {}
        self._metrics = metrics
        self._heartbeat_s = heartbeat_s
        self._task: asyncio.Task[None] | None = None
        self._count = 0
        self._connects = 0
        self._disconnects = 0

    @property
    def connection_count(self) -> int:
        return self._count

    @property
    def connects_total(self) -> int:
        """Connections registered since start (the GC governor's batches)."""
        return self._connects

    @property
    def disconnects_total(self) -> int:
        """Connections unregistered since start (the GC governor's churn)."""
        return self._disconnects

    def user_online(self, user_id: str) -> bool:
        return user_id in self._users

    def register(self, conn: Connection) -> None:
        """Add a connection; an older one with the same device id is replaced (4409)."""
        conns = self._users.setdefault(conn.user_id, [])
        for old in [c for c in conns if c.device_id == conn.device_id]:
            conns.remove(old)
            self._count -= 1
            self._disconnects += 1
            old.close(CLOSE_REPLACED, "replaced by a new connection of the same device")
        conns.append(conn)
        self._count += 1
        self._connects += 1
        self._metrics.connections.set(self._count)

    def unregister(self, conn: Connection) -> None:
        conns = self._users.get(conn.user_id)
        if not conns or conn not in conns:
            return
        conns.remove(conn)
        self._count -= 1
        self._disconnects += 1
        if not conns:
            del self._users[conn.user_id]
        self._metrics.connections.set(self._count)

    # --- bus receiver
    def deliver(self, delivery: Delivery) -> int:
        """Frame the event once, if anyone it is for is connected here, and queue the
        very same bytes on each of their connections."""
        exclude = delivery.exclude_session
        users = self._users
        frame: bytes | None = None
        sent = 0
        for uid in list(users) if delivery.everyone else delivery.user_ids:
            conns = users.get(uid)
            if conns is None:
                continue
            if frame is None:
                frame = text_frame(delivery.payload)
            for c in conns:
                if c.session_id != exclude and c.send(frame):
                    sent += 1
        if sent:
            self._metrics.deliveries.inc(sent)
        return sent

    def disconnect(self, command: Disconnect) -> int:
        closed = 0
        for c in list(self._users.get(command.user_id, ())):
            if command.device_id is not None and c.device_id != command.device_id:
                continue
            if c.session_id == command.except_session:
                continue
            self.unregister(c)
            c.close(command.code, command.reason)
            closed += 1
        return closed

    def close_login(self, user_id: str, login_id: str, code: int, reason: str) -> int:
        """Close the connections authenticated with tokens of one login (it ended)."""
        closed = 0
        for c in list(self._users.get(user_id, ())):
            if c.login_id == login_id:
                self.unregister(c)
                c.close(code, reason)
                closed += 1
        return closed

    def user_connections(self, user_id: str) -> tuple[Connection, ...]:
        """The connections of one user on this node (the protocol log taps them)."""
        return tuple(self._users.get(user_id, ()))

    def all_connections(self) -> list[Connection]:
        return [c for conns in self._users.values() for c in conns]

    # --- liveness
    def start(self) -> None:
        self._task = asyncio.create_task(self._heartbeat(), name="semot-heartbeat")

    async def stop(self, code: int, reason: str) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        conns = self.all_connections()
        for c in conns:
            c.close(code, reason)
        # give the close frames a moment to be written
        deadline = asyncio.get_running_loop().time() + 3
        while any(not c.transport.is_closing() for c in conns) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)

    async def _heartbeat(self) -> None:
        """Ping every connection once per interval; drop those silent for two intervals.

        One task, no timer per connection, and the round is cut into slices spread over
        the interval: pinging 100,000 connections at once would hold the loop (and every
        message behind it) for a large part of a second, and bring all the pongs back
        in the same instant."""
        loop = asyncio.get_running_loop()
        interval = self._heartbeat_s
        while True:
            started = loop.time()
            conns = self.all_connections()
            steps = max(1, min(-(-len(conns) // _HEARTBEAT_SLICE), int(interval / _HEARTBEAT_TICK_S)))
            size = -(-len(conns) // steps)
            for k in range(steps):
                await asyncio.sleep(max(0.0, started + interval * (k + 1) / steps - loop.time()))
                now = loop.time()
                for c in conns[k * size : (k + 1) * size]:
                    if c.closed:
                        continue
                    if c.proto.is_dead(now, interval):
                        log.info("dropping silent connection of %s/%s", c.user_id, c.device_id)
                        self.unregister(c)
                        c.abort()
                    else:
                        c.ping()
