"""Per-conversation settings (pinned, do not disturb, hidden) on every backend: what
`set_conv_settings` stores, what `sync` returns with each conversation, and the list of
non-default settings a device syncing with known seqs relies on."""

from __future__ import annotations

import pytest

from semot.domain.conversations import direct_conv
from semot.domain.records import Group, NewMessage
from semot.ids import new_mid
from semot.storage.base import Storage

pytestmark = pytest.mark.asyncio


def dm(sender: str, to: str, cid: str) -> NewMessage:
    users = (min(sender, to), max(sender, to))
    return NewMessage(direct_conv(sender, to), sender, cid, "text", {"text": "hi"}, {}, 1000, new_mid(), users)


async def test_settings_are_stored_and_synced(storage: Storage) -> None:
    conv = direct_conv("ann", "ben")
    await storage.messages.append_messages([dm("ben", "ann", "c1"), dm("ben", "ann", "c2")])
    cs = storage.conv_settings
    assert await cs.conv_settings("ann") == []
    (st,) = await storage.messages.sync("ann", {})
    assert (st.pinned_at, st.dnd, st.hidden_seq) == (None, False, None)
    assert st.to_wire()["hidden"] is False

    got = await cs.set_conv_settings(conv, "ann", pinned=True, dnd=True, hidden=None, now=111)
    assert got is not None and (got.pinned_at, got.dnd, got.hidden) == (111, True, False)
    # re-pinning keeps the first pin's time; leaving a field out leaves it as it is
    got = await cs.set_conv_settings(conv, "ann", pinned=True, dnd=None, hidden=None, now=222)
    assert got is not None and (got.pinned_at, got.dnd) == (111, True)
    (st,) = await storage.messages.sync("ann", {})
    assert (st.pinned_at, st.dnd) == (111, True)
    (other,) = await storage.messages.sync("ben", {})  # the other member's settings are their own
    assert (other.pinned_at, other.dnd) == (None, False)
    assert [(s.conv, s.pinned_at, s.dnd) for s in await cs.conv_settings("ann")] == [(conv, 111, True)]
    assert await cs.conv_settings("ben") == []

    got = await cs.set_conv_settings(conv, "ann", pinned=False, dnd=False, hidden=None, now=333)
    assert got is not None and got.is_default
    assert await cs.conv_settings("ann") == []


async def test_hidden_until_the_next_message(storage: Storage) -> None:
    conv = direct_conv("ann", "ben")
    await storage.messages.append_messages([dm("ben", "ann", "c1"), dm("ben", "ann", "c2")])
    cs = storage.conv_settings
    got = await cs.set_conv_settings(conv, "ann", pinned=None, dnd=None, hidden=True, now=1)
    assert got is not None and got.hidden and got.hidden_seq == 2
    (st,) = await storage.messages.sync("ann", {})
    assert st.to_wire()["hidden"] is True and st.to_wire()["hidden_seq"] == 2
    assert [s.conv for s in await cs.conv_settings("ann")] == [conv]

    await storage.messages.append_messages([dm("ben", "ann", "c3")])
    (st,) = await storage.messages.sync("ann", {})
    assert st.to_wire()["hidden"] is False  # back in the list, with nothing cleared
    assert await cs.conv_settings("ann") == []

    got = await cs.set_conv_settings(conv, "ann", pinned=None, dnd=None, hidden=True, now=2)
    assert got is not None and got.hidden_seq == 3
    got = await cs.set_conv_settings(conv, "ann", pinned=None, dnd=None, hidden=False, now=3)
    assert got is not None and got.hidden_seq is None and not got.hidden


async def test_not_a_member(storage: Storage) -> None:
    await storage.messages.append_messages([dm("ben", "ann", "c1")])
    cs = storage.conv_settings
    assert await cs.set_conv_settings(direct_conv("ann", "cat"), "ann", pinned=True, dnd=None, hidden=None, now=1) is None
    assert await cs.set_conv_settings(direct_conv("ann", "ben"), "cat", pinned=True, dnd=None, hidden=None, now=1) is None
    # a group the user left: no member row, nothing stored; a dismissed group keeps its members
    group = Group("grp1", "Team", "ann", 1)
    await storage.groups.create_group(group, ["ben", "cat"], 1)
    await storage.groups.remove_member("grp1", "cat")
    assert await cs.set_conv_settings("g:grp1", "cat", pinned=None, dnd=None, hidden=True, now=1) is None
    await storage.groups.update_group("grp1", dismissed_at=5)
    got = await cs.set_conv_settings("g:grp1", "ben", pinned=None, dnd=None, hidden=True, now=6)
    assert got is not None and got.hidden
    states = {s.conv: s for s in await storage.messages.sync("ben", {})}
    assert states["g:grp1"].to_wire()["hidden"] is True
    assert "g:grp1" not in {s.conv for s in await storage.messages.sync("cat", {})}
