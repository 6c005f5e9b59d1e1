"""The FileStorage contract (uploads' records and references), on every backend."""

from __future__ import annotations

import pytest

from semot.domain.files import REF_AVATAR, REF_MESSAGE, FileRecord, FileRef
from semot.storage.base import Storage
from tests.contract.test_storage import dm, user

pytestmark = pytest.mark.asyncio


def upload(file_id: str, owner: str = "alice", size: int = 100, expires_at: int = 10_000) -> FileRecord:
    return FileRecord(file_id, owner, "a.bin", size, 0, "application/octet-stream", created_at=1, expires_at=expires_at)


async def test_an_upload_advances_and_completes(storage: Storage) -> None:
    files = storage.files
    await files.create_file(upload("f1"))
    got = await files.get_file("f1")
    assert got == upload("f1") and not got.complete
    assert await files.get_file("nope") is None
    assert await files.advance_offset("f1", 0, 40)
    assert not await files.advance_offset("f1", 0, 80)  # someone else moved it: compare-and-set
    assert (await files.get_file("f1")).offset == 40  # type: ignore[union-attr]
    assert await files.advance_offset("f1", 40, 100)
    assert await files.complete_file("f1", mime="image/png", sha256="ab" * 32, w=3, h=2, duration_ms=None, now=50)
    done = await files.get_file("f1")
    assert done is not None and done.complete and done.expires_at is None
    assert (done.mime, done.sha256, done.w, done.h, done.offset, done.completed_at) == ("image/png", "ab" * 32, 3, 2, 100, 50)
    assert not await files.complete_file("f1", mime="x/y", sha256="", w=None, h=None, duration_ms=None, now=60)
    assert not await files.advance_offset("f1", 100, 120)  # a finished file takes no more bytes


async def test_usage_deletion_and_expiry(storage: Storage) -> None:
    files = storage.files
    await files.create_file(upload("a1", size=100, expires_at=500))
    await files.create_file(upload("a2", size=50, expires_at=2_000))
    await files.create_file(upload("b1", owner="bob", size=7))
    assert await files.usage("alice") == 150 and await files.usage("bob") == 7 and await files.usage("carol") == 0
    assert [r.id for r in await files.expired_uploads(1_000, 10)] == ["a1"]
    assert await files.mark_deleted("a1", 1_001)
    assert not await files.mark_deleted("a1", 1_002)
    assert await files.get_file("a1") is None
    assert await files.usage("alice") == 50
    assert not await files.advance_offset("a1", 0, 10)
    assert await files.expired_uploads(1_000, 10) == []


async def test_references_grant_access_and_keep_files(storage: Storage) -> None:
    for u in ("alice", "bob", "carol"):
        await storage.users.create_user(user(u))
    (sent,) = await storage.messages.append_messages([dm("alice", "bob", "c1")])
    assert not isinstance(sent, Exception)
    files = storage.files
    for fid in ("shared", "avatar", "lonely"):
        await files.create_file(upload(fid))
        await files.advance_offset(fid, 0, 100)
        await files.complete_file(fid, mime="image/png", sha256="00" * 32, w=None, h=None, duration_ms=None, now=10)
    assert await files.can_read("shared", "alice") and not await files.can_read("shared", "bob")
    conv, mid = sent.message.conv, sent.message.mid
    await files.add_ref(FileRef("shared", REF_MESSAGE, mid, conv, 20))
    await files.add_ref(FileRef("shared", REF_MESSAGE, mid, conv, 21))  # idempotent
    await files.add_ref(FileRef("avatar", REF_AVATAR, "alice", None, 20))
    assert await files.can_read("shared", "bob")
    assert not await files.can_read("shared", "carol")
    assert not await files.can_read("avatar", "bob")  # an avatar reference names no conversation
    assert not await files.can_read("nope", "alice")
    assert [r.id for r in await files.unreferenced_files(100, 10)] == ["lonely"]
    assert await files.unreferenced_files(5, 10) == []  # still within the grace period
    assert await files.remove_refs(REF_MESSAGE, mid) == 1
    assert not await files.can_read("shared", "bob")
    assert {r.id for r in await files.unreferenced_files(100, 10)} == {"lonely", "shared"}
    assert await files.mark_deleted("avatar", 30)
    assert not await files.can_read("avatar", "alice")
