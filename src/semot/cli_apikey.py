"""`semot apikey create`: a server API key from the command line (docs/integration.md).

Run against the data directory or database of the configuration given (the server may
be running). The key is printed as the last line of the output, once: only its hash is
stored.
"""

from __future__ import annotations

from typing import Annotated

import typer

from semot.cli import ConfigOpt, DataDirOpt, _logging, _run, _settings

apikey_app = typer.Typer(help="Manage server API keys.", no_args_is_help=True, rich_markup_mode=None)


@apikey_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for (shown in the console and the call log)")],
    allow_ip: Annotated[
        list[str] | None, typer.Option("--allow-ip", help="A CIDR the key may be used from (repeatable); none: anywhere")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="users, messages, notifications, groups, org (repeatable); none: all")
    ] = None,
    rate_per_min: Annotated[int, typer.Option("--rate", help="Calls a minute; 0: unlimited")] = 0,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create a server API key and print it (last line)."""
    settings = _settings(config, data_dir=data_dir)
    _logging("WARNING")
    from semot.errors import SemotError
    from semot.services.api_keys import ApiKeyService

    async def main() -> None:
        from semot.app import make_storage

        storage = make_storage(settings)
        await storage.migrate()
        try:
            svc = ApiKeyService(storage.api_keys, None)
            key, secret = await svc.create(name, scopes=scope or None, allow_ips=allow_ip or (), rate_per_min=rate_per_min,
                                           created_by=None)
            typer.echo(f"key_id: {key.id}")
            typer.echo(f"scopes: {', '.join(key.scopes)}")
            typer.echo(f"allow_ips: {', '.join(key.allow_ips) or 'any'}")
            typer.echo("the key (shown once; store it now):")
            typer.echo(secret)
        except SemotError as exc:
            typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        finally:
            await storage.close()

    _run(main)
