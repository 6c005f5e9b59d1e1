"""A group write and its `system` notices: one transaction, numbered like any message."""

from __future__ import annotations

import asyncio

import pytest

from semot.domain.records import (
    AddMembers,
    AppendResult,
    CreateGroup,
    Group,
    NewMessage,
    RemoveMember,
    SetMember,
    UpdateGroup,
    WriteOutcome,
)
from semot.errors import BadRequest, NotFound
from semot.ids import new_mid
from semot.storage.base import Storage
from semot.storage.batch import BatchPlan


def notice(conv: str, cid: str, **body: object) -> NewMessage:
    return NewMessage(conv, "own", cid, "system", {"type": "group_test", **body}, {}, 10, new_mid())


def text(conv: str, sender: str, cid: str) -> NewMessage:
    return NewMessage(conv, sender, cid, "text", {"text": "x"}, {}, 10, new_mid())


async def make_group(storage: Storage, members: list[str]) -> None:
    out = await storage.groups.write(
        CreateGroup(Group("g1", "G", "own", 1), members, 1), lambda o: [notice("g:g1", "created", users=o.added)]
    )
    assert out.changed and out.added == members
    assert [(n.message.seq, n.message.body["users"]) for n in out.notices] == [(1, members)]


async def test_a_change_and_its_notice_commit_together(storage: Storage) -> None:
    await make_group(storage, ["m1"])
    out = await storage.groups.write(
        AddMembers("g1", ["m1", "m2", "m3"], 5, limit=10),
        lambda o: [notice("g:g1", "add", users=o.added)] if o.added else [],
    )
    assert out.added == ["m2", "m3"]  # the notice names who was really added, not who was asked
    assert [n.message.body["users"] for n in out.notices] == [["m2", "m3"]]
    assert out.notices[0].message.seq == 2 and out.notices[0].created
    msgs, _ = await storage.messages.history("g:g1", after=0, before=None, limit=10)
    assert [(m.seq, m.kind) for m in msgs] == [(1, "system"), (2, "system")]
    state = await storage.groups.group_state("g1")
    assert state is not None and set(state.members) == {"own", "m1", "m2", "m3"}


async def test_nothing_to_do_stores_no_notice(storage: Storage) -> None:
    await make_group(storage, ["m1"])
    out = await storage.groups.write(RemoveMember("g1", "ghost"), lambda o: [notice("g:g1", "rm")] if o.changed else [])
    assert out == WriteOutcome(False)
    assert await storage.messages.conversation_max_seq("g:g1") == 1


async def test_a_refused_change_stores_no_notice(storage: Storage) -> None:
    await make_group(storage, ["m1"])
    with pytest.raises(BadRequest):
        await storage.groups.write(AddMembers("g1", ["m2", "m3"], 5, limit=3), lambda o: [notice("g:g1", "add")])
    assert await storage.messages.conversation_max_seq("g:g1") == 1
    assert await storage.messages.get_message("g:g1", 2) is None


async def test_a_notice_that_cannot_be_stored_undoes_the_change(storage: Storage) -> None:
    await make_group(storage, ["m1", "m2"])
    with pytest.raises(NotFound):  # its conversation does not exist
        await storage.groups.write(RemoveMember("g1", "m1"), lambda o: [notice("g:nope", "rm")])
    BatchPlan.fault_cid_prefix = "poison."
    try:
        with pytest.raises(ValueError):
            await storage.groups.write(UpdateGroup("g1", {"name": "Renamed"}), lambda o: [notice("g:g1", "poison.1")])
    finally:
        BatchPlan.fault_cid_prefix = None
    state = await storage.groups.group_state("g1")
    assert state is not None and "m1" in state.members and state.group.name == "G"
    assert await storage.messages.conversation_max_seq("g:g1") == 1


async def test_notices_and_messages_share_one_gap_free_sequence(storage: Storage) -> None:
    """Writes with notices race the message appender on the same conversation."""
    members = [f"m{i}" for i in range(5)]
    await make_group(storage, members)

    async def sender(u: str) -> list[int]:
        out = []
        for j in range(15):
            r = (await storage.messages.append_messages([text("g:g1", u, f"{u}-{j}")]))[0]
            assert isinstance(r, AppendResult)
            out.append(r.message.seq)
        return out

    async def manager() -> list[int]:
        out = []
        for j in range(15):
            mute = notice("g:g1", f"mute-{j}")
            w = await storage.groups.write(SetMember("g1", "m0", {"muted_until": j or None}), lambda _, mute=mute: [mute])
            out.append(w.notices[0].message.seq)
        return out

    results = await asyncio.gather(manager(), *(sender(u) for u in members[1:]))
    seqs = sorted(s for r in results for s in r)
    assert seqs == list(range(2, 2 + 15 * 5))  # after the creation notice, every seq once
    for r in results:
        assert r == sorted(r)
