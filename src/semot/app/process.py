"""Running a node as the server process: TLS, garbage-collector tuning, the guarded
HTTP site, scheduled backups, and the shutdown order."""

from __future__ import annotations

import asyncio
import gc
import logging

from aiohttp import web

from semot import __version__
from semot.api.connections import ConnectionGuard, GuardedSite
from semot.app.node import Node
from semot.backup_schedule import BackupSchedule
from semot.config import Settings
from semot.gateway.gcpolicy import GcGovernor
from semot.tls import TlsError, TlsServing

log = logging.getLogger("semot.app")  # one logger for the composition root, as before it was split


async def serve(settings: Settings, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
    """Run a node until `stop` is set (SIGTERM/SIGINT set it from the CLI)."""
    tls = TlsServing.from_settings(settings)  # before anything starts: an unusable certificate stops here (TlsError)
    node = Node(settings)
    await node.start()
    app = node.build_app()
    # Everything alive now lives as long as the process: keep it out of the collector's
    # generations, and collect less often (the hot path allocates many short-lived objects).
    # Settled connections are frozen the same way, in batches (gateway/gcpolicy.py), so a
    # full collection never walks the objects of every idle connection.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    governor = GcGovernor(node.hub)
    governor.start()
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=5)
    await runner.setup()
    # aiohttp's own TCPSite would accept connections that never finish a request (slowloris)
    guard = ConnectionGuard(
        header_timeout=settings.http_header_timeout_s,
        body_timeout=settings.http_body_timeout_s,
        max_pending_per_ip=settings.http_max_pending_per_ip,
    )
    site = GuardedSite(
        runner,
        settings.host,
        settings.port,
        guard=guard,
        backlog=4096,
        access_log=None,
        keepalive_timeout=settings.http_keepalive_timeout_s,
        ssl_context=tls.context if tls is not None else None,
    )
    await site.start()
    if tls is not None:
        try:
            await tls.start(settings.host, settings.port, guard)  # SIGHUP reloads the certificate; the redirect port
        except TlsError:  # the redirect port is taken: stop cleanly, the CLI prints the reason (no traceback)
            await tls.stop()
            await governor.stop()
            await site.stop()
            await node.stop()
            await runner.cleanup()
            raise
    backups = BackupSchedule.from_settings(settings, node.metrics.registry)
    if backups is not None:
        backups.start()
    log.info("semot %s listening on %s", __version__, site.name)
    if ready is not None:
        ready.set()
    stop = stop or asyncio.Event()
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await governor.stop()
        if backups is not None:
            await backups.stop()
        if tls is not None:
            await tls.stop()
        await site.stop()
        await node.stop()
        await runner.cleanup()
        log.info("stopped")
