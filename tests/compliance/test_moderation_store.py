"""The moderation queue's storage contract, the same in memory, on SQLite and on
PostgreSQL (storage/moderation.py): a `(sender, cid)` is queued once, a decision is a
conditional update from pending (exactly one of two racing reviewers wins), the
filters and orders of the console, the sender's own list, the overdue scan and the
timeout setting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from semot.domain.moderation import HeldMessage, ModerationSettings
from semot.storage.base import Storage
from tests.contract.conftest import _open


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async for store in _open(request.param, tmp_path):
        yield store


def _item(mid: str, cid: str, *, sender: str = "bob", conv: str = "g:team", ts: int = 1000) -> HeldMessage:
    return HeldMessage(mid=mid, cid=cid, sender=sender, conv=conv, kind="text", body={"text": f"合同 {mid}"},
                       opts={"burn_s": 5} if mid == "m_2" else {}, ts=ts, ip="10.0.0.7")


async def test_hold_once_per_cid_and_read_back(storage: Storage) -> None:
    q = storage.moderation
    first = await q.hold(_item("m_1", "c1"))
    assert first.mid == "m_1" and first.status == "pending" and first.body == {"text": "合同 m_1"}
    again = await q.hold(_item("m_other", "c1"))  # a resend with a new mid: the queued one
    assert again.mid == "m_1"
    assert (await q.held_by_cid("bob", "c1")) == first
    assert await q.held_by_cid("carol", "c1") is None
    assert (await q.held("m_1")) == first and await q.held("m_none") is None
    await q.hold(_item("m_2", "c2", ts=2000))
    assert [h.mid for h in await q.held_many(["m_2", "m_none", "m_1", "m_2"])] == ["m_2", "m_1"]
    got = await q.held("m_2")
    assert got is not None and got.opts == {"burn_s": 5} and got.ip == "10.0.0.7"


async def test_decide_is_conditional(storage: Storage) -> None:
    q = storage.moderation
    await q.hold(_item("m_1", "c1"))
    results = await asyncio.gather(
        q.decide("m_1", "approved", reason=None, reviewer="a1", at=5),
        q.decide("m_1", "rejected", reason="no", reviewer="a2", at=6),
    )
    assert sorted(results) == [False, True]
    h = await q.held("m_1")
    assert h is not None and h.status in ("approved", "rejected") and h.reviewed_at in (5, 6)
    assert not await q.decide("m_1", "rejected", reason=None, reviewer="a3", at=7)
    assert not await q.decide("m_none", "approved", reason=None, reviewer="a3", at=7)
    await q.undo_decision("m_1")
    h = await q.held("m_1")
    assert h is not None and (h.status, h.reviewer, h.reviewed_at) == ("pending", None, None)
    assert await q.decide("m_1", "approved", reason=None, reviewer="a1", at=8)
    await q.set_seq("m_1", 42)
    h = await q.held("m_1")
    assert h is not None and h.seq == 42


async def test_lists_mine_overdue_and_settings(storage: Storage) -> None:
    q = storage.moderation
    for i, (conv, sender) in enumerate([("g:a", "bob"), ("g:b", "bob"), ("g:a", "carol"), ("g:a", "bob")]):
        await q.hold(_item(f"m_{i}", f"c{i}", conv=conv, sender=sender, ts=1000 + i))
    await q.decide("m_1", "rejected", reason="no", reviewer="a", at=5000)
    await q.decide("m_2", "approved", reason=None, reviewer="a", at=5000)
    page, total = await q.list_held(status="pending", conv=None, sender=None, offset=0, limit=10)
    assert [h.mid for h in page] == ["m_0", "m_3"] and total == 2  # oldest first
    page, total = await q.list_held(status=None, conv="g:a", sender=None, offset=0, limit=2)
    assert [h.mid for h in page] == ["m_3", "m_2"] and total == 3  # newest first
    page, total = await q.list_held(status=None, conv=None, sender="carol", offset=0, limit=5)
    assert [h.mid for h in page] == ["m_2"] and total == 1
    assert [h.mid for h in await q.mine("bob", since=0, limit=10)] == ["m_0", "m_1", "m_3"]
    assert [h.mid for h in await q.mine("bob", since=6000, limit=10)] == ["m_0", "m_3"]  # old rejections drop off
    assert await q.overdue(1003, 10) == ["m_0"]
    assert await q.overdue(2000, 1) == ["m_0"]
    assert await q.moderation_settings() == ModerationSettings()
    new = ModerationSettings(600, "approve", 7, "admin")
    await q.put_moderation_settings(new)
    assert await q.moderation_settings() == new
    await q.put_moderation_settings(ModerationSettings(0, "reject", 8, "admin2"))
    assert (await q.moderation_settings()).timeout_s == 0
