"""Forgetting idle anonymous visitors (docs/customer-service.md, "Idle visitors are forgotten").

A visitor is a user made for a browser; nobody else can ever use it. Once its key has
not been used for `cs_visitor_idle_days` and it has no open session, keeping it only
keeps what the visitor typed about themselves: its key is dropped (that browser becomes
a new visitor), its account disabled and its name erased. Sessions stay for the
statistics; their chats' messages follow the message retention policy like any group's.
"""

from __future__ import annotations

import asyncio
import logging

from semot.domain.customer_service import FORGOTTEN_NAME
from semot.ids import now_ms
from semot.services.accounts import AccountService
from semot.storage.base import UserStorage
from semot.storage.customer_service import CustomerServiceStorage

log = logging.getLogger(__name__)
BATCH = 500


class VisitorPurge:
    def __init__(self, store: CustomerServiceStorage, accounts: AccountService, users: UserStorage, *,
                 idle_days: float, interval_s: float) -> None:
        self._store = store
        self._accounts = accounts
        self._users = users
        self._idle_days = idle_days
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._idle_days > 0:
            self._task = asyncio.create_task(self._loop(), name="semot-cs-purge")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.purge_idle()
            except Exception:
                log.exception("forgetting idle customer-service visitors failed")

    async def purge_idle(self, now: int | None = None) -> int:
        """Forget the visitors unseen since `idle_days` before `now` with no open
        session; nodes sweeping at once forget each visitor once (a conditional update)."""
        if self._idle_days <= 0:
            return 0
        before = (now or now_ms()) - int(self._idle_days * 86_400_000)
        forgotten = 0
        while True:
            batch = await self._store.idle_visitors(before, BATCH)
            done_before = forgotten
            for user_id in batch:
                if not await self._store.forget_visitor(user_id, before):
                    continue  # seen meanwhile, or another node's
                await self._accounts.set_disabled(user_id, True)  # every login ends, on every node
                await self._users.set_user_profile(user_id, display_name=FORGOTTEN_NAME, avatar_file_id=None)
                forgotten += 1
            if len(batch) < BATCH or forgotten == done_before:
                break
        if forgotten:
            log.info("forgot %d idle customer-service visitors", forgotten)
        return forgotten
