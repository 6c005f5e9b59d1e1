"""The pure parts of files: sniffing, labelling, names, tus headers, signed URLs, ranges."""

from __future__ import annotations

import base64
import hashlib

import pytest

from semot.api.files_api import _range, _Unsatisfiable
from semot.errors import BadRequest
from semot.services import file_media as fm
from semot.services.files import UrlSigner, parse_checksum, parse_metadata


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
        (b"GIF89a" + b"\0" * 20, "image/gif"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"<html><script>alert(1)</script></html>", "text/plain"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "text/plain"),
        ("纯文本 ".encode() * 3000, "text/plain"),  # a character cut at the end of the sample is fine
        (b"\x00\x01\x02binary", "application/octet-stream"),
        (b"\xff\xfe\xfd not utf-8 at all", "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_sniff(head: bytes, mime: str) -> None:
    assert fm.sniff(head[: fm.SNIFF_BYTES]) == mime


def test_only_passive_media_is_inline() -> None:
    assert fm.served("image/png") == fm.Served("image/png", True)
    assert fm.served("video/mp4").inline and fm.served("audio/ogg").inline
    for active in ("text/html", "image/svg+xml", "application/xml", "application/javascript", "application/pdf"):
        assert fm.served(active) == fm.Served("application/octet-stream", False), active
    assert fm.served("text/plain") == fm.Served("text/plain; charset=utf-8", False)
    assert fm.served("application/zip") == fm.Served("application/zip", False)


def test_names_and_content_disposition() -> None:
    assert fm.clean_name("C:\\Users\\me\\..\\report.pdf") == "report.pdf"
    assert fm.clean_name("../../x\x00\x1b[31m.txt") == "x[31m.txt"
    assert fm.clean_name("...") == "file" and fm.clean_name("") == "file"
    assert len(fm.clean_name("a" * 1000)) == 255
    cd = fm.content_disposition('né "x".txt', inline=False)
    assert cd == "attachment; filename=\"n_ _x_.txt\"; filename*=UTF-8''n%C3%A9%20%22x%22.txt"
    assert fm.content_disposition("a.png", inline=True).startswith('inline; filename="a.png"')


def test_tus_metadata_and_checksums() -> None:
    b64 = base64.b64encode
    raw = f"filename {b64('报告.pdf'.encode()).decode()},filetype {b64(b'application/pdf').decode()},is_private"
    assert parse_metadata(raw) == {"filename": "报告.pdf", "filetype": "application/pdf", "is_private": ""}
    assert parse_metadata("") == {}
    for bad in ("filename not-base64!", "filename a b", "filename YQ"):
        with pytest.raises(BadRequest):
            parse_metadata(bad)
    # tus values are any bytes: shown as text, invalid UTF-8 replaced and NULs dropped
    assert parse_metadata("k " + b64(b"a\xffb\0c").decode()) == {"k": "a\ufffdbc"}
    digest = hashlib.sha256(b"x").digest()
    assert parse_checksum("sha256 " + b64(digest).decode()) == ("sha256", digest)
    for bad in ("md5 AAAA", "sha256 ###", "sha256", "sha256 " + b64(b"short").decode()):
        with pytest.raises(BadRequest):
            parse_checksum(bad)


def test_signed_urls_are_bound_to_file_purpose_and_time() -> None:
    signer = UrlSigner("k" * 40, ttl_s=600)
    now = 1_764_230_400_000
    q = dict(p.split("=", 1) for p in signer.query("f1", "content", now).split("&"))
    exp, sig = int(q["exp"]), q["sig"]
    assert now + 600_000 <= exp <= now + 660_000
    assert signer.valid("f1", "content", exp, sig, now)
    assert not signer.valid("f2", "content", exp, sig, now)
    assert not signer.valid("f1", "thumb", exp, sig, now)
    assert not signer.valid("f1", "content", exp + 1, sig, now)  # the expiry is signed too
    assert not signer.valid("f1", "content", exp, sig, exp + 1)  # expired
    assert not UrlSigner("j" * 40, ttl_s=600).valid("f1", "content", exp, sig, now)  # another server's secret


def test_ranges() -> None:
    assert _range(None, 10) is None and _range("items=0-1", 10) is None and _range("bytes=0-1,3-4", 10) is None
    assert _range("bytes=2-4", 10) == (2, 5) and _range("bytes=8-", 10) == (8, 10) and _range("bytes=-3", 10) == (7, 10)
    assert _range("bytes=-30", 10) == (0, 10) and _range("bytes=5-100", 10) == (5, 10)
    assert _range("bytes=x-1", 10) is None and _range("bytes=5", 10) is None
    for bad in ("bytes=10-", "bytes=5-4", "bytes=-0"):
        with pytest.raises(_Unsatisfiable):
            _range(bad, 10)
