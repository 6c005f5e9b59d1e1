"""The storage interfaces of files: their bytes (BlobStore) and their records (FileStorage).

BlobStore keeps bytes under a key and never holds a whole file in memory: writes take
an async iterable of chunks at an offset, reads yield chunks of a range. The local
implementation (local_files.py) writes a file per key under the data directory; an S3
one fits the same shape (an upload's parts are `write_at` calls at growing offsets,
`complete` is where a multipart upload is finished, `local_path` is None so downloads
stream through `read_range`).

FileStorage is one transaction per method, like every store (storage/base.py).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

from semot.domain.files import FileRecord, FileRef


class StorageFull(Exception):
    """The byte store has no room left (ENOSPC, a quota of the volume): nothing of the
    failed write is kept."""


class BlobMissing(Exception):
    """The object is not there (removed behind the server's back, or by the collector)."""


class Hasher(Protocol):
    """What `write_hashed` feeds: a hashlib object (sha256 of the file, a chunk's checksum)."""

    def update(self, data: bytes, /) -> None: ...


HASH_BATCH = 1024 * 1024  # the default write_hashed hashes this much per worker-thread hop


class BlobStore(abc.ABC):
    @abc.abstractmethod
    async def create(self, key: str) -> None:
        """An empty object under `key` (an existing one is emptied)."""

    @abc.abstractmethod
    async def write_at(self, key: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        """Write `chunks` starting at `offset`, dropping whatever lay beyond it, and
        make them durable before returning how many bytes were written. On any error
        (StorageFull, the client going away) the object is cut back to `offset`.
        BlobMissing when there is no such object (it is never created here: a hole of
        zeros would pass for the bytes that were lost)."""

    @abc.abstractmethod
    async def truncate(self, key: str, size: int) -> None:
        """Cut the object to `size` bytes (a chunk that failed its checksum)."""

    @abc.abstractmethod
    async def size(self, key: str) -> int | None:
        """Stored length, or None when there is no such object."""

    @abc.abstractmethod
    def read_range(self, key: str, start: int, end: int, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (exclusive), in chunks."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; no error when it is already gone."""

    async def write_hashed(
        self, key: str, offset: int, chunks: AsyncIterable[bytes], hashers: Sequence[Hasher]
    ) -> int:
        """`write_at`, with every byte written also fed to `hashers`, in order (an upload's
        sha256 and its chunk checksum). This default hashes batches of ~1 MiB in a worker
        thread (hashlib releases the GIL) before handing them to `write_at`, so the event
        loop never spends milliseconds hashing; the local store overrides it to hash and
        write in one thread hop, overlapped with receiving the next batch."""

        def digest(batch: bytes) -> None:
            for h in hashers:
                h.update(batch)

        async def hashed() -> AsyncIterator[bytes]:
            pending: list[bytes] = []
            size = 0
            async for chunk in chunks:
                pending.append(chunk)
                size += len(chunk)
                if size >= HASH_BATCH:
                    batch = b"".join(pending)
                    pending, size = [], 0
                    await asyncio.to_thread(digest, batch)
                    yield batch
            if pending:
                batch = b"".join(pending)
                digest(batch)
                yield batch

        return await self.write_at(key, offset, hashed())

    async def replace(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Make `chunks` the whole object under `key` in one step: a reader (or a crash)
        sees the old bytes or the new ones, never a mix; how many bytes were written.
        Used to rewrite a finished upload (location metadata removed). This default is
        not atomic (it empties the object and writes it again): stores override it (a
        rename on a disk, a single PUT or multipart upload on S3)."""
        await self.create(key)
        return await self.write_at(key, 0, chunks)

    def local_path(self, key: str) -> Path | None:
        """A path the server may hand to sendfile, when the bytes are on a local disk."""
        return None

    async def complete(self, key: str, size: int) -> None:
        """The upload is whole (`size` bytes): make it the finished object, read-only from
        now on. A no-op where the bytes already are the file (a local disk); S3 assembles
        its staged segments into one object here (storage/s3_files.py). Idempotent.
        BlobMissing when fewer than `size` bytes are stored."""
        return None

    async def close(self) -> None:
        """Release connections (an S3 client's pool) at shutdown."""
        return None


class FileStorage(abc.ABC):
    @abc.abstractmethod
    async def create_file(self, record: FileRecord) -> None: ...

    @abc.abstractmethod
    async def get_file(self, file_id: str) -> FileRecord | None:
        """The record, None when unknown or deleted."""

    @abc.abstractmethod
    async def advance_offset(self, file_id: str, old: int, new: int) -> bool:
        """Move the offset from `old` to `new`; False (nothing changed) when the stored
        offset is not `old` any more (another writer got there first)."""

    @abc.abstractmethod
    async def complete_file(
        self, file_id: str, *, mime: str, sha256: str, w: int | None, h: int | None, duration_ms: int | None, now: int
    ) -> bool:
        """Record what the bytes are; clears `expires_at`. False if it was not an upload."""

    @abc.abstractmethod
    async def mark_deleted(self, file_id: str, now: int) -> bool:
        """The file is gone for everyone (its references go with it); False if it already was."""

    @abc.abstractmethod
    async def usage(self, owner: str) -> int:
        """Bytes counted against `owner`'s quota: the sizes of their live files and uploads."""

    @abc.abstractmethod
    async def add_ref(self, ref: FileRef) -> None:
        """Idempotent on (file_id, kind, ref)."""

    @abc.abstractmethod
    async def remove_refs(self, kind: str, ref: str) -> int: ...

    @abc.abstractmethod
    async def can_read(self, file_id: str, user_id: str) -> bool:
        """Whether `user_id` uploaded the file, is a member of a conversation in which a
        message referencing it was sent (file_refs with a `conv`), or was a member of one
        and left (conv_departures) after such a message was sent (its ref's created_at).
        Recalled and burned messages have no reference (their store deletes it)."""

    @abc.abstractmethod
    async def expired_uploads(self, now: int, limit: int) -> list[FileRecord]:
        """Unfinished, undeleted uploads whose `expires_at` has passed."""

    @abc.abstractmethod
    async def unreferenced_files(self, completed_before: int, limit: int) -> list[FileRecord]:
        """Complete, undeleted files finished before `completed_before` that nothing references."""
