"""Contacts rules on the in-memory storage: friend requests and approval, the direct
message policy, and what a block forbids."""

from __future__ import annotations

import pytest

from semot.errors import Blocked, Conflict, Forbidden, NotFound
from semot.protocol import events as ev
from tests.unit.services.conftest import World


def contact_changes(w: World, user: str) -> list[str]:
    return [
        type(p.event.change).__name__
        for p in w.pushed
        if isinstance(p.event, ev.ContactsEvent) and set(p.users) == {user}
    ]


async def dm(w: World, sender: str, to: str, cid: str = "c1") -> None:
    await w.messages.send(sender, None, cid=cid, to=to, kind="text", body={"text": "hi"}, opts=None)


async def test_a_request_waits_for_approval_then_makes_friends_both_ways(world: World) -> None:
    out = await world.contacts.request_friend("ann", "bob", "hello")
    assert out["status"] == "requested"
    again = await world.contacts.request_friend("ann", "bob")
    assert again == out  # one pending request, not two
    assert not await world.contacts.are_friends("ann", "bob")
    with pytest.raises(Forbidden):
        await world.contacts.decide_request("ann", out["request_id"], True)  # the sender cannot accept
    assert await world.contacts.decide_request("bob", out["request_id"], True) == {"status": "accepted"}
    assert await world.contacts.are_friends("ann", "bob") and await world.contacts.are_friends("bob", "ann")
    assert "FriendAdded" in contact_changes(world, "ann") and "FriendAdded" in contact_changes(world, "bob")
    with pytest.raises(Conflict):
        await world.contacts.request_friend("bob", "ann")  # already friends


async def test_no_approval_or_a_crossing_request_befriends_at_once(world: World) -> None:
    await world.contacts.update_settings("bob", {"friend_approval": False})
    assert (await world.contacts.request_friend("ann", "bob"))["status"] == "friends"
    await world.contacts.request_friend("cat", "dan")
    assert (await world.contacts.request_friend("dan", "cat"))["status"] == "friends"
    incoming, outgoing = await world.storage.contacts.pending_requests("dan")
    assert incoming == outgoing == []


async def test_the_friends_policy_gates_direct_messages(world: World) -> None:
    world.contacts.direct_policy = "friends"
    with pytest.raises(Forbidden):
        await dm(world, "ann", "bob")
    await world.contacts.update_settings("bob", {"friend_approval": False})
    await world.contacts.request_friend("ann", "bob")
    await dm(world, "ann", "bob")  # friends now: the cached friend set was dropped on change
    await world.contacts.remove_friend("bob", "ann")
    with pytest.raises(Forbidden):
        await dm(world, "ann", "bob", "c2")


async def test_a_block_stops_messages_typing_requests_and_invitations(world: World) -> None:
    pending = await world.contacts.request_friend("ann", "bob")
    await dm(world, "ann", "bob")
    await world.contacts.block("bob", "ann")
    with pytest.raises(Blocked):
        await dm(world, "ann", "bob", "c2")
    with pytest.raises(Blocked):
        await world.messages.typing("ann", "d:ann:bob")
    with pytest.raises(Blocked):
        await world.contacts.request_friend("ann", "bob")
    assert (await world.storage.contacts.friend_request(pending["request_id"])).status == "declined"  # type: ignore[union-attr]
    group, _ = await world.groups.create("ann", "Team", ["cat"])
    with pytest.raises(Blocked):
        await world.groups.invite("ann", group.id, ["bob"])
    await dm(world, "bob", "ann", "b1")  # the blocker may still write
    await world.contacts.unblock("bob", "ann")
    await dm(world, "ann", "bob", "c3")
    with pytest.raises(NotFound):
        await world.contacts.unblock("bob", "ann")


async def test_tags_hold_friends_only_and_lose_a_removed_friend(world: World) -> None:
    await world.contacts.update_settings("bob", {"friend_approval": False})
    await world.contacts.request_friend("ann", "bob")
    with pytest.raises(Conflict):
        await world.contacts.create_tag("ann", "work", ["bob", "cat"])
    tag = await world.contacts.create_tag("ann", "work", ["bob"])
    with pytest.raises(Conflict):
        await world.contacts.create_tag("ann", "work", [])
    await world.contacts.remove_friend("ann", "bob")
    [stored] = await world.storage.contacts.tags("ann")
    assert stored.id == tag["tag_id"] and stored.members == []
    assert "TagUpdated" in contact_changes(world, "ann")
