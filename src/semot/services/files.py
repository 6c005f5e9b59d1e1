"""Files: tus uploads (PROTOCOL.md §6), who may read a file, and cleaning up after them.

The bytes go to a BlobStore, the record to FileStorage; the offset in the record only
ever moves after the bytes it covers are durable (`BlobStore.write_at` fsyncs), so a
restart or a crash resumes from an offset that is true. A PATCH whose client goes away
keeps what arrived (that is what resuming is for) unless it carried `Upload-Checksum`:
a chunk that cannot be verified is discarded whole, as is one that fails its checksum.

The sha256 of the whole file is computed as the bytes arrive, in memory, per upload;
when a PATCH starts at an offset this node has not hashed up to (after a restart, or
on another node) the file is hashed again from the start when it completes, in a worker
thread (sha256 ran at about 250 MB/s on the 2-core test machine: some 4 s per GiB, paid
only by uploads that were resumed across a restart or a node).

On completion (services/media_pipeline.py) the type is sniffed from the bytes, location
metadata is taken out of pictures, pictures are measured and thumbnailed, sound and
video probed with ffmpeg; then the record is completed and a typed `file` event (change
`uploaded`) goes to the uploader's devices through the event publisher, where the
webhooks (`file.uploaded`) will listen. A thumbnail is an object of its own in the
BlobStore (media_pipeline.thumb_key) and goes with its file.

A background task removes uploads past their `Upload-Expires` and finished files that
nothing references once `file_gc_grace_s` has passed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from semot.domain.files import FileRecord
from semot.errors import BadRequest, Conflict, NotFound, SemotError, TooLarge
from semot.ids import now_ms
from semot.protocol.events import FileEvent, FileUploaded
from semot.services import file_media
from semot.services.events import EventPublisher
from semot.services.media_pipeline import MediaPipeline, thumb_key
from semot.services.media_probe import Ffmpeg
from semot.services.short_cache import ShortCache
from semot.services.thumbnails import MediaWorkers
from semot.storage.files import BlobMissing, BlobStore, FileStorage, StorageFull

log = logging.getLogger(__name__)

CHECKSUMS = ("sha256", "sha1")
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_GC_BATCH = 200
READ_CACHE_S = 2.0  # how stale a download's cached record or token owner may be (FileService._finished, token_user)


class ChecksumMismatch(SemotError):
    """tus checksum extension: the chunk does not match `Upload-Checksum` (460)."""

    code = "bad_request"
    http_status = 460


class InsufficientStorage(SemotError):
    """The server's disk is full: nothing of the chunk was kept, the offset did not move (507)."""

    code = "unavailable"
    http_status = 507


class UploadBody(Protocol):
    """A PATCH body as the API hands it over: chunks, and whether the client went away
    before sending all it announced (the chunks then simply end)."""

    interrupted: bool

    def __aiter__(self) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True, slots=True)
class FileLimits:
    max_bytes: int
    quota_bytes: int  # 0: none
    expiry_s: int
    gc_grace_s: int
    gc_interval_s: float
    url_ttl_s: int
    max_image_pixels: int
    strip_gps: bool = True  # location metadata out of JPEG/PNG/WebP on completion
    media_workers: int = 0  # decoders at once; 0: one fewer than the cores, at least one
    media_timeout_s: float = 30.0  # an ffmpeg/ffprobe run is killed after this


class UrlSigner:
    """URLs that work without a token for a while: `?exp=<ms>&sig=<hmac>`, the HMAC
    (SHA-256, with a key derived from the server secret) bound to the file and the purpose
    (`content`, `thumb`), so a signature for one never opens another."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._key = hashlib.sha256(b"semot-file-url\x00" + secret.encode()).digest()
        self.ttl_s = ttl_s

    def _mac(self, file_id: str, purpose: str, exp: int) -> str:
        mac = hmac.new(self._key, f"{file_id}\x00{purpose}\x00{exp}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")

    def query(self, file_id: str, purpose: str, now: int | None = None) -> str:
        # rounded up to the minute, so the URLs of one message stay the same for a while (browser caches)
        exp = ((now or now_ms()) // 60_000 + 1) * 60_000 + self.ttl_s * 1000
        return f"exp={exp}&sig={self._mac(file_id, purpose, exp)}"

    def valid(self, file_id: str, purpose: str, exp: int, sig: str, now: int | None = None) -> bool:
        if exp < (now or now_ms()):
            return False
        return hmac.compare_digest(self._mac(file_id, purpose, exp), sig)


def parse_metadata(raw: str) -> dict[str, str]:
    """tus `Upload-Metadata`: comma-separated `key base64value` pairs (a key alone is allowed)."""
    out: dict[str, str] = {}
    for pair in raw.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        if not key or not key.isascii() or " " in value.strip():
            raise BadRequest("Upload-Metadata: expected comma-separated 'key base64value' pairs")
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except binascii.Error:
            raise BadRequest(f"Upload-Metadata: the value of {key!r} is not base64") from None
        # tus allows any bytes; names are shown as text: invalid UTF-8 is replaced, NULs dropped
        out[key] = decoded.decode("utf-8", "replace").replace("\x00", "")
    return out


def parse_checksum(raw: str) -> tuple[str, bytes]:
    algo, _, value = raw.strip().partition(" ")
    if algo not in CHECKSUMS:
        raise BadRequest(f"Upload-Checksum: unsupported algorithm {algo!r} (supported: {', '.join(CHECKSUMS)})")
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise BadRequest("Upload-Checksum: the digest is not base64") from None
    if len(digest) != hashlib.new(algo).digest_size:
        raise BadRequest(f"Upload-Checksum: a {algo} digest is {hashlib.new(algo).digest_size} bytes")
    return algo, digest


def _declared_type(raw: str) -> str:
    raw = raw.strip().lower()
    return raw if _MIME.fullmatch(raw) else file_media.OCTET


class FileService:
    def __init__(self, store: FileStorage, blobs: BlobStore, events: EventPublisher, limits: FileLimits,
                 signer: UrlSigner) -> None:
        self._store = store
        self._blobs = blobs
        self._events = events
        self.limits = limits
        self.signer = signer
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # file id -> (lock, requests holding or awaiting it)
        self._hashes: dict[str, tuple[int, Any]] = {}  # file id -> (bytes hashed, sha256 state)
        self._gc: asyncio.Task[None] | None = None
        # downloads: finished files' records and whose token is whose, for READ_CACHE_S
        # (see `_finished`, `token_user`)
        self._records: ShortCache[str, FileRecord] = ShortCache(READ_CACHE_S)
        self._token_users: ShortCache[str, str] = ShortCache(READ_CACHE_S)
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = limits.max_image_pixels  # Pillow's own bomb guard, process-wide
        self.media = MediaPipeline(
            blobs, MediaWorkers(limits.media_workers), Ffmpeg.find(limits.media_timeout_s),
            max_pixels=limits.max_image_pixels, strip_gps=limits.strip_gps,
        )

    # --- lifecycle
    def start(self) -> None:
        self._gc = asyncio.create_task(self._gc_loop(), name="semot-file-gc")

    async def stop(self) -> None:
        if self._gc is not None:
            self._gc.cancel()
            await asyncio.gather(self._gc, return_exceptions=True)
        self.media.workers.close()
        await self._blobs.close()  # an S3 client's connection pool

    # --- tus
    async def create(self, owner: str, length: int, metadata: dict[str, str]) -> FileRecord:
        if length > self.limits.max_bytes:
            raise TooLarge(f"files may be at most {self.limits.max_bytes} bytes")
        if self.limits.quota_bytes:
            used = await self._store.usage(owner)
            if used + length > self.limits.quota_bytes:
                raise TooLarge(f"over your storage quota ({used} of {self.limits.quota_bytes} bytes used)")
        now = now_ms()
        record = FileRecord(
            id="f" + secrets.token_hex(16),
            owner=owner,
            name=file_media.clean_name(metadata.get("filename") or metadata.get("name") or ""),
            size=length,
            offset=0,
            mime=_declared_type(metadata.get("filetype", "")),  # the client's word, until sniffed
            created_at=now,
            expires_at=now + self.limits.expiry_s * 1000,
        )
        try:
            await self._blobs.create(record.id)
        except StorageFull:
            raise InsufficientStorage("the server's file storage is full") from None
        await self._store.create_file(record)
        if length == 0:
            return await self._complete(record)
        return record

    async def upload(self, owner: str, file_id: str) -> FileRecord:
        """The caller's own upload (finished or not): someone else's is not found, as a
        file that does not exist, nor is one past its expiry."""
        record = await self._store.get_file(file_id)
        if record is None or record.owner != owner:
            raise NotFound("no such upload")
        if not record.complete and record.expires_at is not None and record.expires_at < now_ms():
            raise NotFound("this upload expired")
        return record

    async def append(
        self, owner: str, file_id: str, offset: int, body: UploadBody, checksum: tuple[str, bytes] | None
    ) -> FileRecord:
        # one PATCH at a time per upload on this node (a client that reconnects waits for its old request)
        lock, users = self._locks.get(file_id) or (asyncio.Lock(), 0)
        self._locks[file_id] = (lock, users + 1)
        try:
            async with lock:
                return await self._append(owner, file_id, offset, body, checksum)
        finally:
            lock, users = self._locks[file_id]
            if users == 1:
                del self._locks[file_id]
            else:
                self._locks[file_id] = (lock, users - 1)

    async def _append(
        self, owner: str, file_id: str, offset: int, body: UploadBody, checksum: tuple[str, bytes] | None
    ) -> FileRecord:
        record = await self.upload(owner, file_id)
        if record.complete:
            raise Conflict("this upload is already complete")
        if offset != record.offset:
            raise Conflict(f"Upload-Offset is {offset} but the upload is at {record.offset}")
        remaining = record.size - offset
        known = self._hashes.get(file_id)
        whole = known[1].copy() if known is not None and known[0] == offset else None
        if whole is None and offset == 0:
            whole = hashlib.sha256()
        chunk_hash = hashlib.new(checksum[0]) if checksum else None

        hashers = [h for h in (whole, chunk_hash) if h is not None]

        async def bounded() -> AsyncIterator[bytes]:
            # the chunks as received (no joining here): the store hashes and writes them
            # in a worker thread, a batch at a time, while the next batch is received
            seen = 0
            async for chunk in body:
                seen += len(chunk)
                if seen > remaining:
                    raise TooLarge(f"the body goes past Upload-Length ({record.size} bytes)")
                yield chunk

        try:
            written = await self._blobs.write_hashed(file_id, offset, bounded(), hashers)
        except BlobMissing:
            await self._lost(record)
            raise NotFound("this upload's bytes are gone from the server: start a new upload") from None
        except StorageFull:
            log.error("file storage full: a chunk of %s (%s) was refused", file_id, owner)
            raise InsufficientStorage("the server's file storage is full: nothing of this chunk was kept") from None
        if chunk_hash is not None and checksum is not None and (body.interrupted or chunk_hash.digest() != checksum[1]):
            await self._blobs.truncate(file_id, offset)
            if body.interrupted:
                raise BadRequest("the chunk was cut short: it cannot be verified, nothing of it was kept")
            raise ChecksumMismatch(f"the chunk does not match its {checksum[0]} checksum: nothing of it was kept")
        if written and not await self._store.advance_offset(file_id, offset, offset + written):
            raise Conflict("another request moved this upload's offset")
        record.offset = offset + written
        if whole is not None:
            self._hashes[file_id] = (record.offset, whole)
        if record.offset == record.size:
            return await self._complete(record)
        return record

    async def terminate(self, owner: str, file_id: str) -> None:
        record = await self.upload(owner, file_id)
        await self._remove(record)

    # --- completion
    async def _complete(self, record: FileRecord) -> FileRecord:
        try:
            await self._blobs.complete(record.id, record.size)  # S3: the staged segments become one object
        except BlobMissing:
            await self._lost(record)
            raise NotFound("this upload's bytes are gone from the server: start a new upload") from None
        except StorageFull:
            log.error("file storage full: upload %s (%s) could not be assembled", record.id, record.owner)
            raise InsufficientStorage("the server's file storage is full: the upload could not be finished") from None
        known = self._hashes.pop(record.id, None)
        if known is not None and known[0] == record.size:
            sha = str(known[1].hexdigest())
        else:
            sha = await self._rehash(record.id, record.size)
        try:
            media = await self.media.process(record.id, record.size, sha)
        except StorageFull:
            raise InsufficientStorage("the server's file storage is full: the upload could not be finished") from None
        if media.thumb is not None:  # before the record is complete: nobody can ask for it yet
            await self._blobs.replace(thumb_key(record.id), _once(media.thumb))
        now = now_ms()
        if not await self._store.complete_file(
            record.id, mime=media.mime, sha256=media.sha256, w=media.w, h=media.h, duration_ms=media.duration_ms,
            now=now,
        ):
            await self._blobs.delete(thumb_key(record.id))
            raise Conflict("this upload is no longer in progress")
        record.mime, record.sha256, record.w, record.h = media.mime, media.sha256, media.w, media.h
        record.duration_ms = media.duration_ms
        record.completed_at, record.expires_at = now, None
        self._events.publish(
            [record.owner],
            FileEvent(change=FileUploaded(
                file_id=record.id, name=record.name, size=record.size, mime=record.mime, sha256=media.sha256,
                w=media.w, h=media.h,
            )),
        )
        return record

    async def _rehash(self, file_id: str, size: int) -> str:
        h = hashlib.sha256()
        async for chunk in self._blobs.read_range(file_id, 0, size, chunk_size=4 * 1024 * 1024):
            await asyncio.to_thread(h.update, chunk)  # hashlib releases the GIL on large buffers
        return h.hexdigest()

    # --- reading
    async def readable(self, user_id: str, file_id: str) -> FileRecord:
        """A finished file `user_id` may read; NotFound otherwise (never says which).
        Whether they may is asked every time (a recall, a burn, leaving a group take
        effect at once); the record may come from `_finished`."""
        record = await self._finished(file_id)
        if record is None or not await self._store.can_read(file_id, user_id):
            raise NotFound("no such file")
        return record

    async def _finished(self, file_id: str) -> FileRecord | None:
        """A finished file's record, remembered on this node for READ_CACHE_S (a chat's
        pictures are asked for again and again; each look-up was a quarter of a GET's
        cost). Safe: a finished file's record never changes, only its deletion, and a
        download checks the bytes anyway (`open_local`, `check_bytes`: a deleted file's are
        gone), so a deletion on another node shows in /info and /thumb within
        READ_CACHE_S at worst, and this node's own at once (`_remove`)."""
        cached = self._records.get(file_id)
        if cached is not None:
            return cached
        record = await self._store.get_file(file_id)
        if record is None or not record.complete:
            return None
        self._records.put(file_id, record)
        return record

    def token_user(self, access_token: str) -> str | None:
        """The user id a bearer token was last found to belong to (`remember_token`),
        within READ_CACHE_S; the caller still verifies the token's signature and expiry."""
        return self._token_users.get(access_token)

    def remember_token(self, access_token: str, user_id: str) -> None:
        """After a full check (user exists, enabled, login alive): downloads with this
        token skip those database look-ups for READ_CACHE_S. A logout, a disabled
        account or a password change therefore stops file downloads within
        READ_CACHE_S (everything else at once)."""
        self._token_users.put(access_token, user_id)

    async def signed(self, file_id: str, purpose: str, exp: int, sig: str) -> FileRecord:
        if not self.signer.valid(file_id, purpose, exp, sig):
            raise NotFound("this link is invalid or expired")
        record = await self._finished(file_id)
        if record is None:
            raise NotFound("no such file")
        return record

    async def check_bytes(self, record: FileRecord) -> None:
        """Before a download starts: the bytes are all there (else the reply would break
        off after its headers). A file whose bytes vanished is removed, and said so."""
        if await self._blobs.size(record.id) != record.size:
            await self._lost(record)
            raise NotFound("this file's bytes are gone from the server")

    async def open_local(self, record: FileRecord) -> int | None:
        """A read-only descriptor of the file's bytes when the store keeps them on a local
        disk (for sendfile; the caller closes it), None otherwise (S3: `check_bytes`, then
        `read`). Like check_bytes, a file whose bytes vanished or were cut is removed."""
        path = self._blobs.local_path(record.id)
        if path is None:
            return None
        try:
            fd, size = await asyncio.to_thread(_open_sized, str(path))
        except FileNotFoundError:
            fd, size = -1, -1
        if size != record.size:
            if fd >= 0:
                os.close(fd)
            await self._lost(record)
            raise NotFound("this file's bytes are gone from the server")
        return fd

    def read(self, record: FileRecord, start: int, end: int) -> AsyncIterator[bytes]:
        return self._blobs.read_range(record.id, start, end)

    async def thumb(self, record: FileRecord) -> bytes:
        """The thumbnail's bytes (JPEG or WebP, small: read whole); NotFound, saying why,
        for a file that has none."""
        if not record.mime.startswith(("image/", "video/")):
            raise NotFound(f"no thumbnail: only images and videos have one (this file is {record.mime})")
        key = thumb_key(record.id)
        size = await self._blobs.size(key)
        if not size:
            raise NotFound("no thumbnail: this file could not be decoded (too large, damaged, or no frame to take)")
        data = b""
        async for chunk in self._blobs.read_range(key, 0, size):
            data += chunk
        return data

    async def _lost(self, record: FileRecord) -> None:
        log.error("the bytes of file %s (%s) are missing or cut short in the file store: removing it", record.id,
                  record.owner)
        await self._remove(record)

    # --- cleaning up
    async def _remove(self, record: FileRecord) -> bool:
        self._records.drop(lambda key: key == record.id)
        if not await self._store.mark_deleted(record.id, now_ms()):
            return False
        self._hashes.pop(record.id, None)
        await self._blobs.delete(record.id)
        await self._blobs.delete(thumb_key(record.id))
        return True

    async def sweep(self, now: int | None = None) -> int:
        """One pass of the collector: expired uploads, then unreferenced files; how many went."""
        now = now or now_ms()
        removed = 0
        for record in await self._store.expired_uploads(now, _GC_BATCH):
            if record.id not in self._locks:  # not while a PATCH is writing it
                removed += await self._remove(record)
        for record in await self._store.unreferenced_files(now - self.limits.gc_grace_s * 1000, _GC_BATCH):
            removed += await self._remove(record)
        return removed

    async def _gc_loop(self) -> None:
        while True:
            await asyncio.sleep(self.limits.gc_interval_s)
            try:
                removed = await self.sweep()
                if removed:
                    log.info("file collector removed %d expired or unreferenced file(s)", removed)
            except Exception:
                log.exception("the file collector failed")



def _open_sized(path: str) -> tuple[int, int]:
    fd = os.open(path, os.O_RDONLY)
    return fd, os.fstat(fd).st_size


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
