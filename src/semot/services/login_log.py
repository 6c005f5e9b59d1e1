"""The login log: every login attempt, who tried, from where, with what, and the outcome.

Recording never delays a login: `record` only appends to an in-memory queue; a task
writes the queue in batches (one multi-row INSERT per `flush_s`, or sooner when a batch
is full) and once more on shutdown. A database outage keeps the rows queued (bounded:
beyond `queue_max` the oldest are dropped and counted in the log) and retries. Rows
older than the retention are purged every hour, in chunks.

Every way of logging in records through `record` with a `LoginAttempt`: password
logins over HTTP (AccountService.login fills in the outcome), and single sign-on later
(`method="sso"`; the SSO handler builds the attempt the same way). Refreshing a token
is not a login and is not recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from semot.domain.users import username_key
from semot.ids import now_ms
from semot.services.user_agents import describe
from semot.storage.login_logs import (
    MAX_DEVICE,
    MAX_IP,
    MAX_METHOD,
    MAX_PLATFORM,
    MAX_USER_AGENT,
    MAX_USERNAME,
    RATE_LIMITED,
    LoginLogEntry,
    LoginLogQuery,
    LoginLogStorage,
)
from semot.storage.stats import DAY_MS

log = logging.getLogger(__name__)

EXPORT_BATCH = 1000
EXPORT_MAX_ROWS = 1_000_000  # one export; narrow the filters for more
PURGE_EVERY_S = 3600.0


def _clean(text: str, limit: int) -> str:
    """Bounded, and storable anywhere: no NUL (PostgreSQL text refuses it), no lone
    surrogates (what a header with bytes that are not UTF-8 decodes to)."""
    return text[:limit].replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


@dataclass(slots=True)
class LoginAttempt:
    """One attempt as it happens: the edge fills in the client (address, agent, the
    device it declared), the login code the outcome (`user_id`, `ok`, `reason`)."""

    username: str
    ip: str = ""
    user_agent: str = ""
    device: str = ""  # the device id the client declared; else the User-Agent's summary
    platform: str = ""  # as declared; else what the User-Agent implies
    method: str = "password"
    user_id: str | None = None
    ok: bool = False
    reason: str = ""
    ts: int = field(default_factory=now_ms)

    def entry(self) -> LoginLogEntry:
        device, platform = describe(self.user_agent)
        return LoginLogEntry(
            ts=self.ts,
            user_id=self.user_id,
            username=_clean(self.username, MAX_USERNAME),
            ip=_clean(self.ip, MAX_IP),
            device=_clean(self.device or device, MAX_DEVICE),
            platform=_clean(self.platform or platform, MAX_PLATFORM),
            user_agent=_clean(self.user_agent, MAX_USER_AGENT),
            ok=self.ok,
            reason="" if self.ok else (self.reason or "error"),
            method=_clean(self.method, MAX_METHOD),
        )


class LoginLog:
    def __init__(
        self,
        store: LoginLogStorage,
        *,
        retention_days: int,
        flush_s: float = 1.0,
        batch_max: int = 500,
        queue_max: int = 100_000,
        on_recorded: Callable[[bool], None] | None = None,
        resolve: Callable[[list[str]], Awaitable[dict[str, str]]] | None = None,
    ) -> None:
        self._store = store
        self.retention_days = retention_days
        self._flush_s = flush_s
        self._batch_max = batch_max
        self._queue: deque[LoginAttempt] = deque()  # made into rows by the writer, off the login's path
        self._queue_max = queue_max
        self._dropped = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_purge = 0.0
        self._on_recorded = on_recorded  # the dashboard's per-minute login counters
        # usernames -> user ids (keys as typed), for attempts refused before the account
        # was looked up (rate-limited: a flood must stay cheap), resolved a batch at a time
        self._resolve = resolve

    # --- recording (the hot path: no awaiting, no I/O)
    def record(self, attempt: LoginAttempt) -> None:
        """Queue one attempt; it is written within `flush_s`."""
        try:
            if len(self._queue) >= self._queue_max:
                self._queue.popleft()
                self._dropped += 1
            self._queue.append(attempt)
            if len(self._queue) >= self._batch_max:
                self._wakeup.set()
            if self._on_recorded is not None:
                self._on_recorded(attempt.ok)
        except Exception:  # the login itself must never fail over its log
            log.exception("could not queue a login log entry")

    @property
    def pending(self) -> int:
        return len(self._queue)

    # --- life
    def start(self) -> None:
        self._next_purge = asyncio.get_running_loop().time() + 60  # not while the node is starting
        self._task = asyncio.create_task(self._run(), name="semot-login-log")

    async def stop(self) -> None:
        """Write what is queued (one last try), then stop."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._flush_s)
            except TimeoutError:
                pass
            self._wakeup.clear()
            await self.flush()
            if loop.time() >= self._next_purge:
                self._next_purge = loop.time() + PURGE_EVERY_S
                try:
                    await self.purge()
                except Exception:
                    log.warning("purging old login log entries failed (retried in an hour)", exc_info=True)

    async def flush(self) -> int:
        """Write everything queued now, a batch per transaction; on failure the rows go
        back to the front of the queue for the next try. Returns how many were written."""
        if self._dropped:
            log.warning("login log queue full: %d oldest entries dropped", self._dropped)
            self._dropped = 0
        written = 0
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self._batch_max, len(self._queue)))]
            try:
                await self._store.add_login_logs(await self._resolved([a.entry() for a in batch]))
            except Exception:
                self._queue.extendleft(reversed(batch))
                log.warning("writing %d login log entries failed (retried)", len(batch), exc_info=True)
                break
            written += len(batch)
        return written

    async def _resolved(self, batch: list[LoginLogEntry]) -> list[LoginLogEntry]:
        """The batch with the user id filled in where the attempt was refused before the
        account was looked up (one query for the batch; left as it is if that fails)."""
        unknown = [e.username for e in batch if e.user_id is None and e.reason == RATE_LIMITED]
        if not unknown or self._resolve is None:
            return batch
        try:
            ids = await self._resolve(unknown)
        except Exception:
            log.warning("could not resolve the users of %d rate-limited logins", len(unknown), exc_info=True)
            return batch
        return [
            replace(e, user_id=ids.get(e.username)) if e.user_id is None and e.reason == RATE_LIMITED else e
            for e in batch
        ]

    async def purge(self) -> int:
        gone = await self._store.purge_login_logs(now_ms() - self.retention_days * DAY_MS)
        if gone:
            log.info("purged %d login log entries older than %d days", gone, self.retention_days)
        return gone

    # --- reading (the admin API)
    async def page(self, query: LoginLogQuery, *, offset: int, limit: int) -> tuple[list[LoginLogEntry], int]:
        return await self._store.login_logs(query, offset=offset, limit=limit)

    async def export(
        self, query: LoginLogQuery, *, max_rows: int = EXPORT_MAX_ROWS
    ) -> AsyncIterator[list[LoginLogEntry]]:
        """Every matching entry, newest first, in batches (a keyset walk: each batch is
        an index range read, however deep into the log)."""
        before: tuple[int, int] | None = None
        sent = 0
        while sent < max_rows:
            batch = await self._store.login_logs_before(query, before=before, limit=min(EXPORT_BATCH, max_rows - sent))
            if not batch:
                return
            yield batch
            sent += len(batch)
            last = batch[-1]
            before = (last.ts, last.id)


def username_resolver(
    users_by_usernames: Callable[[Iterable[str]], Awaitable[list[Any]]],
) -> Callable[[list[str]], Awaitable[dict[str, str]]]:
    """Typed usernames -> user ids through the user store (usernames ignore case; an
    account spelled exactly as typed wins, as at login)."""

    async def resolve(typed: list[str]) -> dict[str, str]:
        found = await users_by_usernames(typed)
        exact = {u.username: u.id for u in found}
        folded = {username_key(u.username): u.id for u in found}
        return {t: exact.get(t) or folded[username_key(t)] for t in typed if t in exact or username_key(t) in folded}

    return resolve
