"""LocalBlobStore: each object a file under `<data_dir>/files/`, 0600, in 0700 directories.

Keys are spread over 256 sub-directories (the first two characters of the key's hash),
so no directory grows huge. Writes run in a worker thread a batch (about 1 MiB) at a
time, so a slow disk or a network filesystem (several nodes may share the directory)
never blocks the event loop; `write_at` fsyncs before it returns, so an offset that the
caller records afterwards never points past durable bytes, and a partial upload
survives a restart or a crash. A failed write (disk full, the client gone) cuts the
file back to where it started: nothing half-written is ever counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import threading
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from pathlib import Path

from semot.datadir import DIR_MODE, FILE_MODE, ensure_private_dir
from semot.storage.files import BlobMissing, BlobStore, Hasher, StorageFull

_HASHED_BATCH = 1024 * 1024  # write_hashed: per thread step (4 MiB: 32 MiB PATCHes cost more, benchmarks/README)
_IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)


def _full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self.root = root
        ensure_private_dir(root)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"bad blob key {key!r}")
        shard = hashlib.sha256(key.encode()).hexdigest()[:2]
        return self.root / shard / key

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def _create(self, key: str) -> None:
        path = self._path(key)
        if not path.parent.exists():
            path.parent.mkdir(mode=DIR_MODE, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
            os.fsync(fd)
        finally:
            os.close(fd)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)  # the new name itself survives a crash
        finally:
            os.close(dfd)

    async def create(self, key: str) -> None:
        try:
            await asyncio.to_thread(self._create, key)
        except OSError as exc:
            if _full(exc):
                raise StorageFull(str(exc)) from None
            raise

    async def write_at(self, key: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        # the upload path with nothing to hash: one implementation of the batching, fsync and cut-back
        return await self.write_hashed(key, offset, chunks, ())

    async def write_hashed(
        self, key: str, offset: int, chunks: AsyncIterable[bytes], hashers: Sequence[Hasher]
    ) -> int:
        """The upload path. Each batch (~1 MiB of chunks as received, never joined) is
        hashed and written with one `pwritev` in ONE worker-thread step, and that step is
        not awaited before the next batch has been received: the socket is read while the
        previous batch is hashed and written (at most one batch in the thread and one
        being received, so memory stays bounded). Batches run one after the other, so the
        hashers see the bytes in order. Same guarantees as `write_at`: fsync before
        returning, and on any error the file is cut back to `offset` - after the batch in
        the thread has finished (its step is never cancelled, so a late write cannot land
        after the cut)."""
        fd = await self._open(key, os.O_WRONLY)
        written = 0
        job: asyncio.Future[None] | None = None
        idle = threading.Event()  # set whenever no batch is in the thread
        idle.set()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(os.ftruncate, fd, offset)  # bytes beyond a recorded offset are stale
            batch: list[bytes] = []
            pending = 0
            async for chunk in chunks:
                if not chunk:
                    continue
                batch.append(chunk)
                pending += len(chunk)
                if pending >= _HASHED_BATCH:
                    if job is not None:
                        await asyncio.shield(job)  # its error (ENOSPC) surfaces here
                    idle.clear()
                    job = loop.run_in_executor(None, _hash_and_write, fd, batch, offset + written, hashers, idle)
                    job.add_done_callback(_retrieve)  # an error is raised where it is awaited, or dropped with the cut
                    written += pending
                    batch, pending = [], 0
            if job is not None:
                await asyncio.shield(job)
                job = None
            if batch:
                idle.clear()
                job = loop.run_in_executor(None, _hash_and_write, fd, batch, offset + written, hashers, idle)
                await asyncio.shield(job)
                job = None
                written += pending
            await asyncio.to_thread(os.fsync, fd)
        except BaseException as exc:
            # the disk filled, the client went away, the task was cancelled: keep nothing of it
            await asyncio.shield(asyncio.to_thread(_abandon, fd, offset, idle))
            if isinstance(exc, OSError) and _full(exc):
                raise StorageFull(str(exc)) from None
            raise
        await asyncio.to_thread(os.close, fd)
        return written

    async def replace(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Atomic: the bytes go to a temporary file next to the object (a name no key can
        have), fsynced, then renamed over it and the directory fsynced."""
        path = self._path(key)
        tmp = path.with_name(f".{key}.{os.getpid()}.{id(chunks):x}.tmp")
        if not path.parent.exists():
            await asyncio.to_thread(path.parent.mkdir, mode=DIR_MODE, exist_ok=True)
        fd = await asyncio.to_thread(os.open, tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        written = 0
        try:
            async for chunk in chunks:
                if chunk:
                    await asyncio.to_thread(_pwrite_all, fd, chunk, written)
                    written += len(chunk)
            await asyncio.to_thread(os.fsync, fd)
            await asyncio.to_thread(os.close, fd)
            fd = -1
            await asyncio.to_thread(_rename_durably, tmp, path)
        except BaseException as exc:
            if fd >= 0:
                await asyncio.to_thread(os.close, fd)
            with contextlib.suppress(OSError):
                await asyncio.shield(asyncio.to_thread(os.unlink, tmp))
            if isinstance(exc, OSError) and _full(exc):
                raise StorageFull(str(exc)) from None
            raise
        return written

    async def _open(self, key: str, flags: int) -> int:
        try:
            return await asyncio.to_thread(os.open, self._path(key), flags)
        except FileNotFoundError:
            raise BlobMissing(key) from None

    async def truncate(self, key: str, size: int) -> None:
        try:
            await asyncio.to_thread(_truncate_path, self._path(key), size)
        except FileNotFoundError:
            raise BlobMissing(key) from None

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(os.stat, self._path(key))).st_size
        except FileNotFoundError:
            return None

    async def read_range(self, key: str, start: int, end: int, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        fd = await self._open(key, os.O_RDONLY)
        try:
            pos = start
            while pos < end:
                data = await asyncio.to_thread(os.pread, fd, min(chunk_size, end - pos), pos)
                if not data:
                    break
                pos += len(data)
                yield data
        finally:
            os.close(fd)

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self._path(key))


def _pwrite_all(fd: int, data: bytes, at: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, at)
        view, at = view[n:], at + n


def _hash_and_write(fd: int, chunks: list[bytes], at: int, hashers: Sequence[Hasher], idle: threading.Event) -> None:
    """One batch, in a worker thread: hashed chunk by chunk, then written with pwritev
    (no joined copy); `idle` is set when done, whatever happened."""
    try:
        for chunk in chunks:
            for h in hashers:
                h.update(chunk)
        views = [memoryview(c) for c in chunks]
        while views:
            n = os.pwritev(fd, views[:_IOV_MAX], at)
            at += n
            while n and views:  # drop what was written (a short write leaves part of a chunk)
                if n >= len(views[0]):
                    n -= len(views[0])
                    views.pop(0)
                else:
                    views[0] = views[0][n:]
                    n = 0
    finally:
        idle.set()


def _retrieve(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled():
        fut.exception()


def _abandon(fd: int, offset: int, idle: threading.Event) -> None:
    """After a failed write_hashed: wait for the batch still in a thread, cut back, close."""
    idle.wait()
    try:
        with contextlib.suppress(OSError):
            _cut(fd, offset)
    finally:
        os.close(fd)


def _rename_durably(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _cut(fd: int, size: int) -> None:
    os.ftruncate(fd, size)
    os.fsync(fd)


def _truncate_path(path: Path, size: int) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        _cut(fd, size)
    finally:
        os.close(fd)
