"""S3BlobStore: uploaded files' bytes in an S3-compatible bucket (AWS S3, MinIO, Ceph...).

A finished file is one plain object, `<prefix><key>`, read with Range GETs that stream
(the server never holds a whole file). An upload in progress is a set of *segments*,
`<prefix>.uploads/<key>/<start>` (the start offset, 16 digits), each holding the bytes
of the file from `start` on; the object exists while segment 0 does (create() puts an
empty one). Why segments rather than writing the multipart upload's parts as they come:
S3 cannot read back a part of an unfinished multipart upload, and tus needs to: a PATCH
that fails or fails its checksum is cut back to where it started, possibly inside a part
already sent; a restart resumes at the database's offset, which may lie before bytes
S3 already has; and the file is sniffed and re-hashed before it is declared complete.
Segments are ordinary objects: readable, replaceable, listable.

- `write_at` buffers what arrives and PUTs it as a segment at each multiple of the part
  size (`part_size`, 8 MiB by default) and at the end of the body, so a PATCH sent in one
  piece becomes aligned, full-size segments. When a part-sized range was filled by
  several PATCHes (small tus chunks, a cut, a resume), its pieces are merged into one
  aligned segment as soon as the range is full (its earlier pieces are read back: less
  than one part). Memory: about two part sizes per PATCH in flight (17 MiB measured
  with 8 MiB parts), whatever the file's size.
- Each PUT is durable when S3 answers, so `write_at` returns only durable bytes, and the
  state needs nothing local: after a restart, or on another node, a listing of the
  segments *is* the upload (the contiguous bytes from 0). Writing at an offset first drops
  what lies beyond it (segments after it are deleted, the one across it is shortened), so
  bytes beyond a recorded offset (a crash between the PUT and the database) never count.
  A segment's bytes are always the file's bytes at that place, so a crash in the middle
  of a merge (the merged segment and its pieces both there) only leaves overlaps, which
  reading skips.
- `complete` turns the segments into the final object with one multipart upload whose
  parts are copied inside S3 (UploadPartCopy of each aligned segment: no byte comes back
  through the server) - only runs of small pieces (at the resume point of an upload, the
  last part) are read and sent as a part. Small files are one CopyObject or PutObject.
  Then the segments are deleted. Up to 10,000 parts: a larger file gets larger parts.
- `delete` removes the final object, the segments and any multipart upload a crash in
  `complete` left. A bucket lifecycle rule aborting incomplete multipart uploads after a
  day is still a good idea (docs/files-storage.md).

Trade-offs (measured and discussed in docs/files-storage.md): each PATCH costs a LIST
plus one PUT per part size; uploads sent in chunks smaller than a part pay a read and a
second write of each part at the merge; a finished file is stored twice for the moment
of `complete`. A download holds one pooled HTTP connection to S3 for its duration
(`max_connections`). Bodies carry a Content-MD5 hashed in a worker thread instead of
a payload signature botocore would hash in the event loop; botocore's newer CRC
headers are only sent where S3 requires them (older S3-compatible servers refuse them).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError

from semot.storage.files import BlobMissing, BlobStore, StorageFull
from semot.storage.s3_layout import MAX_PARTS, MIN_PART, Extent, PendingBytes, Segment, coverage, plan_parts

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client
    from types_aiobotocore_s3.type_defs import ObjectIdentifierTypeDef

log = logging.getLogger(__name__)

DEFAULT_PART = 8 * 1024 * 1024
_STAGING = ".uploads/"  # no key starts with "." (see _check_key): never a file's own object
_COPY_CONCURRENCY = 4
_MISSING = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchUpload"})
# what S3-compatible servers answer when they are out of room (MinIO, Ceph, quotas)
_FULL = frozenset({"XMinioStorageFull", "StorageFull", "InsufficientStorage", "QuotaExceeded",
                   "XMinioAdminBucketQuotaExceeded", "XMinioAdminObjectQuotaExceeded"})


def _check_key(key: str) -> str:
    if not key or "/" in key or key.startswith(".") or not key.isprintable():
        raise ValueError(f"bad blob key {key!r}")
    return key


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _full(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and (_code(exc) in _FULL or _status(exc) == 507)


class S3BlobStore(BlobStore):
    """See the module docstring. The client is made on first use (in the running event
    loop) and kept, with a pool of `max_connections` HTTP connections; `close` ends it."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        part_size: int = DEFAULT_PART,
        max_connections: int = 64,
    ) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"part_size must be at least {MIN_PART} bytes (S3's smallest part)")
        if prefix.startswith("/"):
            raise ValueError("the prefix must not start with '/'")
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self.part_size = part_size
        self._session = aioboto3.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region or "us-east-1"
        )
        self._config = AioConfig(
            max_pool_connections=max_connections,
            # bodies carry a Content-MD5 computed in a worker thread (S3 checks it; the header
            # is signed) instead of a SHA-256 payload signature botocore would compute in the
            # event loop (~30 ms per 8 MiB part); path-style for MinIO, Ceph and the like
            s3={"payload_signing_enabled": False, **({"addressing_style": "path"} if endpoint_url else {})},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 4, "mode": "standard"},
        )
        self._client: S3Client | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._opening = asyncio.Lock()

    def __repr__(self) -> str:  # never the credentials
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r}, endpoint_url={self.endpoint_url!r})"

    async def _s3(self) -> S3Client:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    stack = contextlib.AsyncExitStack()
                    client = await stack.enter_async_context(
                        self._session.client("s3", endpoint_url=self.endpoint_url, config=self._config)
                    )
                    self._stack, self._client = stack, client
        return self._client

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    # --- names
    def _final(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def _staging(self, key: str) -> str:
        return f"{self.prefix}{_STAGING}{_check_key(key)}/"

    def _segment_name(self, key: str, start: int) -> str:
        return f"{self._staging(key)}{start:016d}"

    # --- small S3 operations
    async def _segments(self, key: str) -> list[Segment]:
        s3 = await self._s3()
        base = self._staging(key)
        out: list[Segment] = []
        token: str | None = None
        while True:
            kw: dict[str, Any] = {"ContinuationToken": token} if token else {}
            page = await s3.list_objects_v2(Bucket=self.bucket, Prefix=base, **kw)
            for obj in page.get("Contents", []):
                name = obj.get("Key", "")
                tail = name[len(base):]
                if tail.isdigit():
                    out.append(Segment(start=int(tail), size=int(obj.get("Size", 0)), name=name))
            if not page.get("IsTruncated"):
                return out
            token = page.get("NextContinuationToken")

    async def _head(self, name: str) -> int | None:
        s3 = await self._s3()
        try:
            return int((await s3.head_object(Bucket=self.bucket, Key=name))["ContentLength"])
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise

    async def _put(self, name: str, data: bytes) -> None:
        s3 = await self._s3()
        await s3.put_object(Bucket=self.bucket, Key=name, Body=data, ContentType="application/octet-stream",
                            ContentMD5=await _md5(data))

    async def _get(self, name: str, skip: int, length: int) -> bytes:
        if length <= 0:
            return b""
        s3 = await self._s3()
        try:
            resp = await s3.get_object(Bucket=self.bucket, Key=name, Range=f"bytes={skip}-{skip + length - 1}")
        except ClientError as exc:
            if _code(exc) in _MISSING or _code(exc) == "InvalidRange":
                raise BlobMissing(f"{name}: gone or shorter than {skip + length} bytes") from None
            raise
        body = resp["Body"]
        async with body:  # (entering hands back the raw aiohttp response: keep botocore's wrapper)
            data = await body.read()
        if len(data) != length:
            raise BlobMissing(f"{name}: {len(data)} bytes where {length} were expected")
        return data

    async def _delete_names(self, names: Sequence[str]) -> None:
        s3 = await self._s3()
        for i in range(0, len(names), 1000):
            batch: list[ObjectIdentifierTypeDef] = [{"Key": n} for n in names[i:i + 1000]]
            reply = await s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            errors = [e for e in reply.get("Errors", []) if e.get("Code") not in _MISSING]
            if errors:
                raise RuntimeError(f"S3 refused to delete {len(errors)} object(s): {errors[0]}")

    async def _read_extents(self, extents: Sequence[Extent], start: int, end: int) -> bytes:
        parts: list[bytes] = []
        for ext in extents:
            lo, hi = max(start, ext.at), min(end, ext.at + ext.length)
            if lo < hi:
                parts.append(await self._get(ext.name, ext.skip + lo - ext.at, hi - lo))
        return b"".join(parts)

    async def _upload(self, key: str) -> tuple[list[Segment], list[Extent], int]:
        """The segments of an upload in progress, its extents and its length."""
        segments = await self._segments(key)
        state = coverage(segments)
        if state is None:
            if not segments and await self._head(self._final(key)) is not None:
                raise ValueError(f"blob {key!r} is complete: it can no longer be written")
            raise BlobMissing(key)
        return segments, *state

    async def _drop_beyond(self, segments: Sequence[Segment], offset: int) -> list[Segment]:
        """Delete what lies at or beyond `offset` (segment 0 stays, maybe empty); the
        segments that remain."""
        doomed = [s.name for s in segments if s.start >= offset and s.start > 0]
        await self._delete_names(doomed)
        kept: list[Segment] = []
        for seg in segments:
            if seg.start >= offset and seg.start > 0:
                continue
            if seg.end > offset:
                await self._put(seg.name, await self._get(seg.name, 0, offset - seg.start))
                seg = Segment(start=seg.start, size=offset - seg.start, name=seg.name)
            kept.append(seg)
        return kept

    # --- BlobStore
    async def create(self, key: str) -> None:
        try:
            await self._delete_names([self._final(key), *(s.name for s in await self._segments(key))])
            await self._put(self._segment_name(key, 0), b"")
        except ClientError as exc:
            if _full(exc):
                raise StorageFull(str(exc)) from None
            raise

    async def write_at(self, key: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        segments, _, end = await self._upload(key)
        if offset > end:
            raise BlobMissing(f"{key}: the bytes before offset {offset} are gone (only {end} are stored)")
        part = self.part_size
        written = 0
        try:
            live = await self._drop_beyond(segments, offset)
            pending = PendingBytes()
            seg_start = offset  # where the pending bytes belong
            boundary = (offset // part + 1) * part
            async for chunk in chunks:
                pending.add(chunk)
                while seg_start + pending.size >= boundary:
                    n = boundary - seg_start
                    range_start = boundary - part
                    if seg_start > range_start:  # earlier pieces of this range: merge them with this one
                        state = coverage(live)
                        assert state is not None
                        data = pending.take(n, await self._read_extents(state[0], range_start, seg_start))
                        await self._put(self._segment_name(key, range_start), data)
                        pieces = [s for s in live if range_start < s.start < boundary]
                        await self._delete_names([s.name for s in pieces])
                        live = [s for s in live if s not in pieces]
                    else:
                        data = pending.take(n)
                        await self._put(self._segment_name(key, seg_start), data)
                    del data
                    live = [s for s in live if s.start != range_start]
                    live.append(Segment(start=range_start, size=part, name=self._segment_name(key, range_start)))
                    written += n
                    seg_start, boundary = boundary, boundary + part
            if pending.size:
                n = pending.size
                await self._put(self._segment_name(key, seg_start), pending.take(n))
                written += n
        except BaseException as exc:
            # S3 refused, the client went away, the task was cancelled: keep nothing of it
            try:
                await asyncio.shield(self._cut(key, offset))
            except Exception:
                log.exception("could not cut upload %s back to %d after a failed write", key, offset)
            if _full(exc):
                raise StorageFull(str(exc)) from None
            raise
        return written

    async def _cut(self, key: str, size: int) -> None:
        await self._drop_beyond(await self._segments(key), size)

    async def truncate(self, key: str, size: int) -> None:
        segments, _, _ = await self._upload(key)
        await self._drop_beyond(segments, size)

    async def size(self, key: str) -> int | None:
        final = await self._head(self._final(key))
        if final is not None:
            return final
        state = coverage(await self._segments(key))
        return None if state is None else state[1]

    async def read_range(self, key: str, start: int, end: int, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        if end <= start:
            if await self.size(key) is None:
                raise BlobMissing(key)
            return
        try:
            resp = await s3.get_object(Bucket=self.bucket, Key=self._final(key), Range=f"bytes={start}-{end - 1}")
        except ClientError as exc:
            if _code(exc) == "InvalidRange":  # starts at or past the end
                if await self.size(key) is None:
                    raise BlobMissing(key) from None
                return
            if _code(exc) not in _MISSING:
                raise
        else:
            body = resp["Body"]
            async with body:
                while data := await _read_up_to(body, chunk_size):
                    yield data
            return
        # an upload in progress (sniffed or hashed before it completes): from its segments
        state = coverage(await self._segments(key))
        if state is None:
            raise BlobMissing(key)
        extents, total = state
        for ext in extents:
            lo, hi = max(start, ext.at), min(end, total, ext.at + ext.length)
            if lo >= hi:
                continue
            resp = await s3.get_object(
                Bucket=self.bucket, Key=ext.name, Range=f"bytes={ext.skip + lo - ext.at}-{ext.skip + hi - ext.at - 1}"
            )
            body = resp["Body"]
            async with body:
                while data := await _read_up_to(body, chunk_size):
                    yield data

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        final = self._final(key)
        await self._delete_names([final, *(s.name for s in await self._segments(key))])
        # a multipart upload that a crash in complete() left behind (its parts cost storage)
        page = await s3.list_multipart_uploads(Bucket=self.bucket, Prefix=final)
        for up in page.get("Uploads", []):
            if up.get("Key") == final:
                with contextlib.suppress(ClientError):
                    await s3.abort_multipart_upload(Bucket=self.bucket, Key=final, UploadId=up.get("UploadId", ""))

    async def replace(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Straight to the final object: one PUT when it fits in a part, else a multipart
        upload of part-sized parts that S3 makes visible at once when it completes (and
        aborts on any error): readers see the old object or the new one."""
        s3 = await self._s3()
        final = self._final(key)
        pending = PendingBytes()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        written = 0
        try:
            async for chunk in chunks:
                pending.add(chunk)
                while pending.size > self.part_size:  # strictly more: the last part is never empty
                    if upload_id is None:
                        upload_id = (await s3.create_multipart_upload(
                            Bucket=self.bucket, Key=final, ContentType="application/octet-stream"))["UploadId"]
                    data = pending.take(self.part_size)
                    reply = await s3.upload_part(Bucket=self.bucket, Key=final, UploadId=upload_id,
                                                 PartNumber=len(parts) + 1, Body=data, ContentMD5=await _md5(data))
                    del data
                    parts.append({"ETag": reply["ETag"], "PartNumber": len(parts) + 1})
                    written += self.part_size
            n = pending.size
            data = pending.take(n)
            if upload_id is None:
                await self._put(final, data)
            else:
                reply = await s3.upload_part(Bucket=self.bucket, Key=final, UploadId=upload_id,
                                             PartNumber=len(parts) + 1, Body=data, ContentMD5=await _md5(data))
                parts.append({"ETag": reply["ETag"], "PartNumber": len(parts) + 1})
                await s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=final, UploadId=upload_id, MultipartUpload={"Parts": parts}  # type: ignore[typeddict-item]
                )
            written += n
        except BaseException as exc:
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(s3.abort_multipart_upload(Bucket=self.bucket, Key=final, UploadId=upload_id))
            if _full(exc):
                raise StorageFull(str(exc)) from None
            raise
        # staged segments of the same key would otherwise be taken for an unfinished upload
        await self._delete_names([s.name for s in await self._segments(key)])
        return written

    async def complete(self, key: str, size: int) -> None:
        final = self._final(key)
        segments = await self._segments(key)
        if await self._head(final) == size:  # done before (a crash or a retry after it): tidy up
            await self._delete_names([s.name for s in segments])
            return
        state = coverage(segments)
        if state is None or state[1] < size:
            raise BlobMissing(f"{key}: {0 if state is None else state[1]} of {size} bytes are stored")
        target = max(MIN_PART, -(-size // MAX_PARTS))
        groups = plan_parts(state[0], size, target)
        try:
            await self._compose(final, groups, {s.name: s.size for s in segments})
        except ClientError as exc:
            if _full(exc):
                raise StorageFull(str(exc)) from None
            raise
        await self._delete_names([s.name for s in segments])

    async def _compose(self, final: str, groups: list[list[Extent]], sizes: dict[str, int]) -> None:
        s3 = await self._s3()
        if len(groups) <= 1:
            group = groups[0] if groups else []
            if len(group) == 1 and group[0].skip == 0 and group[0].length == sizes[group[0].name]:
                await s3.copy_object(Bucket=self.bucket, Key=final, CopySource={"Bucket": self.bucket, "Key": group[0].name},
                                     ContentType="application/octet-stream", MetadataDirective="REPLACE")
            else:
                end = group[-1].at + group[-1].length if group else 0
                await self._put(final, await self._read_extents(group, 0, end))
            return
        upload_id = (await s3.create_multipart_upload(
            Bucket=self.bucket, Key=final, ContentType="application/octet-stream"))["UploadId"]
        gate = asyncio.Semaphore(_COPY_CONCURRENCY)

        async def send(number: int, group: list[Extent]) -> dict[str, Any]:
            async with gate:
                if len(group) == 1:
                    ext = group[0]
                    reply = await s3.upload_part_copy(
                        Bucket=self.bucket, Key=final, UploadId=upload_id, PartNumber=number,
                        CopySource={"Bucket": self.bucket, "Key": ext.name},
                        CopySourceRange=f"bytes={ext.skip}-{ext.skip + ext.length - 1}",
                    )
                    etag = reply["CopyPartResult"].get("ETag", "")
                else:
                    data = await self._read_extents(group, group[0].at, group[-1].at + group[-1].length)
                    etag = (await s3.upload_part(
                        Bucket=self.bucket, Key=final, UploadId=upload_id, PartNumber=number, Body=data,
                        ContentMD5=await _md5(data)))["ETag"]
                return {"ETag": etag, "PartNumber": number}

        tasks = [asyncio.ensure_future(send(i + 1, g)) for i, g in enumerate(groups)]
        try:
            parts = await asyncio.gather(*tasks)
            await s3.complete_multipart_upload(
                Bucket=self.bucket, Key=final, UploadId=upload_id, MultipartUpload={"Parts": parts}  # type: ignore[typeddict-item]
            )
        except BaseException:
            for task in tasks:  # the other parts stop too, before the upload is aborted
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.shield(s3.abort_multipart_upload(Bucket=self.bucket, Key=final, UploadId=upload_id))
            raise


async def _md5(data: bytes) -> str:
    """Content-MD5 of a body, hashed in a worker thread (hashlib releases the GIL)."""
    if len(data) < 64 * 1024:
        return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    digest = await asyncio.to_thread(lambda: hashlib.md5(data, usedforsecurity=False).digest())
    return base64.b64encode(digest).decode()


async def _read_up_to(body: Any, n: int) -> bytes:
    """Up to `n` bytes of a streaming body (aiohttp hands over whatever the socket had)."""
    data = await body.read(n)
    if not data or len(data) >= n:
        return bytes(data)
    buf = bytearray(data)
    while len(buf) < n:
        more = await body.read(n - len(buf))
        if not more:
            break
        buf += more
    return bytes(buf)
