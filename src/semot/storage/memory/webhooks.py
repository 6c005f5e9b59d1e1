"""WebhookStorage in memory (unit tests; the same contract as SQL). The memory stores
write no outbox rows with their changes (`transactional` is empty): the webhook service
puts every event in the outbox itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import orjson

from semot.domain.webhooks import Delivery, NewDelivery, Tried, Webhook
from semot.storage.outbox import OutboxItem, delivery_id
from semot.storage.webhooks import WebhookStorage


class MemoryWebhooks(WebhookStorage):
    def __init__(self) -> None:
        self._hooks: dict[str, Webhook] = {}
        self._rows: dict[str, Delivery] = {}  # insertion order is the outbox order
        self._claims: dict[str, tuple[str, int]] = {}  # delivery -> (node, until)
        self._outbox: list[OutboxItem] = []

    def want(self, events: frozenset[str], notify: Callable[[], None]) -> None:
        pass  # nothing is written with a change here

    async def put_events(self, items: list[OutboxItem]) -> None:
        self._outbox.extend(items)

    async def fan_out(self, limit: int) -> int:
        taken, self._outbox = self._outbox[:limit], self._outbox[limit:]
        hooks = sorted(self._hooks.values(), key=lambda h: (h.created_at, h.webhook_id))
        for item in taken:
            for hook in hooks:
                if item.event in hook.events:
                    did = delivery_id(item.event_id, hook.webhook_id)
                    body = orjson.dumps({"id": did, "event": item.event, "ts": item.created_at,
                                         "data": item.data_dict()}).decode()
                    await self.enqueue([NewDelivery(did, hook.webhook_id, item.event, item.key, body,
                                                    item.created_at)])
        return len(taken)

    async def outbox_size(self) -> int:
        return len(self._outbox)

    async def add_hook(self, hook: Webhook) -> None:
        self._hooks[hook.webhook_id] = hook

    async def hooks(self) -> list[Webhook]:
        return sorted(self._hooks.values(), key=lambda h: (h.created_at, h.webhook_id))

    async def delete_hook(self, webhook_id: str) -> Webhook | None:
        hook = self._hooks.pop(webhook_id, None)
        if hook is not None:
            for d in [d for d in self._rows.values() if d.webhook_id == webhook_id]:
                del self._rows[d.delivery_id]
                self._claims.pop(d.delivery_id, None)
        return hook

    async def enqueue(self, deliveries: list[NewDelivery]) -> None:
        for n in deliveries:
            if n.delivery_id in self._rows or n.webhook_id not in self._hooks:
                continue
            self._rows[n.delivery_id] = Delivery(
                n.delivery_id, n.webhook_id, n.event, n.key, n.body, "pending", 0, n.created_at, None, None,
                n.created_at, n.created_at,
            )

    async def claim(self, node: str, now: int, lease_ms: int, limit: int, run: int = 1) -> list[list[Delivery]]:
        runs: dict[tuple[str, str], list[Delivery] | None] = {}  # None: the key's first is not claimable
        for d in self._rows.values():
            if d.status != "pending":
                continue
            k = (d.webhook_id, d.key)
            if k not in runs:
                claim = self._claims.get(d.delivery_id)
                if d.next_at > now or (claim is not None and claim[1] > now) or len(
                        [r for r in runs.values() if r]) >= limit:
                    runs[k] = None
                    continue
                runs[k] = []
            taken = runs[k]
            if taken is None or len(taken) >= run:
                continue
            claim = self._claims.get(d.delivery_id)
            if claim is not None and claim[1] > now:
                continue
            self._claims[d.delivery_id] = (node, now + lease_ms)
            taken.append(replace(d, url=self._hooks[d.webhook_id].url))
        return [r for r in runs.values() if r]

    async def release(self, delivery_ids: list[str], node: str) -> None:
        for i in delivery_ids:
            if self._claims.get(i, ("", 0))[0] == node:
                del self._claims[i]

    async def finish(self, node: str, done: list[Tried]) -> set[str]:
        out: set[str] = set()
        for t in done:
            d = self._rows.get(t.delivery_id)
            claim = self._claims.get(t.delivery_id)
            if d is None or claim is None or claim[0] != node or d.status != "pending":
                continue
            del self._claims[t.delivery_id]
            self._rows[t.delivery_id] = replace(
                d, status=t.status, tries=t.tries, next_at=t.next_at, last_error=t.last_error,
                last_status=t.last_status, updated_at=t.at,
            )
            out.add(t.delivery_id)
        return out

    async def deliveries(
        self, *, webhook_id: str | None, status: str | None, event: str | None, offset: int, limit: int
    ) -> tuple[list[Delivery], int]:
        found = [
            d for d in reversed(self._rows.values())
            if (webhook_id is None or d.webhook_id == webhook_id)
            and (status is None or d.status == status)
            and (event is None or d.event == event)
        ]
        return found[offset : offset + limit], len(found)

    async def delivery(self, delivery_id: str) -> Delivery | None:
        return self._rows.get(delivery_id)

    async def replay(self, delivery_id: str, now: int) -> Delivery | None:
        d = self._rows.get(delivery_id)
        if d is None:
            return None
        self._claims.pop(delivery_id, None)
        d = self._rows[delivery_id] = replace(d, status="pending", tries=0, next_at=now, updated_at=now)
        return d

    async def purge(self, before: int, limit: int) -> int:
        old = [k for k, d in self._rows.items() if d.status != "pending" and d.updated_at < before][:limit]
        for k in old:
            del self._rows[k]
        return len(old)
