"""What happens to a file's bytes when its upload completes, before anyone may read it.

1. The type is sniffed from the first bytes (file_media.sniff).
2. JPEG/PNG/WebP: location metadata is taken out (gps_strip, `file_strip_gps`), the
   stored object replaced in one step (`BlobStore.replace`: the old bytes or the new,
   never a mix, even across a crash), its sha256 recomputed from the bytes written
   (the size does not change: gps_strip's edits keep it, so tus offsets stay true).
3. Pictures are measured (as displayed) and thumbnailed (thumbnails.picture); sound and
   video are probed with ffprobe (duration, display size, audio-only WebM/MP4 told
   apart from video) and videos get a poster frame with ffmpeg (media_probe).
4. The thumbnail is stored as its own object under `thumb_key(file_id)`.

Why at completion and not lazily on the first GET /thumb:
- the file is not readable until `complete_file` records it, so everything written
  here (the rewritten bytes, the thumbnail) is in place before the first reader can
  look: no half-made thumbnail is ever served, and there is nothing to coordinate
  between nodes that share the storage (a lazy design needs single-flight across
  processes, or N nodes make the same thumbnail when a picture lands in a big group);
- w/h and duration must be known at completion anyway (the `send` that follows takes
  them from the record), and the picture is already open for that: the thumbnail
  costs one resize more (a 12-megapixel JPEG is decoded at 1/8 scale, tens of ms);
- the price is that the final PATCH answers after the work (bounded by the
  MediaWorkers and `file_media_timeout_s`), while nobody waits on a GET /thumb later.

A store without a local path (S3) gets a temporary local copy for the decoders.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from semot.services import file_media, gps_strip, thumbnails
from semot.services.media_probe import Ffmpeg, refined_mime
from semot.services.thumbnails import MediaWorkers
from semot.storage.files import BlobStore

log = logging.getLogger(__name__)


def thumb_key(file_id: str) -> str:
    """The object that holds a file's thumbnail (removed with the file)."""
    return f"{file_id}.thumb"


@dataclass(frozen=True, slots=True)
class Media:
    """What the bytes turned out to be, and the thumbnail made of them."""

    mime: str
    sha256: str
    w: int | None = None
    h: int | None = None
    duration_ms: int | None = None
    thumb: bytes | None = None


class MediaPipeline:
    def __init__(self, blobs: BlobStore, workers: MediaWorkers, ffmpeg: Ffmpeg, *, max_pixels: int,
                 strip_gps: bool) -> None:
        self._blobs = blobs
        self.workers = workers
        self.ffmpeg = ffmpeg
        self.max_pixels = max_pixels
        self.strip_gps = strip_gps

    async def process(self, key: str, size: int, sha256: str) -> Media:
        head = b""
        async for chunk in self._blobs.read_range(key, 0, min(size, file_media.SNIFF_BYTES)):
            head += chunk
        mime = file_media.sniff(head)
        media = Media(mime, sha256)
        kind = mime.partition("/")[0]
        if kind not in ("image", "audio", "video"):
            return media
        async with self._local(key, size) as path:
            if kind == "image" and self.strip_gps and mime in gps_strip.STRIPPABLE:
                edits = await self.workers.run(_gps_edits, path, mime, size)
                if edits:
                    sha256 = await self._rewrite(key, path, edits, size)
                    media = Media(mime, sha256)
                    log.info("location metadata removed from %s (%d edit(s))", key, len(edits))
                    if path != self._blobs.local_path(key):  # the temporary copy: edited the same way
                        await asyncio.to_thread(_edit_in_place, path, edits)
            if kind == "image":
                pic = await self.workers.run(thumbnails.picture, path, self.max_pixels)
                return Media(mime, sha256, pic.w, pic.h, None, pic.thumb)
            probe = await self.workers.subprocess(lambda: self.ffmpeg.probe(path, mime))
            if probe is None:
                return media
            mime = refined_mime(mime, probe)
            thumb = None
            if probe.video:
                frame = await self.workers.subprocess(lambda: self.ffmpeg.poster(path, mime, probe.duration_ms))
                if frame is not None:
                    thumb = await self.workers.run(thumbnails.thumb_of_frame, frame)
            return Media(mime, sha256, probe.w, probe.h, probe.duration_ms, thumb)

    async def _rewrite(self, key: str, path: Path, edits: list[gps_strip.Edit], size: int) -> str:
        """Replace the object with the edited bytes (as many as before); their sha256."""
        if any(len(ed.data) != ed.end - ed.start for ed in edits):
            raise ValueError("gps_strip: an edit that changes the length")
        h = hashlib.sha256()

        async def chunks() -> AsyncIterator[bytes]:
            f = await asyncio.to_thread(open, path, "rb")
            try:  # every read and hash below runs in a thread
                it = gps_strip.apply_edits(f, edits, size)
                while (chunk := await asyncio.to_thread(next, it, None)) is not None:
                    await asyncio.to_thread(h.update, chunk)
                    yield chunk
            finally:
                f.close()

        written = await self._blobs.replace(key, chunks())
        if written != size:
            raise OSError(f"rewriting {key}: {written} bytes written, {size} expected")
        return h.hexdigest()

    @contextlib.asynccontextmanager
    async def _local(self, key: str, size: int) -> AsyncIterator[Path]:
        """A path to the object's bytes: its own on a local store, else a temporary copy."""
        path = self._blobs.local_path(key)
        if path is not None:
            yield path
            return
        fd, name = tempfile.mkstemp(prefix="semot-media-")
        try:
            with os.fdopen(fd, "wb") as f:
                async for chunk in self._blobs.read_range(key, 0, size, chunk_size=1024 * 1024):
                    await asyncio.to_thread(f.write, chunk)
            yield Path(name)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)


def _edit_in_place(path: Path, edits: list[gps_strip.Edit]) -> None:
    with open(path, "r+b") as f:
        for ed in edits:  # each as long as what it replaces
            f.seek(ed.start)
            f.write(ed.data)


def _gps_edits(path: Path, mime: str, size: int) -> list[gps_strip.Edit]:
    with open(path, "rb") as f:
        return gps_strip.gps_edits(f, mime, size)
