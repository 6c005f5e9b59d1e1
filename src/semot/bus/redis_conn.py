"""The Redis clients of the bus and of presence, with timeouts that turn a hung Redis
into an error.

A Redis that stops answering but keeps its sockets open (stopped, a stalled VM, a disk
that blocks its writes) never drops a connection: without a socket timeout every command
would wait for it for ever, and the outage path (503 `unavailable`, publishes buffered,
clients told to sync) would never start. redis-py's `health_check_interval` pings a
pooled connection idle that long before reusing it, so a connection that died quietly
fails there rather than in the middle of a request. A blocking pub/sub read has no
timeout by design: the bus pings its subscription itself (bus/redis.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis


@dataclass(frozen=True, slots=True)
class RedisTimeouts:
    """`redis_socket_timeout_s` and `redis_health_check_s` (config/cluster.py)."""

    socket_timeout_s: float = 5.0
    health_check_s: float = 5.0


def redis_client(url: str, timeouts: RedisTimeouts, *, decode_responses: bool = False) -> aioredis.Redis:
    """A pooled client whose connects and commands fail after `socket_timeout_s`."""
    return aioredis.from_url(
        url,
        decode_responses=decode_responses,
        socket_timeout=timeouts.socket_timeout_s,
        socket_connect_timeout=timeouts.socket_timeout_s,
        health_check_interval=timeouts.health_check_s,
    )
