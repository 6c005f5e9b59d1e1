"""GET /api/v1/files/<id>/info and /content: sniffed types, safe labelling, Range, ETag."""

from __future__ import annotations

import io
import os

import pytest
import requests
from PIL import Image

from tests.files.support import FILES, account, sha256
from tests.support.server import ServerProcess


def _png(w: int, h: int, orientation: int | None = None, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", (w, h), (200, 30, 30))
    if orientation is None:
        img.save(out, fmt)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        img.save(out, fmt, exif=exif)
    return out.getvalue()


def test_range_etag_and_304(server: ServerProcess) -> None:
    alice = account(server)
    data = os.urandom(1_000_000)
    file_id = alice.upload(data)
    full = alice.get(file_id)
    etag = full.headers["ETag"]
    assert etag == f'"{sha256(data)}"' and full.headers["Accept-Ranges"] == "bytes"
    assert full.headers["Content-Length"] == str(len(data))
    for spec, start, end in (("bytes=0-0", 0, 1), ("bytes=100-199", 100, 200), ("bytes=999000-", 999_000, 1_000_000),
                             ("bytes=-10", 999_990, 1_000_000), ("bytes=999999-5000000", 999_999, 1_000_000)):
        r = alice.get(file_id, Range=spec)
        assert r.status_code == 206, spec
        assert r.content == data[start:end], spec
        assert r.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(data)}"
    r = alice.get(file_id, Range="bytes=1000000-")
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}"
    assert alice.get(file_id, Range="bytes=0-1,5-6").status_code == 200  # several ranges: the whole file
    assert alice.get(file_id, Range="bytes=abc").status_code == 200  # malformed: ignored (RFC 9110)
    r = alice.get(file_id, **{"If-None-Match": etag})
    assert r.status_code == 304 and not r.content and r.headers["ETag"] == etag
    assert alice.get(file_id, **{"If-None-Match": '"other"'}).status_code == 200
    assert alice.get(file_id, Range="bytes=0-9", **{"If-Range": '"stale"'}).status_code == 200


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("page.html", b"<!doctype html><html><body><script>alert(1)</script></body></html>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'),
        ("x.js", b"fetch('/api/v1/me').then(r => r.text()).then(alert)"),
        ("feed.xml", b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>'),
    ],
)
def test_active_content_is_only_ever_an_attachment(server: ServerProcess, name: str, body: bytes) -> None:
    alice = account(server)
    file_id = alice.upload(body, name=name, filetype="text/html")
    assert alice.get(file_id, "info").json()["mime"] == "text/plain"  # the client's text/html is not believed
    r = alice.get(file_id)
    assert r.content == body
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in r.headers["Content-Security-Policy"]


def test_sniffed_type_overrides_the_client_and_images_are_measured(server: ServerProcess) -> None:
    alice = account(server)
    png = _png(64, 48)
    file_id = alice.upload(png, name="shot.html", filetype="text/html")
    info = alice.get(file_id, "info").json()
    assert (info["mime"], info["w"], info["h"], info["size"]) == ("image/png", 64, 48, len(png))
    r = alice.get(file_id)
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"].startswith("inline;")
    # a JPEG turned a quarter by EXIF is as wide as it is shown
    jpeg = _png(40, 30, orientation=6, fmt="JPEG")
    info = alice.get(alice.upload(jpeg, name="turned.jpg"), "info").json()
    assert (info["mime"], info["w"], info["h"]) == ("image/jpeg", 30, 40)


def test_a_decompression_bomb_is_not_decoded(tmp_path: object, server: ServerProcess) -> None:
    alice = account(server)
    # 30000 x 30000 pixels, compressed to a few kilobytes: over the server's max_image_pixels
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, "PNG")
    file_id = alice.upload(out.getvalue(), name="bomb.png")
    info = alice.get(file_id, "info").json()
    assert info["mime"] == "image/png" and "w" not in info and "h" not in info


def test_names_are_cleaned_and_sent_per_rfc_6266(server: ServerProcess) -> None:
    alice = account(server)
    file_id = alice.upload(b"%PDF-1.4 fake", name="../../etc/报告 \"final\".pdf")
    info = alice.get(file_id, "info").json()
    assert info["name"] == '报告 "final".pdf'
    assert info["mime"] == "application/pdf"
    r = alice.get(file_id)
    assert r.headers["Content-Type"] == "application/octet-stream"  # PDF viewers run script: never inline
    cd = r.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="__ _final_.pdf"') and "filename*=UTF-8''%E6%8A%A5%E5%91%8A" in cd


def test_an_empty_file(server: ServerProcess) -> None:
    alice = account(server)
    r = requests.post(server.base + FILES, headers=alice.tus(**{"Upload-Length": "0"}))
    assert r.status_code == 201 and r.headers["Upload-Offset"] == "0" and "Upload-Expires" not in r.headers
    file_id = r.headers["Location"].rsplit("/", 1)[1]
    assert alice.get(file_id, "info").json()["sha256"] == sha256(b"")
    got = alice.get(file_id)
    assert got.status_code == 200 and got.content == b""
    assert alice.get(file_id, Range="bytes=0-").status_code == 416


def test_a_signed_url_works_without_a_token(server: ServerProcess) -> None:
    from semot.services.files import UrlSigner

    alice = account(server)
    file_id = alice.upload(b"GIF89a" + os.urandom(50), name="a.gif")
    signer = UrlSigner((server.data_dir / "secret.key").read_text().strip(), ttl_s=600)
    url = f"{server.base}{FILES}{file_id}/content?{signer.query(file_id, 'content')}"
    r = requests.get(url)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/gif" and "immutable" in r.headers["Cache-Control"]
    assert requests.get(url.replace("sig=", "sig=x")).status_code == 404
    assert requests.get(url.replace(file_id, alice.upload(b"other"))).status_code == 404  # bound to its file
    thumb = f"{server.base}{FILES}{file_id}/content?{signer.query(file_id, 'thumb')}"
    assert requests.get(thumb).status_code == 404  # and to its purpose
    expired = UrlSigner((server.data_dir / "secret.key").read_text().strip(), ttl_s=0).query(file_id, "content", now=1)
    assert requests.get(f"{server.base}{FILES}{file_id}/content?{expired}").status_code == 404
