"""Edits and reactions (semot.storage.message_changes) on every backend: memory,
SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

import pytest

from semot.domain.conversations import direct_conv
from semot.errors import Forbidden, NotFound
from semot.storage.base import Storage
from tests.contract.test_storage import dm

pytestmark = pytest.mark.asyncio
AB = direct_conv("alice", "bob")


async def _two(storage: Storage) -> None:
    await storage.messages.append_messages([dm("alice", "bob", "a1", text="helo"), dm("bob", "alice", "b1", text="yo")])


async def test_edit_rewrites_text_and_bumps_the_change_cursor(storage: Storage) -> None:
    await _two(storage)
    st = storage.messages
    assert (await st.changed_messages(AB, 0, 10)) == ([], 0, False)
    edited = await st.edit_text(AB, 1, sender="alice", text="hello", now=2000, sent_after=0)
    assert edited is not None and edited.body == {"text": "hello"} and edited.edited_ts == 2000
    assert edited.change_seq == 1
    # history shows the current text and the edit time, nothing else moved
    page, _ = await st.history(AB, after=0, before=None, limit=10)
    assert [m.body["text"] for m in page] == ["hello", "yo"] and page[0].edited_ts == 2000 and page[1].edited_ts is None
    assert await st.conversation_max_seq(AB) == 2
    # the rules are checked again where the write happens
    assert await st.edit_text(AB, 1, sender="bob", text="x", now=2001, sent_after=0) is None
    assert await st.edit_text(AB, 1, sender="alice", text="x", now=2001, sent_after=1001) is None  # window passed
    await st.recall(AB, 1)
    assert await st.edit_text(AB, 1, sender="alice", text="x", now=2002, sent_after=0) is None
    msgs, top, more = await st.changed_messages(AB, 0, 10)
    assert top == 1 and not more and [m.seq for m in msgs] == [1]


async def test_reactions_toggle_bound_and_summarise(storage: Storage) -> None:
    await _two(storage)
    st = storage.messages
    m = await st.set_reaction(AB, 2, user="alice", emoji="👍", on=True, now=10, max_emoji=2)
    assert m is not None and m.reactions == [{"emoji": "👍", "count": 1, "users": ["alice"]}]
    assert await st.set_reaction(AB, 2, user="alice", emoji="👍", on=True, now=11, max_emoji=2) is None  # already on
    await st.set_reaction(AB, 2, user="bob", emoji="🎉", on=True, now=12, max_emoji=2)
    m = await st.set_reaction(AB, 2, user="bob", emoji="👍", on=True, now=13, max_emoji=2)
    assert m is not None and m.reactions == [
        {"emoji": "👍", "count": 2, "users": ["alice", "bob"]},
        {"emoji": "🎉", "count": 1, "users": ["bob"]},
    ]
    with pytest.raises(Forbidden):  # a third distinct emoji is over the bound
        await st.set_reaction(AB, 2, user="bob", emoji="❤️", on=True, now=14, max_emoji=2)
    m = await st.set_reaction(AB, 2, user="bob", emoji="🎉", on=False, now=15, max_emoji=2)
    assert m is not None and [r["emoji"] for r in m.reactions or []] == ["👍"]
    assert await st.set_reaction(AB, 2, user="bob", emoji="🎉", on=False, now=16, max_emoji=2) is None  # already off
    with pytest.raises(NotFound):
        await st.set_reaction(AB, 9, user="bob", emoji="🎉", on=True, now=16, max_emoji=2)
    # every history read path carries the summary
    got = await st.get_message(AB, 2)
    assert got is not None and got.reactions is not None and got.reactions[0]["count"] == 2
    page, _ = await st.history(AB, after=None, before=None, limit=10)
    assert page[1].reactions == got.reactions and page[0].reactions is None
    assert got.reactions is not None
    # change cursor: 4 changes so far (3 on + 1 off), listed after any cursor
    msgs, top, more = await st.changed_messages(AB, 0, 10)
    assert top == 4 and [m.seq for m in msgs] == [2] and not more
    assert (await st.changed_messages(AB, 4, 10))[0] == []
    # sync: unread untouched, the conversation reported by its change cursor only
    states = {s.conv: s for s in await st.sync("bob", {})}
    assert states[AB].unread == 1 and states[AB].change_seq == 4 and states[AB].max_seq == 2
    assert states[AB].last is not None and states[AB].last.reactions == got.reactions
    assert await st.sync("bob", {AB: 2}) == []  # without the extension: as the contract says
    assert [s.conv for s in await st.sync("bob", {AB: 2}, {AB: 3})] == [AB]
    assert await st.sync("bob", {AB: 2}, {AB: 4}) == []


async def test_recall_and_burn_drop_reactions_and_refuse_new_ones(storage: Storage) -> None:
    await storage.messages.append_messages([dm("alice", "bob", "a1"), dm("alice", "bob", "a2", burn_s=1)])
    st = storage.messages
    await st.set_reaction(AB, 1, user="bob", emoji="👍", on=True, now=10, max_emoji=20)
    await st.set_reaction(AB, 2, user="bob", emoji="👍", on=True, now=10, max_emoji=20)
    await st.recall(AB, 1)
    await st.set_read(AB, "bob", 2, 1000)
    assert await st.claim_due_burns(5000, 10) == [(AB, 2)]
    for seq in (1, 2):
        msg = await st.get_message(AB, seq)
        assert msg is not None and msg.reactions is None
        with pytest.raises(Forbidden):
            await st.set_reaction(AB, seq, user="bob", emoji="👍", on=True, now=11, max_emoji=20)


async def test_concurrent_reactions_get_distinct_change_seqs(storage: Storage) -> None:
    await _two(storage)
    st = storage.messages
    emojis = ["👍", "🎉", "❤️", "😂", "👀", "🙏"]
    results = await asyncio.gather(
        *(st.set_reaction(AB, 1, user=u, emoji=e, on=True, now=10, max_emoji=20) for e in emojis for u in ("alice", "bob"))
    )
    seqs = sorted(r.change_seq for r in results if r is not None and r.change_seq is not None)
    assert seqs == list(range(1, 13))
    msg = await st.get_message(AB, 1)
    assert msg is not None and msg.reactions is not None and sum(r["count"] for r in msg.reactions) == 12
