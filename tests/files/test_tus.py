"""tus 1.0.0 at /api/v1/files/ against a real server, with the reference client (tuspy)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests
from tusclient.exceptions import TusCommunicationError

from tests.files.conftest import MAX_BYTES, QUOTA
from tests.files.support import FILES, account, checksum, cut_patch, sha256, wait_offset
from tests.support.server import ServerProcess


def test_options_announces_the_protocol(server: ServerProcess) -> None:
    r = requests.options(server.base + FILES)
    assert r.status_code == 204
    assert r.headers["Tus-Resumable"] == "1.0.0" and r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) == {
        "creation", "creation-with-upload", "termination", "expiration", "checksum"
    }
    assert int(r.headers["Tus-Max-Size"]) == MAX_BYTES
    assert "sha256" in r.headers["Tus-Checksum-Algorithm"].split(",")


@pytest.mark.parametrize("checksums", [False, True], ids=["plain", "sha1 checksums"])
def test_tuspy_upload_gives_the_exact_bytes(server: ServerProcess, checksums: bool) -> None:
    alice = account(server)
    data = os.urandom(3_500_000)
    up = alice.uploader(data, chunk_size=700_001, metadata={"filename": "blob.bin"}, upload_checksum=checksums)
    up.upload()
    file_id = str(up.url).rsplit("/", 1)[1]
    info = alice.get(file_id, "info").json()
    assert info == {"file_id": file_id, "name": "blob.bin", "size": len(data), "mime": "application/octet-stream",
                    "sha256": sha256(data)}
    got = alice.get(file_id)
    assert got.status_code == 200 and got.content == data
    head = alice.head(file_id)
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store" and "Upload-Expires" not in head.headers


@pytest.mark.parametrize("cut", [1, 65_537, 1_234_567, 1_999_999])
def test_an_upload_cut_at_any_byte_resumes(server: ServerProcess, cut: int) -> None:
    alice = account(server)
    data = os.urandom(2_000_000)
    file_id = alice.create(len(data))
    cut_patch(alice, file_id, 0, data, cut)
    assert wait_offset(alice, file_id, cut) == cut  # what arrived is kept
    up = alice.uploader(data, url=f"{server.base}{FILES}{file_id}")
    assert up.offset == cut
    up.upload()
    assert alice.get(file_id, "info").json()["sha256"] == sha256(data)
    assert alice.get(file_id).content == data


def test_a_cut_chunk_with_a_checksum_is_dropped_whole(server: ServerProcess) -> None:
    alice = account(server)
    data = os.urandom(300_000)
    file_id = alice.create(len(data))
    assert alice.patch(file_id, 0, data[:1000]).status_code == 204
    cut_patch(alice, file_id, 1000, data[1000:], 50_000, f"Upload-Checksum: {checksum('sha256', data[1000:])}\r\n")
    time.sleep(0.5)  # the server has noticed: the cut chunk could not be verified, nothing of it stays
    assert alice.head(file_id).headers["Upload-Offset"] == "1000"
    assert alice.patch(file_id, 1000, data[1000:], **{"Upload-Checksum": checksum("sha256", data[1000:])}).status_code == 204
    assert alice.get(file_id).content == data


def test_upload_resumes_across_a_server_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        alice = account(server)
        data = os.urandom(2_500_000)
        file_id = alice.create(len(data), **{"Upload-Metadata": "filename cmVzdGFydC5iaW4="})
        cut_patch(alice, file_id, 0, data, 1_300_001)
        assert wait_offset(alice, file_id, 1_300_001) == 1_300_001
        assert server.stop() == 0
        server.start()
        assert alice.head(file_id).headers["Upload-Offset"] == "1300001"
        up = alice.uploader(data, url=f"{server.base}{FILES}{file_id}", chunk_size=400_000)
        up.upload()
        info = alice.get(file_id, "info").json()
        assert info["sha256"] == sha256(data) and info["name"] == "restart.bin"  # re-hashed after the restart
        assert alice.get(file_id).content == data
    finally:
        assert server.stop() == 0
    assert "Traceback" not in Path(server.log_path).read_text()


def test_checksum_mismatch_is_460_and_keeps_nothing(server: ServerProcess) -> None:
    alice = account(server)
    data = os.urandom(100_000)
    file_id = alice.create(len(data))
    r = alice.patch(file_id, 0, data, **{"Upload-Checksum": checksum("sha256", b"something else")})
    assert r.status_code == 460 and r.headers["Tus-Resumable"] == "1.0.0"
    assert alice.head(file_id).headers["Upload-Offset"] == "0"
    r = alice.patch(file_id, 0, data, **{"Upload-Checksum": "md5 AAAA"})
    assert r.status_code == 400
    r = alice.patch(file_id, 0, data, **{"Upload-Checksum": checksum("sha256", data)})
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))


def test_wrong_offset_is_409(server: ServerProcess) -> None:
    alice = account(server)
    file_id = alice.create(10)
    assert alice.patch(file_id, 0, b"abc").status_code == 204
    r = alice.patch(file_id, 0, b"abc")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert alice.patch(file_id, 5, b"abc").status_code == 409
    assert alice.head(file_id).headers["Upload-Offset"] == "3"


def test_protocol_errors(server: ServerProcess) -> None:
    alice = account(server)
    file_id = alice.create(10)
    r = requests.head(server.base + FILES + file_id, headers={**alice.auth, "Tus-Resumable": "0.2.2"})
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"
    r = alice.patch(file_id, 0, b"x", **{"Content-Type": "application/json"})
    assert r.status_code == 415
    assert alice.patch(file_id, 0, b"x" * 11).status_code == 413  # past Upload-Length
    assert alice.head(file_id).headers["Upload-Offset"] == "0"
    r = requests.post(server.base + FILES, headers=alice.tus(**{"Upload-Length": "-1"}))
    assert r.status_code == 400
    r = requests.post(server.base + FILES, headers=alice.tus(**{"Upload-Length": "5", "Upload-Metadata": "a b c"}))
    assert r.status_code == 400
    r = requests.post(server.base + FILES, headers={"Tus-Resumable": "1.0.0", "Upload-Length": "5"})
    assert r.status_code == 401 and r.headers["Tus-Resumable"] == "1.0.0"


def test_creation_with_upload(server: ServerProcess) -> None:
    alice = account(server)
    data = b"hello, world"
    r = requests.post(
        server.base + FILES, data=data[:5],
        headers=alice.tus(**{"Upload-Length": str(len(data)), "Content-Type": "application/offset+octet-stream"}),
    )
    assert r.status_code == 201 and r.headers["Upload-Offset"] == "5" and "Upload-Expires" in r.headers
    assert r.headers["Location"].startswith(FILES)
    file_id = r.headers["Location"].rsplit("/", 1)[1]
    assert alice.patch(file_id, 5, data[5:]).headers["Upload-Offset"] == str(len(data))
    assert alice.get(file_id).content == data


def test_too_large_and_over_quota_are_413(server: ServerProcess) -> None:
    alice = account(server)
    r = requests.post(server.base + FILES, headers=alice.tus(**{"Upload-Length": str(MAX_BYTES + 1)}))
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    with pytest.raises(TusCommunicationError) as info:  # what tuspy reports
        alice.uploader(b"x" * (MAX_BYTES + 1)).upload()
    assert info.value.status_code == 413
    alice.create(MAX_BYTES)
    r = requests.post(server.base + FILES, headers=alice.tus(**{"Upload-Length": str(QUOTA - MAX_BYTES + 1)}))
    assert r.status_code == 413 and "quota" in r.json()["error"]["message"]
    alice.create(QUOTA - MAX_BYTES)  # exactly up to the quota is fine
    assert account(server).create(MAX_BYTES)  # the quota is per user


def test_termination(server: ServerProcess) -> None:
    alice = account(server)
    file_id = alice.create(100)
    assert alice.patch(file_id, 0, b"x" * 50).status_code == 204
    r = requests.delete(server.base + FILES + file_id, headers=alice.tus())
    assert r.status_code == 204 and r.headers["Tus-Resumable"] == "1.0.0"
    assert alice.head(file_id).status_code == 404
    assert alice.patch(file_id, 50, b"x" * 50).status_code == 404
    # the quota is given back
    assert alice.create(MAX_BYTES)


def test_only_the_uploader_may_touch_an_upload(server: ServerProcess) -> None:
    alice, mallory = account(server), account(server)
    file_id = alice.create(10)
    assert mallory.head(file_id).status_code == 404
    assert mallory.patch(file_id, 0, b"0123456789").status_code == 404
    assert requests.delete(server.base + FILES + file_id, headers=mallory.tus()).status_code == 404
    assert alice.patch(file_id, 0, b"0123456789").status_code == 204
    for what in ("info", "content"):
        assert mallory.get(file_id, what).status_code == 404
        assert requests.get(f"{server.base}{FILES}{file_id}/{what}").status_code == 401
    assert alice.get(file_id).content == b"0123456789"


def test_concurrent_patches_of_one_upload_never_interleave(server: ServerProcess) -> None:
    from concurrent.futures import ThreadPoolExecutor

    alice = account(server)
    data = os.urandom(3_000_000)
    file_id = alice.create(len(data))
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: alice.patch(file_id, 0, data).status_code, range(4)))
    assert sorted(replies) == [204, 409, 409, 409]  # one wins; the others find the offset moved
    assert alice.get(file_id).content == data
