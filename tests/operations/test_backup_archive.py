"""`semot restore` against crafted archives (no server needed): names that climb out of
the data directory, links, members the manifest does not list, and the pruning of
scheduled backups. A restore that refuses writes nothing."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from semot.backup import prune


def _archive(path: Path, members: dict[str, bytes], *, manifest: dict[str, Any] | None = None,
             link: str | None = None) -> Path:
    listed = manifest if manifest is not None else {
        name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in members.items()
    }
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link is not None:
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        body = json.dumps({"format": 1, "database": "sqlite", "members": listed}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return path


def _restore(archive: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "semot", "restore", str(archive), "--data-dir", str(target)],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("members", "link", "manifest", "says"), [
    ({"files/ab/../../../evil": b"x"}, None, None, "unsafe member"),
    ({"/etc/evil": b"x"}, None, None, "unsafe member"),
    ({"database/semot.db": b"db", "notes.txt": b"x"}, None, None, "unexpected member"),
    ({"database/semot.db": b"db"}, "files/ab/link", None, "not a regular file"),
    ({"database/semot.db": b"db", "files/ab/f": b"1"}, None,
     {"database/semot.db": {"size": 2, "sha256": hashlib.sha256(b"db").hexdigest()}}, "not in its manifest"),
    ({"database/semot.db": b"db"}, None,
     {"database/semot.db": {"size": 2, "sha256": hashlib.sha256(b"db").hexdigest()},
      "keys/secret.key": {"size": 1, "sha256": "00"}}, "missing from the archive"),
    ({"database/semot.db": b"db"}, None, {"database/semot.db": "bogus"}, "is malformed"),
])
def test_crafted_archives_are_refused_and_leave_nothing(
    tmp_path: Path, members: dict[str, bytes], link: str | None, manifest: dict[str, Any] | None,
    says: str,
) -> None:
    archive = _archive(tmp_path / "x.tar", members, manifest=manifest, link=link)
    target = tmp_path / "target"
    out = _restore(archive, target)
    assert out.returncode == 1 and says in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not target.exists() or not any(target.iterdir())  # refused before or after it was made
    assert not (tmp_path / "evil").exists()


def test_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar file" * 100)
    out = _restore(junk, tmp_path / "t")
    assert out.returncode == 1 and "error: cannot read" in out.stderr, out.stderr
    no_manifest = tmp_path / "plain.tar"
    with tarfile.open(no_manifest, "w") as tar:
        tar.addfile(tarfile.TarInfo("database/semot.db"), io.BytesIO(b""))
    out = _restore(no_manifest, tmp_path / "t")
    assert out.returncode == 1 and "no manifest.json" in out.stderr, out.stderr


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    names = [f"semot-backup-2026120{d}T000000000000Z.tar" for d in range(1, 6)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "unrelated.tar").write_bytes(b"x")
    gone = prune(tmp_path, 2)
    assert sorted(p.name for p in gone) == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == [*names[3:], "unrelated.tar"]
