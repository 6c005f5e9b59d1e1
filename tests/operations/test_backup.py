"""Online backup and restore (semot/backup.py) of a real server under load.

Clients keep sending messages and uploading files while `semot backup` runs against the
live data directory; the archive is restored into a new directory with `semot restore`
and a new server is started there. Every message acknowledged before the backup
started must be in it (same conversation, seq, cid and text), every file uploaded
before it downloads with the same sha256, and the signing key came along (the old
access token still works). Restores refuse a non-empty directory and a damaged archive.
The same server makes scheduled backups (every 2 s, 2 kept) meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from semot.backup import read_manifest
from tests.integration.harness import WS, Account, Api, Clients, ServerProcess, all_history
from tests.operations.backup_support import download, tus_upload

FILES = "/api/v1/files/"
BASE_ENV = {"SEMOT_RATE_PER_S": "100000", "SEMOT_RATE_BURST": "100000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("backup")
    srv = ServerProcess(root / "data", {**BASE_ENV, "SEMOT_BACKUP_DIR": str(root / "scheduled"),
                                        "SEMOT_BACKUP_INTERVAL_S": "2", "SEMOT_BACKUP_KEEP": "2",
                                        "SEMOT_LOG_LEVEL": "INFO"})
    srv.start()
    yield srv
    if srv.running:
        srv.stop()


def semot(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
    return subprocess.run([sys.executable, "-m", "semot", *args], capture_output=True, text=True, env=env, timeout=300,
                          check=False)


class Load:
    """Senders and an uploader running until stopped; what was acknowledged, and when."""

    def __init__(self, server: ServerProcess, sender: Account, ws: WS, to: list[str]) -> None:
        self.server, self.sender, self.ws, self.to = server, sender, ws, to
        self.acked: list[tuple[float, str, int, str, str]] = []  # (time, conv, seq, cid, text)
        self.files: list[tuple[float, str, str]] = []  # (time, file_id, sha256)
        self.running = True

    async def send_loop(self, target: str) -> None:
        n = 0
        while self.running:
            n += 1
            cid, text = uuid.uuid4().hex, f"load {target[-6:]} #{n}"
            reply = await self.ws.request("send", cid=cid, to=target, kind="text", body={"text": text}, timeout=30)
            assert reply["ok"], reply
            self.acked.append((time.monotonic(), reply["data"]["conv"], reply["data"]["seq"], cid, text))

    async def upload_loop(self) -> None:
        i = 0
        while self.running:
            i += 1
            data = os.urandom(200_000 + 37_000 * (i % 7))
            file_id = await asyncio.to_thread(tus_upload, self.server.base_url, self.sender.access_token, data)
            reply = await self.ws.request("send", cid=uuid.uuid4().hex, to=self.to[0], kind="file",
                                          body={"file_id": file_id}, timeout=30)
            assert reply["ok"], reply
            self.files.append((time.monotonic(), file_id, hashlib.sha256(data).hexdigest()))

    def start(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.send_loop(t)) for t in self.to for _ in range(2)] + [
            asyncio.create_task(self.upload_loop())
        ]


async def test_backup_under_load_restores_every_acknowledged_message_and_file(
    server: ServerProcess, api: Api, clients: Clients, tmp_path: Path
) -> None:
    sender, b, c = await api.accounts(server, 3, "bk")
    group = await api.group(server, sender, [b, c], "backup team")
    ws = await clients.connect(server, sender)
    load = Load(server, sender, ws, [b.user_id, group])
    tasks = load.start()
    try:
        deadline = time.monotonic() + 60
        while len(load.files) < 3 or len(load.acked) < 200:  # a history worth backing up first
            assert time.monotonic() < deadline, (len(load.files), len(load.acked))
            await asyncio.sleep(0.1)
        started = time.monotonic()
        archive = tmp_path / "semot.tar"
        done = await asyncio.to_thread(semot, "backup", str(archive), "--data-dir", str(server.data_dir))
        assert done.returncode == 0, done.stderr
        assert "backup written" in done.stdout
        assert any(t > started for t, *_ in load.acked), "the load did not run during the backup"
    finally:
        load.running = False
        await asyncio.gather(*tasks)

    before = [m for m in load.acked if m[0] < started]
    files_before = [f for f in load.files if f[0] < started]
    assert archive.stat().st_mode & 0o077 == 0  # the database and the signing key: the owner's only
    manifest = read_manifest(archive)
    assert manifest["database"] == "sqlite" and manifest["files"] == "local"
    assert {"database/semot.db", "keys/secret.key"} <= set(manifest["members"])
    assert sum(1 for n in manifest["members"] if n.startswith("files/")) >= len(files_before)

    # a non-empty directory is refused, untouched
    refused = await asyncio.to_thread(semot, "restore", str(archive), "--data-dir", str(server.data_dir))
    assert refused.returncode == 1 and "not empty" in refused.stderr, refused.stderr

    restored_dir = tmp_path / "restored"
    out = await asyncio.to_thread(semot, "restore", str(archive), "--data-dir", str(restored_dir))
    assert out.returncode == 0, out.stderr
    assert (restored_dir / "semot.db").stat().st_mode & 0o077 == 0
    restored = ServerProcess(restored_dir, BASE_ENV)
    await restored.astart()
    try:
        # the signing key came along: the token issued by the old server is valid here
        ws2 = await clients.connect(restored, sender)
        for conv in {m[1] for m in before}:
            history = {m["seq"]: m for m in await all_history(ws2, conv)}
            mine = [m for m in before if m[1] == conv]
            for _, _, seq, cid, text in mine:
                assert seq in history, f"acknowledged message {conv}#{seq} missing after restore"
                assert history[seq]["cid"] == cid and history[seq]["body"] == {"text": text}
            assert sorted(history) == list(range(1, len(history) + 1))  # gap-free
        for _, file_id, sha in files_before:
            assert await download(restored.base_url, sender.access_token, file_id) == sha
    finally:
        await restored.astop()


def test_damaged_archive_is_refused_and_leaves_nothing(server: ServerProcess, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    done = semot("backup", str(archive), "--data-dir", str(server.data_dir), "--quiet")
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        member = tar.getmember("database/semot.db")
    with open(archive, "r+b") as f:  # flip one byte inside the database's bytes
        f.seek(member.offset_data + member.size // 2)
        byte = f.read(1)
        f.seek(-1, io.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    target = tmp_path / "new"
    out = semot("restore", str(archive), "--data-dir", str(target))
    assert out.returncode == 1 and "database/semot.db is damaged" in out.stderr, out.stderr
    assert target.is_dir() and not any(target.iterdir())

    truncated = tmp_path / "cut.tar"
    truncated.write_bytes(archive.read_bytes()[: member.offset_data + 1000])
    out = semot("restore", str(truncated), "--data-dir", str(target))
    assert out.returncode == 1 and "error:" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not any(target.iterdir())

    exists = semot("backup", str(archive), "--data-dir", str(server.data_dir))
    assert exists.returncode == 1 and "exists" in exists.stderr


def test_scheduled_backups_keep_the_newest(server: ServerProcess) -> None:
    scheduled = server.data_dir.parent / "scheduled"
    deadline = time.monotonic() + 60
    while True:  # at least 3 made, the older ones pruned down to the newest 2
        archives = sorted(scheduled.glob("semot-backup-*.tar"))
        if server.log_tail(400).count("backup written") >= 3 and len(archives) == 2:
            break
        assert time.monotonic() < deadline, (archives, server.log_tail())
        time.sleep(0.2)
    manifest: dict[str, Any] = read_manifest(archives[-1])
    assert "database/semot.db" in manifest["members"] and "keys/secret.key" in manifest["members"]


def _backup_metrics(server: ServerProcess) -> dict[str, float]:
    with urllib.request.urlopen(server.base_url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return {name: float(value) for name, value in (line.split(" ", 1) for line in text.splitlines())
            if name.startswith("semot_backup_")}


def test_scheduled_backups_are_measured(server: ServerProcess) -> None:
    """/metrics tells when the last scheduled backup succeeded, how long it took, its size,
    and counts failures (here: backup_dir replaced by a file for a while)."""
    deadline = time.monotonic() + 60
    while (m := _backup_metrics(server))["semot_backup_last_success_timestamp_seconds"] == 0:
        assert time.monotonic() < deadline, m
        time.sleep(0.2)
    assert abs(m["semot_backup_last_success_timestamp_seconds"] - time.time()) < 120, m
    assert m["semot_backup_last_duration_seconds"] > 0 and m["semot_backup_last_size_bytes"] > 10_000, m
    failures = m["semot_backup_failures_total"]

    scheduled = server.data_dir.parent / "scheduled"
    away = scheduled.with_name("scheduled.away")
    scheduled.rename(away)
    scheduled.write_text("not a directory")
    try:
        deadline = time.monotonic() + 60
        while (m := _backup_metrics(server))["semot_backup_failures_total"] == failures:
            assert time.monotonic() < deadline, m
            time.sleep(0.2)
        failed_at = time.time()
    finally:
        scheduled.unlink()
        away.rename(scheduled)
    deadline = time.monotonic() + 60  # the next one succeeds again
    while (m := _backup_metrics(server))["semot_backup_last_success_timestamp_seconds"] < failed_at:
        assert time.monotonic() < deadline, m
        time.sleep(0.2)
    assert "scheduled backup to" in server.log_tail(400) and "failed" in server.log_tail(400)
