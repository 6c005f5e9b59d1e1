"""`semot backup DEST` and `semot restore ARCHIVE --data-dir DIR` (semot/backup.py).

A backup runs next to a live server (an online snapshot); a restore writes into an
empty directory only. Both show a progress bar on a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from semot.cli import ConfigOpt, DataDirOpt, _settings


def backup_command(
    dest: Annotated[Path, typer.Argument(help="Archive to write (.tar, or .tar.gz / .tgz to compress); any other "
                                              "name is a directory: a new semot-backup-<time>.tar in it")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Back up the database, the files store and the signing key into one archive, while
    the server runs. SQLite: an online snapshot; PostgreSQL: pg_dump (must be on PATH)."""
    from semot.backup import BackupError, archive_name, backup, plan

    settings = _settings(config, data_dir=data_dir)
    if dest.is_dir() or not dest.name.endswith((".tar", ".tar.gz", ".tgz")):
        dest = dest / archive_name()  # a directory (created when missing)
    try:
        the_plan = plan(settings)
        with typer.progressbar(length=max(the_plan.total_bytes, 1), label="backing up", file=sys.stderr,
                               hidden=quiet or not sys.stderr.isatty()) as bar:
            result = backup(settings, dest, progress=bar.update, the_plan=the_plan)
    except BackupError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.secho(f"error: cannot write {dest}: {exc.strerror or exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    for note in result.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"backup written: {result.path} ({result.members} members, {result.bytes} bytes)")


def restore_command(
    archive: Annotated[Path, typer.Argument(help="A backup archive made by `semot backup`", exists=True,
                                            dir_okay=False, readable=True)],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="New or empty data directory to restore into")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
) -> None:
    """Restore a backup into a new or empty data directory (a non-empty one is refused),
    checking every file against the archive's sha256 manifest."""
    from semot.backup import BackupError, read_manifest, restore

    try:
        manifest = read_manifest(archive)
        total = sum(int(m.get("size", 0)) for m in manifest["members"].values())
        with typer.progressbar(length=max(total, 1), label="restoring", file=sys.stderr,
                               hidden=quiet or not sys.stderr.isatty()) as bar:
            result = restore(archive, data_dir, progress=bar.update)
    except BackupError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.secho(f"error: cannot restore into {data_dir}: {exc.strerror or exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    for note in result.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"restored into {result.data_dir}: {result.database} database, {result.files} files; "
               f"start it with: semot serve --data-dir {result.data_dir}")
