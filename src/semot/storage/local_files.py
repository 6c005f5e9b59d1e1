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
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from semot.datadir import DIR_MODE, FILE_MODE, ensure_private_dir
from semot.storage.files import BlobMissing, BlobStore, StorageFull

_BATCH = 1024 * 1024  # bytes handed to the writing thread at a time


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
        fd = await self._open(key, os.O_WRONLY)
        written = 0
        try:
            await asyncio.to_thread(os.ftruncate, fd, offset)  # bytes beyond a recorded offset are stale
            batch: list[bytes] = []
            pending = 0
            async for chunk in chunks:
                if not chunk:
                    continue
                batch.append(chunk)
                pending += len(chunk)
                if pending >= _BATCH:
                    await asyncio.to_thread(_pwrite_all, fd, b"".join(batch), offset + written)
                    written += pending
                    batch, pending = [], 0
            if batch:
                await asyncio.to_thread(_pwrite_all, fd, b"".join(batch), offset + written)
                written += pending
            await asyncio.to_thread(os.fsync, fd)
        except BaseException as exc:
            # the disk filled, the client went away, the task was cancelled: keep nothing of it
            with contextlib.suppress(OSError):
                await asyncio.shield(asyncio.to_thread(_cut, fd, offset))
            await asyncio.to_thread(os.close, fd)
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
