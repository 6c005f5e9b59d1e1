"""Uploads into S3 end to end: a real server with `file_store=s3` against moto's S3 API on
loopback, the reference tus client (tuspy), a PATCH cut in the middle, the server
restarted, the upload resumed and read back with Range requests."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.files.support import FILES, account, checksum, cut_patch, sha256, wait_offset
from tests.support.moto import ACCESS_KEY, SECRET_KEY, MotoServer, moto  # noqa: F401
from tests.support.server import ServerProcess

PREFIX = "semot/"


@pytest.fixture(scope="module")
def s3_server(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    bucket = moto.new_bucket()
    env = {
        "SEMOT_FILE_STORE": "s3", "SEMOT_S3_ENDPOINT_URL": moto.url, "SEMOT_S3_BUCKET": bucket,
        "SEMOT_S3_ACCESS_KEY": ACCESS_KEY, "SEMOT_S3_SECRET_KEY": SECRET_KEY, "SEMOT_S3_PREFIX": PREFIX,
        "SEMOT_LOG_LEVEL": "INFO",
    }
    server = ServerProcess(tmp_path_factory.mktemp("s3-files") / "data", env=env).start()
    try:
        yield server, bucket
    finally:
        assert server.stop() == 0
        log = Path(server.log_path).read_text()
        assert "Traceback" not in log and "Unclosed" not in log, log[-3000:]
        assert SECRET_KEY not in log


def test_a_cut_upload_resumes_across_a_restart_into_one_s3_object(
    s3_server: tuple[ServerProcess, str], moto: MotoServer
) -> None:
    server, bucket = s3_server
    alice = account(server)
    data = os.urandom(12 * 1024 * 1024 + 4321)  # two 8 MiB parts' worth
    file_id = alice.create(len(data), **{"Upload-Metadata": "filename czMuYmlu"})
    cut = 6_500_001
    cut_patch(alice, file_id, 0, data, cut)  # the connection drops mid-chunk: what arrived is kept
    assert wait_offset(alice, file_id, cut) == cut
    assert [k for k in moto.keys(bucket) if file_id in k] == [f"{PREFIX}.uploads/{file_id}/{0:016d}"]

    server.kill()  # a crash, not a clean stop
    server.start()  # nothing of the upload is on this machine: S3 alone knows it
    assert alice.head(file_id).headers["Upload-Offset"] == str(cut)
    up = alice.uploader(data, url=f"{server.base}{FILES}{file_id}", chunk_size=3_000_017)
    assert up.offset == cut
    up.upload()

    info = alice.get(file_id, "info").json()
    assert info["size"] == len(data) and info["sha256"] == sha256(data) and info["name"] == "s3.bin"
    assert [k for k in moto.keys(bucket) if file_id in k] == [PREFIX + file_id]  # one object, no staging left
    whole = alice.get(file_id)
    assert whole.status_code == 200 and sha256(whole.content) == sha256(data)
    got = b""
    step = 5_000_000
    for start in range(0, len(data), step):  # Range GETs straight from S3, across parts
        r = alice.get(file_id, Range=f"bytes={start}-{min(start + step, len(data)) - 1}")
        assert r.status_code == 206, r.status_code
        assert r.headers["Content-Range"] == f"bytes {start}-{min(start + step, len(data)) - 1}/{len(data)}"
        got += r.content
    assert sha256(got) == sha256(data)
    assert alice.get(file_id, Range="bytes=-10").content == data[-10:]

    # removing the upload removes its object
    other = alice.create(100)
    assert alice.patch(other, 0, b"x" * 50).status_code == 204
    assert any(other in k for k in moto.keys(bucket))
    assert requests.delete(server.base + FILES + other, headers=alice.tus()).status_code == 204
    assert not any(other in k for k in moto.keys(bucket))


def test_a_picture_in_s3_is_stripped_of_its_location_and_thumbnailed(
    s3_server: tuple[ServerProcess, str], moto: MotoServer
) -> None:
    server, bucket = s3_server
    alice = account(server)
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 1.0)})
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 50, 50)).save(buf, "JPEG", exif=exif)
    photo = buf.getvalue()
    file_id = alice.upload(photo, name="photo.jpg", filetype="image/jpeg")
    info = alice.get(file_id, "info").json()
    assert info["mime"] == "image/jpeg" and (info["w"], info["h"]) == (640, 480)
    stored = alice.get(file_id).content
    assert info["sha256"] == sha256(stored) != sha256(photo)  # rewritten in S3 without the GPS IFD
    assert Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825) == {}
    thumb = alice.get(file_id, "thumb")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] in ("image/webp", "image/jpeg")
    assert sorted(k for k in moto.keys(bucket) if file_id in k) == [PREFIX + file_id, f"{PREFIX}{file_id}.thumb"]


def test_a_chunk_failing_its_checksum_leaves_nothing_in_s3(
    s3_server: tuple[ServerProcess, str], moto: MotoServer
) -> None:
    server, bucket = s3_server
    alice = account(server)
    data = os.urandom(9 * 1024 * 1024)  # past the first 8 MiB part: it was merged, then cut back
    file_id = alice.create(len(data))
    assert alice.patch(file_id, 0, data[:1000]).status_code == 204
    r = alice.patch(file_id, 1000, data[1000:], **{"Upload-Checksum": checksum("sha256", b"not these bytes")})
    assert r.status_code == 460
    assert alice.head(file_id).headers["Upload-Offset"] == "1000"
    sizes = {o["Key"]: o["Size"] for o in moto.client().list_objects_v2(Bucket=bucket, Prefix=PREFIX)["Contents"]
             if file_id in o["Key"]}
    assert sizes == {f"{PREFIX}.uploads/{file_id}/{0:016d}": 1000}  # cut back to the verified bytes
    r = alice.patch(file_id, 1000, data[1000:], **{"Upload-Checksum": checksum("sha256", data[1000:])})
    assert r.status_code == 204
    assert alice.get(file_id).content == data
