"""Message rules on the in-memory storage: sending, resends, group send rights, reads,
recall and burn-after-reading, and whose devices each push reaches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from semot.domain.conversations import direct_conv
from semot.errors import BadRequest, Forbidden, Muted, NotFound, Unavailable
from semot.ids import now_ms
from semot.protocol import events as ev
from tests.unit.services.conftest import World

AB = direct_conv("ann", "bob")


async def send(w: World, user: str, to: str, cid: str, session: str | None = None, **fields: Any) -> Any:
    fields.setdefault("kind", "text")
    fields.setdefault("body", {"text": cid})
    fields.setdefault("opts", None)
    return await w.messages.send(user, session, cid=cid, to=to, **fields)


async def test_a_direct_message_reaches_both_users_but_not_the_sending_device(world: World) -> None:
    res = await send(world, "ann", "bob", "c1", session="ann-phone")
    assert res.created and res.message.conv == AB and res.message.seq == 1
    [(msg, users, skipped)] = world.messages_pushed()
    assert (msg.mid, users, skipped) == (res.message.mid, {"ann", "bob"}, "ann-phone")
    assert set(await world.storage.messages.conv_members(AB)) == {"ann", "bob"}


async def test_a_resent_cid_is_answered_with_the_original_and_pushed_once(world: World) -> None:
    first = await send(world, "ann", "bob", "same", session="s1")
    again = await send(world, "ann", "bob", "same", session="s2", body={"text": "changed"})
    assert not again.created and (again.message.seq, again.message.mid) == (first.message.seq, first.message.mid)
    assert again.message.body == {"text": "same"}
    assert len(world.messages_pushed()) == 1


async def test_each_queued_message_skips_its_own_device_in_one_batch(world: World) -> None:
    """Many sends committed in one batch: each push skips the session that sent it."""
    sends = [send(world, u, "cat", f"{u}-{i}", session=f"{u}-dev{i}") for i in range(5) for u in ("ann", "bob")]
    results = await asyncio.gather(*sends)
    skipped = {msg.cid: s for msg, _, s in world.messages_pushed()}
    assert skipped == {r.message.cid: f"{r.message.sender}-dev{r.message.cid.split('-')[1]}" for r in results}


async def test_an_outage_fails_the_batch_and_pushes_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    async def down(batch: Any) -> Any:
        raise ConnectionError("database went away")

    monkeypatch.setattr(world.storage.messages, "append_messages", down)
    with pytest.raises(Unavailable):
        await send(world, "ann", "bob", "c1", session="s1")
    monkeypatch.undo()
    ok = await send(world, "ann", "bob", "c1", session="s2")  # the retry with the same cid
    assert ok.created and ok.message.seq == 1
    assert [(m.cid, s) for m, _, s in world.messages_pushed()] == [("c1", "s2")]


async def test_bad_bodies_and_unknown_peers_are_refused_before_storage(world: World) -> None:
    with pytest.raises(BadRequest):
        await send(world, "ann", "bob", "c1", body={"text": ""})
    with pytest.raises(NotFound):
        await send(world, "ann", "nobody", "c2")
    with pytest.raises(NotFound):
        await send(world, "ann", "bob", "c3", kind="card", body={"user_id": "nobody"})
    assert await world.storage.messages.count_messages() == 0


async def test_group_send_rights_follow_membership_mutes_and_dismissal(world: World) -> None:
    group, _ = await world.groups.create("ann", "Team", ["bob", "cat"])
    conv = f"g:{group.id}"
    assert (await send(world, "bob", conv, "b1")).message.seq == 2  # after the creation notice
    with pytest.raises(Forbidden):
        await send(world, "dan", conv, "d1")  # not a member
    await world.groups.mute("ann", group.id, "bob", now_ms() + 60_000)
    with pytest.raises(Muted):
        await send(world, "bob", conv, "b2")
    with pytest.raises(Forbidden):
        await send(world, "cat", conv, "c1", body={"text": "@all", "mention_all": True})
    await world.groups.update("ann", group.id, settings={"mute_all": True})
    with pytest.raises(Muted):
        await send(world, "cat", conv, "c2")
    assert (await send(world, "ann", conv, "a1")).created  # the owner still speaks
    await world.groups.dismiss("ann", group.id)
    with pytest.raises(Forbidden):
        await send(world, "ann", conv, "a2")


async def test_reads_advance_push_receipts_and_never_go_back(world: World) -> None:
    for i in range(3):
        await send(world, "ann", "bob", f"c{i}")
    with pytest.raises(BadRequest):
        await world.messages.read("bob", "bob-phone", AB, 4)
    with pytest.raises(Forbidden):
        await world.messages.read("cat", None, AB, 1)
    await world.messages.read("bob", "bob-phone", AB, 2)
    await world.messages.read("bob", "bob-phone", AB, 1)  # behind: nothing happens
    reads = [(p.event, set(p.users), p.exclude_session) for p in world.pushed if isinstance(p.event, ev.ReadEvent)]
    assert [(e.seq, e.user, u, s) for e, u, s in reads] == [(2, "bob", {"ann", "bob"}, "bob-phone")]
    [state] = await world.messages.sync("bob", {})
    assert (state.read_seq, state.unread) == (2, 1)


async def test_recall_is_the_senders_and_leaves_a_tombstone_and_a_notice(world: World) -> None:
    res = await send(world, "ann", "bob", "c1")
    with pytest.raises(Forbidden):
        await world.messages.recall("bob", None, AB, 1)
    await world.messages.recall("ann", "ann-phone", AB, 1)
    await world.messages.recall("ann", "ann-phone", AB, 1)  # twice is once
    msgs = await world.history(AB)
    assert [(m.seq, m.kind) for m in msgs] == [(1, "recalled"), (2, "system")]
    assert msgs[1].body == {"type": "recalled", "seq": 1, "by": "ann"} and msgs[1].cid == f"sys.recall.{res.message.mid}"
    recalls = [p for p in world.pushed if isinstance(p.event, ev.RecallEvent)]
    assert len(recalls) == 1 and recalls[0].exclude_session == "ann-phone"


async def test_burn_after_reading_starts_at_the_recipients_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await send(world, "ann", "bob", "c1", opts={"burn_s": 5})
    assert await world.messages.burn_due() == 0
    await world.messages.read("ann", None, AB, 1)  # the sender's own read starts nothing
    await world.messages.read("bob", None, AB, 1)
    later = now_ms() + 6_000
    monkeypatch.setattr("semot.services.messaging.now_ms", lambda: later)
    assert await world.messages.burn_due() == 1
    [msg] = await world.history(AB)
    assert (msg.kind, msg.body) == ("burned", {})
    burned = [p for p in world.pushed if isinstance(p.event, ev.BurnedEvent)]
    assert len(burned) == 1 and set(burned[0].users) == {"ann", "bob"}
