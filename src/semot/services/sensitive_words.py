"""Sensitive words (三级敏感词过滤): the node's automaton, the screen every text passes,
the hit log and the live feed of hits.

The automaton (domain/sensitive.Matcher) is built from the whole word list in a thread
(`asyncio.to_thread`: a 10,000-word list takes tens of milliseconds, never on the event
loop) and swapped in whole, so a check always sees one consistent list. A change
(add, delete, import) is stored, rebuilt on the node that made it before the reply
(its next send already sees it), then announced with `Invalidate("sens:w")` on the bus:
every other node re-reads the list and rebuilds (coalesced: changes arriving during a
build cause one more build). A node that missed the bus message (a Redis outage)
notices within `refresh_s` by reading the list's (count, version) signature.

Screening is synchronous and cheap (two translates and one automaton walk, ~15 µs for
100 characters against 10,000 words): `block` raises `Blocked` (messages) or
`BlockedText` (400 `blocked`: names and announcements), `replace` returns the text with
the word's characters starred, `warn` returns it unchanged. Every hit is recorded:
`record` only appends to a bounded queue; a task writes it in batches (one INSERT per
`flush_s`, or sooner when a batch is full) and once more on stop. A database outage
keeps the rows queued and retries; beyond `queue_max` the oldest are dropped and the
number is logged (and counted in `dropped`), never silently.

The live feed: each hit is also broadcast on the bus (`sens:h:` + the hit as JSON, at
most `live_rate` a second per node; beyond that only the log has them) and every node
keeps the last `live_max` in memory, so the console's hits page, polling any node,
shows new hits within a poll (warn hits highlighted: those are the ones an auditor must
look at; block and replace were already acted on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import orjson

from semot.bus.base import Bus, Invalidate
from semot.domain.records import NewMessage
from semot.domain.sensitive import (
    BLOCKED,
    EMPTY,
    BlockedText,
    Matcher,
    Screened,
    WordEntry,
    clean_category,
    clean_level,
    clean_word,
)
from semot.errors import BadRequest, Blocked, Conflict
from semot.ids import now_ms
from semot.storage.sensitive import (
    MAX_EXCERPT,
    MAX_IP,
    HitQuery,
    SensitiveHit,
    SensitiveStorage,
    SensitiveWord,
    WordQuery,
    new_word_id,
)

log = logging.getLogger(__name__)

SENS_KEY = "sens:"  # bus Invalidate keys: "sens:w" the list changed; "sens:h:" + a live hit as JSON
WORDS_KEY = SENS_KEY + "w"
HIT_KEY = SENS_KEY + "h:"
EXPORT_BATCH = 1000
EXPORT_MAX_ROWS = 1_000_000
IMPORT_MAX_LINES = 100_000
MEDIA_NAME_KINDS = ("image", "voice", "video", "file")

# The HTTP request being served: its client's address (X-Forwarded-For believed from
# trusted proxies only). api/http.py sets it for every request, so a hit of a display
# name, group name or announcement written over HTTP (and of a user import started by
# one: its task inherits the context) carries the writer's IP without every service
# passing it along. An explicit `ip=` (a message: the WebSocket's address) wins.
REQUEST_IP: ContextVar[str] = ContextVar("semot_request_ip", default="")


@dataclass(slots=True)
class ImportReport:
    added: int
    duplicates: int
    errors: list[dict[str, Any]]


def _clean_ip(ip: str | None) -> str:
    return (ip or "")[:MAX_IP].replace("\x00", "")


class SensitiveWords:
    def __init__(
        self,
        store: SensitiveStorage,
        bus: Bus,
        *,
        enabled: bool = True,
        flush_s: float = 1.0,
        batch_max: int = 500,
        queue_max: int = 100_000,
        refresh_s: float = 30.0,
        live_max: int = 200,
        live_rate: int = 50,
        retention_days: int = 180,
        purge_every_s: float = 3600.0,
        purge_batch: int = 1000,
        purge_pause_s: float = 0.1,
    ) -> None:
        self._store = store
        self._bus = bus
        self.enabled = enabled
        self.matcher: Matcher = EMPTY
        self._signature: tuple[int, int] | None = None
        self._flush_s = flush_s
        self._batch_max = batch_max
        self._queue: deque[SensitiveHit] = deque()
        self._queue_max = queue_max
        self.dropped = 0  # hits dropped because the queue was full (logged at the next flush)
        self._dropped_unlogged = 0
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._reloading: asyncio.Task[None] | None = None
        self._again = False
        self._build_lock = asyncio.Lock()
        self.refresh_s = refresh_s
        self._live: deque[dict[str, Any]] = deque(maxlen=live_max)
        self._live_rate = live_rate
        self._live_window = (0.0, 0)  # (second, broadcasts in it)
        self.retention_days = retention_days  # 0: hits are kept until deleted by hand
        self._purge_every_s = purge_every_s
        self._purge_batch = purge_batch
        self._purge_pause_s = purge_pause_s
        self._purger: asyncio.Task[None] | None = None

    # --- life
    async def start(self) -> None:
        await self.reload(force=True)
        self._writer = asyncio.create_task(self._write_loop(), name="semot-sensitive-hits")
        self._refresher = asyncio.create_task(self._refresh_loop(), name="semot-sensitive-refresh")
        if self.retention_days > 0:
            self._purger = asyncio.create_task(self._purge_loop(), name="semot-sensitive-purge")

    async def stop(self) -> None:
        """Stop reloading; write what is queued (one last try)."""
        for task in (self._purger, self._refresher, self._reloading, self._writer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._purger = self._refresher = self._reloading = self._writer = None
        await self.flush()

    # --- the automaton
    async def reload(self, *, force: bool = False) -> bool:
        """Re-read the list and rebuild when it changed (or `force`); True when rebuilt."""
        async with self._build_lock:
            signature = await self._store.sensitive_words_signature()
            if not force and signature == self._signature:
                return False
            words = await self._store.all_sensitive_words()
            entries = [WordEntry(w.id, w.word, clean_level(w.level), w.category) for w in words]
            started = time.perf_counter()
            matcher = await asyncio.to_thread(Matcher, entries)
            self.matcher, self._signature = matcher, signature  # the swap: one assignment
            log.info(
                "sensitive words: %d loaded, automaton built in %.1f ms",
                matcher.size,
                (time.perf_counter() - started) * 1000,
            )
            return True

    def invalidate(self, key: str) -> None:
        """The bus: the list changed on some node (reload, coalesced), or a live hit."""
        if key.startswith(HIT_KEY):
            try:
                self._live.append(orjson.loads(key[len(HIT_KEY) :]))
            except ValueError:
                log.warning("unreadable live sensitive-word hit on the bus")
            return
        if self._reloading is not None and not self._reloading.done():
            self._again = True
            return
        self._reloading = asyncio.create_task(self._reload_soon(), name="semot-sensitive-reload")

    async def _reload_soon(self) -> None:
        while True:
            self._again = False
            try:
                await self.reload()
            except Exception:
                log.exception("reloading the sensitive words failed (retried within %ss)", self.refresh_s)
            if not self._again:
                return

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.reload()
            except Exception:
                log.exception("re-reading the sensitive words failed")

    async def _changed(self) -> None:
        await self.reload()
        self._bus.publish(Invalidate(WORDS_KEY))

    # --- screening (the hot path: no awaiting, no I/O)
    def check(self, text: str) -> Screened:
        return self.matcher.check(text) if self.enabled else Screened(text, (), None)

    def screen_text(
        self, text: str, *, user_id: str, target: str, conv: str | None = None, ip: str | None = None,
        error: type[Blocked] = BlockedText,
    ) -> str:
        """`text` as it may be stored (starred for `replace`); raises `error` for `block`.
        Every hit is queued for the log."""
        screened = self.check(text)
        if not screened.hits:
            return text
        self.record(screened, text, user_id=user_id, target=target, conv=conv, ip=ip)
        if screened.action == BLOCKED:
            # which word is not said: the sender would learn how to spell around it
            raise error(f"{target.replace('_', ' ')}: contains a blocked word")
        return screened.text

    async def screen_message(self, item: NewMessage) -> NewMessage:
        """services/send_hooks.ContentScreen: the text of a message (text bodies; a
        location's title and address; the name of a file, image, voice or video)."""
        if not self.enabled or self.matcher.size == 0:
            return item
        fields: tuple[str, ...]
        if item.kind == "text":
            fields = ("text",)
        elif item.kind == "location":
            fields = ("title", "address")
        elif item.kind in MEDIA_NAME_KINDS:
            fields = ("name",)
        else:
            return item
        body = item.body
        changed: dict[str, str] = {}
        blocked = False
        for name in fields:
            value = body.get(name)
            if not isinstance(value, str) or not value:
                continue
            try:
                out = self.screen_text(value, user_id=item.sender, target="message", conv=item.conv, ip=item.ip,
                                       error=Blocked)
            except Blocked:
                blocked = True  # the other fields are still checked: every hit is recorded
                continue
            if out != value:
                changed[name] = out
        if blocked:
            raise Blocked("the message contains a blocked word: it was not sent")
        if not changed:
            return item
        return replace(item, body={**body, **changed})

    # --- the hit log
    def record(
        self, screened: Screened, text: str, *, user_id: str, target: str, conv: str | None, ip: str | None
    ) -> None:
        try:
            now = now_ms()
            excerpt = text[:MAX_EXCERPT].replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
            action = screened.action or ""
            where = _clean_ip(ip or REQUEST_IP.get())
            seen: set[str] = set()
            for h in screened.hits:
                if h.word_id in seen:
                    continue  # one row per word per text
                seen.add(h.word_id)
                hit = SensitiveHit(
                    ts=now, user_id=user_id, target=target, conv=conv, ip=where, word_id=h.word_id,
                    word=h.word, level=h.level, category=h.category, action=action, excerpt=excerpt,
                )
                if len(self._queue) >= self._queue_max:
                    self._queue.popleft()
                    self.dropped += 1
                    self._dropped_unlogged += 1
                self._queue.append(hit)
                self._broadcast(hit)
            if len(self._queue) >= self._batch_max:
                self._wakeup.set()
        except Exception:  # the send itself never fails over its log
            log.exception("could not queue a sensitive-word hit")

    def _broadcast(self, hit: SensitiveHit) -> None:
        second = time.monotonic() // 1
        start, n = self._live_window
        if start != second:
            start, n = second, 0
        if n >= self._live_rate:
            return
        self._live_window = (start, n + 1)
        wire = {**hit.to_wire(), "id": None, "uid": secrets.token_hex(8)}
        self._bus.publish(Invalidate(HIT_KEY + orjson.dumps(wire).decode()))

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def _write_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._flush_s)
            except TimeoutError:
                pass
            self._wakeup.clear()
            await self.flush()

    async def flush(self) -> int:
        """Write everything queued, a batch per transaction; on failure the batch goes back
        to the front of the queue for the next try. Returns how many were written."""
        if self._dropped_unlogged:
            log.warning("sensitive-word hit queue full: %d oldest hits dropped", self._dropped_unlogged)
            self._dropped_unlogged = 0
        written = 0
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self._batch_max, len(self._queue)))]
            try:
                await self._store.add_sensitive_hits(batch)
            except Exception:
                self._queue.extendleft(reversed(batch))
                log.warning("writing %d sensitive-word hits failed (retried)", len(batch), exc_info=True)
                break
            written += len(batch)
        return written

    # --- retention: hits older than `retention_days` go, in small batches
    async def _purge_loop(self) -> None:
        await asyncio.sleep(min(60.0, self._purge_every_s))  # not while the node is starting
        while True:
            try:
                await self.purge()
            except Exception:
                log.exception("purging old sensitive-word hits failed (retried in %ss)", self._purge_every_s)
            await asyncio.sleep(self._purge_every_s)

    async def purge(self, *, now: int | None = None) -> int:
        """Delete the hits older than `retention_days`: batches of `purge_batch` rows, each
        its own short transaction, a pause between them (SQLite's one writer is never held
        for long); returns how many went. Every node may run it: deletes are idempotent."""
        if self.retention_days <= 0:
            return 0
        cutoff = (now_ms() if now is None else now) - self.retention_days * 86_400_000
        gone = 0
        while True:
            n = await self._store.purge_sensitive_hits(cutoff, limit=self._purge_batch)
            gone += n
            if n < self._purge_batch:
                break
            await asyncio.sleep(self._purge_pause_s)
        if gone:
            log.info("purged %d sensitive-word hits older than %d days", gone, self.retention_days)
        return gone

    def live(self, after: int | None = None) -> list[dict[str, Any]]:
        """The recent hits of every node (newest last), those from `after` (ms) on."""
        return [h for h in self._live if after is None or h["ts"] >= after]

    # --- administration
    async def words(self, query: WordQuery, *, offset: int, limit: int) -> tuple[list[SensitiveWord], int]:
        return await self._store.sensitive_words(query, offset=offset, limit=limit)

    async def categories(self) -> list[str]:
        return await self._store.sensitive_categories()

    def _new(self, word: str, level: str, category: str | None, admin: str | None, now: int) -> SensitiveWord:
        text, key = clean_word(word)
        return SensitiveWord(new_word_id(), text, key, clean_level(level), clean_category(category), admin, now)

    async def add(self, word: str, level: str, category: str | None, *, admin: str | None) -> SensitiveWord:
        new = self._new(word, level, category, admin, now_ms())
        added = await self._store.add_sensitive_words([new])
        if not added:
            raise Conflict(f"word: {word.strip()!r} is in the list already (as written or folded the same way)")
        await self._changed()
        return added[0]

    async def delete(self, word_id: str) -> SensitiveWord | None:
        gone = await self._store.delete_sensitive_word(word_id)
        if gone is not None:
            await self._changed()
        return gone

    async def import_lines(
        self, lines: Iterable[str], *, level: str, category: str | None, admin: str | None
    ) -> ImportReport:
        """One word per line, or `word,level,category` (level and category optional; the
        defaults are `level` and `category`). Blank lines and lines starting with `#` are
        skipped; a first line `word,level,category` is taken as a header."""
        default_level = clean_level(level)
        default_category = clean_category(category)
        now = now_ms()
        errors: list[dict[str, Any]] = []
        fresh: dict[str, SensitiveWord] = {}
        duplicates = 0
        for number, raw in enumerate(lines, start=1):
            if number > IMPORT_MAX_LINES:
                raise BadRequest(f"file: at most {IMPORT_MAX_LINES} lines")
            line = raw.strip().lstrip("\ufeff")
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split(",")] if "," in line else [line]
            if number == 1 and [p.lower() for p in parts[:2]] == ["word", "level"]:
                continue
            if len(parts) > 3:
                errors.append({"line": number, "message": "at most 3 columns: word,level,category"})
                continue
            try:
                new = self._new(
                    parts[0],
                    parts[1] if len(parts) > 1 and parts[1] else default_level,
                    parts[2] if len(parts) > 2 and parts[2] else default_category,
                    admin,
                    now,
                )
            except BadRequest as exc:
                errors.append({"line": number, "message": exc.message})
                continue
            if new.key in fresh:
                duplicates += 1
                continue
            fresh[new.key] = new
            if len(errors) > 1000:
                break
        added = await self._store.add_sensitive_words(list(fresh.values())) if fresh else []
        duplicates += len(fresh) - len(added)
        if added:
            await self._changed()
        return ImportReport(len(added), duplicates, errors[:1000])

    async def hits(self, query: HitQuery, *, offset: int, limit: int) -> tuple[list[SensitiveHit], int]:
        return await self._store.sensitive_hits(query, offset=offset, limit=limit)

    async def export(self, query: HitQuery, *, max_rows: int = EXPORT_MAX_ROWS) -> AsyncIterator[list[SensitiveHit]]:
        before: tuple[int, int] | None = None
        sent = 0
        while sent < max_rows:
            batch = await self._store.sensitive_hits_before(
                query, before=before, limit=min(EXPORT_BATCH, max_rows - sent)
            )
            if not batch:
                return
            yield batch
            sent += len(batch)
            before = (batch[-1].ts, batch[-1].id)
