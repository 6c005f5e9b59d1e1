"""Redis pub/sub bus for several nodes sharing one PostgreSQL database.

Each node delivers its own publishes locally at once (no round trip for the users it
holds) and sends them on one Redis channel for the others; every node subscribes and
skips what it published itself. Events travel as their JSON, encoded once per cluster
(not once per node or recipient); each node frames them for WebSocket itself.

The channel is versioned (`bus:v2` carries event JSON; v1 carried WebSocket frames),
so nodes of two incompatible versions never read each other's envelopes.

Through a Redis outage (docs/operations.md, "Redis outages") nothing a user would notice
is lost: publishes that fail wait in a bounded buffer and go out in order once Redis is
back (at least once: a batch that half went out before the failure is sent again, and
clients drop a message seq they already have). A node whose subscription broke may have
missed what others published meanwhile, and a node that had to drop buffered publishes
(too many, or too old) tells the others so once it can: in both cases the node pushes
`evt resync` to its own clients, which run their `sync` catch-up.

A Redis that hangs without closing its sockets is an outage too: commands time out
(bus/redis_conn.py), and the subscription, whose blocking read has no timeout, is pinged
every `health_check_s`; no answer within `socket_timeout_s` drops its connection, which
the reader then re-establishes like any broken one. The buffer's size, its drops and the
resyncs are exported on /metrics (`semot_redis_bus_*`, docs/operations.md).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from typing import Any

import orjson
import redis.asyncio as aioredis
import redis.exceptions
from prometheus_client import CollectorRegistry, Counter, Gauge

from semot.bus.base import ALL_CACHES, Bus, Delivery, Disconnect, Envelope, Invalidate, Receiver, dispatch
from semot.bus.redis_conn import RedisTimeouts, redis_client
from semot.errors import register_outage_errors
from semot.protocol.events import ResyncEvent

log = logging.getLogger(__name__)

# A request that meets Redis down (or a dead pooled connection just after it restarted)
# answers `unavailable` with Retry-After, never `internal` (api/http.py, the gateway).
register_outage_errors(redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

_SEP = b"\n"


def encode(node_id: str, envelope: Envelope) -> bytes:
    if isinstance(envelope, Delivery):
        meta: dict[str, Any] = {"k": "d", "n": node_id, "u": list(envelope.user_ids), "x": envelope.exclude_session}
        if envelope.everyone:
            meta["a"] = 1
        return orjson.dumps(meta) + _SEP + envelope.payload
    if isinstance(envelope, Invalidate):
        return orjson.dumps({"k": "i", "n": node_id, "c": envelope.key}) + _SEP
    meta = {  # a Disconnect
        "k": "x",
        "n": node_id,
        "u": envelope.user_id,
        "c": envelope.code,
        "r": envelope.reason,
        "d": envelope.device_id,
        "e": envelope.except_session,
    }
    return orjson.dumps(meta) + _SEP


def decode(raw: bytes) -> tuple[str, Envelope]:
    head, _, payload = raw.partition(_SEP)
    meta = orjson.loads(head)
    if meta["k"] == "d":
        return meta["n"], Delivery(tuple(meta["u"]), payload, meta["x"], bool(meta.get("a")))
    if meta["k"] == "i":
        return meta["n"], Invalidate(meta["c"])
    return meta["n"], Disconnect(meta["u"], meta["c"], meta["r"], meta["d"], meta["e"])


_RESYNC_HEAD = b'{"k":"r"'  # `{"k":"r","n":node}`: "I dropped publishes; have your clients sync"
_BATCH = 256


class RedisBus(Bus):
    """`max_pending` envelopes (or `max_age_s` seconds) is how long an outage may last
    before a node drops buffered publishes (the oldest first) and falls back to `evt
    resync`; clients wait up to `resync_spread_ms` (random) before syncing, so a node's
    clients do not all ask the database in the same second. The defaults are those of
    the settings (config/cluster.py); `registry` is the node's /metrics registry."""

    def __init__(
        self,
        url: str,
        *,
        node_id: str | None = None,
        namespace: str = "semot",
        max_pending: int = 100_000,
        max_age_s: float = 120.0,
        resync_spread_ms: int = 3000,
        timeouts: RedisTimeouts | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._url = url
        self.node_id = node_id or secrets.token_hex(6)
        self._channel = f"{namespace}:bus:v2"
        self._timeouts = timeouts or RedisTimeouts()
        self._redis: aioredis.Redis | None = None
        self._receiver: Receiver | None = None
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._pending: deque[tuple[float, bytes]] = deque()  # (queued at, envelope), publish order
        self._wake = asyncio.Event()
        self._max_pending = max_pending
        self._max_age_s = max_age_s
        self._dropped = 0  # since the last `resync` this node sent: the others must sync
        self._heard = 0  # items read from the subscription: the watchdog's sign of life
        self._sending = 0  # envelopes of the batch in flight (buffered until Redis confirms them)
        self._resync = ResyncEvent(spread_ms=resync_spread_ms).to_json()
        self.resyncs = 0  # times this node told its clients to sync (tests, logs)
        r = registry if registry is not None else CollectorRegistry()
        Gauge(
            "semot_redis_bus_buffered", "Cross-node publishes not yet taken by Redis (grows through an outage)",
            registry=r,
        ).set_function(lambda: len(self._pending) + self._sending)
        self._dropped_metric = Counter(
            "semot_redis_bus_dropped", "Buffered cross-node publishes dropped, the oldest first, beyond "
            "redis_bus_buffer_max or redis_bus_buffer_max_age_s (the nodes' clients catch up by sync)", registry=r,
        )
        self._resync_metric = Counter(
            "semot_redis_bus_resyncs", "Times this node told its clients to sync (its subscription broke, or "
            "another node dropped publishes)", registry=r,
        )

    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver
        self._redis = redis_client(self._url, self._timeouts)
        await self._redis.ping()
        pubsub = self._redis.pubsub(ignore_subscribe_messages=False)  # a re-subscribe is news
        await pubsub.subscribe(self._channel)
        self._reader = asyncio.create_task(self._read(pubsub), name="semot-redis-bus-read")
        self._writer = asyncio.create_task(self._write(), name="semot-redis-bus-write")
        self._watchdog = asyncio.create_task(self._watch(pubsub), name="semot-redis-bus-watchdog")

    async def stop(self) -> None:
        for task in (self._watchdog, self._writer, self._reader):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()
        self._receiver = None

    def publish(self, envelope: Envelope) -> None:
        self._dispatch(envelope)
        self._pending.append((time.monotonic(), encode(self.node_id, envelope)))
        self._trim()
        self._wake.set()

    def _dispatch(self, envelope: Envelope) -> None:
        if self._receiver is not None:
            dispatch(self._receiver, envelope)

    def _trim(self) -> None:
        """Drop the oldest buffered publishes beyond the bounds; the others' clients will
        get them by `sync` (this node sends `resync` as soon as Redis takes it)."""
        limit = time.monotonic() - self._max_age_s
        dropped = 0
        while self._pending and (len(self._pending) > self._max_pending or self._pending[0][0] < limit):
            self._pending.popleft()
            dropped += 1
        if dropped:
            if not self._dropped:
                log.warning(
                    "redis bus: buffer full (%d envelopes, at most %.0f s old): dropping the oldest; every node's "
                    "clients will resync", self._max_pending, self._max_age_s,
                )
            self._dropped += dropped
            self._dropped_metric.inc(dropped)

    async def _write(self) -> None:
        assert self._redis is not None
        delay, failing = 0.1, False
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            self._trim()  # what grew too old while Redis was away
            batch: list[tuple[float, bytes]] = []
            dropped = self._dropped
            try:
                if failing:  # probe first: a hung Redis would take (and run, once back) every batch sent to it
                    await self._redis.ping()
                batch = [self._pending.popleft() for _ in range(min(_BATCH, len(self._pending)))]
                self._sending = len(batch)
                async with self._redis.pipeline(transaction=False) as pipe:
                    if dropped:
                        pipe.publish(self._channel, orjson.dumps({"k": "r", "n": self.node_id}) + _SEP)
                    for _, raw in batch:
                        pipe.publish(self._channel, raw)
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._sending = 0
                self._pending.extendleft(reversed(batch))  # back in front, in order
                self._trim()
                if not failing:
                    log.warning("redis bus: publishing failed (%r); buffering %d envelopes", exc, len(self._pending))
                failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            self._sending = 0
            self._dropped -= dropped
            if dropped:
                log.warning("redis bus: told the other nodes that %d publishes were dropped", dropped)
            if failing:
                log.warning("redis bus: publishing again; %d envelopes still buffered", len(self._pending))
            delay, failing = 0.1, False

    def _tell_clients_to_sync(self, why: str) -> None:
        """Drop this node's caches (it may have missed invalidations too), then `evt
        resync` to every connection of this node (not published: each node decides for
        its own clients)."""
        self.resyncs += 1
        self._resync_metric.inc()
        log.warning("redis bus: %s; dropping caches, telling this node's clients to sync", why)
        self._dispatch(Invalidate(ALL_CACHES))
        self._dispatch(Delivery((), self._resync, everyone=True))

    async def _read(self, pubsub: aioredis.client.PubSub) -> None:
        subscribed = False
        while True:
            try:
                async for item in pubsub.listen():
                    self._heard += 1
                    kind = item.get("type")
                    if kind == "subscribe":  # the first, or the one redis-py sends on reconnecting
                        if subscribed:
                            self._tell_clients_to_sync("subscription re-established")
                        subscribed = True
                        continue
                    if kind != "message":
                        continue
                    data = item["data"]
                    if data.startswith(_RESYNC_HEAD):
                        if orjson.loads(data.partition(_SEP)[0])["n"] != self.node_id:
                            self._tell_clients_to_sync("another node dropped pushes it could not publish")
                        continue
                    node, envelope = decode(data)
                    if node != self.node_id:
                        self._dispatch(envelope)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # listen() again reconnects, and redis-py re-subscribes on connect: the
                # `subscribe` confirmation above is what says we are back
                log.warning("redis bus subscription failed (%r); resubscribing", exc)
                await asyncio.sleep(1)

    async def _watch(self, pubsub: aioredis.client.PubSub) -> None:
        """Ping the subscription every `health_check_s`. Anything read within
        `socket_timeout_s` of the ping (its answer, or a message) shows Redis is alive;
        nothing means it hangs: drop the connection, so that the reader's `listen()`
        fails and it reconnects (again and again until Redis answers: then the
        re-subscription makes this node's clients sync)."""
        t = self._timeouts
        silent = False  # logged once per hang
        while True:
            await asyncio.sleep(t.health_check_s)
            if pubsub.connection is None or not pubsub.connection.is_connected:
                continue  # the reader is reconnecting it: pinging would connect it a second time
            heard = self._heard
            try:
                await asyncio.wait_for(pubsub.ping(), t.socket_timeout_s)
            except asyncio.CancelledError:
                raise
            except Exception:
                continue  # a broken connection: the reader meets it too and reconnects
            await asyncio.sleep(t.socket_timeout_s)
            if self._heard != heard:
                silent = False
            elif pubsub.connection is not None:
                if not silent:
                    log.warning("redis bus: subscription silent %.1f s after a ping; reconnecting it until Redis "
                                "answers", t.socket_timeout_s)
                silent = True
                await pubsub.connection.disconnect()
