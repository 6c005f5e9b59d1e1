"""services/gps_strip.py on real pictures made by Pillow: the place goes, everything else
stays (pixels, length, orientation, XMP other than GPS), and damaged files never make
it raise or change a file's length."""

from __future__ import annotations

import io
import itertools
import random

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from semot.services import gps_strip

XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.48N" exif:Keep="1">'
       "<exif:GPSAltitude>35</exif:GPSAltitude></rdf:Description></rdf:RDF></x:xmpmeta>")
FORMATS = [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]


def _picture(fmt: str) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Cam"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP)
        info.add_text("Raw profile type exif", "exif 1234")
        Image.new("RGBA", (40, 20), (1, 2, 3, 4)).save(out, fmt, exif=exif.tobytes(), pnginfo=info)
    else:
        Image.new("RGB", (40, 20), (10, 200, 30)).save(out, fmt, exif=exif.tobytes(), xmp=XMP.encode())
    return out.getvalue()


def _strip(data: bytes, mime: str) -> bytes:
    edits = gps_strip.gps_edits(io.BytesIO(data), mime, len(data))
    return b"".join(gps_strip.apply_edits(io.BytesIO(data), edits, len(data), chunk=7))


@pytest.mark.parametrize("fmt, mime", FORMATS)
def test_the_place_goes_and_the_rest_stays(fmt: str, mime: str) -> None:
    data = _picture(fmt)
    out = _strip(data, mime)
    assert len(out) == len(data) and b"GPS" not in out and b"GPS" in data
    img, before = Image.open(io.BytesIO(out)), Image.open(io.BytesIO(data))
    exif = img.getexif()
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {} and ExifTags.Base.GPSInfo not in exif
    assert exif[ExifTags.Base.Orientation] == 6 and exif[ExifTags.Base.Make] == "Cam"
    assert img.tobytes() == before.tobytes()  # not re-encoded
    assert b'exif:Keep="1"' in out  # XMP without its GPS properties, still there
    assert _strip(out, mime) == out  # nothing left to take out


def test_a_picture_without_a_place_is_left_alone() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG")
    assert gps_strip.gps_edits(io.BytesIO(out.getvalue()), "image/jpeg", len(out.getvalue())) == []


@pytest.mark.parametrize("fmt, mime", FORMATS)
def test_damaged_files_never_raise_nor_change_length(fmt: str, mime: str) -> None:
    base = _picture(fmt)
    rnd = random.Random(fmt)
    for _ in range(1500):
        data = bytearray(base)
        for _ in range(rnd.randint(1, 6)):
            data[rnd.randrange(min(len(data), 400))] = rnd.randrange(256)
        cut = bytes(data[: rnd.randrange(len(data))] if rnd.random() < 0.2 else data)
        edits = gps_strip.gps_edits(io.BytesIO(cut), mime, len(cut))
        ordered = sorted(edits, key=lambda e: e.start)
        assert all(a.end <= b.start for a, b in itertools.pairwise(ordered))
        assert len(b"".join(gps_strip.apply_edits(io.BytesIO(cut), edits, len(cut)))) == len(cut)
