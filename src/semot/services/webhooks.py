"""Webhooks (PROTOCOL.md §4, docs/integration.md): registration, the outbox, delivery.

Events reach the shared, stored event outbox (storage/outbox.py) two ways. Those the
storage writes in the transaction of their change (`WebhookStorage.transactional`:
message.sent, message.recalled, group.*, friend.added on SQL) are put there by the
stores themselves, only while some hook wants them (`WebhookStorage.want`). The others
(logins, presence, reads, files) come from the one publisher (services/events.py): this
service subscribes to it only while a hook wants one of them; the subscriber only
queues (it runs on the publishing path) and a writer task puts the queue in the outbox.
A fan-out task turns outbox rows into deliveries (one per hook, a stable id) in one
transaction, one node at a time; a dispatcher task claims due deliveries (a conditional
update: one node posts a delivery, whatever the number of nodes) and posts them,
signed, with the hook's timeout, an answer size limit and no redirects followed
(services/webhook_http.py).

A delivery that fails (no 2xx) is retried with the same `id` and body: the first retry
after `webhook_retry_s`, each further one `webhook_retry_factor` times later (at most
`webhook_retry_max_s`), `webhook_max_tries` tries in all, then it is dead (kept, shown
on the console, replayable). Deliveries of one hook with the same key (the
conversation; the user for presence, logins and files) are posted in order: the next
waits until the one before is delivered or dead.

Each event is seen by the node that published it, once (EventPublisher), so each event
is put in the outbox once in a cluster.

Durability: a transactional event is in the outbox when its change commits, so a crash
right after the commit (kill -9) loses nothing: the next start (or another node) fans
it out. The other events are written right after they happen (a batch, typically
within a millisecond); a crash in that window loses them. Once in the outbox, an event
is delivered at least once to each hook. docs/integration.md lists this per event.

Nodes tell each other over the bus (`Invalidate` keys `wh:hooks`, `wh:due`): hooks
changed (reload now), deliveries are due (claim now); a slow poll is the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import orjson
from prometheus_client import Counter, Histogram

from semot.bus.base import Bus, Invalidate
from semot.domain.webhooks import (
    EVENTS,
    MAX_ERROR,
    MAX_HOOKS,
    Delivery,
    Tried,
    Webhook,
)
from semot.errors import BadRequest, NotFound
from semot.ids import now_ms
from semot.metrics import Metrics
from semot.protocol import events as ev
from semot.protocol.internal_events import UserLoggedIn, UserLoggedOut
from semot.services.events import EventPublisher, Published
from semot.services.login_log import LoginAttempt
from semot.services.webhook_http import HookFailed, HookPoster
from semot.storage.outbox import OutboxItem, new_event_id
from semot.storage.webhooks import WebhookStorage

log = logging.getLogger(__name__)

LEASE_MS = 60_000  # a claim outlives the longest try (MAX_TIMEOUT_MS) twice over
RUN = 50  # deliveries of one (hook, key) claimed at once, posted one after the other
# the safety net: hook changes travel on the bus (`wh:hooks`), but a notice can be lost
# (Redis down a moment) and until its reload a node writes no outbox rows for a new hook
HOOKS_REFRESH_S = 2.0
FAN_OUT = 500  # outbox rows turned into deliveries per transaction
WEBHOOK_KEY = "wh:"  # bus Invalidate keys: "wh:hooks" (reload them), "wh:due" (claim now)
HOOKS_KEY = WEBHOOK_KEY + "hooks"
DUE_KEY = WEBHOOK_KEY + "due"
DUE_EVERY_S = 0.25  # a node tells the others that deliveries are due at most this often


class WebhookMetrics:
    def __init__(self, metrics: Metrics) -> None:
        r = metrics.registry
        self.tries = Counter("semot_webhook_tries", "Webhook delivery tries", ["outcome"], registry=r)
        self.dead = Counter("semot_webhook_dead", "Webhook deliveries dead-lettered", registry=r)
        self.try_seconds = Histogram(
            "semot_webhook_try_seconds", "Time a webhook delivery try took (answered or failed)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=r,
        )
        self.fanned_out = Counter("semot_webhook_events", "Events taken from the outbox and fanned out to deliveries",
                                  registry=r)
        self.before_send = Histogram(
            "semot_webhook_before_send_seconds", "Time a message.before_send hook took (each hook called)",
            buckets=(0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=r,
        )
        self.before_send_outcomes = Counter(
            "semot_webhook_before_send", "message.before_send results",
            ["outcome"],  # allow, block, replace, failed_allow, failed_block
            registry=r,
        )


def _user_key(user_id: str) -> str:
    return f"user:{user_id}"


def event_items(published: Published) -> list[tuple[str, str, dict[str, Any]]]:
    """What a published event means to webhooks: (event name, ordering key, data)."""
    e = published.event
    if isinstance(e, ev.MessageEvent):
        if e.kind == "system":  # group notices: the group.* events say the same
            return []
        return [("message.sent", e.conv, e.model_dump(mode="json", by_alias=True, exclude={"t"}))]
    if isinstance(e, ev.RecallEvent):
        data: dict[str, Any] = {"conv": e.conv, "seq": e.seq, "by": e.by}
        if e.role is not None:
            data["role"] = e.role
        return [("message.recalled", e.conv, data)]
    if isinstance(e, ev.ReadEvent):
        return [("message.read", e.conv, {"conv": e.conv, "seq": e.seq, "user_id": e.user})]
    if isinstance(e, ev.PresenceEvent):
        if e.status in ("online", "offline"):
            return [(f"user.{e.status}", _user_key(e.user), {"user_id": e.user, "status": e.status})]
        return []
    if isinstance(e, ev.FileEvent):
        owner = next(iter(published.users), None)
        c = e.change
        return [("file.uploaded", _user_key(owner or ""), {
            "user_id": owner, "file_id": c.file_id, "name": c.name, "size": c.size, "mime": c.mime,
            "sha256": c.sha256,
        })]
    if isinstance(e, ev.GroupEvent):
        return _group_items(e)
    if isinstance(e, ev.ContactsEvent) and isinstance(e.change, ev.FriendAdded):
        users = list(published.users)
        friend = e.change.friend.user_id
        if len(users) != 1 or users[0] > friend:  # pushed to each of the two: one event per friendship
            return []
        return [("friend.added", f"friends:{users[0]}:{friend}", {"users": [users[0], friend]})]
    if isinstance(e, UserLoggedIn):
        return [("user.login", _user_key(e.user_id), e.model_dump(exclude={"kind"}))]
    if isinstance(e, UserLoggedOut):
        return [("user.logout", _user_key(e.user_id), e.model_dump(exclude={"kind"}))]
    return []


def _group_items(e: ev.GroupEvent) -> list[tuple[str, str, dict[str, Any]]]:
    c = e.change
    base = {"group_id": e.group_id, "conv": e.conv, "by": c.by}
    if isinstance(c, ev.GroupCreated):
        return [("group.created", e.conv, {**base, "name": c.name})]
    if isinstance(c, ev.MemberJoined):
        return [("group.member_joined", e.conv, {**base, "user_id": c.user, "inviter": c.inviter})]
    if isinstance(c, ev.MembersAdded):
        return [("group.member_joined", e.conv, {**base, "user_id": u, "inviter": c.by}) for u in c.users]
    if isinstance(c, ev.MemberLeft):
        return [("group.member_left", e.conv, {**base, "user_id": c.user, "reason": "left"})]
    if isinstance(c, ev.MemberRemoved):
        return [("group.member_left", e.conv, {**base, "user_id": c.user, "reason": "removed"})]
    if isinstance(c, ev.GroupDismissed):
        return [("group.dismissed", e.conv, base)]
    return []


class WebhookService:
    def __init__(
        self,
        store: WebhookStorage,
        events: EventPublisher,
        metrics: Metrics,
        *,
        node_id: str,
        retry_s: float = 5.0,
        retry_factor: float = 4.0,
        retry_max_s: float = 3600.0,
        max_tries: int = 8,
        poll_s: float = 1.0,
        concurrency: int = 64,
        max_answer_bytes: int = 65536,
        retention_days: int = 7,
        bus: Bus | None = None,
        hold_outbox: bool = False,
    ) -> None:
        self._store = store
        self._bus = bus
        self._hold_outbox = hold_outbox  # test-only: events stay in the outbox (crash tests)
        self._events = events
        self.metrics = WebhookMetrics(metrics)
        self._node = node_id
        self._retry_s, self._retry_factor, self._retry_max_s = retry_s, retry_factor, retry_max_s
        self.max_tries = max_tries
        self._poll_s = poll_s
        self._concurrency = concurrency
        self._retention_ms = retention_days * 86_400_000
        self.poster = HookPoster(max_answer_bytes=max_answer_bytes, max_connections=max(concurrency, 16))
        self._hooks: list[Webhook] = []
        self._by_event: dict[str, list[Webhook]] = {}
        self._queue: list[OutboxItem] = []
        self._queued = asyncio.Event()
        self._fan = asyncio.Event()  # events in the outbox (a local commit, a put)
        self._wake = asyncio.Event()  # deliveries due
        self._done: list[Tried] = []  # tries not recorded yet
        self._finished = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._inflight_reloads: set[asyncio.Task[None]] = set()
        self._reads = self._applied = 0  # hook reads begun / the latest begun that was applied
        self._told_due = 0.0
        self._started = False

    # --- lifecycle
    async def start(self) -> None:
        self._started = True
        await self.reload()
        self._tasks = [
            asyncio.create_task(self._write_loop(), name="semot-webhook-outbox"),
            asyncio.create_task(self._fan_out_loop(), name="semot-webhook-fan-out"),
            asyncio.create_task(self._dispatch_loop(), name="semot-webhook-dispatch"),
            asyncio.create_task(self._finish_loop(), name="semot-webhook-finish"),
            asyncio.create_task(self._refresh_loop(), name="semot-webhook-hooks"),
        ]

    async def stop(self) -> None:
        """Write what is queued to the outbox, let tries in flight end (a few seconds), close."""
        self._started = False
        self._listen(False)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        try:
            await self._flush()
        except Exception:
            log.exception("webhooks: could not write %d queued deliveries at shutdown", len(self._queue))
        if self._inflight:
            _, pending = await asyncio.wait(self._inflight, timeout=5)
            for task in pending:
                task.cancel()  # its claim lapses after the lease: another node (or a restart) posts it
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            await self._record()
        except Exception:
            log.exception("webhooks: could not record %d tries at shutdown (posted again)", len(self._done))
        await self.poster.close()

    # --- hooks
    def hooks_for(self, event: str) -> list[Webhook]:
        return self._by_event.get(event, [])

    def _set_hooks(self, hooks: list[Webhook]) -> None:
        by_event: dict[str, list[Webhook]] = {}
        for hook in hooks:
            for name in hook.events:
                by_event.setdefault(name, []).append(hook)
        self._hooks, self._by_event = hooks, by_event
        wanted = frozenset(name for name in by_event if name in EVENTS)
        self._store.want(wanted if self._started else frozenset(), self._fan.set)
        self._listen(self._started and bool(wanted - self._store.transactional))

    def _listen(self, on: bool) -> None:
        """Subscribe to the publisher only while some hook wants an event the storage
        does not write itself: otherwise a message push is never turned into a model for
        us (the hot path stays as it was)."""
        if on and self._unsubscribe is None:
            self._unsubscribe = self._events.subscribe(self._on_event)
        elif not on and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def reload(self) -> None:
        """Read the hooks and apply them, unless a read begun later was applied first:
        reloads run at once (bus notices, the refresh, register/delete) and an older list
        applied last would hide a hook added meanwhile."""
        self._reads += 1
        read = self._reads
        hooks = await self._store.hooks()
        if read > self._applied:
            self._applied = read
            self._set_hooks(hooks)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(HOOKS_REFRESH_S)
            try:
                await self.reload()
            except Exception:
                log.warning("webhooks: could not reload the hooks", exc_info=True)

    async def register(
        self, url: str, events: list[str], *, timeout_ms: int, on_timeout: str, by: str | None
    ) -> Webhook:
        await self.reload()
        if len(self._hooks) >= MAX_HOOKS:
            raise BadRequest(f"at most {MAX_HOOKS} webhooks")
        hook = Webhook(
            webhook_id="wh_" + secrets.token_hex(8), url=url, events=tuple(dict.fromkeys(events)),
            secret=secrets.token_urlsafe(32), timeout_ms=timeout_ms, on_timeout=on_timeout, created_at=now_ms(),
            created_by=by,
        )
        await self._store.add_hook(hook)
        await self.reload()
        self._tell(HOOKS_KEY)
        return hook

    async def hooks(self) -> list[Webhook]:
        return await self._store.hooks()

    async def delete(self, webhook_id: str) -> Webhook:
        hook = await self._store.delete_hook(webhook_id)
        if hook is None:
            raise NotFound(f"no webhook {webhook_id!r}")
        await self.reload()
        self._tell(HOOKS_KEY)
        return hook

    # --- deliveries (the console)
    async def deliveries(
        self, *, webhook_id: str | None, status: str | None, event: str | None, offset: int, limit: int
    ) -> tuple[list[Delivery], int]:
        return await self._store.deliveries(
            webhook_id=webhook_id, status=status, event=event, offset=offset, limit=limit
        )

    async def replay(self, delivery_id: str) -> Delivery:
        found = await self._store.replay(delivery_id, now_ms())
        if found is None:
            raise NotFound(f"no delivery {delivery_id!r}")
        self._tell(DUE_KEY)
        return found

    # --- the bus
    def _tell(self, key: str) -> None:
        """Tell every node (this one too: the bus hands it back at once)."""
        if self._bus is not None:
            self._bus.publish(Invalidate(key))
        else:
            self.invalidated(key)

    def invalidated(self, key: str) -> None:
        """A bus notice (NodeReceiver): hooks changed somewhere, or deliveries are due."""
        if key == HOOKS_KEY:
            if self._started:
                task = asyncio.create_task(self._reload_quietly())
                self._inflight_reloads.add(task)
                task.add_done_callback(self._inflight_reloads.discard)
        elif key == DUE_KEY:
            self._wake.set()

    async def _reload_quietly(self) -> None:
        try:
            await self.reload()
        except Exception:
            log.warning("webhooks: could not reload the hooks", exc_info=True)

    # --- the outbox
    def _on_event(self, published: Published) -> None:
        if not self._by_event:
            return
        items = event_items(published)
        if not items:
            return
        now = now_ms()
        own = self._store.transactional  # written by the storage with the change: not again here
        for name, key, data in items:
            if name in self._by_event and name not in own:
                self._queue.append(OutboxItem(new_event_id(), name, key[:160], orjson.dumps(data).decode(), None, now))
        if self._queue:
            self._queued.set()

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:500], self._queue[500:]
            try:
                await self._store.put_events(batch)
            except BaseException:
                self._queue[:0] = batch  # kept, written at the next try
                raise
            self._fan.set()

    async def _write_loop(self) -> None:
        while True:
            await self._queued.wait()
            self._queued.clear()
            try:
                await self._flush()
            except Exception:
                log.warning("webhooks: could not write %d deliveries to the outbox (retried)", len(self._queue),
                            exc_info=True)
                await asyncio.sleep(1)
                self._queued.set()

    # --- fan-out: outbox rows -> deliveries
    async def _fan_out_loop(self) -> None:
        """Fan out when a commit here wrote events (or put them), and every `poll_s`
        (events another node wrote and could not fan out: it died, or is busy)."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._fan.wait()
            self._fan.clear()
            if self._hold_outbox:
                continue
            try:
                await self.fan_out()
            except Exception:
                log.warning("webhooks: fanning out the outbox failed (retried)", exc_info=True)
                await asyncio.sleep(1)

    async def fan_out(self) -> int:
        """Turn every outbox row into deliveries; how many rows were taken."""
        total = 0
        while True:
            taken = await self._store.fan_out(FAN_OUT)
            total += taken
            if taken < FAN_OUT:
                break
        if total:
            self.metrics.fanned_out.inc(total)
            self._wake.set()  # this node posts at once; the others join in when told, at most
            now = time.monotonic()  # every DUE_EVERY_S (not a claim on every node per batch)
            if self._bus is not None and now - self._told_due >= DUE_EVERY_S:
                self._told_due = now
                self._bus.publish(Invalidate(DUE_KEY))
        return total

    # --- posting
    def _delay_s(self, tries: int) -> float:
        return float(min(self._retry_s * self._retry_factor ** (tries - 1), self._retry_max_s))

    async def _dispatch_loop(self) -> None:
        last_purge = 0
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                free = self._concurrency - len(self._inflight)
                if free > 0 and self._hooks:
                    now = now_ms()
                    for run in await self._store.claim(self._node, now, LEASE_MS, free, RUN):
                        task = asyncio.create_task(self._run(run))
                        self._inflight.add(task)
                        task.add_done_callback(self._inflight.discard)
                if now_ms() - last_purge > 3_600_000:
                    last_purge = now_ms()
                    await self._store.purge(last_purge - self._retention_ms, 10_000)
            except Exception:
                log.warning("webhooks: claiming deliveries failed", exc_info=True)

    async def _run(self, run: list[Delivery]) -> None:
        """Post a run of one (hook, key) in order; after a failure, give the rest back
        (they wait for the failed one's retry). Results are recorded in batches
        (`_finish_loop`): one transaction for many tries."""
        for i, d in enumerate(run):
            tried = await self._try(d)
            self._done.append(tried)
            self._finished.set()
            if tried.status != "delivered":
                rest = [r.delivery_id for r in run[i + 1 :]]
                if rest:
                    try:
                        await self._store.release(rest, self._node)
                    except Exception:
                        log.warning("webhooks: releasing claims failed (they lapse after the lease)", exc_info=True)
                break

    async def _record(self) -> None:
        while self._done:
            batch, self._done = self._done[:500], self._done[500:]
            try:
                await self._store.finish(self._node, batch)
            except BaseException:
                self._done[:0] = batch
                raise
        self._wake.set()  # the next deliveries of the same keys may go now

    async def _finish_loop(self) -> None:
        while True:
            await self._finished.wait()
            self._finished.clear()
            try:
                await self._record()
            except Exception:
                log.warning("webhooks: recording %d tries failed (retried)", len(self._done), exc_info=True)
                await asyncio.sleep(1)
                self._finished.set()

    async def _try(self, d: Delivery) -> Tried:
        hook = next((h for h in self._hooks if h.webhook_id == d.webhook_id), None)
        tries = d.tries + 1
        status: int | None = None
        error: str | None = None
        if hook is None:
            error = "the webhook was removed"
        else:
            started = time.perf_counter()
            try:
                status, _ = await self.poster.post(d.url, d.body.encode(), hook.secret, hook.timeout_ms / 1000)
            except HookFailed as exc:
                status, error = exc.status, str(exc)[:MAX_ERROR]
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
            self.metrics.try_seconds.observe(time.perf_counter() - started)
        now = now_ms()
        if error is None:
            state, next_at = "delivered", now
            self.metrics.tries.labels("ok").inc()
        elif tries >= self.max_tries or hook is None:
            state, next_at = "dead", now
            self.metrics.tries.labels("failed").inc()
            self.metrics.dead.inc()
        else:
            state, next_at = "pending", now + int(self._delay_s(tries) * 1000)
            self.metrics.tries.labels("failed").inc()
        if error is not None:
            log.info("webhook delivery %s (%s) to %s: try %d failed: %s; %s", d.delivery_id, d.event, d.url, tries,
                     error, "dead" if state == "dead" else "retried")
        return Tried(d.delivery_id, state, tries, next_at, error, status, now)

    # --- logins and logouts (internal events: pushed to no device)
    def watch_logins(
        self, record: Callable[[LoginAttempt], None] | None
    ) -> Callable[[LoginAttempt], None]:
        """The account service's login hook: `record` (the login log) as before, and a
        `user.login` announced for each successful attempt."""

        def seen(attempt: LoginAttempt) -> None:
            if record is not None:
                record(attempt)
            if attempt.ok and attempt.user_id:
                self._events.announce(UserLoggedIn(
                    user_id=attempt.user_id, ip=attempt.ip, device=attempt.device, platform=attempt.platform,
                    method=attempt.method,
                ))

        return seen

    def logged_out(self, user_id: str, login_id: str) -> None:
        self._events.announce(UserLoggedOut(user_id=user_id, login_id=login_id))
