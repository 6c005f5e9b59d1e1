"""The transactional event outbox (storage/outbox.py) on SQLite and PostgreSQL: the
stores write webhook events in the transaction of their change (appends, a group
write's notices, recall, friendships) only while a hook wants them; `fan_out` makes one
delivery per hook with a stable id, in event order, and empties the outbox; a change
that rolls back leaves no event."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from semot.domain.conversations import direct_conv
from semot.domain.records import CreateGroup, Group, NewMessage, User
from semot.domain.webhooks import Webhook
from semot.ids import new_mid
from semot.storage.base import Storage
from semot.storage.outbox import OutboxItem, delivery_id
from tests.contract.test_storage import dm

pytestmark = pytest.mark.asyncio

ALL = frozenset({"message.sent", "message.recalled", "group.created", "group.member_joined", "friend.added"})


def _hook(n: int, events: tuple[str, ...]) -> Webhook:
    return Webhook(f"wh_{n}", f"http://127.0.0.1:9/{n}", events, "s" * 32, 2000, "allow", 1000 + n, None)


async def _bodies(storage: Storage, webhook_id: str) -> list[dict[str, Any]]:
    found, _ = await storage.webhooks.deliveries(webhook_id=webhook_id, status=None, event=None, offset=0, limit=100)
    return [orjson.loads(d.body) for d in reversed(found)]  # oldest first


async def test_events_are_written_with_their_change_and_fanned_out_once(sql_store: Storage) -> None:
    s = sql_store
    for uid in ("alice", "bob", "carol"):
        await s.users.create_user(User(id=uid, username=uid, display_name=uid, password_hash="x", created_at=1))
    told: list[int] = []
    # nothing wanted: nothing written
    s.webhooks.want(frozenset(), lambda: told.append(1))
    await s.messages.append_messages([dm("alice", "bob", "c0")])
    assert await s.webhooks.outbox_size() == 0 and not told
    await s.webhooks.add_hook(_hook(1, ("message.sent", "message.recalled", "group.created", "friend.added")))
    await s.webhooks.add_hook(_hook(2, ("message.sent",)))
    s.webhooks.want(ALL, lambda: told.append(1))
    conv = direct_conv("alice", "bob")
    results = await s.messages.append_messages([dm("alice", "bob", "c1", "one"), dm("bob", "alice", "c2", "two"),
                                                dm("alice", "carol", "c3", "three")])
    assert [r.message.seq for r in results] == [2, 3, 1]  # type: ignore[union-attr]
    again = await s.messages.append_messages([dm("alice", "bob", "c1", "one")])  # a resend: no new event
    assert not again[0].created  # type: ignore[union-attr]
    await s.messages.recall(conv, 2, "alice", "sender")
    await s.contacts.add_friendship("bob", "alice", 5000)
    await s.contacts.add_friendship("alice", "bob", 5001)  # friends already: no second event
    notice = NewMessage("g:g1", "alice", "sys.g1.created", "system",
                        {"type": "group_created", "by": "alice", "name": "G"}, {}, 6000, new_mid())
    await s.groups.write(CreateGroup(Group("g1", "G", "alice", 6000), ["bob"], 6000), lambda _: [notice])
    assert told and await s.webhooks.outbox_size() == 6
    assert await s.webhooks.fan_out(4) == 4
    assert await s.webhooks.fan_out(100) == 2
    assert await s.webhooks.fan_out(100) == 0 and await s.webhooks.outbox_size() == 0
    one, two = await _bodies(s, "wh_1"), await _bodies(s, "wh_2")
    assert [b["event"] for b in one] == ["message.sent"] * 3 + ["message.recalled", "friend.added", "group.created"]
    assert [b["event"] for b in two] == ["message.sent"] * 3
    sent = one[0]["data"]
    assert sent["conv"] == conv and sent["seq"] == 2 and sent["from"] == "alice" and sent["body"] == {"text": "one"}
    assert [(b["data"]["conv"], b["data"]["seq"]) for b in one[:3]] == [(conv, 2), (conv, 3),
                                                                         (direct_conv("alice", "carol"), 1)]
    assert one[3]["data"] == {"conv": conv, "seq": 2, "by": "alice", "role": "sender"}
    assert one[4]["data"] == {"users": ["alice", "bob"]}
    assert one[5]["data"] == {"group_id": "g1", "conv": "g:g1", "by": "alice", "name": "G"}
    # the same event's deliveries differ per hook only by their id (derived from the event's)
    assert one[0]["id"] != two[0]["id"] and one[0]["data"] == two[0]["data"]
    assert len({b["id"] for b in one + two}) == 9
    found, _ = await s.webhooks.deliveries(webhook_id="wh_1", status="pending", event=None, offset=0, limit=10)
    assert {d.key for d in found} >= {conv, "g:g1", "friends:alice:bob"}
    assert delivery_id("ev_x", "wh_1") == delivery_id("ev_x", "wh_1") != delivery_id("ev_x", "wh_2")


async def test_a_change_that_rolls_back_leaves_no_event(sql_store: Storage) -> None:
    s = sql_store
    await s.webhooks.add_hook(_hook(1, ("group.created",)))
    s.webhooks.want(ALL, lambda: None)
    notice = NewMessage("g:g2", "alice", "sys.g2.created", "system",
                        {"type": "group_created", "by": "alice", "name": "G"}, {}, 6000, new_mid())

    def fail(_: Any) -> list[NewMessage]:
        raise RuntimeError("the notice could not be made")

    await s.groups.write(CreateGroup(Group("g2", "G", "alice", 6000), [], 6000), lambda _: [notice])
    with pytest.raises(RuntimeError):
        await s.groups.write(CreateGroup(Group("g3", "G", "alice", 6000), [], 6000), fail)
    assert await s.webhooks.outbox_size() == 1  # g2's, not g3's


async def test_put_events_fan_out_in_order(storage: Storage) -> None:
    """Events the service puts (logins, presence, reads, files) take the same way: one
    delivery per hook that wants them, in order, the outbox emptied (every backend)."""
    s = storage
    await s.webhooks.add_hook(_hook(1, ("user.online", "message.read")))
    await s.webhooks.add_hook(_hook(2, ("message.read",)))
    items = [OutboxItem(f"ev_{i}", "message.read" if i % 2 else "user.online", "k", f'{{"n":{i}}}', None, 100 + i)
             for i in range(6)]
    await s.webhooks.put_events(items[:3])
    await s.webhooks.put_events(items[3:])
    assert await s.webhooks.outbox_size() == 6
    assert await s.webhooks.fan_out(500) == 6 and await s.webhooks.outbox_size() == 0
    one, two = await _bodies(s, "wh_1"), await _bodies(s, "wh_2")
    assert [b["data"]["n"] for b in one] == [0, 1, 2, 3, 4, 5]
    assert [b["data"]["n"] for b in two] == [1, 3, 5]
    assert one[1]["id"] == delivery_id("ev_1", "wh_1") and one[1]["ts"] == 101


async def test_a_stale_hook_read_never_hides_a_new_hook(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reloads run at once (a bus notice, the refresh, register): a read of the hooks made
    before a hook was added, finishing after the reload that saw it, is dropped; else the
    node would write no outbox rows for the new hook until the next refresh."""
    import asyncio

    from semot.bus.local import LocalBus
    from semot.metrics import Metrics
    from semot.services.events import EventPublisher
    from semot.services.webhooks import WebhookService

    svc = WebhookService(storage.webhooks, EventPublisher(LocalBus()), Metrics(), node_id="n1")
    real, gate, read = storage.webhooks.hooks, asyncio.Event(), asyncio.Event()

    async def slow_once() -> list[Webhook]:
        hooks = await real()
        if not read.is_set():  # the first read: done before the hook is added, answered after
            read.set()
            await gate.wait()
        return hooks

    monkeypatch.setattr(storage.webhooks, "hooks", slow_once)
    stale = asyncio.create_task(svc.reload())
    await read.wait()
    hook = await svc.register("http://127.0.0.1:9/new", ["message.read"], timeout_ms=2000, on_timeout="allow", by=None)
    assert [h.webhook_id for h in svc.hooks_for("message.read")] == [hook.webhook_id]
    gate.set()
    await stale
    assert [h.webhook_id for h in svc.hooks_for("message.read")] == [hook.webhook_id]
    await svc.poster.close()
