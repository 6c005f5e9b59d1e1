"""Online backups and restores of a Semot installation (`semot backup`, `semot restore`).

A backup is one tar archive (gzip-compressed when its name ends in .gz/.tgz):

    database/semot.db          SQLite: a consistent snapshot (see below)
    database/database.pgdump   PostgreSQL: `pg_dump --format=custom` of the database/schema
    keys/secret.key            the token and URL signing key, when it lives in the data dir
    files/<shard>/<key>        the local files store (uploaded files, thumbnails)
    manifest.json              last: format, version, time, and every member's size and sha256

Consistency while the server runs: the SQLite snapshot is taken with SQLite's backup API
in ONE step, i.e. inside one read transaction: it is the database as of one commit, and
in WAL mode the server keeps writing meanwhile. Every message acknowledged before the
backup started was committed before it (messages are stored before they are
acknowledged), so it is in the snapshot. The files are copied after the snapshot:
finished files never change, and a file a message in the snapshot refers to was
finished before that message was stored, so it is in the archive too (files newer than
the snapshot come along harmlessly; the garbage collector removes what no message uses).

The archive is written under a temporary name and renamed when complete, so a crash or a
full disk never leaves something that looks like a finished backup. A restore writes
into an empty directory only, checks every member against the manifest's sha256 and
size, and on any mismatch removes what it wrote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from semot import __version__
from semot.config import Settings
from semot.datadir import DIR_MODE, FILE_MODE, ensure_private_dir

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/semot.db"
PGDUMP_MEMBER = "database/database.pgdump"
KEY_MEMBER = "keys/secret.key"
_CHUNK = 1024 * 1024

Progress = Callable[[int], None]  # called with the bytes just copied


class BackupError(Exception):
    """A backup or restore that cannot be done, with a message for the operator."""


@dataclass
class Plan:
    """What a backup will copy: computed first so a progress bar knows its length."""

    database: str  # "sqlite" | "postgresql"
    sqlite_path: Path | None
    files_root: Path | None  # None: files are in S3 (not archived)
    secret_key_file: Path | None
    total_bytes: int
    notes: list[str] = field(default_factory=list)


@dataclass
class BackupResult:
    path: Path
    members: int
    bytes: int
    notes: list[str]


def _sqlite_path(settings: Settings) -> Path:
    url = settings.sqlalchemy_url
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        raise BackupError(f"cannot back up the SQLite database at {url!r}: not a file")
    return Path(unquote(path))


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def plan(settings: Settings) -> Plan:
    notes: list[str] = []
    if settings.is_sqlite:
        db_path = _sqlite_path(settings)
        if not db_path.is_file():
            raise BackupError(f"no database at {db_path}: is --data-dir (or the configuration) the server's?")
        database, size = "sqlite", db_path.stat().st_size
    else:
        if shutil.which("pg_dump") is None:
            raise BackupError(
                "backing up PostgreSQL needs pg_dump on PATH (Debian/Ubuntu: apt install postgresql-client; use "
                "the server's major version or newer); or back the database up with PostgreSQL's own tools "
                "(docs/operations.md, point-in-time recovery)"
            )
        db_path, database, size = None, "postgresql", 0
    files_root: Path | None = None
    if settings.file_store == "s3":
        notes.append("files are in the S3 bucket and NOT in this archive: protect the bucket itself "
                     "(versioning, replication)")
    else:
        files_root = settings.files_dir or settings.data_dir / "files"
        if files_root.is_dir():
            size += _tree_size(files_root)
    key_file: Path | None = settings.data_dir / "secret.key"
    if settings.secret_key:
        key_file = None
        notes.append("the signing key comes from the configuration (secret_key) and is NOT in this archive: "
                     "keep the configuration")
    elif key_file is not None and not key_file.is_file():
        key_file = None
        notes.append("no signing key in the data directory: sessions and file links will need a new login")
    return Plan(database, db_path, files_root, key_file, size, notes)


class _HashingReader(io.RawIOBase):
    """Reads exactly `size` bytes of a file for tarfile, hashing them; a file that
    shrank meanwhile (an unfinished upload cut back after a failed write: bytes no
    stored offset counts) is padded with zeros so the archive stays well-formed."""

    def __init__(self, f: IO[bytes], size: int, progress: Progress | None) -> None:
        self._f, self._left, self._progress = f, size, progress
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n)
        if len(data) < n:
            data += b"\0" * (n - len(data))
        self._left -= len(data)
        self.sha.update(data)
        if self._progress is not None:
            self._progress(len(data))
        return data


def _add_file(tar: tarfile.TarFile, src: Path, name: str, entries: dict[str, dict[str, Any]],
              progress: Progress | None) -> None:
    try:
        f = open(src, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return  # removed meanwhile (garbage collection, an expired upload)
    with f:
        size = os.fstat(f.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, FILE_MODE, int(time.time())
        reader = _HashingReader(f, size, progress)
        tar.addfile(info, reader)
    entries[name] = {"size": size, "sha256": reader.sha.hexdigest()}


def _sqlite_snapshot(src_path: Path, dest: Path) -> None:
    """One-step online backup (one read transaction: the database as of one commit)."""
    src = sqlite3.connect(src_path, timeout=30)  # reads only; not mode=ro, which needs the -shm file
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)  # pages=-1: all at once, consistent even while the server writes
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file (no -wal beside it)
            ok = dst.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise BackupError(f"the database snapshot failed its check: {ok}")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {src_path} failed: {exc}") from None
    finally:
        src.close()


def _pg_env_url(settings: Settings) -> tuple[str, dict[str, str]]:
    """The libpq URL without its password (which goes in PGPASSWORD, not on a command line)."""
    url = (settings.database_url or "").replace("postgresql+asyncpg://", "postgresql://")
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        user = f"{parts.username}@" if parts.username else ""
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{user}{host}" + (f":{parts.port}" if parts.port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url, env


def _pg_dump(settings: Settings, dest: Path) -> None:
    url, env = _pg_env_url(settings)
    cmd = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}", f"--dbname={url}"]
    if settings.database_schema:
        cmd.append(f"--schema={settings.database_schema}")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")


def archive_name(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"semot-backup-{now.strftime('%Y%m%dT%H%M%S%fZ')}.tar"


def backup(settings: Settings, dest: Path, *, progress: Progress | None = None,
           the_plan: Plan | None = None) -> BackupResult:
    """Write the archive `dest` (which must not exist); see the module docstring."""
    if dest.exists():
        raise BackupError(f"{dest} exists: choose a new file name (backups are never overwritten)")
    p = the_plan or plan(settings)
    if not dest.parent.exists():
        ensure_private_dir(dest.parent)  # 0700: archives hold the whole database and the signing key
    compressed = dest.name.endswith((".gz", ".tgz"))
    partial = dest.with_name(f".{dest.name}.partial")
    entries: dict[str, dict[str, Any]] = {}
    started = dt.datetime.now(dt.UTC)
    try:
        with tempfile.TemporaryDirectory(prefix=".semot-backup-", dir=dest.parent) as tmp, \
                (tarfile.open(partial, "w:gz", compresslevel=1) if compressed else tarfile.open(partial, "w")) as tar:
            os.chmod(partial, FILE_MODE)
            if p.database == "sqlite":
                assert p.sqlite_path is not None
                snap = Path(tmp) / "semot.db"
                _sqlite_snapshot(p.sqlite_path, snap)
                _add_file(tar, snap, SQLITE_MEMBER, entries, progress)
            else:
                dump = Path(tmp) / "database.pgdump"
                _pg_dump(settings, dump)
                _add_file(tar, dump, PGDUMP_MEMBER, entries, progress)
            if p.secret_key_file is not None:
                _add_file(tar, p.secret_key_file, KEY_MEMBER, entries, None)
            if p.files_root is not None and p.files_root.is_dir():
                for path in _walk(p.files_root):
                    rel = path.relative_to(p.files_root).as_posix()
                    _add_file(tar, path, f"files/{rel}", entries, progress)
            manifest = {
                "format": FORMAT,
                "semot_version": __version__,
                "created_at": started.isoformat(),
                "database": p.database,
                "database_schema": settings.database_schema,
                "files": "s3" if p.files_root is None else "local",
                "notes": p.notes,
                "members": entries,
            }
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), FILE_MODE, int(time.time())
            tar.addfile(info, io.BytesIO(data))
        with open(partial, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(partial, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return BackupResult(dest, len(entries) + 1, dest.stat().st_size, p.notes)


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


# --- restore

@dataclass
class RestoreResult:
    data_dir: Path
    database: str
    files: int
    notes: list[str]


def _target(data_dir: Path, name: str) -> Path:
    """Where member `name` goes in the data dir; BackupError for anything unexpected."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise BackupError(f"unsafe member {name!r} in the archive")
    if name == SQLITE_MEMBER:
        return data_dir / "semot.db"
    if name == PGDUMP_MEMBER:
        return data_dir / "database.pgdump"
    if name == KEY_MEMBER:
        return data_dir / "secret.key"
    if pure.parts[0] == "files" and len(pure.parts) > 1:
        return data_dir.joinpath(*pure.parts)
    raise BackupError(f"unexpected member {name!r} in the archive (not a Semot backup?)")


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive) as tar:
            member = tar.getmember(MANIFEST)
            f = tar.extractfile(member) if member.isfile() else None
            manifest = json.loads(f.read()) if f is not None else None
    except KeyError:
        raise BackupError(f"{archive} has no {MANIFEST}: not a complete Semot backup") from None
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:  # ValueError: bad JSON or UTF-8
        raise BackupError(f"cannot read {archive}: {exc}") from None
    if not isinstance(manifest, dict):
        raise BackupError(f"{archive}: {MANIFEST} is not a backup manifest")
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("members"), dict):
        raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r}")
    for name, entry in manifest["members"].items():
        if not (isinstance(entry, dict) and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str)):
            raise BackupError(f"{archive}: the manifest's entry of {name!r} is malformed")
    return manifest


def restore(archive: Path, data_dir: Path, *, progress: Progress | None = None) -> RestoreResult:
    """Unpack `archive` into the empty (or missing) `data_dir`, verifying every member."""
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(f"{data_dir} is not empty: restore only into a new or empty directory")
    manifest = read_manifest(archive)
    expected: dict[str, dict[str, Any]] = manifest["members"]
    ensure_private_dir(data_dir)
    seen: dict[str, dict[str, Any]] = {}
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if not member.isfile():
                    raise BackupError(f"unexpected member {member.name!r} in the archive (not a regular file)")
                if member.name not in expected:
                    raise BackupError(f"{member.name!r} is in the archive but not in its manifest")
                target = _target(data_dir, member.name)
                src = tar.extractfile(member)
                assert src is not None
                seen[member.name] = _write_member(src, target, data_dir, progress)
        for name, want in expected.items():
            got = seen.get(name)
            if got is None:
                raise BackupError(f"{name} is missing from the archive")
            if got != {"size": want.get("size"), "sha256": want.get("sha256")}:
                raise BackupError(f"{name} is damaged: its checksum does not match the manifest")
    except BaseException as exc:
        _empty(data_dir)
        if isinstance(exc, (tarfile.TarError, EOFError, OSError)):
            raise BackupError(f"cannot read {archive}: {exc}") from None
        raise
    notes = list(manifest.get("notes") or [])
    if manifest.get("database") == "postgresql":
        notes.append(f"load the database with: pg_restore --no-owner --no-privileges --dbname=URL "
                     f"{data_dir / 'database.pgdump'} (into an empty database), then point database_url at it")
    files = sum(1 for n in seen if n.startswith("files/"))
    return RestoreResult(data_dir, str(manifest.get("database")), files, notes)


def _write_member(src: IO[bytes], target: Path, data_dir: Path, progress: Progress | None) -> dict[str, Any]:
    for parent in reversed(target.parents):
        if parent.is_relative_to(data_dir) and not parent.exists():
            parent.mkdir(mode=DIR_MODE)
            os.chmod(parent, DIR_MODE)
    sha, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        while chunk := src.read(_CHUNK):
            out.write(chunk)
            sha.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    return {"size": size, "sha256": sha.hexdigest()}


def _empty(data_dir: Path) -> None:
    """Remove what a failed restore wrote (the directory was empty before it)."""
    for child in data_dir.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` scheduled backups in `directory`; returns the deleted."""
    archives = sorted(directory.glob("semot-backup-*.tar*"))
    archives = [a for a in archives if not a.name.endswith(".partial")]
    gone = archives[:-keep] if keep > 0 else archives
    for path in gone:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return gone
