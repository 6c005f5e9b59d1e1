"""Services on the in-memory storage and the in-process bus: the rules of messages,
groups and contacts tested without a database, a socket or a server process.

`world` wires the services as app.py does (a LocalBus whose invalidations reach the
caches, an EventPublisher whose pushes are recorded) and seeds a few users.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from semot.bus.base import Delivery, Disconnect, Invalidate
from semot.bus.local import LocalBus
from semot.domain.messages import Message
from semot.domain.records import User
from semot.metrics import Metrics
from semot.protocol import events as ev
from semot.services.contacts import USER_KEY, ContactsService
from semot.services.events import EventPublisher, Published
from semot.services.groups import GroupService
from semot.services.membership import MembershipCache
from semot.services.messaging import MessageService
from semot.storage.base import Storage
from semot.storage.memory import memory_storage

USERS = ("ann", "bob", "cat", "dan", "eve")


class _Receiver:
    """What app.NodeReceiver does with cache drops; pushes are recorded by the publisher."""

    def __init__(self, membership: MembershipCache, contacts: ContactsService) -> None:
        self.membership, self.contacts = membership, contacts

    def deliver(self, delivery: Delivery) -> int:
        return 0

    def disconnect(self, command: Disconnect) -> int:
        return 0

    def invalidate(self, command: Invalidate) -> None:
        if command.key.startswith(USER_KEY):
            self.contacts.invalidate(command.key[len(USER_KEY) :])
        else:
            self.membership.invalidate(command.key)


@dataclass
class World:
    storage: Storage
    events: EventPublisher
    membership: MembershipCache
    messages: MessageService
    groups: GroupService
    contacts: ContactsService
    pushed: list[Published] = field(default_factory=list)

    def messages_pushed(self, conv: str | None = None) -> list[tuple[Message, set[str], str | None]]:
        """(message, recipients, skipped session) of every message push, in order."""
        out = []
        for p in self.pushed:
            if isinstance(p.event, ev.MessageEvent) and (conv is None or p.event.conv == conv):
                e = p.event
                msg = Message(e.conv, e.seq, e.mid, e.cid, e.sender, e.kind, e.body, e.ts, dict(e.opts))
                out.append((msg, set(p.users), p.exclude_session))
        return out

    def group_changes(self) -> list[tuple[Any, set[str]]]:
        """(change, recipients) of every `evt group` push, in order."""
        return [(p.event.change, set(p.users)) for p in self.pushed if isinstance(p.event, ev.GroupEvent)]

    async def history(self, conv: str) -> list[Message]:
        msgs, _ = await self.storage.messages.history(conv, after=0, before=None, limit=200)
        return msgs


@pytest.fixture
async def world() -> AsyncIterator[World]:
    storage = memory_storage()
    bus = LocalBus()
    events = EventPublisher(bus, validate=True)  # every push must fit its model
    metrics = Metrics()
    membership = MembershipCache(storage)
    messages = MessageService(
        storage, events, membership, metrics, recall_window_s=120, max_burn_s=600, max_text_chars=5000, batch_max=64
    )
    groups = GroupService(storage, messages, membership, bus, events, max_members=10)
    contacts = ContactsService(storage, events, bus, direct_policy="anyone")
    messages.direct_check = contacts.check_direct
    await bus.start(_Receiver(membership, contacts))
    w = World(storage, events, membership, messages, groups, contacts)
    events.subscribe(w.pushed.append)
    for u in USERS:
        await storage.users.create_user(User(u, u, u.title(), "x", created_at=1))
    messages.start()
    try:
        yield w
    finally:
        await messages.stop()
        await bus.stop()
