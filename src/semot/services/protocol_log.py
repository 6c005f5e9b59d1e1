"""The live protocol log: every WebSocket frame of one chosen user, in and out, on every node.

Off by default and costing nothing while off: a connection carries a `tap` slot that
is None unless its user is watched, so the hot path pays one attribute test per frame
(`Connection.send`, the session loop), no lookup. The set of watched users is consulted
only when a connection authenticates (`attach`) and when a session starts or ends.

Cluster-wide: starting or stopping a session writes `protocol_log_sessions` and
publishes `Invalidate("plog:<user>:<until>")` on the bus; every node (this one too,
synchronously) sets or clears the taps of the user's connections it holds. A node that
missed the message (a Redis outage) catches up from the table every `resync_s`, and a
tap checks its end time on each frame, so a session never outlives its `until`.

Captured frames are queued in memory (bounded by bytes; beyond it frames are dropped
and counted) and written in batches every `flush_s`, redacted (services/frame_redact.py),
to `protocol_log_frames`, where an administrator on any node reads them by cursor. The
table is bounded: rows older than `retention_s` and all but the newest `keep_rows` go.
Why a table and not Redis or a per-node ring: it works on every backend (one SQLite
node needs no Redis), any node can answer the console, and a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import orjson

from semot.bus.base import Bus, Invalidate
from semot.domain.devtools import CapturedFrame, LogSession
from semot.ids import now_ms
from semot.services.frame_redact import render
from semot.storage.devtools import DevToolsStorage

if TYPE_CHECKING:
    from semot.protocol.frames import Auth


class Connection(Protocol):
    """What the log needs of a gateway connection (gateway/connection.py); services
    never import the gateway, the gateway hands its connections in."""

    user_id: str
    device_id: str
    platform: str
    session_id: str
    tap: Tap | None


class Hub(Protocol):
    def user_connections(self, user_id: str) -> Sequence[Connection]: ...

log = logging.getLogger(__name__)

PLOG_KEY = "plog:"  # bus key: plog:<user_id>:<until ms> (0: stopped)
DEFAULT_MINUTES = 10
MAX_MINUTES = 60


@dataclass(frozen=True, slots=True)
class ProtocolLogLimits:
    text_chars: int = 8192  # stored text per frame; the rest is cut (`truncated`)
    capture_bytes: int = 256 * 1024  # payload bytes kept per frame until it is written
    pending_bytes: int = 16 * 1024 * 1024  # queued on one node; beyond: dropped, counted
    flush_s: float = 0.5
    resync_s: float = 30.0
    prune_s: float = 300.0
    retention_s: int = 24 * 3600
    keep_rows: int = 200_000


class Tap:
    """Hung on a watched user's connection: hands each frame to the log. Only watched
    connections have one, so its cost is never paid by the others."""

    __slots__ = ("_conn", "_log", "until")

    def __init__(self, plog: ProtocolLog, conn: Connection, until: int) -> None:
        self._log = plog
        self._conn = conn
        self.until = until

    def out(self, frame: bytes) -> None:
        """A WebSocket frame as written (server frames: unmasked, protocol/codec.py)."""
        if frame[0] & 0x0F not in (1, 2):  # pings, pongs, close: not the protocol's frames
            return
        n = frame[1] & 0x7F
        self._log.capture(self, self._conn, "out", memoryview(frame)[2 if n < 126 else 4 if n == 126 else 10 :])

    def inbound(self, data: bytes | str) -> None:
        """A frame's payload as received."""
        self._log.capture(self, self._conn, "in", data)


@dataclass(slots=True)
class _Pending:
    user_id: str
    ts: int
    direction: str
    device_id: str
    platform: str
    session_id: str
    size: int
    payload: bytes | str
    complete: bool


class ProtocolLog:
    def __init__(
        self, store: DevToolsStorage, bus: Bus, hub: Hub, node_id: str, limits: ProtocolLogLimits | None = None
    ) -> None:
        self._store = store
        self._bus = bus
        self._hub = hub
        self.node_id = node_id
        self.limits = limits or ProtocolLogLimits()
        self.watched: dict[str, int] = {}  # user_id -> until (ms)
        self._pending: list[_Pending] = []
        self._pending_bytes = 0
        self.dropped = 0  # frames not kept: the queue was full
        self._dropped_told = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # --- the hot path (only ever reached through a Tap)
    def capture(self, tap: Tap, conn: Connection, direction: str, payload: memoryview | bytes | str) -> None:
        now = now_ms()
        if now >= tap.until:
            if conn.tap is tap:
                conn.tap = None
            return
        size = len(payload) if not isinstance(payload, str) else len(payload.encode())
        cut = self.limits.capture_bytes
        kept: bytes | str = bytes(payload[:cut]) if not isinstance(payload, str) else payload[:cut]
        if self._pending_bytes + len(kept) > self.limits.pending_bytes:
            self.dropped += 1
            return
        self._pending_bytes += len(kept)
        self._pending.append(
            _Pending(
                conn.user_id, now, direction, conn.device_id, conn.platform, conn.session_id, size, kept, size <= cut
            )
        )

    def attach(self, conn: Connection, auth: Auth) -> None:
        """A connection just authenticated: tap it if its user is watched, and log its
        `auth` frame (re-encoded from the parsed request; the token is redacted)."""
        until = self.watched.get(conn.user_id)
        if until is None:
            return
        if until <= now_ms():
            self.watched.pop(conn.user_id, None)
            return
        tap = conn.tap = Tap(self, conn, until)
        tap.inbound(orjson.dumps(auth.model_dump(mode="json", exclude_none=True)))

    # --- switching (every node, through the bus)
    def apply(self, user_id: str, until: int) -> None:
        """Watch `user_id` until `until` on this node (0 or past: stop)."""
        conns = self._hub.user_connections(user_id)
        if until > now_ms():
            self.watched[user_id] = until
            for c in conns:
                c.tap = Tap(self, c, until)
        else:
            self.watched.pop(user_id, None)
            for c in conns:
                c.tap = None

    def invalidated(self, key: str) -> None:
        """The bus said a session changed: `plog:<user_id>:<until>`."""
        user_id, _, until = key[len(PLOG_KEY) :].rpartition(":")
        if user_id and until.isdigit():
            self.apply(user_id, int(until))

    async def start_session(self, user_id: str, minutes: float, by: str) -> LogSession:
        now = now_ms()
        session = LogSession(user_id, now + max(1000, int(minutes * 60_000)), by, now)
        await self._store.set_log_session(session)
        self._bus.publish(Invalidate(f"{PLOG_KEY}{user_id}:{session.until}"))
        return session

    async def stop_session(self, user_id: str) -> LogSession | None:
        ended = await self._store.end_log_session(user_id)
        self._bus.publish(Invalidate(f"{PLOG_KEY}{user_id}:0"))
        self._wake.set()  # write what was captured so far now
        return ended

    async def sessions(self) -> list[LogSession]:
        return await self._store.log_sessions(now_ms())

    async def session(self, user_id: str) -> LogSession | None:
        return next((s for s in await self.sessions() if s.user_id == user_id), None)

    async def frames(self, user_id: str, *, after: int, limit: int) -> list[CapturedFrame]:
        return await self._store.frames(user_id, after=after, limit=limit)

    # --- the background task: writes, resyncs, prunes
    async def start(self) -> None:
        await self._resync()
        self._task = asyncio.create_task(self._run(), name="semot-protocol-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self.flush()
        except Exception:
            log.exception("writing the last captured frames failed")

    async def flush(self) -> int:
        """Write the queued frames, redacted; how many."""
        if self.dropped > self._dropped_told:
            log.warning(
                "protocol log: %d frames dropped (more than %d bytes waiting to be written)",
                self.dropped - self._dropped_told,
                self.limits.pending_bytes,
            )
            self._dropped_told = self.dropped
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        if not batch:
            return 0
        max_chars = self.limits.text_chars
        rows = []
        for p in batch:
            text, truncated = render(p.payload, complete=p.complete, max_chars=max_chars)
            rows.append(
                CapturedFrame(
                    p.user_id,
                    p.ts,
                    p.direction,
                    self.node_id,
                    p.device_id,
                    p.platform,
                    p.session_id,
                    p.size,
                    text,
                    truncated,
                )
            )
        await self._store.add_frames(rows)
        return len(rows)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        lim = self.limits
        next_resync = loop.time() + lim.resync_s
        next_prune = loop.time() + lim.prune_s
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), lim.flush_s)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush()
                now = loop.time()
                if now >= next_resync:
                    next_resync = now + lim.resync_s
                    await self._resync()
                if now >= next_prune:
                    next_prune = now + lim.prune_s
                    await self._store.prune_frames(before_ts=now_ms() - lim.retention_s * 1000, keep=lim.keep_rows)
            except Exception:
                log.exception("protocol log: writing or resyncing failed")

    async def _resync(self) -> None:
        """Match the watched users to the table (a bus message may have been missed)."""
        current = {s.user_id: s.until for s in await self._store.log_sessions(now_ms())}
        for user_id in [u for u in self.watched if u not in current]:
            self.apply(user_id, 0)
        for user_id, until in current.items():
            if self.watched.get(user_id) != until:
                self.apply(user_id, until)
