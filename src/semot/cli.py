"""The `semot` command: serve, migrate, create-admin, import-org, users import, tls, backup, restore, version."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from semot import __version__
from semot.config import ConfigError, Settings, load_settings

app = typer.Typer(
    help="Semot: a self-hosted instant messaging server. Settings come from defaults, a TOML file "
    "(--config) and SEMOT_* environment variables, in rising order of precedence; flags win over all.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML configuration file", envvar="SEMOT_CONFIG")]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Directory for the embedded database and keys [default: ./semot-data]")
]


def _settings(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, **overrides)
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _run(coro_factory: object) -> None:
    try:
        import uvloop

        uvloop.run(coro_factory())  # type: ignore[operator]
    except ImportError:
        asyncio.run(coro_factory())  # type: ignore[operator]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Port for HTTP and WebSocket [default: 8080]")] = None,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="PEM certificate chain: HTTPS and wss on the port (SIGHUP reloads it)")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key of --tls-cert")] = None,
) -> None:
    """Start the server: WebSocket /ws, the HTTP API, /docs, /metrics, all on one port."""
    settings = _settings(config, host=host, port=port, data_dir=data_dir, tls_cert=tls_cert, tls_key=tls_key)
    _logging(settings.log_level)
    from semot.app import serve as run_server
    from semot.tls import TlsError

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        # SIGHUP reloads the TLS certificate (semot/tls.py replaces this handler); without
        # TLS a `systemctl reload` must not end the server (SIGHUP's default action)
        loop.add_signal_handler(signal.SIGHUP, lambda: logging.getLogger("semot").info("SIGHUP: nothing to reload"))
        await run_server(settings, stop=stop)

    try:
        _run(main)
    except TlsError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate(data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Create or upgrade the database schema to the latest version (serve also does this)."""
    settings = _settings(config, data_dir=data_dir)
    _logging("WARNING")
    from semot.app import make_storage

    async def main() -> None:
        storage = make_storage(settings)
        try:
            await storage.migrate()
        finally:
            await storage.close()

    _run(main)
    typer.echo("database is up to date")


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="Login name of the administrator")],
    password: Annotated[
        str | None,
        typer.Option(help="Password (asked for when omitted; SEMOT_ADMIN_PASSWORD also works)", envvar="SEMOT_ADMIN_PASSWORD"),
    ] = None,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create an administrator account, or make an existing user an administrator."""
    settings = _settings(config, data_dir=data_dir)
    _logging("WARNING")
    from semot.app import Node
    from semot.errors import SemotError

    async def main() -> None:
        node = Node(settings)
        await node.storage.migrate()
        try:
            existing = await node.storage.users.get_user_by_username(username)
            if existing is not None:
                await node.accounts.set_admin(existing.id, True)
                await node.storage.admin_rbac.drop_grant(existing.id)  # no roles: a super administrator again
                typer.echo(f"{username} is now an administrator")
                return
            pw = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
            await node.accounts.create_user(username, pw, is_admin=True)
            typer.echo(f"administrator {username} created")
        except SemotError as exc:
            typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        finally:
            await node.storage.close()

    _run(main)


@app.command("import-org")
def import_org(
    file: Annotated[Path, typer.Argument(help="CSV or JSON file of (department path, username, title[, order]) rows")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, json, or auto (by the file's extension: .json is JSON, else CSV)")
    ] = "auto",
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Import the organisation directory: create the departments along each path
    (e.g. "总部/研发部/后端组") and put the existing users in them with their titles.

    CSV: one row per person, columns department path, username, title and an optional
    order; a first row starting with "department" is a header. JSON: a list of
    {"department", "username", "title", "order"} objects. Re-running the same file
    changes nothing; rows naming unknown users are skipped and listed (exit code 1)."""
    settings = _settings(config, data_dir=data_dir)
    _logging("WARNING")
    import csv

    from semot.app import Node
    from semot.domain.org import parse_import
    from semot.errors import SemotError

    kind = fmt.lower()
    if kind == "auto":
        kind = "json" if file.suffix.lower() == ".json" else "csv"
    try:
        text = file.read_text(encoding="utf-8-sig")
        rows, bad = parse_import(text, kind)
    except OSError as exc:
        typer.secho(f"error: cannot read {file}: {exc.strerror}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except UnicodeDecodeError:
        typer.secho(f"error: {file} is not UTF-8 text", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
        typer.secho(f"error: {file} is not readable as CSV: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except SemotError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None

    problems = list(bad)

    async def main() -> None:
        node = Node(settings)
        await node.storage.migrate()
        try:
            summary = await node.org.import_rows(rows)
        finally:
            await node.storage.close()
        problems.extend(summary.skipped)
        typer.echo(
            f"{len(rows) + len(bad)} rows: {summary.departments_created} departments created, "
            f"{summary.members_added} memberships added, {summary.members_updated} updated, "
            f"{len(problems)} skipped"
        )

    _run(main)
    for line in problems:
        typer.secho(f"skipped {line}", fg=typer.colors.YELLOW, err=True)
    if problems:
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


# `semot users import`: its own module, which uses the helpers above (so imported last)
from semot.cli_users import users_app  # noqa: E402

app.add_typer(users_app, name="users")

from semot.cli_apikey import apikey_app  # noqa: E402

app.add_typer(apikey_app, name="apikey")

from semot.cli_tls import tls_app  # noqa: E402

app.add_typer(tls_app, name="tls")

from semot.cli_backup import backup_command, restore_command  # noqa: E402

app.command("backup")(backup_command)
app.command("restore")(restore_command)


def main() -> None:
    app()
