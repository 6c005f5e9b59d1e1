"""Presence: online / offline / busy / away with a status text, per user.

Pushed only to those who may see it (friends, and colleagues or others who subscribed
to it and are allowed to), never broadcast: presence fan-out is what overloads large
Synapse and Rocket.Chat installs. Changes are coalesced: a flush each `coalesce_s`
sends a user's latest status once, however often their devices came and went.
Counts are per node: several nodes need a shared presence store (not built yet).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from semot.domain import presence as rules
from semot.protocol.replies import event
from semot.services.contacts import ContactsService
from semot.services.messaging import MessageService
from semot.storage.base import Storage

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 500


class PresenceService:
    def __init__(
        self, storage: Storage, contacts: ContactsService, messages: MessageService, *, coalesce_s: float = 1.0
    ) -> None:
        self._storage = storage
        self._contacts = contacts
        self._messages = messages
        self._coalesce_s = coalesce_s
        self._devices: dict[str, int] = {}
        self._manual: dict[str, tuple[str, str]] = {}  # user -> (chosen status, text), while online
        self._pushed: dict[str, tuple[str, str]] = {}
        self._dirty: set[str] = set()
        self._chosen: set[str] = set()  # users who changed their status by hand since the last flush
        self._subscribers: dict[str, set[str]] = {}  # target -> viewers
        self._subscriptions: dict[str, set[str]] = {}  # viewer -> targets
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_loop(), name="semot-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # --- devices
    async def connected(self, user_id: str) -> None:
        self._devices[user_id] = self._devices.get(user_id, 0) + 1
        if user_id not in self._manual:
            stored = await self._storage.user_settings(user_id)
            self._manual[user_id] = (stored.get("presence", "online"), stored.get("status_text", ""))
        self._dirty.add(user_id)

    def disconnected(self, user_id: str) -> None:
        n = self._devices.get(user_id, 0) - 1
        if n > 0:
            self._devices[user_id] = n
            return
        self._devices.pop(user_id, None)
        self._manual.pop(user_id, None)
        self._dirty.add(user_id)
        for target in self._subscriptions.pop(user_id, ()):
            viewers = self._subscribers.get(target)
            if viewers is not None:
                viewers.discard(user_id)
                if not viewers:
                    del self._subscribers[target]

    def status(self, user_id: str) -> tuple[str, str]:
        devices = self._devices.get(user_id, 0)
        manual, text = self._manual.get(user_id, ("online", ""))
        status = rules.aggregate(devices, manual)
        return status, (text if status != "offline" else "")

    async def set_manual(self, user_id: str, status: str, text: str | None) -> dict[str, Any]:
        rules.check_manual(status, text)
        current_text = self._manual.get(user_id, ("online", ""))[1]
        new_text = current_text if text is None else text
        stored = await self._storage.user_settings(user_id)
        await self._storage.set_user_settings(user_id, {**stored, "presence": status, "status_text": new_text})
        if user_id in self._devices:
            self._manual[user_id] = (status, new_text)
            self._dirty.add(user_id)
            self._chosen.add(user_id)
        return self._wire(user_id)

    def _wire(self, user_id: str) -> dict[str, Any]:
        status, text = self.status(user_id)
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
        return [self._wire(u) for u in dict.fromkeys(users) if await self.visible(viewer, u)]

    async def subscribe(self, viewer: str, users: list[str]) -> list[dict[str, Any]]:
        """Follow these users' presence (replacing the previous list); returns their status now."""
        for target in self._subscriptions.pop(viewer, ()):
            self._subscribers.get(target, set()).discard(viewer)
        visible = [u for u in dict.fromkeys(users[:MAX_SUBSCRIPTIONS]) if await self.visible(viewer, u)]
        self._subscriptions[viewer] = set(visible)
        for target in visible:
            self._subscribers.setdefault(target, set()).add(viewer)
        return [self._wire(u) for u in visible]

    # --- pushing
    async def _recipients(self, user_id: str, *, with_self: bool) -> set[str]:
        out = {user_id} if with_self else set()  # a status chosen on one device shows on the others
        for friend in await self._contacts.friend_set(user_id):
            out.add(friend)
        out.update(self._subscribers.get(user_id, ()))
        blocked_by_me = await self._contacts.blocked_set(user_id)
        return {
            u
            for u in out
            if u == user_id or (u not in blocked_by_me and not await self._contacts.has_blocked(u, user_id))
        }

    async def flush(self) -> int:
        dirty, self._dirty = self._dirty, set()
        chosen, self._chosen = self._chosen, set()
        pushed = 0
        for user_id in dirty:
            now = self.status(user_id)
            if self._pushed.get(user_id, ("offline", "")) == now:
                continue
            if now[0] == "offline":
                self._pushed.pop(user_id, None)
            else:
                self._pushed[user_id] = now
            recipients = await self._recipients(user_id, with_self=user_id in chosen)
            self._messages.push(recipients, event("presence", user=user_id, status=now[0], text=now[1]))
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
