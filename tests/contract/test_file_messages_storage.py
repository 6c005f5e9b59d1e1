"""File messages in storage: the reference a file message writes with itself (every
append path), what recall and burn take away, and what former members keep."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from semot.domain.conversations import direct_conv
from semot.domain.files import FileRecord
from semot.domain.records import AddMembers, AppendResult, CreateGroup, Group, NewMessage, RemoveMember, UpdateGroup
from semot.errors import NotFound
from semot.ids import new_mid, now_ms
from semot.storage.base import Storage
from semot.storage.memory.db import MemoryDb
from semot.storage.memory.files import MemoryFiles
from semot.storage.sql import schema_files as fs
from tests.contract.conftest import sql_parts
from tests.contract.test_storage import user

pytestmark = pytest.mark.asyncio


async def stored_file(storage: Storage, file_id: str, owner: str = "alice") -> None:
    await storage.files.create_file(FileRecord(file_id, owner, "p.png", 10, 0, "image/png", created_at=1, expires_at=99))
    await storage.files.advance_offset(file_id, 0, 10)
    await storage.files.complete_file(file_id, mime="image/png", sha256="0" * 64, w=1, h=1, duration_ms=None, now=5)


def image(conv: str, sender: str, cid: str, file_id: str, ts: int = 1000, **opts: int) -> NewMessage:
    users: Any = tuple(sorted(conv[2:].split(":"))) if conv.startswith("d:") else None
    return NewMessage(conv, sender, cid, "image", {"file_id": file_id, "size": 10}, dict(opts), ts, new_mid(), users)


async def unreferenced(storage: Storage) -> set[str]:
    return {r.id for r in await storage.files.unreferenced_files(10**15, 100)}


async def setup_users(storage: Storage, *names: str) -> None:
    for u in names:
        await storage.users.create_user(user(u))


async def test_a_file_message_grants_its_conversation_access(storage: Storage) -> None:
    await setup_users(storage, "alice", "bob", "carol")
    await stored_file(storage, "f1")
    ab = direct_conv("alice", "bob")
    assert not await storage.files.can_read("f1", "bob")
    first = await storage.messages.append_messages([image(ab, "alice", "c1", "f1")])
    assert isinstance(first[0], AppendResult) and first[0].created
    assert await storage.files.can_read("f1", "bob") and not await storage.files.can_read("f1", "carol")
    assert "f1" not in await unreferenced(storage)
    # a resend of the same cid stores nothing, and a message to a missing group no reference
    again = await storage.messages.append_messages([image(ab, "alice", "c1", "f1"), image("g:nope", "alice", "c2", "f1")])
    assert isinstance(again[0], AppendResult) and not again[0].created
    assert isinstance(again[1], NotFound)
    # forwarding: bob sends it on to carol, who may read it from then on
    bc = direct_conv("bob", "carol")
    await storage.messages.append_messages([image(bc, "bob", "fw", "f1")])
    assert await storage.files.can_read("f1", "carol")
    # recalling alice's message leaves the forwarded copy's access in place
    await storage.messages.recall(ab, 1)
    assert await storage.files.can_read("f1", "carol") and await storage.files.can_read("f1", "bob")
    await storage.messages.recall(bc, 1)
    assert not await storage.files.can_read("f1", "bob") and not await storage.files.can_read("f1", "carol")
    assert await storage.files.can_read("f1", "alice")  # the uploader, always
    assert "f1" in await unreferenced(storage)  # left to the collector


async def test_burning_a_file_message_takes_its_access_away(storage: Storage) -> None:
    await setup_users(storage, "alice", "bob")
    await stored_file(storage, "f2")
    ab = direct_conv("alice", "bob")
    await storage.messages.append_messages([image(ab, "alice", "b1", "f2", burn_s=1)])
    assert await storage.files.can_read("f2", "bob")
    read = await storage.messages.set_read(ab, "bob", 1, 2000)
    assert read.burns == [(1, 3000)]
    assert await storage.messages.claim_due_burns(3000, 10) == [(ab, 1)]
    assert not await storage.files.can_read("f2", "bob")
    assert "f2" in await unreferenced(storage)


async def test_group_notices_path_writes_references_too(storage: Storage) -> None:
    """The path that numbers messages inside a group write's own transaction."""
    await setup_users(storage, "alice", "bob")
    await stored_file(storage, "f3")
    out = await storage.groups.write(
        CreateGroup(Group("g1", "G", "alice", 1), ["bob"], 1), lambda o: [image("g:g1", "alice", "n1", "f3")]
    )
    assert out.notices and out.notices[0].created
    assert await storage.files.can_read("f3", "bob")


async def test_former_members_keep_what_they_saw(storage: Storage) -> None:
    await setup_users(storage, "alice", "bob", "carol")
    for f in ("before", "after", "recalled"):
        await stored_file(storage, f)
    await storage.groups.write(CreateGroup(Group("g2", "G", "alice", 1), ["bob", "carol"], 1))
    sent = now_ms()
    await storage.messages.append_messages(
        [image("g:g2", "alice", "m1", "before", ts=sent), image("g:g2", "alice", "m2", "recalled", ts=sent)]
    )
    await storage.messages.recall("g:g2", 2)
    out = await storage.groups.write(RemoveMember("g2", "bob"))
    assert out.changed
    later = now_ms() + 60_000  # sent after bob left
    await storage.messages.append_messages([image("g:g2", "alice", "m3", "after", ts=later)])
    assert await storage.files.can_read("before", "bob")  # what he saw stays readable
    assert not await storage.files.can_read("after", "bob")
    assert not await storage.files.can_read("recalled", "bob")
    assert await storage.files.can_read("after", "carol")
    # back in the group, then out again: the newest departure counts
    await storage.groups.write(AddMembers("g2", ["bob"], now_ms(), limit=10))
    assert await storage.files.can_read("after", "bob")
    await storage.groups.write(RemoveMember("g2", "bob"))
    assert await storage.files.can_read("before", "bob")
    assert not await storage.files.can_read("after", "bob")  # left before `later`


async def test_dismissing_records_every_members_departure(storage: Storage) -> None:
    await setup_users(storage, "alice", "bob")
    await storage.groups.write(CreateGroup(Group("g3", "G", "alice", 1), ["bob"], 1))
    assert (await storage.groups.write(UpdateGroup("g3", {"dismissed_at": 4242}))).changed
    assert await departures(storage, "g:g3") == {"alice": 4242, "bob": 4242}


async def departures(storage: Storage, conv: str) -> dict[str, int]:
    if isinstance(storage.files, MemoryFiles):
        db: MemoryDb = storage.files.db
        return {u: at for (c, u), at in db.departures.items() if c == conv}
    database, _ = sql_parts(storage)
    d = fs.conv_departures
    async with database.engines.read.connect() as conn:
        rows = await conn.execute(select(d.c.user_id, d.c.left_at).where(d.c.conv == conv))
        return {r.user_id: r.left_at for r in rows}
