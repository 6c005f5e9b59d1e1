"""The webhook outbox contract (storage/webhooks.py) on memory, SQLite and PostgreSQL:
claims are exclusive (two nodes never hold one delivery), only the oldest pending
delivery of a (hook, key) is claimable, a lapsed lease is taken over, finish needs the
claim, replay and purge."""

from __future__ import annotations

from semot.domain.webhooks import NewDelivery, Tried, Webhook
from semot.storage.base import Storage


def _hook(n: int) -> Webhook:
    return Webhook(f"wh_{n}", f"http://127.0.0.1:9/{n}", ("message.sent",), "s" * 32, 2000, "allow", 1000 + n, None)


async def _fin(storage: Storage, delivery_id: str, node: str, *, status: str, tries: int, next_at: int,
               last_error: str | None, last_status: int | None, now: int) -> bool:
    done = await storage.webhooks.finish(node, [Tried(delivery_id, status, tries, next_at, last_error, last_status, now)])
    return done == {delivery_id}


def _d(i: int, hook: int = 1, key: str = "d:a:b") -> NewDelivery:
    return NewDelivery(f"wd_{hook}_{i}", f"wh_{hook}", "message.sent", key, f'{{"id":"wd_{hook}_{i}"}}', 1000 + i)


async def test_claims_are_exclusive_and_ordered_per_key(storage: Storage) -> None:
    s = storage.webhooks
    await s.add_hook(_hook(1))
    await s.add_hook(_hook(2))
    assert [h.webhook_id for h in await s.hooks()] == ["wh_1", "wh_2"]
    await s.enqueue([_d(1), _d(2), _d(3, key="g:x"), _d(1, hook=2)])
    now = 10_000
    a = [r[0] for r in await s.claim("A", now, 60_000, 10)]
    # the oldest of each (hook, key) only; each comes with its hook's URL
    assert sorted(d.delivery_id for d in a) == ["wd_1_1", "wd_1_3", "wd_2_1"]
    assert {d.url for d in a} == {"http://127.0.0.1:9/1", "http://127.0.0.1:9/2"}
    assert await s.claim("B", now, 60_000, 10) == []  # held by A; wd_1_2 waits behind wd_1_1
    # a failed try: pending again, due later; the next of its key still waits
    assert await _fin(storage, "wd_1_1", "A", status="pending", tries=1, next_at=now + 500, last_error="HTTP 500",
                          last_status=500, now=now)
    assert await s.claim("B", now + 100, 60_000, 10) == []
    assert not await _fin(storage, "wd_1_3", "B", status="delivered", tries=1, next_at=now, last_error=None,
                              last_status=200, now=now)  # not B's claim
    # due again: B claims it; delivered, then the next of the key is claimable
    [[again]] = await s.claim("B", now + 600, 60_000, 10)
    assert again.delivery_id == "wd_1_1" and again.tries == 1
    assert await _fin(storage, "wd_1_1", "B", status="delivered", tries=2, next_at=now, last_error=None, last_status=200,
                          now=now + 700)
    [[nxt]] = await s.claim("B", now + 800, 60_000, 10)
    assert nxt.delivery_id == "wd_1_2"
    # A's lease on wd_1_3 lapses: another node takes it over, and A's finish is refused
    [taken] = [r[0] for r in await s.claim("C", now + 70_000, 60_000, 10) if r[0].delivery_id == "wd_1_3"]
    assert taken.delivery_id == "wd_1_3"
    assert not await _fin(storage, "wd_1_3", "A", status="delivered", tries=1, next_at=now, last_error=None,
                              last_status=200, now=now)
    assert await _fin(storage, "wd_1_3", "C", status="dead", tries=5, next_at=now, last_error="down", last_status=None,
                          now=now)
    page, total = await s.deliveries(webhook_id="wh_1", status=None, event=None, offset=0, limit=10)
    assert total == 3 and [d.delivery_id for d in page] == ["wd_1_3", "wd_1_2", "wd_1_1"]
    dead, n = await s.deliveries(webhook_id=None, status="dead", event="message.sent", offset=0, limit=10)
    assert n == 1 and dead[0].last_error == "down" and dead[0].tries == 5
    # replay: pending, tries reset, claimable
    replayed = await s.replay("wd_1_3", now + 80_000)
    assert replayed is not None and (replayed.status, replayed.tries) == ("pending", 0)
    assert "wd_1_3" in {r[0].delivery_id for r in await s.claim("D", now + 80_000, 60_000, 10)}
    assert await s.replay("wd_nope", now) is None
    # purge takes delivered and dead rows only; deleting a hook takes its outbox
    assert await s.purge(now + 1_000_000, 100) == 1  # wd_1_1 (delivered)
    removed = await s.delete_hook("wh_2")
    assert removed is not None and removed.webhook_id == "wh_2"
    assert (await s.deliveries(webhook_id="wh_2", status=None, event=None, offset=0, limit=10))[1] == 0
    assert await s.delete_hook("wh_2") is None


async def test_runs_of_one_key(storage: Storage) -> None:
    s = storage.webhooks
    await s.add_hook(_hook(1))
    await s.enqueue([_d(i) for i in range(1, 8)] + [_d(9, key="other")])
    runs = await s.claim("A", 10_000, 60_000, 10, run=5)
    assert sorted([d.delivery_id for d in r] for r in runs) == [
        ["wd_1_1", "wd_1_2", "wd_1_3", "wd_1_4", "wd_1_5"], ["wd_1_9"]]
    assert await s.claim("B", 10_000, 60_000, 10, run=5) == []
    # the first fails and the rest is given back: they wait behind it
    await _fin(storage, "wd_1_1", "A", status="pending", tries=1, next_at=20_000, last_error="x", last_status=500, now=10_000)
    await s.release(["wd_1_2", "wd_1_3", "wd_1_4", "wd_1_5"], "A")
    assert await s.claim("B", 10_000, 60_000, 10, run=5) == []
    [run] = await s.claim("B", 20_000, 60_000, 10, run=3)
    assert [d.delivery_id for d in run] == ["wd_1_1", "wd_1_2", "wd_1_3"]
