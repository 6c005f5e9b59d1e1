"""Expiry, garbage collection, a full disk, and the `file` event: real servers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.files.support import account, sha256
from tests.support.server import ServerProcess


def _blobs(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "files").rglob("*") if p.is_file()]


@pytest.fixture
def quick_gc(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {"SEMOT_FILE_UPLOAD_EXPIRY_S": "2", "SEMOT_FILE_GC_INTERVAL_S": "0.3", "SEMOT_FILE_GC_GRACE_S": "3"}
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        yield server
    finally:
        assert server.stop() == 0
        assert "Traceback" not in Path(server.log_path).read_text()


def test_unfinished_uploads_expire_and_unreferenced_files_are_collected(quick_gc: ServerProcess) -> None:
    alice = account(quick_gc)
    unfinished = alice.create(100)
    assert alice.patch(unfinished, 0, b"x" * 10).status_code == 204
    expires = alice.head(unfinished).headers["Upload-Expires"]
    assert expires.endswith(" GMT")
    done = alice.upload(b"finished")
    assert len(_blobs(quick_gc.data_dir)) == 2
    time.sleep(2.8)
    assert alice.head(unfinished).status_code == 404  # past Upload-Expires
    assert alice.patch(unfinished, 10, b"y").status_code == 404
    assert alice.get(done, "info").status_code == 200  # a finished file has no expiry...
    deadline = time.monotonic() + 10
    while _blobs(quick_gc.data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alice.get(done, "info").status_code == 404  # ...but nothing referenced it within the grace period
    assert _blobs(quick_gc.data_dir) == []


def test_files_are_private_on_disk(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        alice = account(server)
        alice.upload(b"secret bytes")
        (blob,) = _blobs(server.data_dir)
        assert blob.stat().st_mode & 0o777 == 0o600
        assert blob.parent.stat().st_mode & 0o777 == 0o700 and (server.data_dir / "files").stat().st_mode & 0o777 == 0o700
    finally:
        assert server.stop() == 0


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_507_and_corrupts_nothing(tmp_path: Path, tiny_disk: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"SEMOT_FILES_DIR": str(tiny_disk / "files")}).start()
    try:
        alice = account(server)
        data = os.urandom(1_500_000)
        file_id = alice.create(len(data))
        assert alice.patch(file_id, 0, data[:300_000]).status_code == 204
        r = alice.patch(file_id, 300_000, data[300_000:])
        assert r.status_code == 507 and r.json()["error"]["code"] == "unavailable" and "full" in r.json()["error"]["message"]
        assert alice.head(file_id).headers["Upload-Offset"] == "300000"  # the offset did not move
        small = alice.upload(b"still works")  # nothing of the refused chunk takes up room
        assert alice.get(small).content == b"still works"
        # room again (an operator frees space, here: a bigger disk): the upload resumes, intact
        subprocess.run(["mount", "-o", "remount,size=4m", str(tiny_disk)], check=True)
        assert alice.patch(file_id, 300_000, data[300_000:]).status_code == 204
        assert alice.get(file_id, "info").json()["sha256"] == sha256(data)
    finally:
        assert server.stop() == 0
    assert "Traceback" not in Path(server.log_path).read_text()


async def test_the_uploader_devices_get_a_file_event(server: ServerProcess) -> None:
    alice = account(server)
    async with aiohttp.ClientSession() as http, http.ws_connect(server.ws_url) as ws:
        await ws.send_json({"t": "auth", "rid": 1, "token": alice.token, "device": {"id": "d1", "platform": "sdk"}})
        assert (await ws.receive_json(timeout=5))["ok"] is True
        data = b"\x89PNG\r\n\x1a\n" + os.urandom(100)
        file_id = await asyncio.to_thread(alice.upload, data, "pic.png")
        while True:
            frame = await ws.receive_json(timeout=5)
            if frame.get("evt") == "file":
                break
    assert frame == {
        "t": "evt", "evt": "file",
        "change": {"type": "uploaded", "file_id": file_id, "name": "pic.png", "size": len(data), "mime": "image/png",
                   "sha256": sha256(data), "w": None, "h": None},
    }


def test_a_slow_upload_is_not_cut_by_the_body_deadline(tmp_path: Path) -> None:
    """The HTTP body deadline bounds silence during a tus PATCH, not the whole transfer."""
    import socket

    server = ServerProcess(tmp_path / "data", env={"SEMOT_HTTP_BODY_TIMEOUT_S": "2"}).start()
    try:
        alice = account(server)
        data = os.urandom(40_000)
        file_id = alice.create(len(data))
        head = (
            f"PATCH /api/v1/files/{file_id} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n"
            f"Authorization: Bearer {alice.token}\r\nUpload-Offset: 0\r\n"
            f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(head)
            for i in range(0, len(data), 4000):  # 10 pieces over 5 s: longer than the deadline, never silent for it
                s.sendall(data[i : i + 4000])
                time.sleep(0.5)
            reply = s.recv(4096).decode()
        assert reply.startswith("HTTP/1.1 204"), reply
        assert alice.get(file_id).content == data
        # silence longer than the deadline ends the request; what arrived is kept
        other = alice.create(len(data))
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(head.replace(file_id.encode(), other.encode()) + data[:1000])
            time.sleep(3.5)
        assert alice.head(other).headers["Upload-Offset"] == "1000"
    finally:
        assert server.stop() == 0
    assert "Traceback" not in Path(server.log_path).read_text()


def test_bytes_lost_behind_the_servers_back_are_a_clear_404(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        alice = account(server)
        upload = alice.create(100)
        assert alice.patch(upload, 0, b"x" * 10).status_code == 204
        done = alice.upload(b"finished")
        for blob in _blobs(server.data_dir):
            blob.unlink()  # an operator's mistake, a broken network share
        r = alice.patch(upload, 10, b"y" * 10)
        assert r.status_code == 404 and "gone" in r.json()["error"]["message"]
        assert alice.head(upload).status_code == 404
        r = alice.get(done)
        assert r.status_code == 404 and "gone" in r.json()["error"]["message"]  # never a reply cut after its headers
        assert alice.get(done, "info").status_code == 404
    finally:
        assert server.stop() == 0
    log = Path(server.log_path).read_text()
    assert "Traceback" not in log and "are missing or cut short" in log
