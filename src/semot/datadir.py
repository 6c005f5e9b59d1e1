"""The data directory and the files Semot keeps in it, readable by the server's user only.

The directory holds the whole database and the token signing key, so it is created 0700
and its files 0600, whatever the umask (the mode is set explicitly after creation, since
os.mkdir/os.open only ever remove bits from it through the umask). SQLite creates the
database's -wal and -shm files with the database file's own mode, so creating that file
0600 before SQLite first opens it covers all three.

An existing directory is tightened only when it is Semot's: empty (about to become
ours, e.g. a fresh volume mount point) or holding Semot's own files (an installation
from before this rule, whose database was created 0644). A non-empty directory of
something else keeps the mode its owner chose; the files Semot creates in it are still
0600, and a warning says that others can list it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# Files by which a directory is recognised as Semot's, and which are tightened in it.
OWN_FILES = ("semot.db", "semot.db-wal", "semot.db-shm", "secret.key")


def ensure_private_dir(path: Path) -> None:
    """Create `path` 0700, or tighten it if it exists and is ours (module docstring)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:  # created meanwhile by another process: judge it as existing
            pass
        else:
            os.chmod(path, DIR_MODE)
            return
    if not path.is_dir():
        return  # not ours to fix; opening files in it reports the problem
    owned = [path / name for name in OWN_FILES if (path / name).exists()]
    mode = stat.S_IMODE(path.stat().st_mode)
    try:
        if mode & 0o077 and (owned or not any(path.iterdir())):
            os.chmod(path, DIR_MODE)
        elif mode & 0o077:
            log.warning(
                "data directory %s is not empty and not Semot's: its mode %o is kept (others may list it); "
                "Semot's files in it are created 0600",
                path,
                mode,
            )
        for file in owned:
            if stat.S_IMODE(file.stat().st_mode) & 0o077:
                os.chmod(file, FILE_MODE)
    except OSError as exc:  # e.g. owned by another user: run anyway, say so
        log.warning("could not restrict the permissions of %s: %s", path, exc)


def create_private_file(path: Path | str, data: bytes = b"") -> bool:
    """Create `path` 0600 holding `data`; False (untouched) if it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as f:
        os.fchmod(fd, FILE_MODE)
        f.write(data)
    return True
