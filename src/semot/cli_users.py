"""`semot users ...`: scripted user onboarding (`semot users import FILE`).

The same import as `POST /api/admin/v1/users/import` (services/user_import.py), run by
the operator against the data directory or database of the configuration given, so it
is allowed everything an administrator could be granted. It may run while the server
does (SQLite serialises the writes; PostgreSQL is shared anyway). A progress bar goes
to the terminal (stderr, only when it is one), the summary to stdout, each failed row
to stderr; the exit status is 1 when any row failed, 2 when the file cannot be read.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
import time
from pathlib import Path
from typing import Annotated, TextIO

import typer

from semot.cli import ConfigOpt, DataDirOpt, _logging, _run, _settings

users_app = typer.Typer(help="Manage user accounts (bulk import).", no_args_is_help=True, rich_markup_mode=None)


class ProgressBar:
    """A one-line progress bar redrawn in place; silent when `out` is not a terminal."""

    def __init__(self, out: TextIO, total: int, width: int = 30) -> None:
        self.out, self.total, self.width = out, max(total, 1), width
        self.enabled = out.isatty()
        self.started = time.monotonic()

    def draw(self, done: int, created: int, updated: int, errors: int) -> None:
        if not self.enabled:
            return
        frac = min(done / self.total, 1.0)
        filled = int(frac * self.width)
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "-" * (self.width - filled)
        self.out.write(
            f"\r[{bar}] {frac:4.0%} {done}/{self.total} rows  {created} created {updated} updated "
            f"{errors} failed  {rate:,.0f} rows/s "
        )
        self.out.flush()

    def end(self) -> None:
        if self.enabled:
            self.out.write("\n")
            self.out.flush()


def _write_links(path: Path, rows: list[list[str]]) -> None:
    """The links are secrets (each signs in an account once): the file is private (0600)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["line", "username", "user_id", "set_password_link"])
    w.writerows(rows)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
        os.fchmod(fd, 0o600)
        f.write(buf.getvalue())


@users_app.command("import")
def import_users(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8, UTF-16 or GBK) or XLSX file with the header username,password,display_name[,department,title,is_admin,disabled]"
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and say what would change; write nothing")
    ] = False,
    links: Annotated[
        Path | None,
        typer.Option(
            "--links",
            help="Make a one-time set-password link for each new user without a password; write them to this CSV file (0600)",
        ),
    ] = None,
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url",
            help="The server's address as users reach it, put before each link (e.g. https://chat.example.com)",
        ),
    ] = "",
    hash_workers: Annotated[
        int,
        typer.Option("--hash-workers", min=0, max=64, help="Processes hashing passwords; 0: one per CPU (at most 8)"),
    ] = 0,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create or update many users at once. Existing usernames (any letter case) are
    updated; good rows are imported even when others fail; errors name their line (the
    header is line 1). Rows without a password make accounts that sign in through SSO or
    a set-password link (--links)."""
    settings = _settings(config, data_dir=data_dir)
    _logging("WARNING")
    from semot.app import Node
    from semot.errors import SemotError
    from semot.services.import_jobs import ImportReport
    from semot.services.user_import_rows import parse_file

    try:
        parsed = parse_file(file.read_bytes(), filename=file.name)
    except OSError as exc:
        typer.secho(f"error: cannot read {file}: {exc.strerror}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except SemotError as exc:
        typer.secho(f"error: {file}: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    report = ImportReport(total=parsed.total)
    bar = ProgressBar(sys.stderr, parsed.total)

    async def main() -> None:
        node = Node(settings)
        await node.storage.migrate()
        await node.client_settings.reload()  # the stored default friend groups, for the new accounts
        await node.sensitive.reload(force=True)  # display names screened (docs/sensitive-words.md)
        svc = node.services.user_import
        assert svc is not None
        svc.hash_workers = hash_workers
        stop = asyncio.Event()

        async def redraw() -> None:
            while not stop.is_set():
                c = report.counts()
                bar.draw(report.done, report.created, report.updated, c["errors"])
                try:
                    await asyncio.wait_for(stop.wait(), 0.2)
                except TimeoutError:
                    pass

        drawer = asyncio.create_task(redraw())
        try:
            await svc.run(
                parsed,
                access=node.services.admin,
                links=links is not None,
                created_by="cli",
                dry_run=dry_run,
                report=report,
            )
            if not dry_run:
                await node.services.admin.audit("cli", "users.import", str(file.name)[:200], "", after=report.counts())
        finally:
            stop.set()
            await drawer
            c = report.counts()
            bar.draw(report.done, report.created, report.updated, c["errors"])
            bar.end()
            await svc.stop()
            await node.sensitive.flush()  # the hits of the import's display names
            await node.storage.close()

    _run(main)
    errors = report.errors
    if dry_run:
        typer.echo(
            f"dry run, nothing written: {report.total} rows: {report.created} to create, {report.updated} to update, "
            f"{report.unchanged} unchanged, {len(errors)} failed"
        )
    else:
        typer.echo(
            f"{report.total} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(errors)} failed"
        )
    if links is not None and not dry_run:
        rows = [
            [str(o.line), o.username, o.user_id or "", base_url.rstrip("/") + o.link]
            for o in sorted(report.outcomes, key=lambda o: o.line)
            if o.link
        ]
        _write_links(links, rows)
        typer.echo(f"{len(rows)} set-password links written to {links}")
    for e in errors:
        typer.secho(f"line {e.line}: {e.message}", fg=typer.colors.YELLOW, err=True)
    if errors:
        raise typer.Exit(1)
