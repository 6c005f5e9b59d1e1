"""What a file's bytes are, and how to serve them safely.

The type is sniffed from the bytes (the `filetype` library: magic numbers, no native
dependency), never taken from the client (pictures are measured and thumbnailed in
services/thumbnails.py, sound and video probed in services/media_probe.py). A browser
is only ever given inline content of a type it renders passively (pictures, sound,
video); anything it could execute or that
could carry script (HTML, SVG, XML, JavaScript, PDF...) is an attachment, and a type
that is not in the safe list is labelled application/octet-stream.
"""

from __future__ import annotations

import unicodedata
import urllib.parse
from dataclasses import dataclass

import filetype

SNIFF_BYTES = 8192  # filetype looks at the first 8 KiB at most
OCTET = "application/octet-stream"

# Shown inline by browsers without running anything: served with their own type
INLINE_SAFE = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp", "image/x-icon",
    "audio/mpeg", "audio/ogg", "audio/wav", "audio/x-wav", "audio/webm", "audio/mp4", "audio/x-m4a", "audio/aac",
    "audio/flac", "audio/x-flac", "audio/opus",
    "video/mp4", "video/webm", "video/ogg", "video/quicktime", "video/x-m4v",
})
# Attachments that keep their type (a browser downloads them; the type helps the OS pick an app)
ATTACH_TYPED = frozenset({
    "text/plain", "application/zip", "application/gzip", "application/x-tar", "application/x-7z-compressed",
    "application/x-rar-compressed", "application/x-bzip2", "application/x-xz", "application/zstd",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/epub+zip", "image/tiff", "image/heic", "image/heif", "image/vnd.adobe.photoshop",
    "video/x-matroska", "video/x-msvideo", "video/x-flv", "audio/midi", "audio/amr", "font/woff", "font/woff2",
    "font/ttf", "font/otf",
})


@dataclass(frozen=True, slots=True)
class Served:
    """How the content endpoint labels a file."""

    content_type: str
    inline: bool


def sniff(head: bytes) -> str:
    """The MIME type of a file from its first bytes: a known signature, else UTF-8 text
    without NULs is text/plain (HTML, SVG and scripts included: they are only ever served
    as text), else application/octet-stream."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if not head:
        return OCTET
    sample = head[:SNIFF_BYTES]
    if b"\x00" in sample:
        return OCTET
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not merely a character cut at the end of the sample
            return OCTET
    return "text/plain"


def served(mime: str) -> Served:
    if mime in INLINE_SAFE:
        return Served(mime, True)
    if mime in ATTACH_TYPED:
        return Served("text/plain; charset=utf-8" if mime == "text/plain" else mime, False)
    return Served(OCTET, False)


def content_disposition(name: str, inline: bool) -> str:
    """RFC 6266 with an ASCII fallback and the UTF-8 name in `filename*` (RFC 8187)."""
    kind = "inline" if inline else "attachment"
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in name) or "file"
    encoded = urllib.parse.quote(name, safe="")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def clean_name(raw: str) -> str:
    """A file name fit to show and to save: no path, no control characters, at most 255
    characters; "file" when nothing is left."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name[:255] or "file"
