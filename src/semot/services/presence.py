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
from typing import Any

from semot.bus.presence import PresenceRegistry, Seen
from semot.domain import presence as rules
from semot.protocol.replies import event
from semot.services.contacts import ContactsService
from semot.services.messaging import MessageService
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
        messages: MessageService,
        registry: PresenceRegistry,
        *,
        coalesce_s: float = 1.0,
    ) -> None:
        self._storage = storage
        self._contacts = contacts
        self._messages = messages
        self._registry = registry
        self._coalesce_s = coalesce_s
        self._dirty: set[str] = set()
        self._chosen: set[str] = set()  # users who changed their status by hand since the last flush
        self._pending: set[asyncio.Task[None]] = set()  # session removals in flight
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._registry.start(self._mark_dirty)
        self._task = asyncio.create_task(self._flush_loop(), name="semot-presence")

    def _mark_dirty(self, users: set[str]) -> None:
        self._dirty |= users  # not a bound `update`: flush swaps the set out

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._registry.stop()

    # --- devices
    async def device_count(self, user_id: str, *, besides: str) -> int:
        """Devices the user has online on any node, not counting `besides` (the device
        now connecting, which replaces its own older session)."""
        return len((await self._registry.devices(user_id)) - {besides})

    async def connected(self, user_id: str, session_id: str, device_id: str) -> None:
        await self._registry.session_up(user_id, session_id, device_id)
        seen = (await self._registry.lookup([user_id]))[user_id]
        if seen.manual is None:
            stored = await self._storage.user_settings(user_id)
            await self._registry.set_manual(
                user_id, stored.get("presence", "online"), stored.get("status_text", ""), only_if_unset=True
            )
        self._dirty.add(user_id)

    def disconnected(self, user_id: str, session_id: str) -> None:
        """Called from a connection's cleanup (which must not wait): the registry write
        runs as its own task. Sessions are unique, so it cannot overtake its own `up`."""

        async def down() -> None:
            try:
                await self._registry.session_down(user_id, session_id)
            except Exception:
                log.warning("presence: could not record %s going offline", user_id, exc_info=True)
            self._dirty.add(user_id)

        task = asyncio.get_running_loop().create_task(down())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def status(self, user_id: str) -> tuple[str, str]:
        return _status((await self._registry.lookup([user_id])).get(user_id))

    async def set_manual(self, user_id: str, status: str, text: str | None) -> dict[str, Any]:
        rules.check_manual(status, text)
        stored = await self._storage.user_settings(user_id)
        new_text = stored.get("status_text", "") if text is None else text
        await self._storage.set_user_settings(user_id, {**stored, "presence": status, "status_text": new_text})
        await self._registry.set_manual(user_id, status, new_text)
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

    async def subscribe(self, viewer: str, users: list[str]) -> list[dict[str, Any]]:
        """Follow these users' presence (replacing the previous list); returns their status now."""
        visible = [u for u in dict.fromkeys(users[:MAX_SUBSCRIPTIONS]) if await self.visible(viewer, u)]
        await self._registry.subscribe(viewer, set(visible))
        return self._wires(visible, await self._registry.lookup(visible))

    # --- pushing
    async def _recipients(self, user_id: str, *, with_self: bool) -> set[str]:
        out = {user_id} if with_self else set()  # a status chosen on one device shows on the others
        for friend in await self._contacts.friend_set(user_id):
            out.add(friend)
        out.update(await self._registry.subscribers(user_id))
        blocked_by_me = await self._contacts.blocked_set(user_id)
        return {
            u
            for u in out
            if u == user_id or (u not in blocked_by_me and not await self._contacts.has_blocked(u, user_id))
        }

    async def flush(self) -> int:
        dirty, self._dirty = self._dirty, set()
        chosen, self._chosen = self._chosen, set()
        if not dirty:
            return 0
        try:
            settled = await self._registry.settle(dirty)
        except Exception:
            self._dirty |= dirty  # try again on the next flush
            self._chosen |= chosen
            raise
        for user_id, now in settled.items():
            if now.status == "offline":
                await self._registry.drop_viewer(user_id)
            recipients = await self._recipients(user_id, with_self=user_id in chosen)
            self._messages.push(
                recipients, event("presence", user=user_id, status=now.status, text=now.text, v=now.version)
            )
        return len(settled)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._coalesce_s)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("presence flush failed")
