"""`semot tls self-signed`: a certificate for intranet trials (docs/operations.md, TLS).

Browsers warn about a self-signed certificate until it is trusted; for production use a
certificate from your CA or ACME (Let's Encrypt) and reload it with SIGHUP on renewal.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

tls_app = typer.Typer(help="TLS certificates for `semot serve --tls-cert/--tls-key`.", no_args_is_help=True,
                      rich_markup_mode=None)


@tls_app.command("self-signed")
def self_signed(
    cert: Annotated[Path, typer.Option("--cert", help="Certificate file to write (PEM)")] = Path("semot-cert.pem"),
    key: Annotated[Path, typer.Option("--key", help="Private key file to write (PEM, mode 0600)")] = Path("semot-key.pem"),
    host: Annotated[
        list[str] | None,
        typer.Option("--host", help="DNS name or IP address the certificate is for (repeatable) "
                                    "[default: localhost, 127.0.0.1, ::1 and this machine's name]"),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Validity in days")] = 365,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files")] = False,
) -> None:
    """Write a self-signed certificate (ECDSA P-256, SHA-256) and its key."""
    from semot.tls import self_signed as make

    for path in (cert, key):
        if path.exists() and not force:
            typer.secho(f"error: {path} exists (--force overwrites it)", fg=typer.colors.RED, err=True)
            raise typer.Exit(2)
    hosts = host or ["localhost", "127.0.0.1", "::1", socket.gethostname()]
    pin = make(cert, key, list(dict.fromkeys(hosts)), days=days)
    typer.echo(f"certificate: {cert}")
    typer.echo(f"key:         {key}")
    typer.echo(f"for:         {', '.join(dict.fromkeys(hosts))} ({days} days)")
    typer.echo(f"SPKI pin:    {pin}")
    typer.echo(f"start with:  semot serve --tls-cert {cert} --tls-key {key}")
