"""Services built from settings alone (files, abuse limits, API keys, LDAP) and the
limits every client learns at auth: each is one settings-to-object mapping, kept out
of `Node` so its wiring reads as who-talks-to-whom."""

from __future__ import annotations

from typing import Any

from semot import __version__
from semot.app.backends import make_blobs, make_counters, make_ldap_store
from semot.config import Settings
from semot.services.abuse import AbuseGuard, AbuseLimits
from semot.services.api_keys import ApiKeyService
from semot.services.container import Services
from semot.services.events import EventPublisher
from semot.services.files import FileLimits, FileService, UrlSigner
from semot.services.ldap_accounts import LdapAccounts
from semot.services.ldap_client import LdapConfig, LdapDirectory
from semot.services.ldap_sync import LdapSync
from semot.storage.base import Storage


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
    return AbuseGuard(make_counters(settings) if limits.enabled else None, limits)


def make_api_keys(settings: Settings, storage: Storage) -> ApiKeyService:
    """The server API's keys and call log; each key's rate counted in memory on one
    node, in Redis (shared) when several serve the same API (docs/integration.md)."""
    return ApiKeyService(storage.api_keys, make_counters(settings), retention_days=settings.api_call_retention_days)


def make_ldap(settings: Settings, storage: Storage, services: Services, node_id: str) -> LdapSync | None:
    """LDAP / Active Directory when `ldap_enabled` (docs/sso.md): directory passwords at
    login (AccountService.directory) and the directory sync."""
    if not settings.ldap_enabled or services.user_admin is None or services.org is None:
        return None
    store = make_ldap_store(storage)
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
