"""The webhooks' storage (docs/integration.md): registered hooks and the delivery outbox.

The outbox is shared by every node: a node claims a delivery with a conditional update
(`claim`), so one node alone posts it at a time (a claim lasts `lease_ms`: a node that
dies holding one gives it back when the lease runs out). Deliveries of one hook with the
same `key` (the conversation) are claimed in the order they were put in: only the
oldest pending one of a (hook, key) is ever a candidate.

Deliveries are made from the event outbox (storage/outbox.py): the events of
`transactional` are written there by the stores in the transaction of their change, the
others by the webhook service (`put_events`); `fan_out` turns outbox rows into
deliveries, oldest first, one transaction at a time across all nodes (so deliveries of
one key keep the order of their events).
"""

from __future__ import annotations

import abc
from collections.abc import Callable

from semot.domain.webhooks import Delivery, NewDelivery, Tried, Webhook
from semot.storage.outbox import OutboxItem


class WebhookStorage(abc.ABC):
    transactional: frozenset[str] = frozenset()
    """Events this storage writes to the outbox with their change (the service must not)."""

    @abc.abstractmethod
    def want(self, events: frozenset[str], notify: Callable[[], None]) -> None:
        """From now on write the outbox rows of these events (those of `transactional`)
        with their changes, and call `notify` (on the event loop) after such a commit."""

    @abc.abstractmethod
    async def put_events(self, items: list[OutboxItem]) -> None:
        """Put events in the outbox, in this order (events no change's transaction writes)."""

    @abc.abstractmethod
    async def fan_out(self, limit: int) -> int:
        """Turn up to `limit` of the oldest outbox rows into one pending delivery (due
        now) per hook registered for the row's event, and delete them, in one
        transaction; returns how many rows were taken."""

    @abc.abstractmethod
    async def outbox_size(self) -> int:
        """Rows waiting in the outbox (a gauge)."""

    @abc.abstractmethod
    async def add_hook(self, hook: Webhook) -> None: ...

    @abc.abstractmethod
    async def hooks(self) -> list[Webhook]:
        """Every hook, oldest first."""

    @abc.abstractmethod
    async def delete_hook(self, webhook_id: str) -> Webhook | None:
        """Remove the hook and its outbox; returns what was removed (None: no such hook)."""

    @abc.abstractmethod
    async def enqueue(self, deliveries: list[NewDelivery]) -> None:
        """Put deliveries in the outbox (pending, due now), in this order."""

    @abc.abstractmethod
    async def claim(self, node: str, now: int, lease_ms: int, limit: int, run: int = 1) -> list[list[Delivery]]:
        """Claim for `node` until now + lease_ms the due deliveries of up to `limit`
        (hook, key)s: each run starts at the oldest pending delivery of its (hook, key),
        which must be due and not held by a live lease, and goes on with up to `run` - 1
        of the pending ones after it, in order. Each delivery comes with its hook's `url`."""

    @abc.abstractmethod
    async def release(self, delivery_ids: list[str], node: str) -> None:
        """Give back claims `node` holds without a try (the rest of a run after a failure)."""

    @abc.abstractmethod
    async def finish(self, node: str, done: list[Tried]) -> set[str]:
        """Record tries of deliveries `node` holds, in one transaction, releasing their
        claims; returns the ids recorded (a claim lost to another node after the lease
        ran out is not)."""

    @abc.abstractmethod
    async def deliveries(
        self, *, webhook_id: str | None, status: str | None, event: str | None, offset: int, limit: int
    ) -> tuple[list[Delivery], int]:
        """Newest first, and how many matched."""

    @abc.abstractmethod
    async def delivery(self, delivery_id: str) -> Delivery | None: ...

    @abc.abstractmethod
    async def replay(self, delivery_id: str, now: int) -> Delivery | None:
        """Make a delivery pending again, due now, with its tries reset (same id, same
        body); None: no such delivery."""

    @abc.abstractmethod
    async def purge(self, before: int, limit: int) -> int:
        """Delete up to `limit` delivered or dead deliveries last updated before `before`."""
