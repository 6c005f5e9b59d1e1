"""Presence: online / offline / busy / away with a status text, per user.

Pushed only to those who may see it (friends, and colleagues or others who subscribed
to it and are allowed to), never broadcast: presence fan-out is what overloads large
Synapse and Rocket.Chat installs. Changes are coalesced: a flush each `coalesce_s`
settles each changed user's status once, however often their devices came and went.
Who is online, on which node, lives in a PresenceRegistry (memory on one node, Redis
for several), which also makes sure exactly one node pushes each change.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from semot.bus.presence import PresenceRegistry, Seen, Settled
from semot.domain import presence as rules
from semot.protocol.events import PresenceEvent, PresenceStatus
from semot.services.contacts import ContactsService
from semot.services.events import EventPublisher
from semot.storage.base import Storage

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 500


def _status(seen: Seen | None) -> tuple[str, str]:
    if seen is None:
        return "offline", ""
    manual, text = seen.manual or ("online", "")
    status = rules.aggregate(seen.devices, manual)
    return status, (text if status != "offline" else "")


class PresenceService:
    def __init__(
        self,
        storage: Storage,
        contacts: ContactsService,
        events: EventPublisher,
        registry: PresenceRegistry,
        *,
        coalesce_s: float = 1.0,
    ) -> None:
        self._store = storage.contacts
        self._contacts = contacts
        self._events = events
        self._registry = registry
        self._coalesce_s = coalesce_s
        self._dirty: set[str] = set()
        self._chosen: set[str] = set()  # users who changed their status by hand since the last flush
        self._unsent: dict[str, tuple[Settled, bool]] = {}  # settled, not pushed yet (a failure)
        self._pending: set[asyncio.Task[None]] = set()  # session removals in flight
        self._task: asyncio.Task[None] | None = None
        self._running = False
        # stored statuses wanted by connects, read together (`_stored_settings`)
        self._seeds: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._seed_reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._registry.start(self._mark_dirty)
        self._running = True
        self._task = asyncio.create_task(self._flush_loop(), name="semot-presence")

    def _mark_dirty(self, users: set[str]) -> None:
        self._dirty |= users  # not a bound `update`: flush swaps the set out

    async def stop(self) -> None:
        """After the hub has closed every connection: their removals are in flight."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        self._running = False
        await self._registry.stop()

    # --- devices
    async def connected(self, user_id: str, session_id: str, device_id: str, *, max_devices: int = 0) -> bool:
        """Record a new session; False if the user already has `max_devices` other devices
        online (on any node). If the presence store cannot be reached, the user is let in
        (unchecked): chat must not depend on presence; the session is written later."""
        try:
            if not await self._registry.session_up(user_id, session_id, device_id, max_devices=max_devices):
                return False
            seen = (await self._registry.lookup([user_id]))[user_id]
            if seen.manual is None:
                stored = await self._stored_settings(user_id)
                await self._registry.set_manual(
                    user_id, stored.get("presence", "online"), stored.get("status_text", ""), only_if_unset=True
                )
        except Exception:
            log.warning("presence store unreachable; %s connects unchecked", user_id, exc_info=True)
        self._dirty.add(user_id)
        return True

    async def _stored_settings(self, user_id: str) -> dict[str, Any]:
        """The user's stored settings (their chosen status). One read at a time, for every
        connect waiting: a wave of connects (a restart, a network blip) costs a query per
        batch of users, not per user, and a lone connect waits for nothing extra."""
        fut = self._seeds.get(user_id)
        if fut is None:
            fut = self._seeds[user_id] = asyncio.get_running_loop().create_future()
            # a connect cancelled meanwhile never reads a failed read: no "never retrieved" noise
            fut.add_done_callback(_retrieve)
            if self._seed_reader is None:
                self._seed_reader = asyncio.get_running_loop().create_task(self._read_seeds())
                self._pending.add(self._seed_reader)
                self._seed_reader.add_done_callback(self._pending.discard)
        return await asyncio.shield(fut)  # a cancelled connect must not cancel the others' read

    async def _read_seeds(self) -> None:
        try:
            while self._seeds:
                wanted, self._seeds = self._seeds, {}
                try:
                    got = await self._store.user_settings_many(list(wanted))
                except BaseException as exc:  # the connects see it (they let the user in)
                    if not isinstance(exc, Exception):  # cancelled: nobody reads for the later ones
                        wanted |= self._seeds
                        self._seeds = {}
                    for fut in wanted.values():
                        if not fut.done():
                            fut.set_exception(exc if isinstance(exc, Exception) else ConnectionError("stopping"))
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for user_id, fut in wanted.items():
                    if not fut.done():
                        fut.set_result(got.get(user_id, {}))
        finally:  # no await between the loop's last check and this
            self._seed_reader = None

    def disconnected(self, user_id: str, session_id: str) -> None:
        """Called from a connection's cleanup (which must not wait): the registry writes
        run as their own task. Sessions are unique, so it cannot overtake its own `up`."""
        if not self._running:
            return

        async def down() -> None:
            for forget in (self._registry.session_down, self._registry.unsubscribe):
                try:
                    await forget(user_id, session_id)
                except Exception:
                    log.warning("presence: could not record %s going offline (retried later)", user_id, exc_info=True)
            self._dirty.add(user_id)

        task = asyncio.get_running_loop().create_task(down())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def status(self, user_id: str) -> tuple[str, str]:
        return _status((await self._registry.lookup([user_id])).get(user_id))

    async def set_manual(self, user_id: str, status: str, text: str | None) -> dict[str, Any]:
        rules.check_manual(status, text)
        stored = await self._store.user_settings(user_id)
        new_text = stored.get("status_text", "") if text is None else text
        # the registry first: it is what everyone sees; storage seeds it after a restart
        await self._registry.set_manual(user_id, status, new_text)
        await self._store.set_user_settings(user_id, {**stored, "presence": status, "status_text": new_text})
        self._dirty.add(user_id)
        self._chosen.add(user_id)
        return await self._wire(user_id)

    async def _wire(self, user_id: str) -> dict[str, Any]:
        status, text = await self.status(user_id)
        return {"user": user_id, "status": status, "text": text}

    # --- who may see whom
    async def visible(self, viewer: str, target: str) -> bool:
        if viewer == target:
            return True
        c = self._contacts
        if await c.has_blocked(viewer, target) or await c.has_blocked(target, viewer):
            return False
        if await c.are_friends(viewer, target):
            return True
        return c.colleague_check is not None and await c.colleague_check(viewer, target)

    async def query(self, viewer: str, users: list[str]) -> list[dict[str, Any]]:
        visible = [u for u in dict.fromkeys(users) if await self.visible(viewer, u)]
        return self._wires(visible, await self._registry.lookup(visible))

    @staticmethod
    def _wires(users: list[str], seen: dict[str, Seen]) -> list[dict[str, Any]]:
        out = []
        for u in users:
            status, text = _status(seen.get(u))
            out.append({"user": u, "status": status, "text": text})
        return out

    async def subscribe(self, viewer: str, session_id: str, users: list[str]) -> list[dict[str, Any]]:
        """Follow these users' presence from this session (replacing its previous list);
        returns their status now."""
        visible = [u for u in dict.fromkeys(users[:MAX_SUBSCRIPTIONS]) if await self.visible(viewer, u)]
        await self._registry.subscribe(viewer, session_id, set(visible))
        return self._wires(visible, await self._registry.lookup(visible))

    # --- pushing
    async def _recipients(self, user_id: str, *, with_self: bool) -> set[str]:
        out = {user_id} if with_self else set()  # a status chosen on one device shows on the others
        friends = await self._contacts.friend_set(user_id)
        out.update(friends)
        blocked_by_me = await self._contacts.blocked_set(user_id)
        out = {
            u
            for u in out
            if u == user_id or (u not in blocked_by_me and not await self._contacts.has_blocked(u, user_id))
        }
        # followers were allowed when they subscribed; ask again (unfriended, left the org)
        for viewer in await self._registry.subscribers(user_id):
            if viewer not in out and await self.visible(viewer, user_id):
                out.add(viewer)
        return out

    async def _warm_contacts(self, users: list[str]) -> None:
        """Read what `_recipients` will ask of the contacts cache for all these users at
        once (ContactsService.warm). A failure only costs speed: each push then asks on
        its own, and is retried as before."""
        try:
            await self._contacts.warm(users)
        except Exception:
            log.warning("presence: could not read %d users' contacts at once", len(users), exc_info=True)

    async def flush(self) -> int:
        """Settle the changed users, then push what changed. A push that fails (storage
        or Redis trouble) is kept and tried again at the next flush, never lost: once
        settled, no other flush would push it."""
        dirty, self._dirty = self._dirty, set()
        chosen, self._chosen = self._chosen, set()
        todo, self._unsent = self._unsent, {}
        if dirty:
            try:
                settled = await self._registry.settle(dirty)
            except Exception:
                self._dirty |= dirty
                self._chosen |= chosen
                log.warning("presence: could not settle %d users (retried)", len(dirty), exc_info=True)
                settled = {}
            for user_id, now in settled.items():
                todo[user_id] = (now, user_id in chosen)  # newer than an unsent one
        if todo:
            await self._warm_contacts(list(todo))
        pushed = 0
        for user_id, (now, with_self) in todo.items():
            try:
                recipients = await self._recipients(user_id, with_self=with_self)
            except Exception:
                self._unsent.setdefault(user_id, (now, with_self))
                log.warning("presence: could not push %s's status (retried)", user_id, exc_info=True)
                continue
            status = cast(PresenceStatus, now.status)  # checked by the model at runtime
            self._events.publish(recipients, PresenceEvent(user=user_id, status=status, text=now.text, v=now.version))
            pushed += 1
        return pushed

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._coalesce_s)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("presence flush failed")


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()

