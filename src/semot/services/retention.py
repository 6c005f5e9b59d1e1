"""Message retention (docs/retention.md): the policy, legal holds and the sweep.

Off by default. With a policy, a background task deletes messages older than the
number of days of their conversation type, in batches of `batch_size` per transaction
with a pause between them (the message appender and readers get the database in
between), never a message under a legal hold. Deleting a message drops its reactions
and file references in the same transaction, then its search documents; a file that
nothing references any more is removed by the file collector (`after_delete` runs one
collector pass at the end of a sweep that deleted something). Conversations keep their
`max_seq`: `history` simply returns what is left.

Several nodes may sweep at once (PostgreSQL): a row deleted by one is not found by the
other, so the worst case is a little wasted work.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace

from semot.domain.retention import HOLD_KINDS, MAX_REASON, LegalHold, RetentionPolicy, RetentionRun, clean_days
from semot.errors import BadRequest, NotFound
from semot.ids import now_ms
from semot.storage.base import Storage

log = logging.getLogger(__name__)


class RetentionService:
    def __init__(
        self,
        storage: Storage,
        *,
        interval_s: float,
        batch_size: int,
        pause_s: float,
        after_delete: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._storage = storage
        self._store = storage.retention
        self._interval_s = interval_s
        self._batch = batch_size
        self._pause_s = pause_s
        self.after_delete = after_delete  # the file collector's pass (app.py sets it)
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one sweep at a time on this node

    # --- lifecycle
    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="semot-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the retention sweep failed")

    # --- policy and holds
    async def policy(self) -> RetentionPolicy:
        return await self._store.get_policy()

    async def set_policy(self, direct_days: int | None, group_days: int | None, by: str) -> RetentionPolicy:
        policy = RetentionPolicy(
            clean_days(direct_days, "direct_days"), clean_days(group_days, "group_days"), now_ms(), by
        )
        await self._store.set_policy(policy)
        return policy

    async def holds(self) -> list[LegalHold]:
        return await self._store.holds()

    async def add_hold(self, kind: str, target: str, reason: str, by: str) -> tuple[LegalHold, bool]:
        """The hold, and whether it is new (an existing hold on the same target is kept)."""
        if kind not in HOLD_KINDS:
            raise BadRequest(f"kind: one of {', '.join(HOLD_KINDS)}")
        if len(reason) > MAX_REASON:
            raise BadRequest(f"reason: at most {MAX_REASON} characters")
        if kind == "user" and not await self._storage.users.existing_user_ids([target]):
            raise NotFound(f"no user {target!r}")
        if kind == "conv" and await self._storage.messages.conversation_max_seq(target) is None:
            raise NotFound(f"no conversation {target!r}")
        hold = LegalHold(f"lh_{secrets.token_hex(8)}", kind, target, reason, now_ms(), by)
        stored = await self._store.add_hold(hold)
        return stored, stored.id == hold.id

    async def remove_hold(self, hold_id: str) -> LegalHold:
        removed = await self._store.remove_hold(hold_id)
        if removed is None:
            raise NotFound(f"no legal hold {hold_id!r}")
        return removed

    async def last_run(self) -> RetentionRun:
        return await self._store.last_run()

    # --- the sweep
    async def run(self, now: int | None = None) -> RetentionRun:
        """One sweep: every expired message (held ones excepted), batch by batch."""
        async with self._lock:
            policy = await self._store.get_policy()
            if not policy.enabled:
                return await self._store.last_run()
            started = now_ms()
            now = now or started
            run = RetentionRun(started_at=started)
            try:
                for kind in ("d", "g"):
                    cutoff = policy.cutoff(kind, now)
                    if cutoff is None:
                        continue
                    while True:
                        gone = await self._store.delete_expired(kind, cutoff, self._batch)
                        if gone:
                            await self._storage.search.unindex([(e.conv, e.seq) for e in gone])
                            run = replace(run, deleted=run.deleted + len(gone))
                        if len(gone) < self._batch:
                            break
                        await asyncio.sleep(self._pause_s)  # let the appender and readers in
                if run.deleted and self.after_delete is not None:
                    await self.after_delete()  # files no message references any more
            except Exception as exc:
                run = replace(run, finished_at=now_ms(), error=f"{type(exc).__name__}: {exc}"[:500])
                await self._store.record_run(run)
                raise
            run = replace(run, finished_at=now_ms())
            await self._store.record_run(run)
            if run.deleted:
                log.info("retention sweep deleted %d message(s)", run.deleted)
            return run
