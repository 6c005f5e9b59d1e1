"""Group rules on the in-memory storage: every change is committed with its `system`
notice, announced to the right people, and costs one load of the member list."""

from __future__ import annotations

import asyncio

import pytest

from semot.domain.records import User
from semot.errors import BadRequest, Conflict, Forbidden
from semot.protocol import events as ev
from semot.services.events import Published
from semot.storage.batch import BatchPlan, InjectedFault
from tests.unit.services.conftest import World


async def settle() -> None:
    """Let fan-out tasks that wait for a member list finish."""
    for _ in range(5):
        await asyncio.sleep(0)


async def team(w: World, members: list[str] | None = None) -> str:
    group, _ = await w.groups.create("ann", "Team", ["bob", "cat"] if members is None else members)
    await settle()
    w.pushed.clear()
    return group.id


def notices(msgs: list) -> list[tuple[int, str]]:  # type: ignore[type-arg]
    return [(m.seq, m.body["type"]) for m in msgs if m.kind == "system"]


async def test_creation_is_recorded_announced_and_skips_who_blocked_the_owner(world: World) -> None:
    await world.storage.contacts.block("dan", "ann", 1)
    group, skipped = await world.groups.create("ann", "Team", ["bob", "dan"])
    assert skipped == ["dan"]
    conv = f"g:{group.id}"
    [created] = await world.history(conv)
    assert (created.seq, created.body) == (1, {"type": "group_created", "by": "ann", "name": "Team"})
    [(change, users)] = world.group_changes()
    assert isinstance(change, ev.GroupCreated) and users == {"ann", "bob"}
    [(msg, to, _)] = world.messages_pushed(conv)
    assert msg.seq == 1 and to == {"ann", "bob"}


async def test_an_invitation_records_who_was_really_added(world: World) -> None:
    gid = await team(world)
    out = await world.groups.invite("ann", gid, ["cat", "dan", "eve"])  # cat is in already
    assert out == {"added": ["dan", "eve"], "pending": []}
    msgs = await world.history(f"g:{gid}")
    assert notices(msgs) == [(1, "group_created"), (2, "group_members_added")] and msgs[1].body["users"] == ["dan", "eve"]
    [(change, users)] = world.group_changes()
    assert isinstance(change, ev.MembersAdded) and users == {"ann", "bob", "cat", "dan", "eve"}


async def test_the_group_size_limit_refuses_the_whole_invitation(world: World) -> None:
    gid = await team(world, [])
    more = [f"u{i}" for i in range(10)]
    for u in more:
        await world.storage.users.create_user(User(u, u, u, "x"))
    with pytest.raises(BadRequest):
        await world.groups.invite("ann", gid, more)  # 11 > 10
    assert notices(await world.history(f"g:{gid}")) == [(1, "group_created")]
    assert world.group_changes() == []


async def test_a_kick_is_recorded_announced_to_the_kicked_too_and_ends_their_rights(world: World) -> None:
    gid = await team(world)
    await world.groups.kick("ann", gid, "cat")
    await settle()
    msgs = await world.history(f"g:{gid}")
    assert notices(msgs) == [(1, "group_created"), (2, "group_member_removed")]
    [(change, users)] = world.group_changes()
    assert isinstance(change, ev.MemberRemoved) and change.user == "cat" and users == {"ann", "bob", "cat"}
    pushed = {frozenset(to): msg.seq for msg, to, _ in world.messages_pushed(f"g:{gid}")}
    # the notice goes to the members left, and to the kicked member (their open chat says so)
    assert pushed == {frozenset({"ann", "bob"}): 2, frozenset({"cat"}): 2}
    with pytest.raises(Forbidden):
        await world.messages.send("cat", None, cid="x", to=f"g:{gid}", kind="text", body={"text": "hi"}, opts=None)
    with pytest.raises(Forbidden):
        await world.groups.kick("bob", gid, "ann")  # a member kicks nobody


async def test_a_kick_that_lost_a_race_records_and_announces_nothing(world: World) -> None:
    gid = await team(world)
    await world.storage.groups.remove_member(gid, "cat")  # another node got there first
    await world.groups.kick("ann", gid, "cat")  # this node's cached state still lists cat
    assert notices(await world.history(f"g:{gid}")) == [(1, "group_created")]
    assert world.group_changes() == []


async def test_a_change_whose_notice_cannot_be_stored_is_not_made(world: World) -> None:
    gid = await team(world)
    BatchPlan.fault_cid_prefix = "sys."
    try:
        with pytest.raises(InjectedFault):
            await world.groups.kick("ann", gid, "cat")
        with pytest.raises(InjectedFault):
            await world.groups.update("ann", gid, name="Renamed")
    finally:
        BatchPlan.fault_cid_prefix = None
    state = await world.storage.groups.group_state(gid)
    assert state is not None and "cat" in state.members and state.group.name == "Team"
    assert await world.storage.messages.conversation_max_seq(f"g:{gid}") == 1
    assert world.group_changes() == []


async def test_one_change_loads_the_member_list_once(world: World) -> None:
    gid = await team(world, ["bob", "cat", "dan", "eve"])
    before = world.membership.loads
    await world.groups.kick("ann", gid, "eve")
    await settle()
    # the invalidation drops the cached list; the notice's fan-out and the event share one load
    assert world.membership.loads == before + 1
    pushed = [to for _, to, _ in world.messages_pushed(f"g:{gid}")]
    assert sorted(map(sorted, pushed)) == [["ann", "bob", "cat", "dan"], ["eve"]]  # the kicked one too


async def test_several_changes_of_one_update_share_its_transaction(world: World) -> None:
    gid = await team(world)
    await world.groups.update("ann", gid, name="Renamed", announcement="hello")
    msgs = await world.history(f"g:{gid}")
    assert notices(msgs) == [(1, "group_created"), (2, "group_renamed"), (3, "group_announcement")]
    assert [type(c) for c, _ in world.group_changes()] == [ev.GroupRenamed, ev.AnnouncementChanged]
    with pytest.raises(Forbidden):
        await world.groups.update("bob", gid, name="Mine")


async def test_roles_transfer_and_leaving(world: World) -> None:
    gid = await team(world)
    with pytest.raises(Forbidden):
        await world.groups.set_role("bob", gid, "cat", "admin")
    await world.groups.set_role("ann", gid, "bob", "admin")
    await world.groups.set_role("ann", gid, "bob", "admin")  # no change, no notice
    with pytest.raises(Forbidden):
        await world.groups.leave("ann", gid)  # the owner transfers first
    with pytest.raises(Conflict):
        await world.groups.transfer("ann", gid, "dan")  # not a member
    await world.groups.transfer("ann", gid, "bob")
    await world.groups.leave("ann", gid)
    state = await world.membership.state(gid)
    assert state.group.owner_id == "bob" and {u: m.role for u, m in state.members.items()} == {
        "bob": "owner",
        "cat": "member",
    }
    assert notices(await world.history(f"g:{gid}"))[1:] == [
        (2, "group_role_changed"),
        (3, "group_owner_transferred"),
        (4, "group_member_left"),
    ]


async def test_dismissal_is_recorded_before_anyone_reloads_the_group(world: World) -> None:
    gid = await team(world)
    dismissed_when_told: list[bool] = []

    def on_push(p: Published) -> None:
        if isinstance(p.event, ev.GroupEvent):
            g = world.storage.groups._db.groups[gid]  # type: ignore[attr-defined]
            dismissed_when_told.append(g.dismissed_at is not None)

    world.events.subscribe(on_push)
    await world.groups.dismiss("ann", gid)
    assert dismissed_when_told == [True]
    g = await world.storage.groups.get_group(gid)
    assert g is not None and g.dismissed_at is not None
    assert notices(await world.history(f"g:{gid}"))[-1] == (2, "group_dismissed")
    [(change, _)] = world.group_changes()
    assert isinstance(change, ev.GroupDismissed)
    with pytest.raises(Forbidden):
        await world.groups.invite("ann", gid, ["dan"])
