"""Abuse counters of a single node, in memory, bounded.

Expired counters are swept now and then; past `max_keys` live counters the oldest are
dropped, so an attacker inventing usernames or rotating addresses cannot grow the map
without bound (a dropped counter only forgets some failures).
"""

from __future__ import annotations

import time
from collections import OrderedDict

from semot.bus.limits import Counters, Hit

SWEEP_EVERY = 1024  # hits between sweeps of expired counters


class LocalCounters(Counters):
    def __init__(self, *, max_keys: int = 200_000) -> None:
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, expires), by creation
        self._max = max_keys
        self._hits = 0

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self._counts.clear()

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= now:
            del self._counts[key]
            return None
        return entry

    async def hit(self, key: str, window_s: float) -> Hit:
        now = self._now()
        self._hits += 1
        if self._hits % SWEEP_EVERY == 0:
            self._sweep(now)
        entry = self._live(key, now)
        count, expires = (entry[0] + 1, entry[1]) if entry else (1, now + window_s)
        self._counts[key] = (count, expires)
        if entry is None:
            while len(self._counts) > self._max:
                self._counts.popitem(last=False)
        return Hit(count, max(0.0, expires - now))

    async def undo(self, key: str) -> None:
        entry = self._live(key, self._now())
        if entry is not None:
            self._counts[key] = (max(0, entry[0] - 1), entry[1])

    async def reset(self, key: str) -> None:
        self._counts.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in [k for k, (_, exp) in self._counts.items() if exp <= now]:
            del self._counts[key]
