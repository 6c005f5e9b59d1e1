"""Composition root: the only module that picks implementations and wires a node."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from semot import __version__
from semot.api import (
    admin_api,
    admin_console,
    admin_groups_api,
    admin_logs_api,
    admin_recall_api,
    admin_roles_api,
    apps_api,
    audit_log_api,
    auth_methods_api,
    client_api,
    client_config_api,
    contacts_api,
    cs_admin_api,
    cs_api,
    dashboard_api,
    devtools_api,
    directory_api,
    files_api,
    geo_api,
    groups_api,
    import_api,
    ldap_api,
    moderation_api,
    oidc_api,
    ops,
    org_admin_api,
    org_admin_extra_api,
    presence_api,
    profile_api,
    retention_api,
    search_api,
    sensitive_api,
    server_api,
    server_api_keys,
    server_groups_api,
    set_password_api,
    webhooks_api,
    widget_static,
)
from semot.api.connections import ConnectionGuard, GuardedSite
from semot.api.cors import Cors
from semot.api.http import SERVICES, error_middleware, mount
from semot.api.routing import RouteTable
from semot.api.security_headers import SecurityHeaders
from semot.backup_schedule import BackupSchedule
from semot.bus.base import ALL_CACHES, Bus, Delivery, Disconnect, Invalidate
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
from semot.services.admin_access import ADMIN_KEY, AdminAccess
from semot.services.api_keys import ApiKeyService
from semot.services.app_identity import AppIdentity
from semot.services.client_errors import ClientErrorService
from semot.services.client_settings import CONFIG_KEY, ClientSettings, csp_sources
from semot.services.contacts import USER_KEY, ContactsService
from semot.services.container import Services
from semot.services.conv_settings import ConvSettingsService
from semot.services.customer_service import CS_KEY, CS_USER_KEY, RESTRICTED_FRAMES, CustomerService
from semot.services.customer_service_admin import CustomerServiceAdmin
from semot.services.device_records import DeviceRecorder
from semot.services.events import EventPublisher
from semot.services.files import FileLimits, FileService, UrlSigner
from semot.services.geo import GeoService
from semot.services.groups import GroupService
from semot.services.ldap_accounts import LdapAccounts
from semot.services.ldap_client import LdapConfig, LdapDirectory
from semot.services.ldap_sync import LdapSync
from semot.services.login_log import LoginLog, username_resolver
from semot.services.membership import MembershipCache
from semot.services.messaging import MessageService
from semot.services.moderation import ModerationService
from semot.services.oidc import OidcClient
from semot.services.oidc_login import LoginMethods, OidcLogin, oidc_config
from semot.services.org import OrgService
from semot.services.presence import PresenceService
from semot.services.profiles import AvatarUrls, ProfileService
from semot.services.protocol_log import PLOG_KEY, ProtocolLog
from semot.services.retention import RetentionService
from semot.services.search import SearchService
from semot.services.security import PasswordHasherPool, TokenSigner
from semot.services.sensitive_words import SENS_KEY, SensitiveWords
from semot.services.stats import StatsService
from semot.services.user_admin import UserAdmin
from semot.services.user_import import UserImportService
from semot.services.webhooks import WEBHOOK_KEY, WebhookService
from semot.services.webhooks_send import WebhookBeforeSend, body_check
from semot.storage.base import Storage
from semot.storage.batch import BatchPlan
from semot.storage.files import BlobStore
from semot.storage.local_files import LocalBlobStore
from semot.storage.sql.engine import make_engines
from semot.storage.sql.store import sql_storage
from semot.tls import TlsError, TlsServing

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
    return LocalPresence(node_id)


def make_counters(settings: Settings) -> Any:
    """Fixed-window counters: in memory on one node, in Redis when several share the limits."""
    if settings.redis_url:
        from semot.bus.redis_limits import RedisCounters

        return RedisCounters(settings.redis_url, namespace=settings.redis_namespace)
    return LocalCounters()


def make_api_keys(settings: Settings, storage: Storage) -> ApiKeyService:
    """The server API's keys and call log; each key's rate counted in memory on one
    node, in Redis (shared) when several serve the same API (docs/integration.md)."""
    if settings.redis_url:
        from semot.bus.redis_limits import RedisCounters

        counters: Any = RedisCounters(settings.redis_url, namespace=settings.redis_namespace)
    else:
        counters = LocalCounters()
    return ApiKeyService(storage.api_keys, counters, retention_days=settings.api_call_retention_days)


def make_ldap(settings: Settings, storage: Storage, services: Services, node_id: str) -> LdapSync | None:
    """LDAP / Active Directory when `ldap_enabled` (docs/sso.md): directory passwords at
    login (AccountService.directory) and the directory sync."""
    if not settings.ldap_enabled or services.user_admin is None or services.org is None:
        return None
    from semot.storage.ldap import LdapStorage
    from semot.storage.sql.database import SqlDatabase

    if isinstance(storage.database, SqlDatabase):
        from semot.storage.sql.ldap_store import SqlLdap

        store: LdapStorage = SqlLdap(storage.database)
    else:
        from semot.storage.memory.ldap import MemoryLdap

        store = MemoryLdap()
    assert settings.ldap_url is not None  # the settings check it
    password = settings.ldap_bind_password.get_secret_value() if settings.ldap_bind_password else None
    directory = LdapDirectory(LdapConfig(
        url=settings.ldap_url, user_base=settings.ldap_user_base, user_filter=settings.ldap_user_filter,
        bind_dn=settings.ldap_bind_dn, bind_password=password, start_tls=settings.ldap_start_tls,
        ca_file=settings.ldap_tls_ca_file, attr_username=settings.ldap_attr_username,
        attr_display_name=settings.ldap_attr_display_name, attr_email=settings.ldap_attr_email,
        attr_phone=settings.ldap_attr_phone, timeout_s=settings.ldap_timeout_s,
    ))
    accounts = LdapAccounts(directory, store, storage.users, services.user_admin, services.org, services.admin,
                            identities=storage.external_identities, group_roles=settings.ldap_group_roles)
    return LdapSync(accounts, storage, services.user_admin, services.org, interval_s=settings.ldap_sync_interval_s,
                    node_id=node_id)


def client_config(settings: Settings) -> dict[str, Any]:
    """What every client learns at auth (§2.2): limits it should respect up front, and
    `client`: the administrator's client configuration, kept current by ClientSettings."""
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


@dataclass(slots=True)
class AppState:
    """`app.state`: what later features reach from the aiohttp app (the CORS origin sources)."""

    cors: Cors


class NodeReceiver:
    """Where the bus hands envelopes on this node: pushes to the hub, cache drops to the cache."""

    def __init__(
        self, hub: Hub, membership: MembershipCache, contacts: ContactsService, accounts: AccountService,
        admin: AdminAccess | None = None,
    ) -> None:
        self._hub = hub
        self._admin = admin
        self._membership = membership
        self._contacts = contacts
        self._accounts = accounts

    def deliver(self, delivery: Delivery) -> int:
        return self._hub.deliver(delivery)

    def disconnect(self, command: Disconnect) -> int:
        return self._hub.disconnect(command)

    protocol_log: ProtocolLog | None = None  # the developer tools' frame capture (Node.start sets it)
    client_settings: ClientSettings | None = None  # the client configuration (Node.start sets it)
    sensitive: SensitiveWords | None = None  # sensitive words: the list changed, or a live hit (Node.start sets it)
    webhooks: WebhookService | None = None  # webhooks: hooks changed, or deliveries due (Node.start sets it)
    customer_service: CustomerService | None = None  # the widget's settings changed (Node.start sets it)

    def invalidate(self, command: Invalidate) -> None:
        key = command.key
        if key == ALL_CACHES:  # missed invalidations (a Redis outage): drop or reload every copy
            self._membership.invalidate_all()
            self._contacts.invalidate_all()
            if self._admin is not None:
                self._admin.invalidate()
            if self.client_settings is not None:
                self.client_settings.invalidate(CONFIG_KEY)  # no configuration in the key: reload
            if self.sensitive is not None:
                self.sensitive.invalidate(SENS_KEY)  # not a live hit: reload the list
        elif key.startswith(USER_KEY):
            self._contacts.invalidate(key[len(USER_KEY) :])
        elif key.startswith(LOGIN_KEY):
            ended = self._accounts.login_invalidated(key)
            if ended is not None:
                self._hub.close_login(*ended, CLOSE_UNAUTHORIZED, "signed out")
        elif key.startswith(CONFIG_KEY):
            if self.client_settings is not None:  # the client configuration changed (on any node)
                self.client_settings.invalidate(key)
        elif key.startswith(SENS_KEY):
            if self.sensitive is not None:
                self.sensitive.invalidate(key)
        elif key.startswith(PLOG_KEY):
            if self.protocol_log is not None:  # a protocol log session started or ended
                self.protocol_log.invalidated(key)
        elif key.startswith(WEBHOOK_KEY):
            if self.webhooks is not None:
                self.webhooks.invalidated(key)
        elif key.startswith((CS_KEY, CS_USER_KEY)):
            if self.customer_service is not None:
                self.customer_service.invalidate(key)
        elif key.startswith(ADMIN_KEY):
            if self._admin is not None:
                self._admin.invalidate()  # admin roles or grants changed (services/admin_access.py)
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
        self.presence_registry = make_presence_registry(settings, self.node_id)
        self.presence = PresenceService(self.storage, self.contacts, self.events, self.presence_registry)
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
            user_import=UserImportService(self.storage, self.accounts, self.org, self.profiles),
            admin=AdminAccess(self.storage.admin_rbac, self.storage.org, self.bus),
        )
        self._login_sweeper: asyncio.Task[None] | None = None
        self.conv_settings = ConvSettingsService(self.storage.conv_settings, self.events)
        self.gateway = Gateway(
            settings, self.hub, self.accounts, self.messages, self.metrics, self.services.client_config, self.presence,
            conv_settings=self.conv_settings,
        )
        # developer tools (api/devtools_api.py): frame capture for one user at a time, error reports
        self.protocol_log = ProtocolLog(self.storage.devtools, self.bus, self.hub, self.node_id)
        self.gateway.protocol_log = self.services.protocol_log = self.protocol_log
        self.services.client_errors = ClientErrorService(self.storage.devtools)
        # user administration (api/admin_api.py): devices seen by the gateway, set-password links
        self.device_records = DeviceRecorder(
            self.storage.user_admin, self.presence_registry, refresh_ttl_s=settings.refresh_token_ttl_s
        )
        self.gateway.on_auth = self.device_records.seen
        self.services.user_admin = UserAdmin(
            self.storage, self.accounts, self.device_records, org=self.org, profiles=self.profiles
        )
        # the administrator's client configuration: switches, branding, registration (services/client_settings.py)
        self.client_settings = ClientSettings(
            self.storage, self.bus, self.events, self_registration=settings.self_registration,
            direct_message_policy=settings.direct_message_policy, file_max_bytes=settings.file_max_bytes,
            auth_config=self.services.client_config,
        )
        self.client_settings.attach(self.accounts, self.contacts, self.files, self.messages, self.groups)
        self.services.client_settings = self.client_settings
        # accounts administrators make (admin API, bulk import) get the default friend groups too
        for maker in (self.services.user_admin, self.services.user_import):
            if maker is not None:
                maker.seed_new_users = self.client_settings.seed_friend_groups
        # the login log and the dashboard's figures (services/login_log.py, services/stats.py)
        self.stats = StatsService(
            self.storage, self.presence_registry, node_id=self.node_id, version=__version__,
            flush_s=settings.stats_flush_s, retention_days=settings.stats_retention_days,
            slow_ttl_s=settings.dashboard_cache_s,
        )
        self.login_log = LoginLog(
            self.storage.login_logs, retention_days=settings.login_log_retention_days, on_recorded=self.stats.count_login,
            resolve=username_resolver(self.storage.users.users_by_usernames),
        )
        self.accounts.login_log = self.login_log.record
        self.messages.count_stored = self.stats.count_messages
        self.services.login_log, self.services.stats = self.login_log, self.stats
        # sensitive words (services/sensitive_words.py): messages, edits, display names, group names, announcements
        self.sensitive = self.services.sensitive = SensitiveWords(
            self.storage.sensitive, self.bus, enabled=settings.sensitive_words,
            retention_days=settings.sensitive_hits_retention_days,
        )
        self.messages.content_screen = self.sensitive
        self.messages.changes.sensitive = self.groups.sensitive = self.profiles.sensitive = self.sensitive
        self.accounts.sensitive = self.sensitive  # a registration's display name
        # message retention (services/retention.py): the policy's sweep, then the file collector
        self.retention = self.services.retention = RetentionService(
            self.storage, interval_s=settings.retention_interval_s, batch_size=settings.retention_batch_size,
            pause_s=settings.retention_batch_pause_s, after_delete=self.files.sweep,
        )
        # pre-moderation (services/moderation.py): the review gate on group sends, the timeout sweep
        self.moderation = ModerationService(
            self.storage, self.messages, self.events,
            sweep_s=settings.moderation_sweep_s, rejected_days=settings.moderation_rejected_days,
        )
        self.messages.review_gate = self.services.moderation = self.moderation
        # message search (services/search.py): the WebSocket `search` frame, the user and audit APIs
        self.gateway.search = self.services.search = SearchService(
            self.storage.search, self.messages.attachments.decorate_all
        )
        # the server API for integrators (api/server_api*.py): keys, call log, SSO tickets, pushes
        self.api_keys = self.services.api_keys = make_api_keys(settings, self.storage)
        self.services.events = self.events
        # webhooks (services/webhooks.py): the outbox fed by the event publisher, and the
        # synchronous message.before_send hook (services/webhooks_send.py)
        self.webhooks = self.services.webhooks = WebhookService(
            self.storage.webhooks, self.events, self.metrics, node_id=self.node_id,
            retry_s=settings.webhook_retry_s, retry_factor=settings.webhook_retry_factor,
            retry_max_s=settings.webhook_retry_max_s, max_tries=settings.webhook_max_tries,
            poll_s=settings.webhook_poll_s, concurrency=settings.webhook_concurrency,
            max_answer_bytes=settings.webhook_max_answer_bytes, retention_days=settings.webhook_delivery_retention_days,
            bus=self.bus, hold_outbox=settings.test_webhook_hold_outbox,
        )
        self.messages.before_send = WebhookBeforeSend(self.webhooks, body_check(settings, self.messages.attachments))
        self.accounts.login_log = self.webhooks.watch_logins(self.accounts.login_log)
        self.accounts.on_logout = self.webhooks.logged_out
        # LDAP / Active Directory (services/ldap_*.py): directory passwords at login, the directory sync
        self.ldap = self.services.ldap = make_ldap(settings, self.storage, self.services, self.node_id)
        if self.ldap is not None:
            self.accounts.directory = self.ldap.accounts
        # sign-in methods and OpenID Connect login (services/oidc*.py, docs/sso.md)
        oidc = oidc_config(settings)
        self.services.login_methods = LoginMethods(
            settings, self.client_settings, self.services.admin, oidc=oidc is not None
        )
        if oidc is not None:
            self.services.oidc = OidcLogin(
                settings, OidcClient(oidc), self.storage, self.accounts, self.org, self.api_keys,
                self.services.user_admin, ldap=self.ldap.accounts.store if self.ldap is not None else None,
            )
        # apps inside the client (docs/apps.md): identity tokens for the custom pages; and
        # cross-origin access to the client API (api/cors.py: later features add origin sources)
        self.app_identity = AppIdentity(self.storage, settings.resolved_secret(), ttl_s=settings.app_identity_ttl_s)
        # place search for the location picker (api/geo_api.py): the configuration's places, cities, a geocoder
        self.geo = GeoService(lambda: self.client_settings.doc["places"], cities=settings.geo_cities,
                              geocoder_url=settings.geocoder_url, geocoder_timeout_s=settings.geocoder_timeout_s)
        self.cors = Cors(settings.cors_origins, max_age_s=settings.cors_max_age_s)
        # customer service (services/customer_service*.py, docs/customer-service.md): visitors,
        # sessions and routing; visitors have no direct chats; the widget's sites get CORS
        self.customer_service = self.services.customer_service = CustomerService(
            self.storage, self.accounts, self.groups, self.messages, self.events, self.bus, self.presence_registry,
            make_counters(settings) if settings.abuse_limits else None,
            visitor_ip_max=settings.cs_visitor_ip_max, visitor_ip_window_s=settings.cs_visitor_ip_window_s,
            drain_s=settings.cs_drain_s, idle_days=settings.cs_visitor_idle_days,
            purge_interval_s=settings.cs_visitor_purge_interval_s, start_max=settings.cs_session_start_max,
            start_window_s=settings.cs_session_start_window_s,
        )
        self.services.customer_service_admin = CustomerServiceAdmin(self.storage, self.customer_service, self.bus)
        assert self.messages.direct_check is not None
        self.messages.direct_check = self.customer_service.guard_direct(self.messages.direct_check)
        # visitors and customers: an allowlist of WebSocket requests
        self.gateway.restricted, self.gateway.restricted_frames = self.customer_service.is_restricted, RESTRICTED_FRAMES
        self.messages.group_gate = self.customer_service.reopen_on_send
        self.cors.add_source(self.customer_service.allowed_origins)

    async def start(self) -> None:
        await self.storage.migrate()
        await self.accounts.start()
        receiver = NodeReceiver(self.hub, self.membership, self.contacts, self.accounts, self.services.admin)
        receiver.protocol_log = self.protocol_log
        receiver.client_settings = self.client_settings
        receiver.sensitive = self.sensitive
        receiver.webhooks = self.webhooks
        receiver.customer_service = self.customer_service
        await self.client_settings.start()
        await self.sensitive.start()
        await self.bus.start(receiver)
        await self.protocol_log.start()
        await self.webhooks.start()  # before anything publishes: every event reaches the outbox
        await self.customer_service.start()  # sees agents' first answers from here on
        self.messages.start()
        self.moderation.start()
        await self.presence.start()
        self.hub.start()
        self.files.start()
        self.retention.start()
        self.login_log.start()
        await self.api_keys.start()
        self.stats.start()
        self.device_records.start()
        if self.ldap is not None:
            self.ldap.start()
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
        await self.geo.close()
        if self.services.user_import is not None:
            await self.services.user_import.stop()  # running import jobs end (what they wrote stays)
        if self._login_sweeper is not None:
            self._login_sweeper.cancel()
            await asyncio.gather(self._login_sweeper, return_exceptions=True)
        await self.retention.stop()
        if self.ldap is not None:
            await self.ldap.stop()  # a running sync ends (what it wrote stays; the run is marked stopped)
        await self.files.stop()
        await self.moderation.stop()
        await self.messages.stop()
        await self.hub.stop(CLOSE_GOING_AWAY, "server shutting down")
        await self.presence.stop()  # after the hub: the closed sessions are removed first
        await self.webhooks.stop()  # after the last events: what they queued is written to the outbox
        await self.customer_service.stop()
        if self.services.oidc is not None:
            await self.services.oidc.close()
        await self.device_records.stop()
        await self.protocol_log.stop()  # after the hub: the last frames are written
        await self.client_settings.stop()
        await self.bus.stop()
        await self.sensitive.stop()  # after the writer: every hit of an accepted send is written
        await self.login_log.stop()  # the HTTP site is closed: no more attempts; the queue is written
        await self.api_keys.stop()  # the call log's queue is written
        await self.stats.stop()  # after the writer: every stored message is counted
        await self.accounts.stop()
        await self.storage.close()

    def build_app(self) -> web.Application:
        headers = SecurityHeaders(
            WEB_DIR / "index.html", frame_ancestors=self.settings.frame_ancestors, csp_extra=self.settings.csp_extra,
            admin_html=WEB_DIR / "admin" / "index.html",
        )
        app = web.Application(
            middlewares=[headers.middleware(), self.cors.middleware(), error_middleware], client_max_size=1024 * 1024
        )
        app[SERVICES] = self.services
        self.cors.install(app)  # CORS headers on the client API's answers (api/cors.py)
        app.state = AppState(cors=self.cors)  # E.g. app.state.cors.add_source(...) (the widget's origins)
        apps_api.install(app, self.app_identity)
        geo_api.install(app, self.geo)
        # H5 pages framed by the web client and an outside logo need their origins in its CSP,
        # and so do the widget's sites (a context card's product picture): each listener
        # replaces its own part of one set of sources
        page_sources: dict[str, str] = {}

        def set_page_sources(part: str, sources: str) -> None:
            page_sources[part] = sources
            headers.add_page_sources("; ".join(s for s in page_sources.values() if s))

        self.client_settings.listen(lambda config: set_page_sources("config", csp_sources(config)))
        if self.customer_service is not None:
            self.customer_service.listen(lambda cs: set_page_sources("cs", widget_static.picture_sources(cs)))
        app[NODE] = self
        table = RouteTable()
        for part in (
            client_api.routes(),
            client_config_api.routes(),
            groups_api.routes(),
            contacts_api.routes(),
            presence_api.routes(),
            admin_api.routes(),
            directory_api.routes(),
            org_admin_api.routes(),
            admin_groups_api.routes(),
            org_admin_extra_api.routes(),
            admin_roles_api.routes(),
            audit_log_api.routes(),
            files_api.routes(self.settings.file_max_bytes),
            profile_api.routes(),
            set_password_api.routes(),
            import_api.routes(),
            search_api.routes(),
            devtools_api.routes(),
            admin_logs_api.routes(),
            dashboard_api.routes(),
            admin_recall_api.routes(),
            retention_api.routes(),
            moderation_api.routes(),
            sensitive_api.routes(),
            server_api.routes(),
            server_api_keys.routes(),
            server_groups_api.routes(),
            webhooks_api.routes(),
            ldap_api.routes(),
            oidc_api.routes(),
            auth_methods_api.routes(),
            apps_api.routes(),
            geo_api.routes(),
            cs_api.routes(),
            cs_admin_api.routes(),
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
                 "/sdk/changes.js": "sdk/changes.js",
                 "/sdk/semot-bridge.js": "sdk/semot-bridge.js"}  # the page side of the apps' bridge (docs/apps.md)

        async def web_file(request: web.Request) -> web.FileResponse:
            path = (web_root / (request.match_info.get("path") or fixed[request.path])).resolve()
            if not path.is_relative_to(web_root) or not path.is_file():
                raise web.HTTPNotFound()
            return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

        for route in (*fixed, "/web/{path:.+}"):
            app.router.add_get(route, web_file)
        admin_console.install(app)  # the admin console at /admin/ (api/admin_console.py)
        widget_static.install(app)  # the customer-service widget: /widget.js and /widget/ (api/widget_static.py)
        return app


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
