"""The retention store (storage/retention.py) in memory, on SQLite and on PostgreSQL:
the same policy, holds and batch deletes everywhere (docs/retention.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from semot.domain.records import Group, NewMessage
from semot.domain.retention import LegalHold, RetentionPolicy, RetentionRun
from semot.ids import new_mid
from semot.storage.base import Storage
from tests.contract.conftest import _open
from tests.contract.test_file_messages_storage import image, setup_users, stored_file, unreferenced

pytestmark = pytest.mark.asyncio
DAY = 86_400_000


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async for store in _open(request.param, tmp_path):
        yield store


def text(conv: str, sender: str, ts: int) -> NewMessage:
    users: Any = tuple(sorted(conv[2:].split(":"))) if conv.startswith("d:") else None
    return NewMessage(conv, sender, new_mid(), "text", {"text": "x"}, {}, ts, new_mid(), users)


async def append(storage: Storage, *items: NewMessage) -> None:
    for r in await storage.messages.append_messages(list(items)):
        assert not isinstance(r, Exception), r


async def test_policy_holds_and_last_run(storage: Storage) -> None:
    r = storage.retention
    assert await r.get_policy() == RetentionPolicy()
    assert not (await r.get_policy()).enabled
    await r.set_policy(RetentionPolicy(30, None, 5, "boss"))
    assert await r.get_policy() == RetentionPolicy(30, None, 5, "boss")
    h1 = LegalHold("lh_1", "user", "hank", "lawsuit", 10, "boss")
    assert await r.add_hold(h1) == h1
    assert await r.add_hold(LegalHold("lh_2", "user", "hank", "again", 11, "boss")) == h1  # one per target
    h3 = LegalHold("lh_3", "conv", "g:keep", "", 12, None)
    await r.add_hold(h3)
    assert [h.id for h in await r.holds()] == ["lh_3", "lh_1"]
    assert await r.remove_hold("lh_1") == h1
    assert await r.remove_hold("lh_1") is None
    assert await r.last_run() == RetentionRun()
    await r.record_run(RetentionRun(100, 200, 7, None))
    assert await r.last_run() == RetentionRun(100, 200, 7, None)
    assert await r.get_policy() == RetentionPolicy(30, None, 5, "boss")  # the run leaves the policy alone


async def test_delete_expired_in_batches_sparing_held_ones(storage: Storage) -> None:
    await setup_users(storage, "alice", "bob", "hank", "cat")
    now = 100 * DAY
    old, new = now - 40 * DAY, now - DAY
    ab, ah = "d:alice:bob", "d:alice:hank"
    await append(storage, *(text(ab, "alice", old + i) for i in range(5)), text(ab, "bob", new))
    await append(storage, text(ah, "alice", old))  # hank is held: his chats stay
    await storage.groups.create_group(Group("team", "Team", "alice", 1, {}), ["bob", "cat"], 1)
    await storage.groups.create_group(Group("kept", "Kept", "alice", 1, {}), ["bob"], 1)
    await append(storage, *(text("g:team", "bob", old + i) for i in range(3)), text("g:kept", "bob", old))
    await stored_file(storage, "f_gone")
    await stored_file(storage, "f_kept")
    await append(storage, image(ab, "alice", "i1", "f_gone", ts=old + 10), image(ab, "alice", "i2", "f_kept", ts=old + 11),
                 image(ab, "bob", "i3", "f_kept", ts=new))
    await storage.retention.add_hold(LegalHold("lh_u", "user", "hank", "", 1, None))
    await storage.retention.add_hold(LegalHold("lh_c", "conv", "g:kept", "", 1, None))
    r = storage.retention
    max_ab = await storage.messages.conversation_max_seq(ab)

    first = await r.delete_expired("d", now - 30 * DAY, 3)
    assert len(first) == 3 and all(e.conv == ab for e in first)
    assert [e.seq for e in first] == [1, 2, 3]  # oldest first
    rest = await r.delete_expired("d", now - 30 * DAY, 3)
    assert sorted(e.seq for e in rest) == [4, 5, 7]
    assert [e.seq for e in await r.delete_expired("d", now - 30 * DAY, 3)] == [8]
    assert await r.delete_expired("d", now - 30 * DAY, 3) == []
    msgs, more = await storage.messages.history(ab, after=0, before=None, limit=50)
    assert [m.seq for m in msgs] == [6, 9] and not more  # what is left: the recent ones
    assert await storage.messages.conversation_max_seq(ab) == max_ab  # max_seq unchanged
    assert [m.seq for m in (await storage.messages.history(ah, after=0, before=None, limit=5))[0]] == [1]
    # groups: their own cutoff; the held group stays
    assert len(await r.delete_expired("g", now - 30 * DAY, 500)) == 3
    assert len((await storage.messages.history("g:kept", after=0, before=None, limit=50))[0]) >= 1
    # files: the one only a deleted message referenced is the collector's now
    assert "f_gone" in await unreferenced(storage)
    assert "f_kept" not in await unreferenced(storage)
    # the hold lifted: hank's chat goes too
    await r.remove_hold("lh_u")
    assert [e.conv for e in await r.delete_expired("d", now - 30 * DAY, 500)] == [ah]


async def test_a_held_users_messages_stay_everywhere(storage: Storage) -> None:
    await setup_users(storage, "alice", "bob", "hank")
    now = 100 * DAY
    await storage.groups.create_group(Group("g1", "G", "alice", 1, {}), ["bob"], 1)
    # hank wrote in this group before he left it (he is no member now)
    await append(storage, text("g:g1", "hank", 1), text("g:g1", "bob", 2))
    await storage.retention.add_hold(LegalHold("lh", "user", "hank", "", 1, None))
    gone = await storage.retention.delete_expired("g", now, 500)
    left = (await storage.messages.history("g:g1", after=0, before=None, limit=50))[0]
    assert [m.sender for m in left if m.kind == "text"] == ["hank"]
    assert all(e.seq != left[-1].seq for e in gone)
