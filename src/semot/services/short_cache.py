"""A per-node cache of answers that may be a few seconds stale, and no more.

Used where a hot read path asks the database the same question many times a second
(a chat's pictures: `GET /files/<id>/content` with a bearer token, services/files.py):
an entry lives `ttl_s` seconds from when it was stored, whatever happens meanwhile, so a
change made elsewhere (another node, the database) shows here within `ttl_s` at worst.
Changes this node makes itself drop the entries they touch at once (`drop`). The size is
capped; when full, everything is dropped (simpler than LRU, and a refill is cheap).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ShortCache(Generic[K, V]):
    def __init__(self, ttl_s: float, max_entries: int = 4096) -> None:
        self.ttl_s = ttl_s
        self._max = max_entries
        self._items: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        if hit[0] <= time.monotonic():
            del self._items[key]
            return None
        return hit[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._items) >= self._max:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl_s, value)

    def drop(self, which: Callable[[K], bool]) -> None:
        for key in [k for k in self._items if which(k)]:
            del self._items[key]

    def clear(self) -> None:
        self._items.clear()
