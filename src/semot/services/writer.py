"""Group-commit writer: one task turns a stream of sends into few, large transactions.

Every `submit` waits for the commit that stores its message, so an acknowledgement
always means "durably stored". While one transaction is in flight the next batch
accumulates, so batches grow with load on their own and no timer delays a quiet server.
Messages are handed to `on_stored` in commit (= seq) order before any ack is released,
each with the queued item it came from (which carries its sending session).

One bad message never fails the others: when storage refuses the data of a batch
(StorageDataError), the batch is retried in halves, in order, down to single messages,
so every innocent message is committed and acknowledged and only the poison gets a
`bad_request`. An outage is different: it fails what is left of the batch at once as
`unavailable` (retry with the same cid), without bisecting.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from semot.domain.records import AppendResult, NewMessage
from semot.errors import BadRequest, Internal, SemotError, StorageDataError, Unavailable
from semot.metrics import Metrics
from semot.storage.base import MessageStorage

log = logging.getLogger(__name__)

StoredCallback = Callable[[list[tuple[NewMessage, AppendResult]]], None]


class GroupCommitWriter:
    def __init__(self, storage: MessageStorage, on_stored: StoredCallback, metrics: Metrics, *, batch_max: int) -> None:
        self._storage = storage
        self._on_stored = on_stored
        self._metrics = metrics
        self._batch_max = batch_max
        self._queue: deque[tuple[NewMessage, asyncio.Future[AppendResult]]] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False

    def start(self) -> None:
        self._accepting = True
        self._task = asyncio.create_task(self._run(), name="semot-writer")

    def submit(self, item: NewMessage) -> asyncio.Future[AppendResult]:
        """Queue a message; the future resolves after its transaction committed."""
        fut: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        if not self._accepting:
            fut.set_exception(Unavailable("server is shutting down; retry with the same cid"))
            return fut
        self._queue.append((item, fut))
        self._wakeup.set()
        return fut

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def stop(self) -> None:
        """Refuse new messages, commit everything already accepted, then stop."""
        self._accepting = False
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if not self._accepting:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            n = min(len(self._queue), self._batch_max)
            taken = [self._queue.popleft() for _ in range(n)]
            await self._commit(taken)

    async def _commit(self, taken: list[tuple[NewMessage, asyncio.Future[AppendResult]]]) -> None:
        batch = [item for item, _ in taken]
        results = await self._append_isolating(batch)
        created = [(item, r) for item, r in zip(batch, results, strict=True) if isinstance(r, AppendResult) and r.created]
        self._metrics.batch_size.observe(len(batch))
        if created:
            self._metrics.messages_stored.inc(len(created))
            try:
                self._on_stored(created)
            except Exception:  # pushes are best effort; never lose an ack over them
                log.exception("fan-out after commit failed")
        for (_, fut), res in zip(taken, results, strict=True):
            if fut.done():
                continue
            if isinstance(res, AppendResult):
                fut.set_result(res)
            elif isinstance(res, SemotError):
                fut.set_exception(res)
            else:
                log.error("message rejected by storage: %r", res)
                fut.set_exception(Internal("message could not be stored"))

    async def _append_isolating(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        """Store `batch`, splitting it around messages whose data storage refuses.

        Parts are stored left to right, so commit order (and with it the order of one
        sender's messages in a conversation) is batch order, and the created results
        come back in commit order. At most 2n-1 transactions for n messages, plus one
        retry of a message that failed alone on its first try: that is how a batch of
        one survives another node committing the same (sender, cid) at the same moment.
        """
        results: list[AppendResult | Exception | None] = [None] * len(batch)
        todo: list[tuple[int, int]] = [(0, len(batch))]  # a stack: the leftmost part on top
        retried: set[int] = set()
        outage: Unavailable | None = None
        while todo:
            lo, hi = todo.pop()
            if outage is not None:
                results[lo:hi] = [outage] * (hi - lo)
                continue
            try:
                part = await self._storage.append_messages(batch[lo:hi])
            except StorageDataError as exc:
                if hi - lo > 1:
                    mid = (lo + hi) // 2
                    todo += [(mid, hi), (lo, mid)]
                elif len(batch) == 1 and lo not in retried:
                    retried.add(lo)
                    todo.append((lo, hi))
                else:
                    n = batch[lo]
                    log.warning("message refused by storage (sender %s, cid %r): %s", n.sender, n.cid, exc.reason)
                    results[lo] = BadRequest(f"message could not be stored: {exc.reason}")
                continue
            except Exception as exc:  # the database is gone: nothing of this part is stored
                log.exception("storing a batch of %d messages failed", hi - lo)
                outage = Unavailable("message could not be stored; retry with the same cid")
                outage.__cause__ = exc
                results[lo:hi] = [outage] * (hi - lo)
                continue
            results[lo:hi] = part
        return results  # type: ignore[return-value]  # every slot was filled above
