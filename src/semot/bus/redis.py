"""Redis pub/sub bus for several nodes sharing one PostgreSQL database.

Each node delivers its own publishes locally at once (no round trip for the users it
holds) and sends them on one Redis channel for the others; every node subscribes and
skips what it published itself. Events travel as their JSON, encoded once per cluster
(not once per node or recipient); each node frames them for WebSocket itself.

The channel is versioned (`bus:v2` carries event JSON; v1 carried WebSocket frames),
so nodes of two incompatible versions never read each other's envelopes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import orjson
import redis.asyncio as aioredis

from semot.bus.base import Bus, Delivery, Disconnect, Envelope, Invalidate, Receiver, dispatch

log = logging.getLogger(__name__)

_SEP = b"\n"


def encode(node_id: str, envelope: Envelope) -> bytes:
    if isinstance(envelope, Delivery):
        meta: dict[str, Any] = {"k": "d", "n": node_id, "u": list(envelope.user_ids), "x": envelope.exclude_session}
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
        return meta["n"], Delivery(tuple(meta["u"]), payload, meta["x"])
    if meta["k"] == "i":
        return meta["n"], Invalidate(meta["c"])
    return meta["n"], Disconnect(meta["u"], meta["c"], meta["r"], meta["d"], meta["e"])


class RedisBus(Bus):
    def __init__(self, url: str, *, node_id: str | None = None, namespace: str = "semot") -> None:
        self._url = url
        self.node_id = node_id or secrets.token_hex(6)
        self._channel = f"{namespace}:bus:v2"
        self._redis: aioredis.Redis | None = None
        self._receiver: Receiver | None = None
        self._reader: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(maxsize=100_000)
        self._writer: asyncio.Task[None] | None = None

    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver
        self._redis = aioredis.from_url(self._url)
        await self._redis.ping()
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        self._reader = asyncio.create_task(self._read(pubsub), name="semot-redis-bus-read")
        self._writer = asyncio.create_task(self._write(), name="semot-redis-bus-write")

    async def stop(self) -> None:
        for task in (self._writer, self._reader):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()
        self._receiver = None

    def publish(self, envelope: Envelope) -> None:
        self._dispatch(envelope)
        try:
            self._outbox.put_nowait(encode(self.node_id, envelope))
        except asyncio.QueueFull:  # Redis is down or far behind: other nodes' clients resync
            log.warning("redis bus outbox full; dropping a cross-node push")

    def _dispatch(self, envelope: Envelope) -> None:
        if self._receiver is not None:
            dispatch(self._receiver, envelope)

    async def _write(self) -> None:
        assert self._redis is not None
        while True:
            first = await self._outbox.get()
            batch = [first]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for raw in batch:
                        pipe.publish(self._channel, raw)
                    await pipe.execute()
            except Exception:
                log.exception("publishing %d envelopes to redis failed", len(batch))
                await asyncio.sleep(0.5)

    async def _read(self, pubsub: aioredis.client.PubSub) -> None:
        while True:
            try:
                async for item in pubsub.listen():
                    if item.get("type") != "message":
                        continue
                    node, envelope = decode(item["data"])
                    if node != self.node_id:
                        self._dispatch(envelope)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis bus subscription failed; resubscribing")
                await asyncio.sleep(1)
                try:
                    await pubsub.subscribe(self._channel)
                except Exception:
                    log.warning("redis resubscribe failed", exc_info=True)
