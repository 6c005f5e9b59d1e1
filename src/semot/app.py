"""Composition root: the only module that picks implementations and wires a node."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from semot import __version__
from semot.api import (
    admin_api,
    client_api,
    contacts_api,
    directory_api,
    files_api,
    groups_api,
    ops,
    org_admin_api,
    presence_api,
    profile_api,
)
from semot.api.connections import ConnectionGuard, GuardedSite
from semot.api.http import SERVICES, error_middleware, mount
from semot.api.routing import RouteTable
from semot.api.security_headers import SecurityHeaders
from semot.bus.base import Bus, Delivery, Disconnect, Invalidate
from semot.bus.local import LocalBus
from semot.bus.local_limits import LocalCounters
from semot.bus.local_presence import LocalPresence
from semot.bus.presence import PresenceRegistry
from semot.config import Settings
from semot.datadir import ensure_private_dir
from semot.gateway.gcpolicy import GcGovernor
from semot.gateway.handler import Gateway
from semot.gateway.hub import Hub
from semot.metrics import Metrics
from semot.protocol.session import CLOSE_GOING_AWAY
from semot.services.abuse import AbuseGuard, AbuseLimits
from semot.services.accounts import CLOSE_UNAUTHORIZED, LOGIN_KEY, AccountService
from semot.services.contacts import USER_KEY, ContactsService
from semot.services.container import Services
from semot.services.conv_settings import ConvSettingsService
from semot.services.events import EventPublisher
from semot.services.files import FileLimits, FileService, UrlSigner
from semot.services.groups import GroupService
from semot.services.membership import MembershipCache
from semot.services.messaging import MessageService
from semot.services.org import OrgService
from semot.services.presence import PresenceService
from semot.services.profiles import AvatarUrls, ProfileService
from semot.services.security import PasswordHasherPool, TokenSigner
from semot.storage.base import Storage
from semot.storage.batch import BatchPlan
from semot.storage.files import BlobStore
from semot.storage.local_files import LocalBlobStore
from semot.storage.sql.engine import make_engines
from semot.storage.sql.store import sql_storage

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent / "web"
NODE: web.AppKey[Node] = web.AppKey("node", object)  # type: ignore[arg-type]


def make_storage(settings: Settings) -> Storage:
    if settings.is_sqlite:
        ensure_private_dir(settings.data_dir)  # 0700; the database file is created 0600 (engine.py)
    engines = make_engines(
        settings.sqlalchemy_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
        schema=settings.database_schema,
    )
    BatchPlan.fault_cid_prefix = settings.test_fault_cid_prefix  # test-only hook; None in production
    return sql_storage(engines, schema=settings.database_schema)


def make_blobs(settings: Settings) -> BlobStore:
    """Uploaded files' bytes: a directory (several nodes may share it over a network
    filesystem), or an S3-compatible bucket (docs/files-storage.md)."""
    if settings.file_store == "s3":
        from semot.storage.s3_files import S3BlobStore
        from semot.storage.s3_layout import MAX_PARTS

        assert settings.s3_bucket is not None  # the settings check it
        secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
        # parts large enough that the largest file fits S3's 10,000 (aligned segments are then copied in S3)
        part = max(settings.s3_part_bytes, -(-settings.file_max_bytes // MAX_PARTS))
        return S3BlobStore(settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
                           region=settings.s3_region, access_key=settings.s3_access_key, secret_key=secret,
                           part_size=part, max_connections=settings.s3_max_connections)
    return LocalBlobStore(settings.files_dir or settings.data_dir / "files")


def make_files(settings: Settings, storage: Storage, events: EventPublisher) -> FileService:
    limits = FileLimits(
        max_bytes=settings.file_max_bytes,
        quota_bytes=settings.file_quota_bytes,
        expiry_s=settings.file_upload_expiry_s,
        gc_grace_s=settings.file_gc_grace_s,
        gc_interval_s=settings.file_gc_interval_s,
        url_ttl_s=settings.file_url_ttl_s,
        max_image_pixels=settings.max_image_pixels,
        strip_gps=settings.file_strip_gps,
        media_workers=settings.file_media_workers,
        media_timeout_s=settings.file_media_timeout_s,
    )
    signer = UrlSigner(settings.resolved_secret(), settings.file_url_ttl_s)
    return FileService(storage.files, make_blobs(settings), events, limits, signer)


def make_bus(settings: Settings, node_id: str) -> Bus:
    """In-process on one node; Redis pub/sub when SEMOT_REDIS_URL joins several."""
    if settings.redis_url:
        from semot.bus.redis import RedisBus

        return RedisBus(settings.redis_url, node_id=node_id, namespace=settings.redis_namespace)
    return LocalBus()


def make_abuse_guard(settings: Settings) -> AbuseGuard:
    """Failed-login and registration counters: in memory on one node, in Redis (shared)
    when several nodes serve the same users; none at all when abuse limits are off."""
    limits = AbuseLimits(
        enabled=settings.abuse_limits,
        login_account_max=settings.login_fail_account_max,
        login_account_window_s=settings.login_fail_account_window_s,
        login_ip_max=settings.login_fail_ip_max,
        login_ip_window_s=settings.login_fail_ip_window_s,
        register_ip_max=settings.register_ip_max,
        register_ip_window_s=settings.register_ip_window_s,
    )
    if not limits.enabled:
        return AbuseGuard(None, limits)
    if settings.redis_url:
        from semot.bus.redis_limits import RedisCounters

        return AbuseGuard(RedisCounters(settings.redis_url, namespace=settings.redis_namespace), limits)
    return AbuseGuard(LocalCounters(), limits)


def make_presence_registry(settings: Settings, node_id: str) -> PresenceRegistry:
    """In memory on one node; in Redis, shared, when several nodes serve the same users."""
    if settings.redis_url:
        from semot.bus.redis_presence import RedisPresence

        return RedisPresence(
            settings.redis_url, node_id, namespace=settings.redis_namespace, node_timeout_s=settings.node_timeout_s
        )
    return LocalPresence()


def client_config(settings: Settings) -> dict[str, Any]:
    """What every client learns at auth (§2.2): limits it should respect up front."""
    return {
        "server_version": __version__,
        "max_frame_bytes": settings.max_frame_bytes,
        "max_text_chars": settings.max_text_chars,
        "recall_window_s": settings.recall_window_s,
        "max_burn_s": settings.max_burn_s,
        "edit_window_s": settings.edit_window_s,  # edits and reactions (docs/protocol.md)
        "max_reactions_per_message": settings.max_reactions_per_message,
        "history_limit_max": 200,
        "max_group_members": settings.max_group_members,
        "read_receipts_max_group": settings.read_receipts_max_group,  # group read receipts (web: "N unread")
        "map_url_template": settings.map_url_template,  # where location messages open (web: location/map-link.js)
    }


class NodeReceiver:
    """Where the bus hands envelopes on this node: pushes to the hub, cache drops to the cache."""

    def __init__(
        self, hub: Hub, membership: MembershipCache, contacts: ContactsService, accounts: AccountService
    ) -> None:
        self._hub = hub
        self._membership = membership
        self._contacts = contacts
        self._accounts = accounts

    def deliver(self, delivery: Delivery) -> int:
        return self._hub.deliver(delivery)

    def disconnect(self, command: Disconnect) -> int:
        return self._hub.disconnect(command)

    def invalidate(self, command: Invalidate) -> None:
        key = command.key
        if key.startswith(USER_KEY):
            self._contacts.invalidate(key[len(USER_KEY) :])
        elif key.startswith(LOGIN_KEY):
            ended = self._accounts.login_invalidated(key)
            if ended is not None:
                self._hub.close_login(*ended, CLOSE_UNAUTHORIZED, "signed out")
        else:
            self._membership.invalidate(key)


class Node:
    """Everything one server process runs, with an ordered start and a graceful stop."""

    def __init__(self, settings: Settings, storage: Storage | None = None, bus: Bus | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.storage = storage or make_storage(settings)
        self.node_id = secrets.token_hex(6)
        self.bus = bus or make_bus(settings, self.node_id)
        self.hub = Hub(self.metrics, heartbeat_s=settings.heartbeat_s)
        # every push goes through it; webhooks, the server API and live views subscribe to it
        self.events = EventPublisher(self.bus, validate=settings.validate_events)
        signer = TokenSigner(settings.resolved_secret(), settings.access_token_ttl_s)
        self.accounts = AccountService(
            self.storage,
            self.bus,
            signer,
            refresh_ttl_s=settings.refresh_token_ttl_s,
            self_registration=settings.self_registration,
            abuse=make_abuse_guard(settings),
            hasher=PasswordHasherPool(settings.password_hash_workers, settings.password_hash_queue),
            login_check_s=settings.login_check_s,
        )
        self.membership = MembershipCache(self.storage)
        self.messages = MessageService(
            self.storage,
            self.events,
            self.membership,
            self.metrics,
            recall_window_s=settings.recall_window_s,
            max_burn_s=settings.max_burn_s,
            max_text_chars=settings.max_text_chars,
            max_custom_depth=settings.max_custom_depth,
            max_custom_bytes=settings.max_custom_bytes,
            batch_max=settings.write_batch_max,
            read_receipts_max_group=settings.read_receipts_max_group,
            edit_window_s=settings.edit_window_s,
            max_reactions=settings.max_reactions_per_message,
        )
        self.groups = GroupService(
            self.storage, self.messages, self.membership, self.bus, self.events, max_members=settings.max_group_members
        )
        self.contacts = ContactsService(
            self.storage, self.events, self.bus, direct_policy=settings.direct_message_policy
        )
        self.messages.direct_check = self.contacts.check_direct
        self.presence = PresenceService(
            self.storage, self.contacts, self.events, make_presence_registry(settings, self.node_id)
        )
        self.org = OrgService(self.storage, self.storage.org)
        self.files = make_files(settings, self.storage, self.events)
        self.profiles = ProfileService(
            self.storage, self.events, self.files, self.membership, AvatarUrls(settings.resolved_secret())
        )
        self.groups.avatar_url = lambda group_id, file_id: self.profiles.urls.url("groups", group_id, file_id)
        self.contacts.avatar_urls = self.profiles.avatar_urls
        self.messages.attachments.signer = self.files.signer  # signed URLs in file messages
        self.contacts.colleague_check = self.org.are_colleagues
        self.services = Services(
            settings=settings,
            storage=self.storage,
            accounts=self.accounts,
            messages=self.messages,
            groups=self.groups,
            contacts=self.contacts,
            presence=self.presence,
            metrics=self.metrics,
            client_config=client_config(settings),
            org=self.org,
            files=self.files,
            profiles=self.profiles,
        )
        self._login_sweeper: asyncio.Task[None] | None = None
        self.conv_settings = ConvSettingsService(self.storage.conv_settings, self.events)
        self.gateway = Gateway(
            settings, self.hub, self.accounts, self.messages, self.metrics, self.services.client_config, self.presence,
            conv_settings=self.conv_settings,
        )

    async def start(self) -> None:
        await self.storage.migrate()
        await self.accounts.start()
        await self.bus.start(NodeReceiver(self.hub, self.membership, self.contacts, self.accounts))
        self.messages.start()
        await self.presence.start()
        self.hub.start()
        self.files.start()
        self._login_sweeper = asyncio.create_task(self._sweep_logins(), name="semot-login-sweep")

    async def _sweep_logins(self) -> None:
        """Close sockets whose login ended on another node while this one missed the bus
        message (a Redis outage): logout reaches every socket within login_sweep_s."""
        while True:
            await asyncio.sleep(self.settings.login_sweep_s)
            try:
                held = {(c.user_id, c.login_id) for c in self.hub.all_connections() if c.user_id and c.login_id}
                for user_id, login_id in await self.accounts.ended_logins(held):
                    self.hub.close_login(user_id, login_id, CLOSE_UNAUTHORIZED, "signed out")
            except Exception:
                log.exception("re-checking the logins of open sockets failed")

    async def stop(self) -> None:
        """Stop taking work, commit what was accepted, say 1001 to every client, close."""
        self.gateway.accepting = False
        if self._login_sweeper is not None:
            self._login_sweeper.cancel()
            await asyncio.gather(self._login_sweeper, return_exceptions=True)
        await self.files.stop()
        await self.messages.stop()
        await self.hub.stop(CLOSE_GOING_AWAY, "server shutting down")
        await self.presence.stop()  # after the hub: the closed sessions are removed first
        await self.bus.stop()
        await self.accounts.stop()
        await self.storage.close()

    def build_app(self) -> web.Application:
        headers = SecurityHeaders(
            WEB_DIR / "index.html", frame_ancestors=self.settings.frame_ancestors, csp_extra=self.settings.csp_extra
        )
        app = web.Application(middlewares=[headers.middleware(), error_middleware], client_max_size=1024 * 1024)
        app[SERVICES] = self.services
        app[NODE] = self
        table = RouteTable()
        for part in (
            client_api.routes(),
            groups_api.routes(),
            contacts_api.routes(),
            presence_api.routes(),
            admin_api.routes(),
            directory_api.routes(),
            org_admin_api.routes(),
            files_api.routes(self.settings.file_max_bytes),
            profile_api.routes(),
        ):
            table.routes.extend(part.routes)
        mount(app, table)
        files_api.install(app)
        ops.mount(app, table)
        app.router.add_get("/ws", self.gateway.handle)

        # The web client (src/semot/web/): its page at /, its files under /web/, the JS
        # SDK at /sdk/semot.js and the service worker at /sw.js (its scope is the folder
        # it is served from, so it must sit at the root). Revalidated on every use, so an
        # upgraded server never runs with a stale mix of files.
        web_root = WEB_DIR.resolve()
        fixed = {"/": "index.html", "/sw.js": "sw.js", "/sdk/semot.js": "sdk/semot.js", "/sdk/uploads.js": "sdk/uploads.js",
                 "/sdk/changes.js": "sdk/changes.js"}

        async def web_file(request: web.Request) -> web.FileResponse:
            path = (web_root / (request.match_info.get("path") or fixed[request.path])).resolve()
            if not path.is_relative_to(web_root) or not path.is_file():
                raise web.HTTPNotFound()
            return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

        for route in (*fixed, "/web/{path:.+}"):
            app.router.add_get(route, web_file)
        return app


async def serve(settings: Settings, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
    """Run a node until `stop` is set (SIGTERM/SIGINT set it from the CLI)."""
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
    )
    await site.start()
    log.info("semot %s listening on http://%s:%s", __version__, settings.host, settings.port)
    if ready is not None:
        ready.set()
    stop = stop or asyncio.Event()
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await governor.stop()
        await site.stop()
        await node.stop()
        await runner.cleanup()
        log.info("stopped")
