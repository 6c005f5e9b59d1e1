"""`semot backup` / `semot restore` with PostgreSQL: pg_dump of the server's schema into
the archive, restored with pg_restore into a new database, and a server started on it
with the restored data directory has every message and file. Without pg_dump on PATH
the command stops with a clear message."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from semot.backup import read_manifest
from tests.hardening.ws_support import PG_URL, run_backend
from tests.integration.harness import Api, Clients, ServerProcess, all_history, direct_conv
from tests.operations.backup_support import download, tus_upload


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if subprocess.run(["which", "pg_dump"], capture_output=True, check=False).returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("pg_dump is missing in CI (.ci/run installs postgresql-client)")
        pytest.skip("pg_dump is not installed")
    yield from run_backend("postgresql", tmp_path_factory.mktemp("backup_pg") / "data")


def semot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}, **env}
    return subprocess.run([sys.executable, "-m", "semot", *args], capture_output=True, text=True, env=full,
                          timeout=300, check=False)


async def test_pg_dump_backup_restores_into_a_new_database(
    server: ServerProcess, api: Api, clients: Clients, tmp_path: Path
) -> None:
    db_env = {k: server.env[k] for k in ("SEMOT_DATABASE_URL", "SEMOT_DATABASE_SCHEMA")}
    a, b = await api.accounts(server, 2, "pgbk")
    ws = await clients.connect(server, a)
    texts = [f"pg {i}" for i in range(30)]
    for text in texts:
        await ws.call("send", cid=uuid.uuid4().hex, to=b.user_id, kind="text", body={"text": text})
    data = os.urandom(300_000)
    file_id = await asyncio.to_thread(tus_upload, server.base_url, a.access_token, data)

    archive = tmp_path / "pg.tar.gz"  # compressed this time
    done = await asyncio.to_thread(semot, db_env, "backup", str(archive), "--data-dir", str(server.data_dir), "-q")
    assert done.returncode == 0, done.stderr
    manifest = read_manifest(archive)
    assert manifest["database"] == "postgresql" and manifest["database_schema"] == db_env["SEMOT_DATABASE_SCHEMA"]
    assert "database/database.pgdump" in manifest["members"]

    restored_dir = tmp_path / "restored"
    out = await asyncio.to_thread(semot, {}, "restore", str(archive), "--data-dir", str(restored_dir))
    assert out.returncode == 0, out.stderr
    assert "pg_restore" in out.stderr  # how to load the dump is said
    dump = restored_dir / "database.pgdump"

    db = f"semot_restore_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{db}"')
        new_url = PG_URL.rsplit("/", 1)[0] + f"/{db}"
        loaded = await asyncio.to_thread(
            subprocess.run, ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={new_url}",
                             str(dump)], capture_output=True, text=True, check=False)
        assert loaded.returncode == 0, loaded.stderr
        restored = ServerProcess(restored_dir, {"SEMOT_DATABASE_URL": new_url,
                                                "SEMOT_DATABASE_SCHEMA": db_env["SEMOT_DATABASE_SCHEMA"]})
        await restored.astart()
        try:
            ws2 = await clients.connect(restored, a)  # the restored signing key accepts the old token
            history = await all_history(ws2, direct_conv(a.user_id, b.user_id))
            assert [m["body"]["text"] for m in history] == texts
            assert await download(restored.base_url, a.access_token, file_id) == hashlib.sha256(data).hexdigest()
        finally:
            await restored.astop()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


def test_without_pg_dump_the_command_says_what_is_missing(server: ServerProcess, tmp_path: Path) -> None:
    env = {k: server.env[k] for k in ("SEMOT_DATABASE_URL", "SEMOT_DATABASE_SCHEMA")}
    out = semot({**env, "PATH": str(tmp_path)}, "backup", str(tmp_path / "x.tar"), "--data-dir", str(server.data_dir))
    assert out.returncode == 1 and "needs pg_dump on PATH" in out.stderr, out.stderr
    assert not (tmp_path / "x.tar").exists()
