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

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationError, ValidationInfo, field_validator
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
    self_registration: bool = Field(True, description="Allow POST /api/v1/auth/register")

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

    # --- messages
    recall_window_s: int = Field(120, ge=0, description="How long a sender may recall a message (s)")
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
        description="What a direct message needs: nothing, friendship, or friendship or both users in the org directory",
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
