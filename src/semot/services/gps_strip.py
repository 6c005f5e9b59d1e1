"""Location metadata out of uploaded pictures (JPEG, PNG, WebP), without re-encoding them.

A phone photo carries where it was taken in its EXIF GPS IFD (and sometimes in XMP).
Sharing the picture should not share the place, so on completion (`file_strip_gps`,
on by default) the stored bytes are rewritten without it. Nothing is decoded or
re-encoded: the pixels are bit for bit those that were uploaded.

- EXIF (a JPEG APP1 `Exif` segment, a PNG `eXIf` chunk, a WebP `EXIF` chunk) is edited
  in place, keeping its length: the GPSInfo entry (tag 0x8825) is taken out of IFD0's
  entry table (the entries after it move up 12 bytes; every offset in TIFF is absolute,
  so nothing else moves) and the GPS IFD with its out-of-line values is zeroed. The rest
  (orientation, camera, date, maker notes, the embedded thumbnail) stays as it was.
  An EXIF block too broken to walk safely is dropped whole: privacy before metadata.
- XMP (a JPEG APP1 XMP segment, a PNG iTXt `XML:com.adobe.xmp`, a WebP `XMP ` chunk):
  its GPS properties (`exif:GPSLatitude="..."` attributes, `<exif:GPS...>` elements)
  are overwritten with spaces, which leaves the XML valid; when "GPS" still shows (a
  compressed or odd packet) the whole block is blanked, as are PNG's legacy
  `Raw profile type exif/APP1` text chunks (hex copies of EXIF).

Every edit keeps the file's length: a blanked block becomes a block of the same size
that every reader skips (a JPEG COM segment of spaces, a PNG `tEXt` "Comment" of
spaces, a WebP `JUNK` chunk). So the upload's tus offset and length stay true (a tus
client compares them with what it sent), and only the sha256 changes.

We chose this over piexif (unmaintained since 2019) and over Pillow's `Exif.tobytes()`
(it rewrites the whole EXIF block and loses what it does not model, and Pillow cannot
save a JPEG without re-encoding it). The result is a list of edits (byte ranges and
their replacement) that `apply_edits` streams over the original: nothing here holds a
whole file in memory, only the metadata blocks (a JPEG segment is at most 64 KiB;
other blocks are read up to `_MAX_BLOCK`).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

GPS_TAG = 0x8825
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_MAX_BLOCK = 8 * 1024 * 1024  # a metadata block larger than this is dropped unread
_MAX_CHUNKS = 200_000  # PNG/WebP chunks walked at most (a file of tiny chunks is not walked forever)
_XMP_JPEG = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PNG_DROP = {b"Raw profile type exif", b"Raw profile type APP1"}
STRIPPABLE = frozenset({"image/jpeg", "image/png", "image/webp"})
_XMP_ATTR = re.compile(rb"""\s[A-Za-z_][\w.-]*:GPS[\w.-]*\s*=\s*("[^"]*"|'[^']*')""")
_XMP_ELEM = re.compile(rb"<([A-Za-z_][\w.-]*:GPS[\w.-]*)\b[^>]*?(?:/>|>.*?</\1\s*>)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Edit:
    """Bytes `start` to `end` (exclusive) of the original become `data`."""

    start: int
    end: int
    data: bytes


class _Broken(ValueError):
    """The TIFF structure points outside its block, or loops."""


def blank_xmp(xmp: bytes) -> bytes | None:
    """`xmp` with its GPS properties overwritten by spaces (same length); None when it
    has none. Still mentioning GPS afterwards: all spaces."""
    if b"GPS" not in xmp:
        return None
    out = _XMP_ELEM.sub(lambda m: b" " * len(m.group(0)), xmp)
    out = _XMP_ATTR.sub(lambda m: b" " * len(m.group(0)), out)
    return out if b"GPS" not in out else b" " * len(xmp)


def _jpeg_filler(length: int) -> bytes:
    """A COM segment of spaces, `length` bytes long with its marker (at least 4)."""
    return b"\xff\xfe" + struct.pack(">H", length - 2) + b" " * (length - 4)


def _png_filler(length: int) -> bytes:
    """A chunk of `length` bytes (at least 12) that a reader skips: a tEXt "Comment" of
    spaces (or, too short for that, a private ancillary chunk)."""
    data_len = length - 12
    kind, data = (b"tEXt", b"Comment\x00" + b" " * (data_len - 8)) if data_len >= 8 else (b"spAc", b" " * data_len)
    return struct.pack(">I", data_len) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _webp_filler(length: int, padded: int) -> bytes:
    """A `JUNK` chunk in place of one of `length` data bytes (`padded`: with its pad byte)."""
    return b"JUNK" + struct.pack("<I", length) + bytes(padded)


def strip_tiff(tiff: bytes) -> bytes | None:
    """The TIFF (EXIF) block without its GPS IFD, the same length; None when it has none.
    _Broken when it cannot be walked safely."""
    if len(tiff) < 8 or tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        raise _Broken("not a TIFF header")
    e = "<" if tiff[:2] == b"II" else ">"
    buf = bytearray(tiff)

    def u16(at: int) -> int:
        if at < 0 or at + 2 > len(buf):
            raise _Broken("offset out of the block")
        return int(struct.unpack_from(e + "H", buf, at)[0])

    def u32(at: int) -> int:
        if at < 0 or at + 4 > len(buf):
            raise _Broken("offset out of the block")
        return int(struct.unpack_from(e + "I", buf, at)[0])

    changed = False
    seen: set[int] = set()
    ifd = u32(4)
    while ifd and len(seen) < 4:  # IFD0, IFD1 (a thumbnail's), rarely more
        if ifd in seen:
            raise _Broken("IFD loop")
        seen.add(ifd)
        n = u16(ifd)
        end = ifd + 2 + 12 * n
        nxt = u32(end)
        for i in range(n):
            entry = ifd + 2 + 12 * i
            if u16(entry) != GPS_TAG:
                continue
            _zero_ifd(buf, u32(entry + 8), u16, u32)
            # take the entry out: the ones after it move up, the count drops, the next-IFD
            # offset follows them, the 12 bytes freed at the end become zeros
            buf[entry:end - 12] = buf[entry + 12:end]
            struct.pack_into(e + "H", buf, ifd, n - 1)
            struct.pack_into(e + "I", buf, end - 12, nxt)
            buf[end - 8:end + 4] = bytes(12)
            changed = True
            break
        ifd = nxt
    return bytes(buf) if changed else None


def _zero_ifd(buf: bytearray, at: int, u16: object, u32: object) -> None:
    """Zero the GPS IFD at `at`: its values stored elsewhere in the block, then itself."""
    assert callable(u16) and callable(u32)
    n = int(u16(at))
    for i in range(n):
        entry = at + 2 + 12 * i
        typ, count = int(u16(entry + 2)), int(u32(entry + 4))
        size = _TYPE_SIZES.get(typ, 1) * count
        if size > 4:
            value = int(u32(entry + 8))
            if value + size <= len(buf):
                buf[value:value + size] = bytes(size)
    end = min(len(buf), at + 2 + 12 * n + 4)
    buf[at:end] = bytes(end - at)


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise EOFError
    return data


def _jpeg(f: BinaryIO) -> list[Edit]:
    edits: list[Edit] = []
    if _read(f, 2) != b"\xff\xd8":
        return edits
    pos = 2
    for _ in range(10_000):
        head = _read(f, 2)
        while head[0] == 0xFF and head[1] == 0xFF:  # fill bytes
            head = head[1:] + _read(f, 1)
            pos += 1
        if head[0] != 0xFF:
            break
        marker = head[1]
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan, end of image: no metadata beyond
            break
        length = struct.unpack(">H", _read(f, 2))[0]
        if length < 2:
            break
        data = _read(f, length - 2)
        start, body, end = pos, pos + 4, pos + 2 + length
        if marker == 0xE1 and data.startswith(b"Exif\x00\x00"):
            try:
                new = strip_tiff(data[6:])
                if new is not None:
                    edits.append(Edit(body + 6, end, new))
            except _Broken:
                edits.append(Edit(start, end, _jpeg_filler(end - start)))
        elif marker == 0xE1 and data.startswith(_XMP_JPEG[0]):
            ns = len(_XMP_JPEG[0])
            blanked = blank_xmp(data[ns:])
            if blanked is not None and blanked.strip():
                edits.append(Edit(body + ns, end, blanked))
            elif blanked is not None:
                edits.append(Edit(start, end, _jpeg_filler(end - start)))
        elif marker == 0xE1 and data.startswith(_XMP_JPEG[1]) and b"GPS" in data:
            edits.append(Edit(start, end, _jpeg_filler(end - start)))  # a part of an extended packet: all of it
        pos = end
    return edits


def _png_text(ctype: bytes, data: bytes) -> tuple[bytes, bytes]:
    """(keyword, text) of a tEXt/zTXt/iTXt chunk, the text decompressed when it can be."""
    keyword, _, rest = data.partition(b"\x00")
    try:
        if ctype == b"zTXt":
            return keyword, zlib.decompressobj().decompress(rest[1:], _MAX_BLOCK)
        if ctype == b"iTXt":
            compressed = rest[:1] == b"\x01"
            text = rest[2:].split(b"\x00", 2)[-1]
            return keyword, zlib.decompressobj().decompress(text, _MAX_BLOCK) if compressed else text
    except zlib.error:
        return keyword, b"GPS"  # unreadable: treated as if it held a location
    return keyword, rest


def _png_text_edit(ctype: bytes, data: bytes, pos: int, end: int) -> Edit | None:
    keyword, text = _png_text(ctype, data)
    if keyword in _PNG_DROP:
        return Edit(pos, end, _png_filler(end - pos))
    if keyword != b"XML:com.adobe.xmp" or b"GPS" not in text:
        return None
    if ctype == b"iTXt" and data.endswith(text):  # uncompressed: only its GPS properties go
        blanked = blank_xmp(text)
        if blanked is not None and blanked.strip():
            new = data[:len(data) - len(text)] + blanked
            return Edit(pos + 8, end, new + struct.pack(">I", zlib.crc32(ctype + new)))
    return Edit(pos, end, _png_filler(end - pos))


def _png(f: BinaryIO, size: int) -> list[Edit]:
    edits: list[Edit] = []
    if _read(f, 8) != _PNG_SIG:
        return edits
    pos = 8
    for _ in range(_MAX_CHUNKS):
        if pos + 12 > size:
            break
        f.seek(pos)
        length, ctype = struct.unpack(">I4s", _read(f, 8))
        end = pos + 12 + length
        if end > size or ctype == b"IEND":
            break
        if ctype in (b"eXIf", b"tEXt", b"zTXt", b"iTXt"):
            if length > _MAX_BLOCK:
                edits.append(Edit(pos, end, _png_filler(end - pos)))
            else:
                data = _read(f, length)
                if ctype == b"eXIf":
                    try:
                        new = strip_tiff(data)
                        if new is not None:
                            crc = struct.pack(">I", zlib.crc32(ctype + new))
                            edits.append(Edit(pos + 8, end, new + crc))
                    except _Broken:
                        edits.append(Edit(pos, end, _png_filler(end - pos)))
                else:
                    edit = _png_text_edit(ctype, data, pos, end)
                    if edit is not None:
                        edits.append(edit)
        pos = end
    return edits


def _webp(f: BinaryIO, size: int) -> list[Edit]:
    edits: list[Edit] = []
    head = _read(f, 12)
    if head[:4] != b"RIFF" or head[8:] != b"WEBP":
        return edits
    pos, vp8x, cleared = 12, None, 0
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > size:
            break
        f.seek(pos)
        fourcc, length = struct.unpack("<4sI", _read(f, 8))
        end = pos + 8 + length + (length & 1)
        if end > size:
            break
        if fourcc == b"VP8X" and length >= 1:
            vp8x = (pos + 8, _read(f, 1)[0])
        elif fourcc in (b"EXIF", b"XMP "):
            flag = 0x08 if fourcc == b"EXIF" else 0x04
            junk = Edit(pos, end, _webp_filler(length, end - pos - 8))
            if length > _MAX_BLOCK:
                edits.append(junk)
                cleared |= flag
            else:
                data = _read(f, length)
                if fourcc == b"EXIF":
                    skip = 6 if data.startswith(b"Exif\x00\x00") else 0
                    try:
                        new = strip_tiff(data[skip:])
                        if new is not None:
                            edits.append(Edit(pos + 8 + skip, pos + 8 + length, new))
                    except _Broken:
                        edits.append(junk)
                        cleared |= flag
                else:
                    blanked = blank_xmp(data)
                    if blanked is not None and blanked.strip():
                        edits.append(Edit(pos + 8, pos + 8 + length, blanked))
                    elif blanked is not None:
                        edits.append(junk)
                        cleared |= flag
        pos = end
    if cleared and vp8x is not None:  # the metadata that is gone is no longer announced
        at, flags = vp8x
        edits.append(Edit(at, at + 1, bytes([flags & ~cleared])))
    return sorted(edits, key=lambda ed: ed.start)


def gps_edits(f: BinaryIO, mime: str, size: int) -> list[Edit]:
    """The edits that take location metadata out of the picture in `f` (a seekable file
    of `size` bytes); empty when there is none. A truncated file yields what was found.
    Each edit replaces bytes with as many bytes."""
    f.seek(0)
    try:
        if mime == "image/jpeg":
            return _jpeg(f)
        if mime == "image/png":
            return _png(f, size)
        if mime == "image/webp":
            return _webp(f, size)
    except EOFError:
        pass
    return []


def apply_edits(f: BinaryIO, edits: list[Edit], size: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """The bytes of `f` with `edits` applied (sorted, not overlapping), in chunks."""
    pos = 0
    for ed in [*sorted(edits, key=lambda x: x.start), Edit(size, size, b"")]:
        while pos < ed.start:
            f.seek(pos)
            data = f.read(min(chunk, ed.start - pos))
            if not data:
                return
            pos += len(data)
            yield data
        if ed.data:
            yield ed.data
        pos = max(pos, ed.end)
