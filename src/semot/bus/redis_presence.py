"""Presence shared by several nodes through Redis.

Keys (under the namespace `ns`):
- `ns:pres:u:<user>`  hash: `s:<node>:<session>` -> device id for each open session,
  `m` -> chosen status, `p` -> status last pushed, `v` -> version of that push;
- `ns:pres:nodes`     sorted set: node -> last heartbeat (Redis clock, ms);
- `ns:pres:n:<node>`  set: users with sessions on that node (for reaping it);
- `ns:pres:f:<session>` set: the users a session follows; `ns:pres:fb:<user>` hash:
  session -> viewer, the sessions following a user; `ns:pres:fn:<node>` set: the
  following sessions of a node, as `viewer \\x1f session` (for reaping it);
- `ns:pres:online`    set: users whose status is not offline (kept by the settle script);
- `ns:pres:load`      hash: node -> "sessions users" it holds, written at each beat
  (the dashboard's figures: `counts`, no scan of any user's keys).

A node whose heartbeat is seen stale on two successful beats in a row is dead: its
sessions stop counting, and the first node to notice reaps its keys and reports its
users, whose offline status is then pushed. A node that cannot reach Redis itself
reaps nobody until it has seen the cluster again, so a Redis outage does not make the
nodes reap each other. A node that was only stalled finds itself reaped at its next
beat and writes its sessions again. Every few beats each node also reconciles its own
sessions with Redis, which repairs writes lost to a failure.

Settling a status and admitting a device under the device limit are Lua scripts:
atomic, so when two nodes act on the same user at once the outcome is still right.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis

from semot.bus.presence import ClusterCounts, LostHandler, NodeLoad, PresenceRegistry, Seen, Settled
from semot.bus.redis_conn import RedisTimeouts, redis_client
from semot.domain.presence import MANUAL

log = logging.getLogger(__name__)

SEP = "\x1f"
RECONCILE_EVERY = 12  # beats


def _texts(values: Any) -> set[str]:
    """Members of a Redis set or range as str (the client decodes responses)."""
    return {v if isinstance(v, str) else bytes(v).decode() for v in values}


def _text_map(fields: Any) -> dict[str, str]:
    """A Redis hash as str -> str (the client decodes responses)."""
    return {str(k): str(v) for k, v in fields.items()}
CHUNK = 500

# The live devices of a user, as both scripts count them: distinct device ids of
# sessions on nodes not in the dead list (ARGV from `first_dead` on).
_COUNT = """
local function live_devices(h, dead, except)
  local seen, n = {}, 0
  for i = 1, #h, 2 do
    local f, v = h[i], h[i + 1]
    if string.sub(f, 1, 2) == 's:' then
      local node = string.match(f, '^s:([^:]+):')
      if node and not dead[node] and v ~= except and not seen[v] then seen[v] = true; n = n + 1 end
    end
  end
  return n
end
local function dead_set(first)
  local dead = {}
  for i = first, #ARGV do dead[ARGV[i]] = true end
  return dead
end
"""

# KEYS: user hash, node's user set. ARGV: field, device, max devices (0: none), user, dead...
_ADMIT = (
    _COUNT
    + """
local max = tonumber(ARGV[3])
if max > 0 then
  local h = redis.call('HGETALL', KEYS[1])
  if live_devices(h, dead_set(5), ARGV[2]) >= max then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
return 1
"""
)

# KEYS: user hash, the set of online users. ARGV: user, dead nodes. Mirrors
# semot.domain.presence.aggregate: no live device -> offline; otherwise the chosen
# status if it is one of MANUAL, else online. The contract tests hold both registries
# to the same expectations. The online set (the dashboard's count, `counts`) follows
# every settle, changed or not, so it heals itself where it ever missed one.
_SETTLE = (
    _COUNT
    + """
local h = redis.call('HGETALL', KEYS[1])
local n = live_devices(h, dead_set(2), nil)
if n > 0 then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
local manual, pushed, version = nil, nil, 0
for i = 1, #h, 2 do
  if h[i] == 'm' then manual = h[i + 1]
  elseif h[i] == 'p' then pushed = h[i + 1]
  elseif h[i] == 'v' then version = tonumber(h[i + 1]) or 0 end
end
local status, text = 'offline', ''
if n > 0 then
  status = 'online'
  local at = manual and string.find(manual, '\\31', 1, true)
  if at then
    local chosen = string.sub(manual, 1, at - 1)
    text = string.sub(manual, at + 1)
    if chosen == 'busy' or chosen == 'away' then status = chosen end
  end
end
local now = status .. '\\31' .. text
if (pushed or 'offline\\31') == now then return false end
redis.call('HSET', KEYS[1], 'p', now)
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
version = math.max(version + 1, clock)
redis.call('HSET', KEYS[1], 'v', version)
return {status, text, version}
"""
)
assert set(MANUAL) == {"online", "busy", "away"}, "update the Lua aggregation above"


class RedisPresence(PresenceRegistry):
    def __init__(
        self, url: str, node_id: str, *, namespace: str = "semot", node_timeout_s: float = 15.0,
        timeouts: RedisTimeouts | None = None,
    ) -> None:
        self._url = url
        self._timeouts = timeouts or RedisTimeouts()  # a hung Redis: requests answer 503, beats fail
        self.node_id = node_id
        self._ns = f"{namespace}:pres"
        self._timeout_s = node_timeout_s
        self._beat_s = node_timeout_s / 3
        self._redis: aioredis.Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._dead: set[str] = set()  # confirmed dead: their sessions do not count
        self._stale: set[str] = set()  # stale at the last beat: dead if still stale at the next
        self._last_ok: float | None = None  # monotonic time of the last successful beat
        self._mine: dict[str, dict[str, str]] = {}  # this node's sessions: user -> session -> device
        self._my_follows: dict[str, str] = {}  # this node's following sessions: session -> viewer
        self._retry: set[tuple[str, str, str]] = set()  # ("down" | "unfollow", user, session)
        self._beats = 0
        self._on_lost: LostHandler = lambda _users: None
        self._task: asyncio.Task[None] | None = None

    # --- keys
    def _user(self, user_id: str) -> str:
        return f"{self._ns}:u:{user_id}"

    def _node(self, node_id: str) -> str:
        return f"{self._ns}:n:{node_id}"

    def _field(self, session_id: str) -> str:
        return f"s:{self.node_id}:{session_id}"

    @property
    def _r(self) -> aioredis.Redis:
        if self._redis is None:
            raise RuntimeError("presence registry not started")
        return self._redis

    # --- life
    async def start(self, on_lost: LostHandler) -> None:
        self._on_lost = on_lost
        self._redis = redis_client(self._url, self._timeouts, decode_responses=True)
        self._scripts = {"admit": self._redis.register_script(_ADMIT), "settle": self._redis.register_script(_SETTLE)}
        await self.beat()
        self._task = asyncio.create_task(self._beat_loop(), name="semot-presence-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._redis is not None:
            try:
                # Mark this node stale at once: the others reap its sessions within two
                # beats and push its users' new status.
                await self._redis.zadd(f"{self._ns}:nodes", {self.node_id: 0})
                await self._redis.hdel(f"{self._ns}:load", self.node_id)
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
        """Say this node is alive, work out which nodes are dead, reap them, and repair
        this node's own state in Redis when something was lost."""
        r = self._r
        seconds, micros = await r.time()
        now_ms = seconds * 1000 + micros // 1000
        nodes = f"{self._ns}:nodes"
        await r.hset(f"{self._ns}:load", self.node_id, f"{sum(map(len, self._mine.values()))} {len(self._mine)}")
        if await r.zadd(nodes, {self.node_id: now_ms}) and self._beats:
            await self._write_mine()  # we were taken for dead (a long stall) and reaped
            if self._mine:
                self._on_lost(set(self._mine))  # their status was pushed as offline: settle again
        stale = _texts(await r.zrangebyscore(nodes, "-inf", f"({now_ms - int(self._timeout_s * 1000)}"))
        stale.discard(self.node_id)
        # Only a node that has watched the cluster without a gap may declare others dead.
        watching = self._last_ok is not None and time.monotonic() - self._last_ok <= self._timeout_s
        self._dead = (stale & self._stale) if watching else set()
        self._stale = stale
        self._last_ok = time.monotonic()
        self._beats += 1
        for dead in self._dead:
            await self._reap(dead)
        await self._drain_retries()
        if self._beats % RECONCILE_EVERY == 0:
            await self._reconcile()

    async def _write_mine(self) -> None:
        snapshot = {u: dict(s) for u, s in self._mine.items()}
        async with self._r.pipeline(transaction=False) as pipe:
            for user_id, sessions in snapshot.items():
                for session_id, device_id in sessions.items():
                    pipe.hset(self._user(user_id), self._field(session_id), device_id)
                pipe.sadd(self._node(self.node_id), user_id)
            await pipe.execute()
        # a session that closed while we wrote must not come back as a ghost
        for user_id, sessions in snapshot.items():
            for session_id in sessions:
                if session_id not in self._mine.get(user_id, {}):
                    self._retry.add(("down", user_id, session_id))

    async def _reap(self, dead: str) -> None:
        r = self._r
        lock = f"{self._ns}:reap:{dead}"
        if not await r.set(lock, self.node_id, nx=True, ex=60):
            return  # another node is on it
        users = sorted(_texts(await r.smembers(self._node(dead))))
        prefix = f"s:{dead}:"
        for i in range(0, len(users), CHUNK):
            chunk = users[i : i + CHUNK]
            async with r.pipeline(transaction=False) as pipe:
                for user_id in chunk:
                    pipe.hkeys(self._user(user_id))
                keys = await pipe.execute()
            async with r.pipeline(transaction=False) as pipe:
                for user_id, fields in zip(chunk, keys, strict=True):
                    gone = [f for f in _texts(fields) if f.startswith(prefix)]
                    if gone:
                        pipe.hdel(self._user(user_id), *gone)
                await pipe.execute()
        followers = sorted(_texts(await r.smembers(f"{self._ns}:fn:{dead}")))
        for entry in followers:
            viewer, _, session_id = entry.partition(SEP)
            await self._drop_follows(viewer, session_id)
        await r.delete(self._node(dead), f"{self._ns}:fn:{dead}")
        await r.zrem(f"{self._ns}:nodes", dead)
        await r.hdel(f"{self._ns}:load", dead)
        await r.delete(lock)
        log.info("reaped presence of silent node %s (%d users)", dead, len(users))
        if users:
            self._on_lost(set(users))

    async def _drain_retries(self) -> None:
        for op in list(self._retry):
            kind, user_id, session_id = op
            try:
                if kind == "down":
                    if session_id not in self._mine.get(user_id, {}):
                        await self._r.hdel(self._user(user_id), self._field(session_id))
                else:
                    await self._drop_follows(user_id, session_id)
            except Exception:
                return  # still unreachable: keep them for the next beat
            self._retry.discard(op)

    async def _reconcile(self) -> None:
        """Make Redis hold exactly this node's open sessions (a write may have been lost
        to a failure or a cancellation), and stop listing users who left this node."""
        r = self._r
        listed = _texts(await r.smembers(self._node(self.node_id)))
        users = list(listed | set(self._mine))
        prefix = f"s:{self.node_id}:"
        for i in range(0, len(users), CHUNK):
            chunk = users[i : i + CHUNK]
            async with r.pipeline(transaction=False) as pipe:
                for user_id in chunk:
                    pipe.hgetall(self._user(user_id))
                rows = await pipe.execute()
            async with r.pipeline(transaction=False) as pipe:
                for user_id, fields in zip(chunk, rows, strict=True):
                    want = {self._field(s): d for s, d in self._mine.get(user_id, {}).items()}
                    have = {f: v for f, v in _text_map(fields).items() if f.startswith(prefix)}
                    extra = [f for f in have if f not in want]
                    if extra:
                        pipe.hdel(self._user(user_id), *extra)
                    for f, d in want.items():
                        if have.get(f) != d:
                            pipe.hset(self._user(user_id), f, d)
                    if not want and user_id in listed:
                        pipe.srem(self._node(self.node_id), user_id)
                await pipe.execute()

    # --- sessions
    async def session_up(self, user_id: str, session_id: str, device_id: str, *, max_devices: int = 0) -> bool:
        self._mine.setdefault(user_id, {})[session_id] = device_id  # reconcile writes it if Redis fails now
        admitted = await self._scripts["admit"](
            keys=[self._user(user_id), self._node(self.node_id)],
            args=[self._field(session_id), device_id, max_devices, user_id, *self._dead],
        )
        if not admitted:
            self._forget(user_id, session_id)
        return bool(admitted)

    def _forget(self, user_id: str, session_id: str) -> None:
        sessions = self._mine.get(user_id)
        if sessions is not None:
            sessions.pop(session_id, None)
            if not sessions:
                del self._mine[user_id]

    async def session_down(self, user_id: str, session_id: str) -> None:
        self._forget(user_id, session_id)
        try:
            await self._r.hdel(self._user(user_id), self._field(session_id))
        except Exception:
            self._retry.add(("down", user_id, session_id))
            raise

    def _parse(self, fields: dict[str, str]) -> tuple[set[str], tuple[str, str] | None]:
        dead = self._dead
        devices = {v for f, v in fields.items() if f.startswith("s:") and f.split(":", 2)[1] not in dead}
        raw = fields.get("m")
        manual = tuple(raw.split(SEP, 1)) if raw is not None and SEP in raw else None
        return devices, manual  # type: ignore[return-value]

    async def devices(self, user_id: str) -> set[str]:
        return self._parse(_text_map(await self._r.hgetall(self._user(user_id))))[0]

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
            devices, manual = self._parse(_text_map(fields))
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
                await self._scripts["settle"](keys=[self._user(u), f"{self._ns}:online"], args=[u, *dead], client=pipe)
            results = await pipe.execute()
        return {u: Settled(r[0], r[1], int(r[2])) for u, r in zip(users, results, strict=True) if r}

    async def counts(self) -> ClusterCounts:
        """Users online (the settled set), and each live node's load from its last beat."""
        r = self._r
        async with r.pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.scard(f"{self._ns}:online")
            pipe.zrange(f"{self._ns}:nodes", 0, -1, withscores=True)
            pipe.hgetall(f"{self._ns}:load")
            (seconds, micros), users, beats, loads = await pipe.execute()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        load = _text_map(loads)
        nodes = []
        for raw, score in beats:
            node = raw if isinstance(raw, str) else bytes(raw).decode()
            if now_ms - score > self._timeout_s * 1000 or node in self._dead:
                continue  # silent: its sessions do not count
            sessions, _, held = load.get(node, "0 0").partition(" ")
            nodes.append(NodeLoad(node, int(sessions or 0), int(held or 0), int(score)))
        nodes.sort(key=lambda n: n.node_id)
        return ClusterCounts(int(users), sum(n.sessions for n in nodes), tuple(nodes))

    # --- follows
    async def _drop_follows(self, viewer: str, session_id: str) -> None:
        r = self._r
        follows = f"{self._ns}:f:{session_id}"
        targets = _texts(await r.smembers(follows))
        async with r.pipeline(transaction=False) as pipe:
            for t in targets:
                pipe.hdel(f"{self._ns}:fb:{t}", session_id)
            pipe.delete(follows)
            pipe.srem(f"{self._ns}:fn:{self.node_id}", f"{viewer}{SEP}{session_id}")
            await pipe.execute()

    async def subscribe(self, viewer: str, session_id: str, targets: set[str]) -> None:
        await self._drop_follows(viewer, session_id)
        if not targets:
            self._my_follows.pop(session_id, None)
            return
        self._my_follows[session_id] = viewer
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.sadd(f"{self._ns}:f:{session_id}", *targets)
            for t in targets:
                pipe.hset(f"{self._ns}:fb:{t}", session_id, viewer)
            pipe.sadd(f"{self._ns}:fn:{self.node_id}", f"{viewer}{SEP}{session_id}")
            await pipe.execute()

    async def subscribers(self, target: str) -> set[str]:
        return _texts(await self._r.hvals(f"{self._ns}:fb:{target}"))

    async def unsubscribe(self, viewer: str, session_id: str) -> None:
        if self._my_follows.pop(session_id, None) is None:
            return  # this session never followed anyone: nothing to delete
        try:
            await self._drop_follows(viewer, session_id)
        except Exception:
            self._retry.add(("unfollow", viewer, session_id))
            raise
