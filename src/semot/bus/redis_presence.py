"""Presence shared by several nodes through Redis.

Keys (under the namespace `ns`):
- `ns:pres:u:<user>`  hash: `s:<node>:<session>` -> device id for each open session,
  `m` -> chosen status, `p` -> status last pushed, `v` -> version of that push;
- `ns:pres:nodes`     sorted set: node -> last heartbeat (Redis clock, ms);
- `ns:pres:n:<node>`  set: users with sessions on that node (for reaping a dead node);
- `ns:pres:f:<viewer>` / `ns:pres:fb:<target>`: who follows whose presence (with a TTL).

A session stops counting as soon as its node's heartbeat is seen stale, so a crashed
node's users go offline without anyone deleting anything; the first node to notice the silence reaps the
dead node's keys and reports its users, whose offline status it then pushes. Settling a
status (compare with the last push, record the new one) is one Lua script: atomic, so
when two nodes flush the same user at once exactly one of them pushes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis

from semot.bus.presence import LostHandler, PresenceRegistry, Seen, Settled
from semot.domain.presence import MANUAL

log = logging.getLogger(__name__)

SEP = "\x1f"
FOLLOW_TTL_S = 86400

# Mirrors semot.domain.presence.aggregate: no live device -> offline; otherwise the
# chosen status if it is one of MANUAL, else online. The contract tests hold both
# registries to the same expectations.
_SETTLE = """
local h = redis.call('HGETALL', KEYS[1])
local dead = {}
for i = 1, #ARGV do dead[ARGV[i]] = true end
local seen, n, manual, pushed = {}, 0, nil, nil
for i = 1, #h, 2 do
  local f, v = h[i], h[i + 1]
  if string.sub(f, 1, 2) == 's:' then
    local node = string.match(f, '^s:([^:]+):')
    if node and not dead[node] and not seen[v] then seen[v] = true; n = n + 1 end
  elseif f == 'm' then manual = v
  elseif f == 'p' then pushed = v end
end
local status, text = 'offline', ''
if n > 0 then
  status = 'online'
  if manual then
    local at = string.find(manual, '\\31', 1, true)
    local chosen = string.sub(manual, 1, at - 1)
    text = string.sub(manual, at + 1)
    if chosen == 'busy' or chosen == 'away' then status = chosen end
  end
end
local now = status .. '\\31' .. text
if (pushed or 'offline\\31') == now then return false end
if status == 'offline' then redis.call('HDEL', KEYS[1], 'p') else redis.call('HSET', KEYS[1], 'p', now) end
local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
return {status, text, version}
"""
assert set(MANUAL) == {"online", "busy", "away"}, "update the Lua aggregation above"


class RedisPresence(PresenceRegistry):
    def __init__(self, url: str, node_id: str, *, namespace: str = "semot", node_timeout_s: float = 15.0) -> None:
        self._url = url
        self.node_id = node_id
        self._ns = f"{namespace}:pres"
        self._timeout_ms = int(node_timeout_s * 1000)
        self._beat_s = node_timeout_s / 3
        self._redis: aioredis.Redis | None = None
        self._settle: Any = None
        # nodes whose heartbeat went stale: their sessions stop counting at once, before
        # anyone reaps them (a node not known at all is alive: it may have just started)
        self._dead: set[str] = set()
        self._mine: dict[str, dict[str, str]] = {}  # this node's sessions: user -> session -> device
        self._beats = 0
        self._on_lost: LostHandler = lambda _users: None
        self._task: asyncio.Task[None] | None = None

    # --- keys
    def _user(self, user_id: str) -> str:
        return f"{self._ns}:u:{user_id}"

    def _node(self, node_id: str) -> str:
        return f"{self._ns}:n:{node_id}"

    @property
    def _r(self) -> aioredis.Redis:
        if self._redis is None:
            raise RuntimeError("presence registry not started")
        return self._redis

    # --- life
    async def start(self, on_lost: LostHandler) -> None:
        self._on_lost = on_lost
        self._redis = aioredis.from_url(self._url, decode_responses=True)
        self._settle = self._redis.register_script(_SETTLE)
        await self.beat()
        self._task = asyncio.create_task(self._beat_loop(), name="semot-presence-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._redis is not None:
            try:
                # Mark this node dead at once: the others reap its sessions on their next
                # beat and push its users' new status.
                await self._redis.zadd(f"{self._ns}:nodes", {self.node_id: 0})
            except Exception:
                log.warning("could not mark this node gone in redis", exc_info=True)
            await self._redis.aclose()
            self._redis = None

    async def _beat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._beat_s)
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("presence heartbeat failed", exc_info=True)

    async def beat(self) -> None:
        """Say this node is alive, refresh the live set, and reap nodes gone silent."""
        r = self._r
        seconds, micros = await r.time()
        now = seconds * 1000 + micros // 1000
        nodes = f"{self._ns}:nodes"
        if await r.zadd(nodes, {self.node_id: now}) and self._beats:
            await self._rejoin()  # we were taken for dead (a long stall) and reaped
        self._beats += 1
        stale = set(await r.zrangebyscore(nodes, "-inf", f"({now - self._timeout_ms}")) - {self.node_id}
        self._dead = stale
        for dead in stale:
            await self._reap(dead)

    async def _rejoin(self) -> None:
        log.warning("this node was taken for dead by the others; registering its sessions again")
        async with self._r.pipeline(transaction=False) as pipe:
            for user_id, sessions in self._mine.items():
                for session_id, device_id in sessions.items():
                    pipe.hset(self._user(user_id), f"s:{self.node_id}:{session_id}", device_id)
                pipe.sadd(self._node(self.node_id), user_id)
            await pipe.execute()
        if self._mine:
            self._on_lost(set(self._mine))  # their status was pushed as offline: settle again

    async def _reap(self, dead: str) -> None:
        r = self._r
        if not await r.set(f"{self._ns}:reap:{dead}", self.node_id, nx=True, ex=60):
            return  # another node is on it
        users = set(await r.smembers(self._node(dead)))
        prefix = f"s:{dead}:"
        for user_id in users:
            fields = [f for f in await r.hkeys(self._user(user_id)) if f.startswith(prefix)]
            if fields:
                await r.hdel(self._user(user_id), *fields)
        await r.delete(self._node(dead))
        await r.zrem(f"{self._ns}:nodes", dead)
        log.info("reaped presence of silent node %s (%d users)", dead, len(users))
        if users:
            self._on_lost(users)

    # --- sessions
    async def session_up(self, user_id: str, session_id: str, device_id: str) -> None:
        self._mine.setdefault(user_id, {})[session_id] = device_id
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hset(self._user(user_id), f"s:{self.node_id}:{session_id}", device_id)
            pipe.sadd(self._node(self.node_id), user_id)
            await pipe.execute()

    async def session_down(self, user_id: str, session_id: str) -> None:
        sessions = self._mine.get(user_id)
        if sessions is not None:
            sessions.pop(session_id, None)
            if not sessions:
                del self._mine[user_id]
        # The user stays in this node's reap set: harmless, and cheaper than counting.
        await self._r.hdel(self._user(user_id), f"s:{self.node_id}:{session_id}")

    def _parse(self, fields: dict[str, str]) -> tuple[set[str], tuple[str, str] | None]:
        dead = self._dead
        devices = {v for f, v in fields.items() if f.startswith("s:") and f.split(":", 2)[1] not in dead}
        raw = fields.get("m")
        manual = tuple(raw.split(SEP, 1)) if raw is not None and SEP in raw else None
        return devices, manual  # type: ignore[return-value]

    async def devices(self, user_id: str) -> set[str]:
        return self._parse(await self._r.hgetall(self._user(user_id)))[0]

    async def lookup(self, user_ids: Iterable[str]) -> dict[str, Seen]:
        users = list(dict.fromkeys(user_ids))
        if not users:
            return {}
        async with self._r.pipeline(transaction=False) as pipe:
            for u in users:
                pipe.hgetall(self._user(u))
            rows = await pipe.execute()
        out = {}
        for u, fields in zip(users, rows, strict=True):
            devices, manual = self._parse(fields)
            out[u] = Seen(len(devices), manual)
        return out

    async def set_manual(self, user_id: str, status: str, text: str, *, only_if_unset: bool = False) -> None:
        value = f"{status}{SEP}{text}"
        if only_if_unset:
            await self._r.hsetnx(self._user(user_id), "m", value)
        else:
            await self._r.hset(self._user(user_id), "m", value)

    async def settle(self, user_ids: Iterable[str]) -> dict[str, Settled]:
        users = list(dict.fromkeys(user_ids))
        if not users:
            return {}
        dead = list(self._dead)
        async with self._r.pipeline(transaction=False) as pipe:
            for u in users:
                await self._settle(keys=[self._user(u)], args=dead, client=pipe)
            results = await pipe.execute()
        return {u: Settled(r[0], r[1], int(r[2])) for u, r in zip(users, results, strict=True) if r}

    # --- follows
    async def subscribe(self, viewer: str, targets: set[str]) -> None:
        follows = f"{self._ns}:f:{viewer}"
        old = await self._r.smembers(follows)
        async with self._r.pipeline(transaction=False) as pipe:
            for t in old:
                pipe.srem(f"{self._ns}:fb:{t}", viewer)
            pipe.delete(follows)
            if targets:
                pipe.sadd(follows, *targets)
                pipe.expire(follows, FOLLOW_TTL_S)
                for t in targets:
                    pipe.sadd(f"{self._ns}:fb:{t}", viewer)
                    pipe.expire(f"{self._ns}:fb:{t}", FOLLOW_TTL_S)
            await pipe.execute()

    async def subscribers(self, target: str) -> set[str]:
        return set(await self._r.smembers(f"{self._ns}:fb:{target}"))

    async def drop_viewer(self, viewer: str) -> None:
        await self.subscribe(viewer, set())
