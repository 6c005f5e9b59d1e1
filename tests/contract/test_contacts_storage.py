"""The contacts storage contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from semot.domain.records import ContactTag, FriendRequest, User
from semot.errors import Conflict
from semot.storage.sql.store import SqlStorage


async def _users(storage: SqlStorage, *ids: str) -> None:
    for u in ids:
        await storage.create_user(User(u, u, u.upper(), "x", created_at=1))


async def test_friendship_requests_tags_blocks(storage: SqlStorage) -> None:
    await _users(storage, "a", "b", "c")
    assert await storage.user_settings("a") == {}
    await storage.set_user_settings("a", {"friend_approval": False})
    assert await storage.user_settings("a") == {"friend_approval": False}

    await storage.add_friend_request(FriendRequest("r1", "a", "b", "hi", "pending", 5))
    assert (await storage.pending_request("a", "b")).id == "r1"  # type: ignore[union-attr]
    assert await storage.pending_request("b", "a") is None
    inc, out = await storage.pending_requests("b")
    assert [r.id for r in inc] == ["r1"] and out == []
    await storage.add_friendship("a", "b", 7)  # settles the pending request too
    assert (await storage.friend_request("r1")).status == "accepted"  # type: ignore[union-attr]
    assert await storage.friend_ids("a") == {"b"} and await storage.friend_ids("b") == {"a"}
    await storage.add_friendship("a", "b", 8)  # idempotent
    f = await storage.friend("b", "a")
    assert f is not None and (f.display_name, f.remark, f.created_at) == ("A", "", 7)
    assert await storage.set_remark("b", "a", "boss") and not await storage.set_remark("b", "c", "x")
    assert [x.remark for x in await storage.friends("b")] == ["boss"]

    await storage.add_friendship("a", "c", 9)
    await storage.create_tag("a", ContactTag("t1", "work", 10, ["b", "c"]))
    with pytest.raises(Conflict):
        await storage.create_tag("a", ContactTag("t2", "work", 11))
    await storage.create_tag("b", ContactTag("t3", "work", 12, ["a"]))  # names are per user
    assert await storage.update_tag("a", "t1", name="team", members=None)
    assert not await storage.update_tag("b", "t1", name="stolen", members=None)
    tags = await storage.tags("a")
    assert [(t.name, sorted(t.members)) for t in tags] == [("team", ["b", "c"])]
    assert await storage.remove_friendship("a", "b") and not await storage.remove_friendship("a", "b")
    assert [sorted(t.members) for t in await storage.tags("a")] == [["c"]]  # a's tag lost b
    assert [t.members for t in await storage.tags("b")] == [[]]  # b's tag lost a
    assert await storage.delete_tag("a", "t1") and not await storage.delete_tag("a", "t1")

    await storage.add_friend_request(FriendRequest("r2", "c", "b", "", "pending", 13))
    assert await storage.settle_friend_request("r2", "declined", 14)
    assert not await storage.settle_friend_request("r2", "accepted", 15)

    assert await storage.block("b", "c", 20) and not await storage.block("b", "c", 21)
    assert [(x.user_id, x.created_at) for x in await storage.blacklist("b")] == [("c", 20)]
    assert await storage.unblock("b", "c") and not await storage.unblock("b", "c")
    assert await storage.blacklist("b") == []
