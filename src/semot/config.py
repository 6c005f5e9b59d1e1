"""One Settings object: defaults < TOML config file < SEMOT_* environment < CLI flags.

Everything tunable lives here so that `semot serve --help`, the README's configuration
table and the running server agree; a bad value stops the server at start with a message
naming the setting, instead of failing later under load.
"""

from __future__ import annotations

import importlib.util
import re
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from semot.datadir import create_private_file, ensure_private_dir


class ConfigError(Exception):
    """Raised with a human-readable explanation of every invalid setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEMOT_", extra="forbid", validate_default=True)

    # --- network
    host: str = Field("127.0.0.1", description="Address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="TCP port for HTTP and WebSocket")

    # --- TLS and scheduled backups (semot/tls.py, semot/backup.py, docs/operations.md)
    tls_cert: Path | None = Field(
        None, description="PEM certificate (chain) file: serve HTTPS and wss on the port; reloaded on SIGHUP"
    )
    tls_key: Path | None = Field(None, description="PEM private key file of tls_cert (required with it)")
    tls_redirect_port: int = Field(
        0, ge=0, le=65535, description="With TLS: a plain HTTP port answering every request with a redirect to HTTPS; 0: none"
    )
    backup_dir: Path | None = Field(
        None, description="Directory of scheduled online backups (as `semot backup`); empty: no scheduled backups"
    )
    backup_interval_s: float = Field(86400.0, ge=1, le=30 * 86400, description="Time between two scheduled backups (s)")
    backup_keep: int = Field(7, ge=1, le=10_000, description="Scheduled backups kept in backup_dir; older ones are deleted")

    # --- storage
    data_dir: Path = Field(Path("./semot-data"), description="Directory for the embedded database, files and keys")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; empty means SQLite in data_dir (e.g. postgresql://user@host/db)"
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "NORMAL", description="SQLite durability: NORMAL survives process crashes, FULL also power loss"
    )
    database_schema: str | None = Field(
        None, pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="PostgreSQL schema (search_path) to use"
    )
    db_pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connection pool size")
    redis_url: str | None = Field(None, description="Redis URL: set it (with PostgreSQL) to run several nodes behind a load balancer")
    redis_namespace: str = Field(
        "semot", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Prefix of this deployment's Redis keys and channels"
    )
    node_timeout_s: float = Field(
        15.0, ge=1, le=600, description="A node silent this long is taken as dead: its users' sessions stop counting"
    )

    # --- files: tus uploads, downloads, garbage collection (docs/protocol.md, Files)
    files_dir: Path | None = Field(None, description="Directory of uploaded files' bytes; empty: <data_dir>/files")
    file_max_bytes: int = Field(1024**3, ge=1, le=2**50, description="Largest file one upload may announce (413 above)")
    file_quota_bytes: int = Field(
        0, ge=0, description="Bytes of live files and unfinished uploads per user (413 beyond); 0: no quota"
    )
    file_upload_expiry_s: int = Field(
        86400, ge=1, le=365 * 86400, description="An unfinished upload is removed this long after it was created"
    )
    file_gc_grace_s: int = Field(
        7 * 86400, ge=0, description="A finished file that no message or avatar references is removed after this long"
    )
    file_gc_interval_s: float = Field(
        300.0, gt=0, le=86400, description="How often expired uploads and unreferenced files are looked for"
    )
    file_url_ttl_s: int = Field(
        3600, ge=60, le=7 * 86400, description="Lifetime of the signed download URLs put in message bodies"
    )
    max_image_pixels: int = Field(
        50_000_000, ge=1, description="Images with more pixels are not decoded (decompression bombs); no w/h for them"
    )
    # --- files in S3-compatible object storage (docs/files-storage.md)
    file_store: Literal["local", "s3"] = Field(
        "local", description="Where uploaded files' bytes go: files_dir (local) or an S3-compatible bucket (s3)"
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3 API URL for MinIO, Ceph and the like (e.g. http://minio:9000); empty: AWS"
    )
    s3_bucket: str | None = Field(None, description="Bucket of uploaded files (required with file_store=s3)")
    s3_region: str = Field("us-east-1", description="S3 region")
    s3_access_key: str | None = Field(None, description="S3 access key id; empty: the AWS default chain (env, IAM role)")
    s3_secret_key: SecretStr | None = Field(None, description="S3 secret access key (never logged)")
    s3_prefix: str = Field(
        "", pattern=r"^([A-Za-z0-9!_.*'()-]+/)*$", description="Key prefix of this deployment's objects (e.g. semot/)"
    )
    s3_part_bytes: int = Field(
        8 * 1024 * 1024, ge=5 * 1024 * 1024, le=5 * 1024**3,
        description="Part size of uploads to S3 (min 5 MiB); memory per PATCH in flight is about twice this",
    )
    s3_max_connections: int = Field(
        64, ge=1, le=10_000, description="Pooled HTTP connections to S3 (each download in progress holds one)"
    )
    file_strip_gps: bool = Field(
        True, description="Remove location metadata (EXIF GPS, XMP) from JPEG/PNG/WebP uploads, without re-encoding"
    )
    file_media_workers: int = Field(
        0, ge=0, le=64, description="Images/videos decoded at once (thumbnails, ffmpeg); 0: one fewer than the cores"
    )
    file_media_timeout_s: float = Field(
        30.0, gt=0, le=600, description="An ffmpeg/ffprobe run on an upload is killed after this long"
    )

    # --- security
    secret_key: str | None = Field(
        None, min_length=32, description="Token signing key; generated into data_dir when unset. Share it across nodes."
    )
    access_token_ttl_s: int = Field(3600, ge=60, le=30 * 86400, description="Access token lifetime (s)")
    refresh_token_ttl_s: int = Field(30 * 86400, ge=3600, description="Refresh token lifetime (s)")
    self_registration: bool = Field(
        True, description="Allow POST /api/v1/auth/register (until an administrator saves the client configuration, whose value wins)"
    )

    # --- abuse limits (failed logins, registrations), the client IP, password hashing
    abuse_limits: bool = Field(
        True, description="Limit failed logins and registrations per account and client IP (false: all off, for load tests)"
    )
    login_fail_account_max: int = Field(
        5, ge=1, le=10_000, description="Failed logins of one username within the window before it is locked (429)"
    )
    login_fail_account_window_s: int = Field(
        900, ge=1, le=7 * 86400, description="Window (s) of the per-account failed-login count; also the longest lock"
    )
    login_fail_ip_max: int = Field(
        50, ge=1, le=1_000_000, description="Failed logins from one client IP (any usernames) within the window before it is locked"
    )
    login_fail_ip_window_s: int = Field(900, ge=1, le=7 * 86400, description="Window (s) of the per-IP failed-login count")
    register_ip_max: int = Field(10, ge=1, le=1_000_000, description="Registration attempts from one client IP within the window")
    register_ip_window_s: int = Field(3600, ge=1, le=7 * 86400, description="Window (s) of the per-IP registration count")
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies (comma-separated IPs/CIDRs) whose X-Forwarded-For names the client; empty: none",
    )
    password_hash_workers: int = Field(
        0, ge=0, le=256, description="Threads computing argon2 password hashes; 0: half the CPUs (at least 1)"
    )
    password_hash_queue: int = Field(
        64, ge=1, le=100_000, description="Password checks waiting for a hashing thread before more are refused (503)"
    )
    login_check_s: float = Field(
        5.0, gt=0, le=300, description="How long a node trusts a login is still valid before asking the database again"
    )
    login_sweep_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="How often a node re-checks the logins of its open sockets (closes those that ended but whose "
        "bus message it missed)",
    )

    # --- gateway
    heartbeat_s: int = Field(25, ge=1, le=600, description="Server ping interval; silent for 2x this = dropped")
    auth_timeout_s: float = Field(10.0, gt=0, le=120, description="Time allowed for the auth frame")
    max_frame_bytes: int = Field(65536, ge=1024, le=16 * 1024 * 1024, description="Largest accepted frame (1009 above)")
    send_buffer_bytes: int = Field(
        4 * 1024 * 1024, ge=65536, description="Unsent bytes a connection may queue before it is dropped"
    )
    max_devices_per_user: int = Field(20, ge=1, le=1000, description="Concurrent connections per user")
    rate_per_s: float = Field(50.0, gt=0, description="Sustained requests per second per connection")
    rate_burst: int = Field(200, ge=1, description="Request burst per connection before rate_limited")
    rate_close_after: int = Field(
        200, ge=1, description="Refused requests in one flood (not necessarily in a row) before closing with 4429"
    )
    rate_close_after_s: float = Field(
        10.0, gt=0, le=3600, description="Seconds a connection may keep sending faster than rate_per_s before 4429"
    )

    # --- HTTP server hardening, /metrics access, browser protections (docs/security.md)
    http_header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="A request head must be complete this long after connecting (or after its first byte on a "
        "kept-alive connection), else the connection is closed",
    )
    http_body_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="A request body must have arrived this long after its head (408 after)"
    )
    http_keepalive_timeout_s: float = Field(
        75.0, gt=0, le=3600, description="An idle kept-alive HTTP connection is closed after this long"
    )
    http_max_pending_per_ip: int = Field(
        64, ge=0, description="Connections per client address still without a complete request head after a second; more are closed (0: no cap)"
    )
    metrics_allow: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Networks (comma-separated IPs/CIDRs) that may read /metrics; with metrics_token unset too: public",
    )
    metrics_token: str | None = Field(
        None, min_length=16, description="Bearer token that may read /metrics (from any address)"
    )
    frame_ancestors: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (comma-separated, e.g. https://intranet.example.com) that may embed the web pages in a "
        "frame; empty: none (CSP frame-ancestors 'none', X-Frame-Options DENY)",
    )
    csp_extra: str = Field(
        "",
        description="Extra Content-Security-Policy sources, merged per directive "
        "(e.g. \"img-src https://cdn.example.com; connect-src https://api.example.com\")",
    )

    # --- cross-origin access and apps inside the client (api/cors.py, services/app_identity.py; docs/apps.md)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (comma-separated, e.g. https://shop.example.com) whose pages may call the client API "
        "and load the JS SDK cross-origin (bearer tokens; never with credentials, i.e. cookies); \"*\": any origin. "
        "The server and admin APIs never answer cross-origin",
    )
    cors_max_age_s: int = Field(
        600, ge=0, le=86400, description="How long a browser may cache a CORS preflight answer (Access-Control-Max-Age)"
    )
    app_identity_ttl_s: int = Field(
        300, ge=30, le=3600, description="Lifetime of the identity tokens given to custom pages (apps) in the client"
    )

    # --- messages
    recall_window_s: int = Field(120, ge=0, description="How long a sender may recall a message (s)")
    # message retention (docs/retention.md): the policy itself is set in the admin console
    retention_interval_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="How often the retention sweep deletes expired messages (s)"
    )
    retention_batch_size: int = Field(
        500, ge=1, le=10000, description="Messages the retention sweep deletes per transaction"
    )
    retention_batch_pause_s: float = Field(
        0.05, ge=0, le=60, description="Pause between two batches of the retention sweep (s)"
    )
    max_burn_s: int = Field(7 * 86400, ge=1, description="Longest burn-after-reading timer (s)")
    max_text_chars: int = Field(5000, ge=1, description="Longest text message body")
    edit_window_s: int = Field(
        86400, ge=0, description="How long a sender may edit their text message (s); 0: editing is off"
    )
    max_reactions_per_message: int = Field(
        20, ge=1, le=200, description="Most different emoji reactions one message may carry"
    )
    write_batch_max: int = Field(512, ge=1, le=10000, description="Messages committed per group-commit transaction")
    # custom message payloads: bounded so one message can neither break a write nor bloat every history page
    max_custom_depth: int = Field(
        32, ge=1, le=128, description="Deepest nesting of arrays/objects in a custom message's body.data"
    )
    max_custom_bytes: int = Field(
        16384, ge=256, le=16 * 1024 * 1024, description="Largest custom message body.data, in bytes of compact JSON"
    )
    test_fault_cid_prefix: str | None = Field(
        None,
        min_length=1,
        description="TEST ONLY, never set in production: storing a message whose cid starts with this fails "
        "as if the database refused its data (to test that one bad message fails alone)",
    )

    # --- contacts
    direct_message_policy: Literal["anyone", "friends", "friends_or_colleagues"] = Field(
        "anyone",
        description="What a direct message needs: nothing, friendship, or friendship or both users in the org directory "
        "(until an administrator saves the client configuration, whose value wins)",
    )

    # --- groups
    max_group_members: int = Field(10000, ge=2, description="Largest group")
    read_receipts_max_group: int = Field(
        500, ge=0, description="Groups larger than this get no read receipts (read positions are still kept)"
    )

    # --- web client: location messages open in this map (issue 11); {lat} and {lng} are
    # filled in. Intranets with their own map service point it there (no tiles are loaded
    # by the client: only this link is followed when a user clicks a location)
    map_url_template: str = Field(
        "https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=16/{lat}/{lng}",
        pattern=r"^https?://[^\s]*\{lat\}[^\s]*$",
        max_length=500,
        description="Where the web client opens a location message: an http(s) URL with {lat} and {lng} in it",
    )
    # --- place search for the location picker (services/geo.py, docs/protocol.md "Place search")
    geo_cities: bool = Field(
        True, description="Search the offline gazetteer of cities (GeoNames, >15,000 people; ~100 MB, built on first use)"
    )
    geocoder_url: str | None = Field(
        None, pattern=r"^https?://[^\s]+$", max_length=500,
        description="A Nominatim-compatible /search URL the server asks too (e.g. https://nominatim.example/search); "
        "empty: none (nothing leaves the server)",
    )
    geocoder_timeout_s: float = Field(3.0, gt=0, le=30, description="How long a place search waits for geocoder_url (s)")

    # --- administration: the login log and the dashboard (docs/admin.md)
    login_log_retention_days: int = Field(
        180, ge=1, le=3650, description="Login log entries (every login attempt) are deleted after this many days"
    )
    stats_flush_s: float = Field(
        10.0, gt=0, le=300, description="How often a node adds its per-minute dashboard counters to the database"
    )
    stats_retention_days: int = Field(
        30, ge=2, le=3650, description="Per-minute dashboard counters (messages, logins) are kept this many days"
    )
    dashboard_cache_s: float = Field(
        60.0, ge=0, le=3600, description="How long a node reuses the dashboard's totals (users, files, database size)"
    )

    # --- sensitive words (docs/sensitive-words.md; the words themselves are stored, set on the console)
    sensitive_words: bool = Field(
        True, description="Screen messages, edits, display names, group names and announcements against the "
        "stored sensitive-word list (off: nothing is checked or recorded, whatever the list holds)"
    )
    sensitive_hits_retention_days: int = Field(
        180, ge=0, le=3650, description="Sensitive-word hits are deleted after this many days (swept hourly in "
        "batches of 1,000; 0 keeps them until deleted by hand)"
    )

    # --- the server API for integrators (docs/integration.md)
    api_call_retention_days: int = Field(
        30, ge=1, le=3650, description="Server API call log entries are deleted after this many days"
    )
    public_url: str | None = Field(
        None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="The address users open the web client at (https://im.example.com): the base of SSO ticket "
        "URLs; unset: the scheme and Host of the server API call that asked for the ticket",
    )

    # --- sign-in methods and OpenID Connect (docs/sso.md; services/oidc*.py)
    login_methods: Literal["password", "sso", "both"] = Field(
        "both", description="What the login pages offer: password, sso (OpenID Connect only; full super "
        "administrators may still use their password) or both; an administrator's choice on the console wins",
    )
    oidc_issuer: str | None = Field(
        None, pattern=r"^https?://[^\s?#]+$", description="OpenID Connect: the provider's issuer URL (its "
        "discovery document is <issuer>/.well-known/openid-configuration); unset: OIDC login is off",
    )
    oidc_client_id: str | None = Field(None, max_length=255, description="OpenID Connect: this server's client id")
    oidc_client_secret: SecretStr | None = Field(
        None, description="OpenID Connect: the client secret (unset: a public client, PKCE only; never logged)"
    )
    oidc_scopes: str = Field(
        "openid profile email", pattern=r"^[!#-\[\]-~]+( [!#-\[\]-~]+)*$",
        description="OpenID Connect: the scopes asked for (space-separated; openid is added when missing)",
    )
    oidc_username_claim: str = Field(
        "preferred_username", min_length=1, max_length=64, description="OpenID Connect: the claim with the username"
    )
    oidc_display_name_claim: str = Field(
        "name", min_length=1, max_length=64, description="OpenID Connect: the claim with the display name"
    )
    oidc_departments_claim: str | None = Field(
        None, max_length=64, description="OpenID Connect: a claim listing department paths (\"Sales/East\"); the "
        "user is put in each at every sign-in (departments created when missing) and taken out of those an earlier "
        "claim gave that it no longer lists; unset: departments untouched",
    )
    oidc_auto_create: bool = Field(
        False, description="OpenID Connect: create an account at a person's first sign-in (false: only accounts "
        "that exist already, with the same username, can sign in)",
    )
    oidc_button_label: str = Field(
        "", max_length=64, description="OpenID Connect: the login button's text (empty: \"Sign in with SSO\")"
    )
    oidc_timeout_s: float = Field(
        10.0, gt=0, le=120, description="OpenID Connect: timeout of each request to the provider (s)"
    )

    # --- pre-moderation (docs/moderation.md; the timeout itself is stored, set on the console)
    moderation_sweep_s: float = Field(
        30.0, gt=0, le=3600, description="How often a node looks for held messages past the review timeout"
    )
    moderation_rejected_days: int = Field(
        7, ge=1, le=365, description="How long a sender's client still lists their rejected messages (reloads)"
    )

    # --- webhooks (services/webhooks.py, docs/integration.md)
    webhook_retry_s: float = Field(
        5.0, gt=0, le=3600, description="Webhooks: wait this long before the first retry of a failed delivery (s)"
    )
    webhook_retry_factor: float = Field(
        4.0, ge=1, le=100, description="Webhooks: each further retry waits this many times longer than the one before"
    )
    webhook_retry_max_s: float = Field(
        3600.0, gt=0, le=86400, description="Webhooks: the longest wait between two tries (s)"
    )
    webhook_max_tries: int = Field(
        8, ge=5, le=100, description="Webhooks: tries of a delivery before it is dead-lettered (replayable on the "
        "console)"
    )
    webhook_poll_s: float = Field(
        1.0, gt=0, le=60, description="Webhooks: how often a node looks in the shared outbox for due deliveries "
        "(its own new events wake it at once)"
    )
    webhook_max_answer_bytes: int = Field(
        65536, ge=256, le=16 * 1024 * 1024, description="Webhooks: a hook's answer larger than this fails the try"
    )
    webhook_concurrency: int = Field(
        64, ge=1, le=1000, description="Webhooks: requests a node has in flight at most (deliveries)"
    )
    webhook_delivery_retention_days: int = Field(
        7, ge=1, le=3650, description="Webhooks: delivered and dead deliveries are deleted after this many days"
    )
    test_webhook_hold_outbox: bool = Field(
        False,
        description="TEST ONLY, never set in production: webhook events stay in the event outbox, never fanned "
        "out to deliveries (to test that events written with their change survive a crash)",
    )

    # --- LDAP / Active Directory (services/ldap_*.py, docs/sso.md)
    ldap_enabled: bool = Field(
        False, description="LDAP: check passwords of directory users against the directory (the password form "
        "of the login pages), create them at their first login; needs ldap_url and ldap_user_base"
    )
    ldap_url: str | None = Field(
        None, pattern=r"^ldaps?://[^\s/?#]+/?$", description="LDAP: the directory server, ldap://host:389 or "
        "ldaps://host:636"
    )
    ldap_start_tls: bool = Field(False, description="LDAP: upgrade ldap:// connections with StartTLS")
    ldap_tls_ca_file: Path | None = Field(
        None, description="LDAP: CA certificates (PEM) that sign the directory's certificate (ldaps:// or "
        "StartTLS); unset: the system's trusted CAs"
    )
    ldap_bind_dn: str | None = Field(
        None, max_length=1024, description="LDAP: the service account that searches the directory (unset: "
        "anonymous search)"
    )
    ldap_bind_password: SecretStr | None = Field(None, description="LDAP: the service account's password")
    ldap_user_base: str = Field(
        "", max_length=1024, description="LDAP: where users are searched (subtree), e.g. ou=People,dc=example,dc=com; "
        "its organisational units become departments when syncing"
    )
    ldap_user_filter: str = Field(
        "(&(objectClass=inetOrgPerson)(uid={username}))", max_length=1024,
        description="LDAP: the search filter of one user; {username} is replaced by the typed username, escaped "
        "(Active Directory: (&(objectClass=user)(sAMAccountName={username})))",
    )
    ldap_attr_username: str = Field("uid", max_length=64, description="LDAP: attribute holding the username "
                                    "(AD: sAMAccountName)")
    ldap_attr_display_name: str = Field("cn", max_length=64, description="LDAP: attribute of the display name "
                                        "(AD: displayName)")
    ldap_attr_email: str = Field("mail", max_length=64, description="LDAP: attribute of the e-mail address")
    ldap_attr_phone: str = Field("telephoneNumber", max_length=64, description="LDAP: attribute of the phone number")
    ldap_timeout_s: float = Field(5.0, gt=0, le=120, description="LDAP: connect and answer timeout (s)")
    ldap_group_roles: dict[str, str] = Field(
        default_factory=dict, description="LDAP: directory group DN -> administrator role id (super_admin, "
        "user_admin, auditor, org_admin or a custom role's id), JSON; members get the roles at login and sync, "
        "and lose them when they leave the groups. The console can change it"
    )
    ldap_sync_interval_s: float = Field(
        0.0, ge=0, le=7 * 86400, description="LDAP: sync users and departments from the directory every this many "
        "seconds (0: only when an administrator presses 'sync now')"
    )

    # --- customer service (services/customer_service*.py, docs/customer-service.md)
    cs_visitor_ip_max: int = Field(
        30, ge=0, le=1_000_000, description="Customer service: new anonymous visitors one address may create per "
        "cs_visitor_ip_window_s (0, or abuse_limits off: no limit); a visitor coming back with its key is not counted"
    )
    cs_visitor_ip_window_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="Customer service: the window of cs_visitor_ip_max, in seconds"
    )
    cs_drain_s: float = Field(
        5.0, ge=0, le=3600, description="Customer service: how often a node gives waiting sessions to agents who "
        "became available (an agent who connected); closes, transfers and state changes do it at once (0: only those)"
    )
    cs_visitor_idle_days: float = Field(
        90.0, ge=0, le=36500, description="Customer service: anonymous visitors not seen for this many days, with no "
        "open session, are forgotten (their key resumes nobody, the account is disabled and its name erased; their "
        "chats' messages follow the message retention policy); 0: never"
    )
    cs_visitor_purge_interval_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="Customer service: how often a node forgets idle visitors (seconds)"
    )
    cs_session_start_max: int = Field(
        60, ge=0, le=1_000_000, description="Customer service: new sessions plus context changes (each posts a card) "
        "one user may make per cs_session_start_window_s, then 429 (0, or abuse_limits off: no limit)"
    )
    cs_session_start_window_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="Customer service: the window of cs_session_start_max, in seconds"
    )

    # --- events (services/events.py)
    validate_events: bool = Field(
        False,
        description="Check every push against its strict model (protocol/events.py) before sending it, and refuse "
        "one that does not fit, logging 'event failed its schema'. For tests and debugging: it costs CPU per push",
    )

    # --- HTTP API replies (api/replies.py)
    validate_replies: bool = Field(
        False,
        description="Check every JSON reply of the HTTP API against the model /openapi.json declares for it, and "
        "answer 500 (logging 'reply of ... does not match') when it does not fit. For tests and debugging: it "
        "costs CPU per request",
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, v: Any) -> Any:
        """SEMOT_TRUSTED_PROXIES is a comma-separated list; a TOML file gives a list."""
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("metrics_allow", "frame_ancestors", mode="before")
    @classmethod
    def _comma_list(cls, v: Any) -> Any:
        """SEMOT_METRICS_ALLOW and SEMOT_FRAME_ANCESTORS are comma-separated; a TOML file gives a list."""
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_list(cls, v: Any) -> Any:
        """SEMOT_CORS_ORIGINS is comma-separated; a TOML file gives a list."""
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins(cls, v: list[str]) -> list[str]:
        out = []
        for origin in v:
            if origin != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path) or *")
            out.append(origin.lower())
        return out

    @field_validator("frame_ancestors")
    @classmethod
    def _frame_origins(cls, v: list[str]) -> list[str]:
        for origin in v:
            if not re.fullmatch(r"(https?://)?(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5}|:\*)?|'self'|https:", origin):
                raise ValueError(f"{origin!r} is not an origin (https://host[:port], 'self' or https:)")
        return v

    @field_validator("csp_extra")
    @classmethod
    def _csp_directives(cls, v: str) -> str:
        for part in v.split(";"):
            words = part.split()
            if words and not (re.fullmatch(r"[a-z-]+-src|[a-z-]+-src-(elem|attr)|form-action|base-uri", words[0])):
                raise ValueError(f"{words[0]!r}: only *-src, form-action and base-uri directives can be extended")
            if any(not re.fullmatch(r"[!-~]+", w) or "," in w for w in words):
                raise ValueError("sources are printable ASCII without commas")
        return v

    @field_validator("file_store")
    @classmethod
    def _s3_client_installed(cls, v: str) -> str:
        if v == "s3" and importlib.util.find_spec("aioboto3") is None:
            raise ValueError("file_store=s3 needs aioboto3: pip install 'semot[s3]'")
        return v

    @field_validator("s3_bucket")
    @classmethod
    def _s3_needs_a_bucket(cls, v: str | None, info: ValidationInfo) -> str | None:
        # a field check, not a model one: the error then quotes this value only, never the secret key
        if info.data.get("file_store") == "s3" and not v:
            raise ValueError("file_store=s3 needs s3_bucket (SEMOT_S3_BUCKET)")
        return v

    @field_validator("tls_key")
    @classmethod
    def _tls_pair(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if (v is None) != (info.data.get("tls_cert") is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        return v

    @field_validator("tls_redirect_port")
    @classmethod
    def _redirect_needs_tls(cls, v: int, info: ValidationInfo) -> int:
        if v and info.data.get("tls_cert") is None:
            raise ValueError("the HTTP-to-HTTPS redirect needs TLS (tls_cert and tls_key)")
        return v

    @field_validator("ldap_user_filter")
    @classmethod
    def _ldap_filter(cls, v: str) -> str:
        if "{username}" not in v or not (v.startswith("(") and v.endswith(")")):
            raise ValueError("ldap_user_filter: a filter in parentheses containing {username}")
        return v

    @model_validator(mode="after")
    def _ldap_needs_a_server(self) -> Settings:
        if self.ldap_enabled and not (self.ldap_url and self.ldap_user_base):
            raise ValueError("ldap_enabled needs ldap_url and ldap_user_base (SEMOT_LDAP_URL, SEMOT_LDAP_USER_BASE)")
        return self

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not v.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)

    # --- derived values
    @property
    def sqlalchemy_url(self) -> str:
        """Async driver URL; the embedded default is SQLite under data_dir."""
        url = self.database_url
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'semot.db').resolve()}"
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            return "postgresql+asyncpg://" + url[len("postgresql://") :]
        if url.startswith("sqlite://") and "+aiosqlite" not in url:
            return "sqlite+aiosqlite://" + url[len("sqlite://") :]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    def resolved_secret(self) -> str:
        """The signing key, created once in data_dir so tokens survive restarts."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        ensure_private_dir(self.data_dir)
        key = secrets.token_urlsafe(48)
        if not create_private_file(path, key.encode()):  # another process was first: use its key
            return path.read_text().strip()
        return key


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build Settings, turning pydantic's errors into one readable ConfigError."""
    cls: type[Settings] = Settings
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        cls = type("FileSettings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": str(path)}})
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return cls(**clean)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"  {name} (SEMOT_{name.upper()}): {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
