"""`Node`: every service of one server process, wired to each other, with an ordered
start and a graceful stop."""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiohttp import web

from semot import __version__
from semot.api.cors import Cors
from semot.app.backends import make_bus, make_counters, make_presence_registry, make_storage
from semot.app.bus_receiver import NodeReceiver
from semot.app.http_app import build_app
from semot.app.service_factories import client_config, make_abuse_guard, make_api_keys, make_files, make_ldap
from semot.bus.base import Bus
from semot.config import Settings
from semot.gateway.handler import Gateway
from semot.gateway.hub import Hub
from semot.metrics import Metrics
from semot.protocol.session import CLOSE_GOING_AWAY
from semot.services.accounts import CLOSE_UNAUTHORIZED, AccountService
from semot.services.admin_access import AdminAccess
from semot.services.app_identity import AppIdentity
from semot.services.client_errors import ClientErrorService
from semot.services.client_settings import ClientSettings
from semot.services.contacts import ContactsService
from semot.services.container import Services
from semot.services.conv_settings import ConvSettingsService
from semot.services.customer_service import RESTRICTED_FRAMES, CustomerService
from semot.services.customer_service_admin import CustomerServiceAdmin
from semot.services.device_records import DeviceRecorder
from semot.services.events import EventPublisher
from semot.services.geo import GeoService
from semot.services.groups import GroupService
from semot.services.login_log import LoginLog, username_resolver
from semot.services.membership import MembershipCache
from semot.services.messaging import MessageService
from semot.services.moderation import ModerationService
from semot.services.oidc import OidcClient
from semot.services.oidc_login import LoginMethods, OidcLogin, oidc_config
from semot.services.org import OrgService
from semot.services.presence import PresenceService
from semot.services.profiles import AvatarUrls, ProfileService
from semot.services.protocol_log import ProtocolLog
from semot.services.retention import RetentionService
from semot.services.search import SearchService
from semot.services.security import PasswordHasherPool, TokenSigner
from semot.services.sensitive_words import SensitiveWords
from semot.services.stats import StatsService
from semot.services.user_admin import UserAdmin
from semot.services.user_import import UserImportService
from semot.services.webhooks import WebhookService
from semot.services.webhooks_send import WebhookBeforeSend, body_check
from semot.storage.base import Storage

log = logging.getLogger("semot.app")  # one logger for the composition root, as before it was split


class Node:
    """Everything one server process runs, with an ordered start and a graceful stop."""

    def __init__(self, settings: Settings, storage: Storage | None = None, bus: Bus | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.storage = storage or make_storage(settings)
        self.node_id = secrets.token_hex(6)
        self.bus = bus or make_bus(settings, self.node_id, self.metrics.registry)
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
        """The aiohttp application serving this node (app/http_app.py)."""
        return build_app(self)
