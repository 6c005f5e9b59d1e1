"""Media processing on upload completion (PROTOCOL.md §6): thumbnails, EXIF orientation,
location metadata stripped without re-encoding, decompression bombs, video posters and
sound durations with Debian's ffmpeg, and an event loop that keeps answering while a
big picture is decoded. A real server, real tus uploads, real files made by Pillow and
ffmpeg."""

from __future__ import annotations

import asyncio
import io
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import aiohttp
import pytest
import requests
from PIL import ExifTags, Image

from semot.services.files import UrlSigner
from tests.files.support import FILES, User, account, sha256
from tests.support.server import ServerProcess

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="Debian's ffmpeg is not installed (CI installs it)")
RED, BLUE = (220, 20, 20), (20, 20, 220)
GPS_XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.48N"/>'
           b"</rdf:RDF></x:xmpmeta>")


def _photo(fmt: str, orientation: int, mode: str = "RGB", xmp: bytes | None = None) -> bytes:
    """400x200, left half red and right half blue, with orientation, a camera and a place."""
    img = Image.new(mode, (400, 200), RED)
    img.paste(BLUE, (200, 0, 400, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SemotCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    extra = {"xmp": xmp} if xmp else {}
    img.save(out, fmt, exif=exif.tobytes(), **extra)
    return out.getvalue()


def _png_header(w: int, h: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _big_png(side: int) -> bytes:
    """A side x side RGB gradient: small to send, seconds of work to decode."""
    row = b"\x00" + bytes(x * 255 // side for x in range(side) for _ in range(3))
    z = zlib.compressobj(1)
    block = row * 500
    data = b"".join(z.compress(block) for _ in range(side // 500)) + z.flush()
    return _png_header(side, side, data)


def _ffmpeg(tmp: Path, name: str, *args: str) -> bytes:
    assert FFMPEG is not None
    out = tmp / name
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *args, str(out)], check=True, timeout=60)
    return out.read_bytes()


class _Socket:
    """A WebSocket session of `user` that answers pings (PROTOCOL.md §2)."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.rid = 0

    async def __aenter__(self) -> _Socket:
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.user.server.ws_url)
        await self.call("auth", token=self.user.token, device={"id": "media-test", "platform": "sdk"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        await self.session.close()

    async def call(self, t: str, **fields: object) -> dict[str, object]:
        self.rid += 1
        await self.ws.send_json({"t": t, "rid": self.rid, **fields})
        while True:
            frame = await asyncio.wait_for(self.ws.receive_json(), 10)
            if frame.get("rid") == self.rid:
                assert frame["ok"], frame
                return dict(frame["data"])


def _info(user: User, file_id: str) -> dict[str, object]:
    r = user.get(file_id, "info")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _thumb(user: User, file_id: str) -> Image.Image:
    r = user.get(file_id, "thumb")
    assert r.status_code == 200, r.text
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Type"] in ("image/jpeg", "image/webp")
    img = Image.open(io.BytesIO(r.content))
    assert img.format == r.headers["Content-Type"].split("/")[1].upper()
    assert max(img.size) <= 320
    return img


def _near(got: tuple[int, ...], want: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(got[:3], want, strict=True))


def _upright(img: Image.Image, red_on_top: bool) -> None:
    """The 400x200 photo (red left half, blue right half) turned upright by a quarter
    turn: 160x320, the red half on top (orientation 6) or at the bottom (8)."""
    assert img.size == (160, 320), img.size
    rgb = img.convert("RGB")
    top, bottom = rgb.getpixel((80, 40)), rgb.getpixel((80, 280))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    want = (RED, BLUE) if red_on_top else (BLUE, RED)
    assert _near(top, want[0]) and _near(bottom, want[1]), (top, bottom)


@pytest.mark.parametrize("fmt, mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_photo_is_measured_upright_stripped_of_its_place_and_thumbnailed(server: ServerProcess, fmt: str,
                                                                        mime: str) -> None:
    alice = account(server)
    original = _photo(fmt, 6, xmp=GPS_XMP if fmt == "JPEG" else None)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it had a place
    file_id = alice.upload(original, name=f"photo.{fmt.lower()}", filetype="image/x-whatever")
    info = _info(alice, file_id)
    assert info["mime"] == mime and (info["w"], info["h"]) == (200, 400)  # as displayed: a quarter turn

    got = alice.get(file_id).content
    assert info["sha256"] == sha256(got) and info["size"] == len(got)
    assert got != original
    stored = Image.open(io.BytesIO(got))
    exif = stored.getexif()
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {} and ExifTags.Base.GPSInfo not in exif
    assert exif[ExifTags.Base.Orientation] == 6 and exif[ExifTags.Base.Make] == "SemotCam"  # the rest stays
    assert b"GPSLatitude" not in got
    # not re-encoded: the very same pixels
    assert stored.tobytes() == Image.open(io.BytesIO(original)).tobytes()
    # the thumbnail is upright: the photo's left (red) is now on top
    _upright(_thumb(alice, file_id), red_on_top=True)


def test_transparent_png_gets_a_webp_thumbnail_turned_the_other_way(server: ServerProcess) -> None:
    alice = account(server)
    file_id = alice.upload(_photo("PNG", 8, mode="RGBA"), name="logo.png")
    info = _info(alice, file_id)
    assert (info["w"], info["h"]) == (200, 400)
    r = alice.get(file_id, "thumb")
    assert r.headers["Content-Type"] == "image/webp"
    _upright(_thumb(alice, file_id), red_on_top=False)


def test_thumb_access_signed_urls_etag_and_removal(server: ServerProcess) -> None:
    alice, bob = account(server), account(server)
    file_id = alice.upload(_photo("JPEG", 1), name="p.jpg")
    r = alice.get(file_id, "thumb")
    assert r.status_code == 200 and r.headers["ETag"] and "no-cache" in r.headers["Cache-Control"]
    assert alice.get(file_id, "thumb", **{"If-None-Match": r.headers["ETag"]}).status_code == 304
    assert bob.get(file_id, "thumb").status_code in (403, 404)  # not shared with him
    assert requests.get(f"{server.base}{FILES}{file_id}/thumb").status_code == 401

    signer = UrlSigner((server.data_dir / "secret.key").read_text().strip(), 3600)
    signed = requests.get(f"{server.base}{FILES}{file_id}/thumb?{signer.query(file_id, 'thumb')}")
    assert signed.status_code == 200 and signed.content == r.content and "immutable" in signed.headers["Cache-Control"]
    other = requests.get(f"{server.base}{FILES}{file_id}/thumb?{signer.query(file_id, 'content')}")
    assert other.status_code in (403, 404)  # a content link does not open the thumbnail

    # a kind without thumbnails says so
    doc = alice.upload(b"just some words\n", name="notes.txt")
    r = alice.get(doc, "thumb")
    assert r.status_code == 404 and "only images and videos" in r.json()["error"]["message"]

    # the thumbnail goes with its file
    thumbs = list((server.data_dir / "files").glob(f"*/{file_id}.thumb"))
    assert len(thumbs) == 1
    assert requests.delete(server.base + FILES + file_id, headers=alice.tus()).status_code == 204
    assert not thumbs[0].exists()
    assert alice.get(file_id, "thumb").status_code == 404


def test_gps_stripping_keeps_a_png_without_a_place_byte_for_byte(server: ServerProcess) -> None:
    alice = account(server)
    plain = io.BytesIO()
    Image.new("RGB", (30, 20), RED).save(plain, "PNG")
    file_id = alice.upload(plain.getvalue(), name="plain.png")
    assert alice.get(file_id).content == plain.getvalue()
    assert _info(alice, file_id)["sha256"] == sha256(plain.getvalue())


async def test_decompression_bombs_get_no_size_and_no_thumb(server: ServerProcess) -> None:
    alice = account(server)
    # 100000 x 100000 (Pillow refuses it outright) and 8000 x 8000 (over the 50 MP setting)
    for side in (100_000, 8000):
        bomb = _png_header(side, side, zlib.compress(b"\x00" * 1000))
        file_id = await asyncio.to_thread(alice.upload, bomb, "bomb.png")
        info = await asyncio.to_thread(_info, alice, file_id)
        assert info["mime"] == "image/png" and "w" not in info and "h" not in info
        r = await asyncio.to_thread(alice.get, file_id, "thumb")
        assert r.status_code == 404 and "could not be decoded" in r.json()["error"]["message"]
        assert (await asyncio.to_thread(alice.get, file_id)).content == bomb  # still a valid file
    async with _Socket(alice) as ws:
        assert "server_time" in await ws.call("ping")


async def test_the_event_loop_answers_while_a_big_picture_is_decoded(server: ServerProcess) -> None:
    alice = account(server)
    big = await asyncio.to_thread(_big_png, 6000)  # 36 MP: about a second of decoding
    file_id = await asyncio.to_thread(alice.create, len(big))
    r = await asyncio.to_thread(alice.patch, file_id, 0, big[:-1])
    assert r.status_code == 204
    async with _Socket(alice) as ws:
        assert "server_time" in await ws.call("ping")
        start = time.monotonic()
        final = asyncio.ensure_future(asyncio.to_thread(alice.patch, file_id, len(big) - 1, big[-1:]))
        latencies: list[float] = []
        while not final.done():
            t0 = time.monotonic()
            await ws.call("ping")
            latencies.append(time.monotonic() - t0)
            await asyncio.sleep(0.02)
        took = time.monotonic() - start
        assert (await final).status_code == 204
    info = await asyncio.to_thread(_info, alice, file_id)
    assert (info["w"], info["h"]) == (6000, 6000)
    assert max(await asyncio.to_thread(lambda: _thumb(alice, file_id).size)) == 320
    # the loop kept answering: many pings went through while the picture was decoded,
    # none of them waited for the decoding to end
    print(f"final PATCH {took:.2f} s, {len(latencies)} pings, slowest {max(latencies) * 1000:.0f} ms")
    assert len(latencies) >= 5, (took, latencies)
    # (a decode on the loop would hold one ping for about the whole PATCH; half of it
    # leaves room for a loaded machine's scheduling without letting that through)
    assert max(latencies) < max(0.5, took / 2), (took, latencies)


@needs_ffmpeg
def test_video_gets_duration_size_and_a_poster(server: ServerProcess, tmp_path: Path) -> None:
    alice = account(server)
    mp4 = _ffmpeg(tmp_path, "clip.mp4", "-f", "lavfi", "-i", "testsrc=d=2:s=640x360:r=25", "-f", "lavfi",
                  "-i", "sine=d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")
    file_id = alice.upload(mp4, name="clip.mp4")
    info = _info(alice, file_id)
    assert info["mime"] == "video/mp4" and (info["w"], info["h"]) == (640, 360)
    assert 1900 <= int(str(info["duration_ms"])) <= 2100
    assert _thumb(alice, file_id).size == (320, 180)

    # a phone video: landscape pixels with a quarter-turn display matrix, shown upright
    _ffmpeg(tmp_path, "wide.mp4", "-f", "lavfi", "-i", "testsrc=d=1:s=320x180:r=10", "-c:v", "libx264",
            "-pix_fmt", "yuv420p")
    turned = _ffmpeg(tmp_path, "turned.mp4", "-i", str(tmp_path / "wide.mp4"), "-c", "copy",
                     "-metadata:s:v:0", "rotate=90")
    file_id = alice.upload(turned, name="turned.mp4")
    info = _info(alice, file_id)
    assert (info["w"], info["h"]) == (180, 320)
    assert _thumb(alice, file_id).size == (180, 320)

    webm = _ffmpeg(tmp_path, "clip.webm", "-f", "lavfi", "-i", "testsrc=d=1:s=200x400:r=10", "-c:v", "libvpx")
    file_id = alice.upload(webm, name="clip.webm")
    info = _info(alice, file_id)
    assert info["mime"] == "video/webm" and (info["w"], info["h"]) == (200, 400)
    assert 900 <= int(str(info["duration_ms"])) <= 1100
    assert _thumb(alice, file_id).size == (160, 320)


@needs_ffmpeg
def test_sound_gets_its_duration(server: ServerProcess, tmp_path: Path) -> None:
    alice = account(server)
    assert FFMPEG is not None
    # a browser recording: WebM/Opus written as a stream, no duration in its header
    streamed = subprocess.run(
        [FFMPEG, "-v", "error", "-nostdin", "-f", "lavfi", "-i", "sine=d=1.5", "-c:a", "libopus", "-f", "webm", "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout
    cases = [
        (_ffmpeg(tmp_path, "voice.ogg", "-f", "lavfi", "-i", "sine=d=1.5", "-c:a", "libopus"), "audio/ogg", 1500),
        (_ffmpeg(tmp_path, "tone.wav", "-f", "lavfi", "-i", "sine=d=2"), "audio/x-wav", 2000),
        (streamed, "audio/webm", 1500),
    ]
    for data, mime, ms in cases:
        file_id = alice.upload(data, name="sound")
        info = _info(alice, file_id)
        assert info["mime"] == mime, info
        assert abs(int(str(info["duration_ms"])) - ms) <= 60, info
        assert "w" not in info
        r = alice.get(file_id, "thumb")
        assert r.status_code == 404 and "only images and videos" in r.json()["error"]["message"]
