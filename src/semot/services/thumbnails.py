"""Pictures measured and thumbnailed with Pillow, in worker threads, bounded.

`MediaWorkers` is the one place where decoding happens: a thread pool of
`file_media_workers` threads (default: one fewer than the cores, at least one) plus a
semaphore of the same size that the ffmpeg/ffprobe subprocesses take too, so however
many uploads finish at once, at most that many decoders run and the event loop keeps a
core. Pillow releases the GIL while it decodes and resizes, so a thread is enough to
keep the loop answering (tests/files/test_media.py measures it).

Decompression bombs: `Image.open` reads only the header; a picture of more than
`max_image_pixels` pixels is never decoded (no size, no thumbnail: it stays a valid
`file`, and is not usable as an `image`). Pillow's own guard (`Image.MAX_IMAGE_PIXELS`)
is set to the same limit as a second line of defence.

Thumbnails are at most `THUMB_PX` on the longer side, turned as EXIF orientation says
(so are the reported w/h), JPEG when opaque and WebP when the picture has
transparency. JPEG's decoder is asked for a reduced image first (`draft`: it scales by
1/2, 1/4 or 1/8 while decoding), which makes a 12-megapixel photo a matter of tens of
milliseconds and a few MB instead of a 36 MB full decode.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import threading
import warnings
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

THUMB_PX = 320
THUMB_VERSION = 1  # part of the thumbnail's ETag: bump when thumbnails are made differently
_JPEG_QUALITY = 82
_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
T = TypeVar("T")

# the pixel limit is enforced below, before anything is decoded: Pillow's warning between
# one and two times its limit would only be noise in the log
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def _lower_priority() -> None:
    """Decode at the lowest CPU priority (Linux niceness is per thread): the event loop
    relaying messages must win the core when both want it. Measured in
    benchmarks/files.py: text-send p50 during ten 12 MP thumbnails back from 1.6 to
    0.5 ms and p99 halved, thumbnails as fast."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not permitted: decode at normal priority
        pass


class MediaWorkers:
    """Bounded decoding: `run` a function in the pool, or hold `slot` around a subprocess."""

    def __init__(self, workers: int = 0) -> None:
        self.size = workers or default_workers()
        self._pool = ThreadPoolExecutor(self.size, thread_name_prefix="semot-media", initializer=_lower_priority)
        self.slot = asyncio.Semaphore(self.size)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        async with self.slot:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def subprocess(self, work: Callable[[], Awaitable[T]]) -> T:
        async with self.slot:
            return await work()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class Picture:
    """What a picture is as displayed: w/h None when it is not usable as an image."""

    w: int | None = None
    h: int | None = None
    thumb: bytes | None = None  # JPEG or WebP


def orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112)
    except Exception:
        return 1
    return value if isinstance(value, int) else 1


def make_thumb(img: Image.Image, turn: int) -> bytes:
    """`img` (opened, not yet decoded) as a thumbnail, turned upright."""
    img.draft("RGB", (THUMB_PX, THUMB_PX))  # JPEG: decode already scaled down; others ignore it
    img.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.LANCZOS, reducing_gap=2.0)
    if turn in _ORIENT:
        img = img.transpose(_ORIENT[turn])
    alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    out = io.BytesIO()
    if alpha:
        img.convert("RGBA").save(out, "WEBP", quality=80, method=4)
    else:
        img.convert("RGB").save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def picture(path: Path, max_pixels: int, thumb: bool = True) -> Picture:
    """Measure `path` and thumbnail it (blocking: run it through MediaWorkers)."""
    try:
        with Image.open(path) as img:
            w, h = img.size
            if w <= 0 or h <= 0 or w * h > max_pixels:
                log.info("image %s not decoded: %dx%d is over the %d-pixel limit", path.name, w, h, max_pixels)
                return Picture()
            turn = orientation(img)
            small = make_thumb(img, turn) if thumb else None
    except Exception as exc:  # an uploaded picture may break a decoder in any way: it is then no picture
        log.info("image %s not measured: %r", path.name, exc)
        return Picture()
    if turn in (5, 6, 7, 8):  # a quarter turn: shown with the sides swapped
        w, h = h, w
    return Picture(w, h, small)


def thumb_of_frame(frame: bytes) -> bytes | None:
    """A video frame (any format Pillow reads, e.g. ffmpeg's PNG) as a thumbnail."""
    try:
        with Image.open(io.BytesIO(frame)) as img:
            return make_thumb(ImageOps.exif_transpose(img) or img, 1)
    except Exception as exc:  # as in picture(): no thumbnail, not an error
        log.info("video frame not thumbnailed: %r", exc)
        return None
