"""Abuse counters shared by every node through Redis (keys `ns:lim:<key>`).

A hit is one Lua script (INCR, and PEXPIRE when the counter is new or lost its TTL),
so concurrent hits on several nodes are counted exactly once each and a counter never
outlives its window. Redis trouble must not lock every user out: a hit that cannot be
counted is let through (logged), like a cache miss; the password check still runs.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis.asyncio as aioredis

from semot.bus.limits import Counters, Hit

log = logging.getLogger(__name__)

# KEYS: the counter. ARGV: window (ms). Returns {count, ms to expiry}.
_HIT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""

# KEYS: the counter. Decrement only a live counter, never below zero.
_UNDO = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return n
"""

WARN_EVERY_S = 30.0


class RedisCounters(Counters):
    def __init__(self, url: str, *, namespace: str = "semot") -> None:
        self._url = url
        self._prefix = f"{namespace}:lim:"
        self._redis: aioredis.Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._warned = 0.0

    async def start(self) -> None:
        self._redis = aioredis.from_url(self._url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
        self._scripts = {"hit": self._redis.register_script(_HIT), "undo": self._redis.register_script(_UNDO)}

    async def stop(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    def _failed(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY_S:
            self._warned = now
            log.warning("abuse counters: redis %s failed; not counting meanwhile", what, exc_info=exc)

    async def hit(self, key: str, window_s: float) -> Hit:
        try:
            count, ttl_ms = await self._scripts["hit"](keys=[self._prefix + key], args=[max(1, int(window_s * 1000))])
        except Exception as exc:
            self._failed("hit", exc)
            return Hit(0, 0.0)
        return Hit(int(count), int(ttl_ms) / 1000)

    async def undo(self, key: str) -> None:
        try:
            await self._scripts["undo"](keys=[self._prefix + key])
        except Exception as exc:
            self._failed("undo", exc)

    async def reset(self, key: str) -> None:
        try:
            assert self._redis is not None, "counters not started"
            await self._redis.delete(self._prefix + key)
        except Exception as exc:
            self._failed("reset", exc)
