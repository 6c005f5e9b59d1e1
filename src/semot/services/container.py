"""The services one node runs, handed to the edges by the composition root (app.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from semot.config import Settings
from semot.metrics import Metrics
from semot.services.accounts import AccountService
from semot.services.admin_access import AdminAccess
from semot.services.api_keys import ApiKeyService
from semot.services.client_errors import ClientErrorService
from semot.services.client_settings import ClientSettings
from semot.services.contacts import ContactsService
from semot.services.customer_service import CustomerService
from semot.services.customer_service_admin import CustomerServiceAdmin
from semot.services.events import EventPublisher
from semot.services.files import FileService
from semot.services.groups import GroupService
from semot.services.ldap_sync import LdapSync
from semot.services.login_log import LoginLog
from semot.services.messaging import MessageService
from semot.services.moderation import ModerationService
from semot.services.oidc_login import LoginMethods, OidcLogin
from semot.services.org import OrgService
from semot.services.presence import PresenceService
from semot.services.profiles import ProfileService
from semot.services.protocol_log import ProtocolLog
from semot.services.retention import RetentionService
from semot.services.search import SearchService
from semot.services.sensitive_words import SensitiveWords
from semot.services.stats import StatsService
from semot.services.user_admin import UserAdmin
from semot.services.user_import import UserImportService
from semot.services.webhooks import WebhookService
from semot.storage.base import Storage


@dataclass(slots=True)
class Services:
    settings: Settings
    storage: Storage
    accounts: AccountService
    messages: MessageService
    groups: GroupService
    contacts: ContactsService
    presence: PresenceService
    metrics: Metrics
    client_config: dict[str, Any]
    admin: AdminAccess  # admin roles, department scopes and the audit log
    org: OrgService | None = None  # the organisation directory
    files: FileService | None = None  # uploads and downloads (services/files.py)
    profiles: ProfileService | None = None  # names and avatars (services/profiles.py)
    user_admin: UserAdmin | None = None  # user administration (services/user_admin.py)
    user_import: UserImportService | None = None  # bulk user import (services/user_import.py)
    protocol_log: ProtocolLog | None = None  # the developer tools' frame capture (services/protocol_log.py)
    client_errors: ClientErrorService | None = None  # browsers' error reports (services/client_errors.py)
    client_settings: ClientSettings | None = None  # the client configuration (services/client_settings.py)
    login_log: LoginLog | None = None  # every login attempt (services/login_log.py)
    stats: StatsService | None = None  # the admin dashboard's figures (services/stats.py)
    search: SearchService | None = None  # message search, user and audit (services/search.py)
    retention: RetentionService | None = None  # message retention and legal holds (services/retention.py)
    moderation: ModerationService | None = None  # pre-moderation (services/moderation.py)
    webhooks: WebhookService | None = None  # webhooks and the before-send hook (services/webhooks.py)
    sensitive: SensitiveWords | None = None  # sensitive words and their hits (services/sensitive_words.py)
    api_keys: ApiKeyService | None = None  # server API keys, call log, SSO tickets (services/api_keys.py)
    events: EventPublisher | None = None  # pushes to users' devices (services/events.py)
    customer_service: CustomerService | None = None  # visitors, sessions, routing (services/customer_service.py)
    customer_service_admin: CustomerServiceAdmin | None = None  # queues, agents, widget, stats (customer_service_admin.py)
    ldap: LdapSync | None = None  # LDAP / Active Directory, when on (services/ldap_sync.py, ldap_accounts.py)
    login_methods: LoginMethods | None = None  # the login-method switch (services/oidc_login.py)
    oidc: OidcLogin | None = None  # OpenID Connect sign-in, when configured (services/oidc_login.py)
