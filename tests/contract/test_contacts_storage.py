"""The contacts storage contract, in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from semot.domain.records import ContactTag, FriendRequest, User
from semot.errors import Conflict
from semot.storage.base import Storage


async def _users(storage: Storage, *ids: str) -> None:
    for u in ids:
        await storage.users.create_user(User(u, u, u.upper(), "x", created_at=1))


async def test_friendship_requests_tags_blocks(storage: Storage) -> None:
    await _users(storage, "a", "b", "c")
    assert await storage.contacts.user_settings("a") == {}
    await storage.contacts.set_user_settings("a", {"friend_approval": False})
    assert await storage.contacts.user_settings("a") == {"friend_approval": False}

    await storage.contacts.add_friend_request(FriendRequest("r1", "a", "b", "hi", "pending", 5))
    assert (await storage.contacts.pending_request("a", "b")).id == "r1"  # type: ignore[union-attr]
    assert await storage.contacts.pending_request("b", "a") is None
    inc, out = await storage.contacts.pending_requests("b")
    assert [r.id for r in inc] == ["r1"] and out == []
    await storage.contacts.add_friendship("a", "b", 7)  # settles the pending request too
    assert (await storage.contacts.friend_request("r1")).status == "accepted"  # type: ignore[union-attr]
    assert await storage.contacts.friend_ids("a") == {"b"} and await storage.contacts.friend_ids("b") == {"a"}
    await storage.contacts.add_friendship("a", "b", 8)  # idempotent
    f = await storage.contacts.friend("b", "a")
    assert f is not None and (f.display_name, f.remark, f.created_at) == ("A", "", 7)
    assert await storage.contacts.set_remark("b", "a", "boss") and not await storage.contacts.set_remark("b", "c", "x")
    assert [x.remark for x in await storage.contacts.friends("b")] == ["boss"]

    await storage.contacts.add_friendship("a", "c", 9)
    await storage.contacts.create_tag("a", ContactTag("t1", "work", 10, ["b", "c"]))
    with pytest.raises(Conflict):
        await storage.contacts.create_tag("a", ContactTag("t2", "work", 11))
    await storage.contacts.create_tag("b", ContactTag("t3", "work", 12, ["a"]))  # names are per user
    assert await storage.contacts.update_tag("a", "t1", name="team", members=None)
    assert not await storage.contacts.update_tag("b", "t1", name="stolen", members=None)
    tags = await storage.contacts.tags("a")
    assert [(t.name, sorted(t.members)) for t in tags] == [("team", ["b", "c"])]
    assert await storage.contacts.remove_friendship("a", "b") and not await storage.contacts.remove_friendship("a", "b")
    assert [sorted(t.members) for t in await storage.contacts.tags("a")] == [["c"]]  # a's tag lost b
    assert [t.members for t in await storage.contacts.tags("b")] == [[]]  # b's tag lost a
    assert await storage.contacts.delete_tag("a", "t1") and not await storage.contacts.delete_tag("a", "t1")

    await storage.contacts.add_friend_request(FriendRequest("r2", "c", "b", "", "pending", 13))
    assert await storage.contacts.settle_friend_request("r2", "declined", 14)
    assert not await storage.contacts.settle_friend_request("r2", "accepted", 15)

    assert await storage.contacts.block("b", "c", 20) and not await storage.contacts.block("b", "c", 21)
    assert [(x.user_id, x.created_at) for x in await storage.contacts.blacklist("b")] == [("c", 20)]
    assert await storage.contacts.unblock("b", "c") and not await storage.contacts.unblock("b", "c")
    assert await storage.contacts.blacklist("b") == []
