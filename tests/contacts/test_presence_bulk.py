"""The presence service reads contacts in bulk (services/presence.py): the stored statuses
of connects that arrive together in one query, and the friend and block sets of a
flush's users at once, with the pushes still going exactly where they went."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from semot.app import Node
from semot.config import Settings
from semot.domain.records import User


@pytest.fixture
async def node(tmp_path: Path) -> Any:
    n = Node(Settings(data_dir=tmp_path))
    await n.start()
    pushes: list[tuple[set[str], dict[str, Any]]] = []
    n.events.subscribe(lambda p: pushes.append((set(p.users), p.event.model_dump())))
    n.pushes = pushes  # type: ignore[attr-defined]
    for u in ("ann", "bob", "cid", "dan"):
        await n.storage.users.create_user(User(u, u, u, "x"))
    yield n
    await n.stop()


async def test_connects_together_read_their_statuses_once(node: Any) -> None:
    store = node.storage.contacts
    await store.set_user_settings("ann", {"presence": "busy", "status_text": "meeting"})
    await store.set_user_settings("bob", {"presence": "away"})
    reads: list[list[str]] = []
    real = store.user_settings_many

    async def counted(user_ids: list[str]) -> Any:
        reads.append(sorted(user_ids))
        return await real(user_ids)

    store.user_settings_many = counted
    p = node.presence
    assert all(await asyncio.gather(*(p.connected(u, f"s-{u}", "d") for u in ("ann", "bob", "cid"))))
    assert reads == [["ann", "bob", "cid"]]
    assert await p.status("ann") == ("busy", "meeting")
    assert await p.status("bob") == ("away", "")
    assert await p.status("cid") == ("online", "")


async def test_a_flush_reads_contacts_in_bulk_and_pushes_as_before(node: Any) -> None:
    c, p = node.contacts, node.presence
    for a, b in (("ann", "bob"), ("ann", "cid"), ("dan", "bob")):
        await node.storage.contacts.add_friendship(a, b, 1)
    await c.block("cid", "ann")  # cid blocked ann: ann's status is not pushed to cid
    c.invalidate_all()
    bulk: list[tuple[list[str], bool]] = []
    real = node.storage.contacts.contact_sets

    async def counted(user_ids: list[str], *, friends: bool = True) -> Any:
        bulk.append((sorted(user_ids), friends))
        return await real(user_ids, friends=friends)

    node.storage.contacts.contact_sets = counted
    for u in ("ann", "dan"):
        assert await p.connected(u, f"s-{u}", "d")
    node.pushes.clear()
    assert await p.flush() == 2
    assert bulk == [(["ann", "dan"], True), (["bob", "cid"], False)]
    got = {evt["user"]: users for users, evt in node.pushes}
    assert got == {"ann": {"bob"}, "dan": {"bob"}}
    await c.unblock("cid", "ann")  # the bus drops cid's cached set: the next push sees it
    await asyncio.sleep(0.05)
    p.disconnected("ann", "s-ann")
    await asyncio.sleep(0.05)
    node.pushes.clear()
    assert await p.flush() == 1
    assert node.pushes[0][0] == {"bob", "cid"} and node.pushes[0][1]["status"] == "offline"
