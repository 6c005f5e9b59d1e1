"""How an upload in progress lies in S3: segments, the file they make, the parts of it,
and the bytes of a PATCH waiting to become a segment.

Pure code over listings, so the rules (a gap ends the file, overlaps are skipped,
parts are at least 5 MiB but the last) are tested without a server; storage/s3_files.py
does the requests.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

MIN_PART = 5 * 1024 * 1024  # S3's smallest part (but the last)
MAX_PARTS = 10_000  # S3's most parts per multipart upload


@dataclass(frozen=True, slots=True)
class Segment:
    """One staged object of an upload: the file's bytes `start` to `start + size`."""

    start: int
    size: int
    name: str

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass(frozen=True, slots=True)
class Extent:
    """The part of a segment that supplies the file's bytes `at` to `at + length`."""

    at: int
    length: int
    name: str
    skip: int  # bytes of the segment before `at` (covered by an earlier segment too)


def coverage(segments: Sequence[Segment]) -> tuple[list[Extent], int] | None:
    """The extents that make up the file from byte 0, and its length (the end of the
    contiguous run); None when there is no segment 0 (the upload does not exist). A gap
    ends the file: what lies beyond it was never acknowledged. Overlaps (an interrupted
    merge) are skipped; segments inside earlier ones are ignored."""
    ordered = sorted(segments, key=lambda s: (s.start, -s.size))
    if not ordered or ordered[0].start != 0:
        return None
    out: list[Extent] = []
    end = 0
    for seg in ordered:
        if seg.start > end:
            break
        if seg.end <= end:
            continue
        out.append(Extent(at=end, length=seg.end - end, name=seg.name, skip=end - seg.start))
        end = seg.end
    return out, end


def plan_parts(extents: Sequence[Extent], size: int, target: int) -> list[list[Extent]]:
    """Group the extents (clipped to `size`) into parts of at least `target` bytes, but
    the last: a part of one extent is copied inside S3, one of several is read and sent."""
    groups: list[list[Extent]] = []
    current: list[Extent] = []
    total = 0
    for ext in extents:
        if ext.at >= size:
            break
        if ext.at + ext.length > size:
            ext = Extent(at=ext.at, length=size - ext.at, name=ext.name, skip=ext.skip)
        current.append(ext)
        total += ext.length
        if total >= target:
            groups.append(current)
            current, total = [], 0
    if current:
        groups.append(current)
    return groups


class PendingBytes:
    """Chunks received and not sent yet, joined only when a segment is cut from them (a
    growing bytearray would over-allocate and copy as it grows)."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self.size = 0

    def add(self, chunk: bytes) -> None:
        if chunk:
            self._chunks.append(chunk)
            self.size += len(chunk)

    def take(self, n: int, prefix: bytes = b"") -> bytes:
        """The first `n` bytes, after `prefix`."""
        out = [prefix]
        need = n
        while need:
            chunk = self._chunks.popleft()
            if len(chunk) > need:
                self._chunks.appendleft(chunk[need:])
                chunk = chunk[:need]
            out.append(chunk)
            need -= len(chunk)
        self.size -= n
        return b"".join(out)
