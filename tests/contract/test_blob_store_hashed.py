"""BlobStore.write_hashed, on every store: the local one's pipelined override (hash and
pwritev of ~4 MiB batches in one thread step, overlapped with receiving) and the
default (S3). Same bytes, same digests, in order; cut back to the start on any error;
no batch still in a thread may land after the cut (a cancelled upload)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from semot.storage.local_files import LocalBlobStore
from tests.contract.test_blob_store import MiB, Reopen, chunks_of, read_all, reopen  # noqa: F401
from tests.support.moto import moto  # noqa: F401


async def test_write_hashed_gives_the_bytes_and_their_digests(reopen: Reopen) -> None:
    blobs = await reopen()
    data = os.urandom(11 * MiB + 12_345)
    await blobs.create("fh")
    whole, part = hashlib.sha256(), hashlib.sha1()
    assert await blobs.write_hashed("fh", 0, chunks_of(data[:1000]), [whole]) == 1000
    # uneven chunks, several batches, the last one short
    n = await blobs.write_hashed("fh", 1000, chunks_of(data[1000:], [65_536, 1, 300_000, 7, 2 * MiB]), [whole, part])
    assert n == len(data) - 1000
    assert whole.hexdigest() == hashlib.sha256(data).hexdigest()
    assert part.digest() == hashlib.sha1(data[1000:]).digest()
    assert await read_all(await reopen(), "fh") == data
    assert await blobs.write_hashed("fh", len(data), chunks_of(b""), [whole]) == 0


@pytest.mark.parametrize("cut", [10, 4 * MiB + 1, 9 * MiB])
async def test_a_failed_hashed_write_is_cut_back(reopen: Reopen, cut: int) -> None:
    blobs = await reopen()
    data = os.urandom(10 * MiB)
    await blobs.create("fc")
    assert await blobs.write_at("fc", 0, chunks_of(data[:5000])) == 5000
    with pytest.raises(ConnectionResetError):
        await blobs.write_hashed("fc", 5000, chunks_of(data[5000:], fail_after=cut), [hashlib.sha256()])
    assert await blobs.size("fc") == 5000
    assert await read_all(blobs, "fc") == data[:5000]


async def test_a_cancelled_hashed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    """Cancelled while a batch is in the worker thread: the cut waits for it."""
    blobs = LocalBlobStore(tmp_path / "files")
    await blobs.create("fx")
    received = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        block = os.urandom(MiB)
        for i in range(10_000):
            yield block
            if i == 8:  # two batches handed to the thread by now
                received.set()

    task = asyncio.create_task(blobs.write_hashed("fx", 0, endless(), [hashlib.sha256()]))
    await asyncio.wait_for(received.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await blobs.size("fx") == 0
    await asyncio.sleep(0.2)  # a late write would show now
    assert await blobs.size("fx") == 0
