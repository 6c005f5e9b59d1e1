"""Keeps the garbage collector's full collections from walking every idle connection.

A full (generation-2) collection walks every container object the process tracks. An
authenticated connection keeps ~45 of them alive for hours (aiohttp's request and
WebSocket objects, tasks, coroutine frames, ours), so with tens of thousands of
connections one full collection pauses the loop for hundreds of milliseconds, and
every message waiting behind it. Measured: 1.3 s at 8,000 connections (benchmarks/README.md).

So connections that have settled are moved out of the collector's reach in batches:
`gc.collect()` (which walks only what is not frozen yet: the objects made since the
last batch) followed by `gc.freeze()`. Frozen objects are still freed by reference
counting as usual; only reference CYCLES among them are no longer found, and a closed
connection leaves some (aiohttp's protocol, request and tasks refer to each other). To
keep that memory bounded, once as many frozen connections have gone as are open, the
governor unfreezes everything and runs one full collection: a pause proportional to
the open connections, paid only after churn of the same size (Python's own rule runs
one after every 25 % of growth, connects included), never by a connect storm or by
idle connections.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class ConnectionCounts(Protocol):
    """What the governor reads of the hub: counters only, polled."""

    @property
    def connection_count(self) -> int: ...
    @property
    def connects_total(self) -> int: ...
    @property
    def disconnects_total(self) -> int: ...


class GcGovernor:
    """Freezes settled connections in batches; runs the rare full collection itself.

    `batch`: new connections since the last freeze that make the next one due (sooner
    once connects pause for `check_s`). `min_churn`: closed connections below which the
    full collection never runs, however few are open."""

    def __init__(
        self, counts: ConnectionCounts, *, batch: int = 500, check_s: float = 2.0, min_churn: int = 2_000
    ) -> None:
        self._counts = counts
        self._batch = batch
        self._check_s = check_s
        self._min_churn = min_churn
        self._task: asyncio.Task[None] | None = None
        self._connects_seen = counts.connects_total
        self._disconnects_seen = counts.disconnects_total
        self.freezes = 0
        self.full_collections = 0
        self.last_pause_ms = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="semot-gc-governor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        previous = self._counts.connects_total
        while True:
            await asyncio.sleep(self._check_s)
            connects = self._counts.connects_total
            self.step(storm_over=connects == previous)
            previous = connects

    def step(self, *, storm_over: bool) -> None:
        """One check: a full collection if churn calls for one, else a freeze if due."""
        c = self._counts
        gone = c.disconnects_total - self._disconnects_seen
        if gone >= max(self._min_churn, c.connection_count):
            self._timed(self._full)
            self._disconnects_seen = c.disconnects_total
            self._connects_seen = c.connects_total
            return
        new = c.connects_total - self._connects_seen
        if new >= self._batch or (new > 0 and storm_over):
            self._timed(self._freeze)
            self._connects_seen = c.connects_total

    def _freeze(self) -> None:
        gc.collect()  # walks only the unfrozen objects: those made since the last freeze
        gc.freeze()
        self.freezes += 1

    def _full(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.full_collections += 1

    def _timed(self, fn: Callable[[], None]) -> None:
        t0 = time.perf_counter()
        fn()
        self.last_pause_ms = (time.perf_counter() - t0) * 1e3
        if log.isEnabledFor(logging.DEBUG):  # get_freeze_count() walks every frozen object
            log.debug("gc%s: %.1f ms, %d objects frozen", fn.__name__, self.last_pause_ms, gc.get_freeze_count())
