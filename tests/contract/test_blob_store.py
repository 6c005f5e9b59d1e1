"""The BlobStore contract, run against every implementation: the local directory and S3
(storage/s3_files.py, through aioboto3 against moto's real S3 API on loopback).

`reopen()` makes a new store object over the same bytes, which is what a restart (or
another node) sees: nothing of an upload's state may live only in the old object.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

import pytest

from semot.storage.files import BlobMissing, BlobStore
from semot.storage.local_files import LocalBlobStore
from semot.storage.s3_files import S3BlobStore
from semot.storage.s3_layout import MIN_PART, Extent, PendingBytes, Segment, coverage, plan_parts
from tests.support.moto import ACCESS_KEY, REGION, SECRET_KEY, MotoServer, moto  # noqa: F401

MiB = 1024 * 1024
Reopen = Callable[[], Awaitable[BlobStore]]


async def chunks_of(data: bytes, sizes: Iterable[int] = (), fail_after: int | None = None) -> AsyncIterator[bytes]:
    """`data` in chunks (of `sizes` in turn, else 64 KiB); raise once `fail_after` bytes went."""
    sizes = list(sizes) or [64 * 1024]
    pos = i = 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        if fail_after is not None and pos + n > fail_after:
            if fail_after > pos:
                yield data[pos:fail_after]
            raise ConnectionResetError("the client went away")
        yield data[pos:pos + n]
        pos += n
        i += 1


async def read_all(blobs: BlobStore, key: str, start: int = 0, end: int | None = None, chunk: int = 256 * 1024) -> bytes:
    if end is None:
        size = await blobs.size(key)
        assert size is not None
        end = size
    return b"".join([c async for c in blobs.read_range(key, start, end, chunk_size=chunk)])


@pytest.fixture(params=["local", "s3"])
async def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Reopen]:
    opened: list[BlobStore] = []
    if request.param == "local":
        def new() -> BlobStore:
            return LocalBlobStore(tmp_path / "files")
    else:
        server: MotoServer = request.getfixturevalue("moto")
        bucket = server.new_bucket()

        def new() -> BlobStore:
            return S3BlobStore(bucket, prefix="files/", endpoint_url=server.url, region=REGION,
                               access_key=ACCESS_KEY, secret_key=SECRET_KEY, part_size=MIN_PART)

    async def make() -> BlobStore:
        store = new()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def test_missing_keys(reopen: Reopen) -> None:
    blobs = await reopen()
    assert await blobs.size("fnothere") is None
    with pytest.raises(BlobMissing):
        await blobs.write_at("fnothere", 0, chunks_of(b"abc"))
    with pytest.raises(BlobMissing):
        await blobs.truncate("fnothere", 0)
    with pytest.raises(BlobMissing):
        await read_all(blobs, "fnothere", 0, 10)
    await blobs.delete("fnothere")  # no error
    assert await blobs.size("fnothere") is None
    for bad in ("", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            await blobs.size(bad)


async def test_create_write_at_offsets_and_ranges(reopen: Reopen) -> None:
    blobs = await reopen()
    await blobs.create("fa")
    assert await blobs.size("fa") == 0
    assert await read_all(blobs, "fa", 0, 0) == b""
    data = os.urandom(300_000)
    assert await blobs.write_at("fa", 0, chunks_of(data[:100_001], [7_000, 33_333])) == 100_001
    assert await blobs.write_at("fa", 100_001, chunks_of(data[100_001:250_000])) == 149_999
    assert await blobs.write_at("fa", 250_000, chunks_of(b"")) == 0
    assert await blobs.write_at("fa", 250_000, chunks_of(data[250_000:])) == 50_000
    assert await blobs.size("fa") == len(data)
    assert await read_all(blobs, "fa") == data
    rnd = random.Random(7)
    for _ in range(20):
        a = rnd.randrange(len(data))
        b = rnd.randrange(a, len(data) + 1)
        assert await read_all(blobs, "fa", a, b, chunk=rnd.choice([1000, 65_536])) == data[a:b]
    assert await read_all(blobs, "fa", len(data) - 10, len(data) + 100) == data[-10:]  # past the end: what there is
    await blobs.create("fa")  # an existing object is emptied
    assert await blobs.size("fa") == 0


async def test_writing_at_an_offset_drops_what_lay_beyond(reopen: Reopen) -> None:
    blobs = await reopen()
    await blobs.create("fb")
    data = os.urandom(200_000)
    await blobs.write_at("fb", 0, chunks_of(data[:50_000]))
    await blobs.write_at("fb", 50_000, chunks_of(data[50_000:]))
    assert await blobs.write_at("fb", 30_000, chunks_of(b"x" * 10)) == 10
    assert await blobs.size("fb") == 30_010
    assert await read_all(blobs, "fb") == data[:30_000] + b"x" * 10
    await blobs.write_at("fb", 0, chunks_of(b"new"))
    assert await read_all(blobs, "fb") == b"new"


@pytest.mark.parametrize("start,cut", [(0, 1), (1_000_000, 2_500_000), (3 * MiB, 4 * MiB), (MIN_PART - 10, 3 * MiB)],
                         ids=["first-byte", "mid", "across-a-part", "just-before-a-part"])
async def test_a_failed_write_is_cut_back_to_where_it_started(reopen: Reopen, start: int, cut: int) -> None:
    blobs = await reopen()
    await blobs.create("fc")
    data = os.urandom(start + cut + 1_000_000)
    if start:
        await blobs.write_at("fc", 0, chunks_of(data[:start], [300_000]))
    with pytest.raises(ConnectionResetError):
        await blobs.write_at("fc", start, chunks_of(data[start:], [1 * MiB], fail_after=cut))
    assert await blobs.size("fc") == start
    assert await read_all(blobs, "fc") == data[:start]
    await blobs.write_at("fc", start, chunks_of(data[start:], [777_777]))
    assert await read_all(blobs, "fc", chunk=MiB) == data


async def test_truncate_cuts_back(reopen: Reopen) -> None:
    blobs = await reopen()
    await blobs.create("fd")
    data = os.urandom(7 * MiB)
    for at in range(0, len(data), MiB):  # 1 MiB PATCHes: a part is merged from several
        await blobs.write_at("fd", at, chunks_of(data[at:at + MiB]))
    await blobs.truncate("fd", 3 * MiB + 5)  # inside the merged first part
    assert await blobs.size("fd") == 3 * MiB + 5
    assert await read_all(blobs, "fd") == data[:3 * MiB + 5]
    await blobs.truncate("fd", 0)
    assert await blobs.size("fd") == 0
    await blobs.write_at("fd", 0, chunks_of(data))
    assert await read_all(blobs, "fd", chunk=MiB) == data


async def test_an_upload_survives_a_new_store_object(reopen: Reopen) -> None:
    data = os.urandom(6 * MiB + 123)
    first = await reopen()
    await first.create("fe")
    await first.write_at("fe", 0, chunks_of(data[:4 * MiB + 1], [1 * MiB]))
    await first.close()
    second = await reopen()  # the restart
    assert await second.size("fe") == 4 * MiB + 1
    await second.write_at("fe", 4 * MiB + 1, chunks_of(data[4 * MiB + 1:], [500_000]))
    await second.complete("fe", len(data))
    third = await reopen()
    assert await third.size("fe") == len(data)
    assert await read_all(third, "fe", chunk=MiB) == data


async def test_a_large_upload_in_uneven_chunks_with_a_restart(reopen: Reopen) -> None:
    rnd = random.Random(12)
    data = rnd.randbytes(12 * MiB + 4321)
    blobs = await reopen()
    await blobs.create("ff")
    offset = 0
    restarted = False
    while offset < len(data):
        patch = min(rnd.randrange(200_000, 3 * MiB), len(data) - offset)
        sizes = [rnd.randrange(1, 300_000) for _ in range(5)]
        if not restarted and offset > 6 * MiB:  # a PATCH cut by a restart (what arrived is kept) ...
            got = await blobs.write_at("ff", offset, chunks_of(data[offset:offset + patch // 2], sizes))
            offset += got
            await blobs.close()
            blobs = await reopen()  # ... and the upload resumed by a new process
            restarted = True
            continue
        assert await blobs.write_at("ff", offset, chunks_of(data[offset:offset + patch], sizes)) == patch
        offset += patch
    assert await blobs.size("ff") == len(data)
    await blobs.complete("ff", len(data))
    await blobs.complete("ff", len(data))  # idempotent
    assert await blobs.size("ff") == len(data)
    got = hashlib.sha256()
    async for chunk in blobs.read_range("ff", 0, len(data), chunk_size=4 * MiB):
        got.update(chunk)
    assert got.hexdigest() == hashlib.sha256(data).hexdigest()
    a, b = 5 * MiB - 3, 10 * MiB + 7  # a range across parts
    assert await read_all(blobs, "ff", a, b) == data[a:b]
    await blobs.delete("ff")
    assert await blobs.size("ff") is None
    with pytest.raises(BlobMissing):
        await read_all(blobs, "ff", 0, 10)


async def test_complete_of_a_short_upload_is_missing_and_empty_files_complete(reopen: Reopen) -> None:
    blobs = await reopen()
    await blobs.create("fg")
    await blobs.write_at("fg", 0, chunks_of(b"0123456789"))
    if isinstance(blobs, S3BlobStore):  # a local file is the file: nothing to check there
        with pytest.raises(BlobMissing):
            await blobs.complete("fg", 11)
    await blobs.complete("fg", 10)
    assert await read_all(blobs, "fg", 3, 6) == b"345"
    await blobs.create("fh")
    await blobs.complete("fh", 0)
    assert await blobs.size("fh") == 0
    assert await read_all(blobs, "fh", 0, 0) == b""


async def test_replace_is_all_or_nothing(reopen: Reopen) -> None:
    blobs = await reopen()
    await blobs.create("fr")
    old = os.urandom(3 * MiB)
    await blobs.write_at("fr", 0, chunks_of(old, [MiB]))
    await blobs.complete("fr", len(old))
    new = os.urandom(11 * MiB + 5)  # more than two parts: a multipart upload on S3
    with pytest.raises(ConnectionResetError):
        await blobs.replace("fr", chunks_of(new, [MiB], fail_after=7 * MiB))
    assert await read_all(blobs, "fr", chunk=MiB) == old  # a failed replace leaves the old bytes
    assert await blobs.replace("fr", chunks_of(new, [700_001])) == len(new)
    assert await blobs.size("fr") == len(new)
    assert await read_all(blobs, "fr", chunk=MiB) == new
    assert await blobs.replace("fr", chunks_of(b"small")) == 5
    assert await read_all(blobs, "fr") == b"small"
    assert await blobs.replace("fr.thumb", chunks_of(b"")) == 0  # a new key, and an empty object
    assert await blobs.size("fr.thumb") == 0


# --- what only S3 has: how an upload maps onto objects


async def test_s3_layout_segments_then_one_object(moto: MotoServer) -> None:
    bucket = moto.new_bucket()
    blobs = S3BlobStore(bucket, prefix="p/", endpoint_url=moto.url, region=REGION, access_key=ACCESS_KEY,
                        secret_key=SECRET_KEY, part_size=MIN_PART)
    try:
        assert SECRET_KEY not in repr(blobs)
        await blobs.create("fk")
        assert moto.keys(bucket) == ["p/.uploads/fk/0000000000000000"]
        data = os.urandom(2 * MIN_PART + 100)
        for at in range(0, len(data), MiB):
            await blobs.write_at("fk", at, chunks_of(data[at:at + MiB]))
        # each full part-sized range was merged into one aligned segment; the tail is in pieces
        staged = moto.keys(bucket, "p/.uploads/fk/")
        assert staged[:2] == [f"p/.uploads/fk/{0:016d}", f"p/.uploads/fk/{MIN_PART:016d}"]
        sizes = {o["Key"]: o["Size"] for o in moto.client().list_objects_v2(Bucket=bucket)["Contents"]}
        assert sizes[staged[0]] == sizes[staged[1]] == MIN_PART
        await blobs.complete("fk", len(data))
        assert moto.keys(bucket) == ["p/fk"]  # the segments are gone
        head = moto.client().head_object(Bucket=bucket, Key="p/fk")
        assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')  # three parts, copied in S3
        assert moto.client().get_object(Bucket=bucket, Key="p/fk")["Body"].read() == data
        await blobs.delete("fk")
        assert moto.keys(bucket) == []
    finally:
        await blobs.close()


def test_coverage_and_part_plans() -> None:
    seg = Segment
    assert coverage([]) is None
    assert coverage([seg(5, 5, "b")]) is None  # no segment 0: the upload is not there
    assert coverage([seg(0, 0, "a")]) == ([], 0)
    # a gap ends the file; a segment inside another is skipped; an overlap is trimmed
    extents, end = coverage([seg(0, 10, "a"), seg(3, 4, "in"), seg(8, 6, "over"), seg(20, 5, "far")]) or ([], -1)
    assert end == 14
    assert extents == [Extent(0, 10, "a", 0), Extent(10, 4, "over", 2)]
    exts = [Extent(0, 8, "a", 0), Extent(8, 2, "b", 0), Extent(10, 2, "c", 0), Extent(12, 9, "d", 0), Extent(21, 3, "e", 0)]
    assert plan_parts(exts, 24, 5) == [[exts[0]], [exts[1], exts[2], exts[3]], [exts[4]]]
    assert plan_parts(exts, 9, 5) == [[exts[0]], [Extent(8, 1, "b", 0)]]  # clipped to the size


def test_pending_bytes_cut_at_any_place() -> None:
    pending = PendingBytes()
    for chunk in (b"abc", b"", b"defgh", b"ij"):
        pending.add(chunk)
    assert pending.size == 10
    assert pending.take(4, b"xy") == b"xyabcd"
    assert pending.take(0) == b"" and pending.size == 6
    assert pending.take(6) == b"efghij" and pending.size == 0
