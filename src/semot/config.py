"""One Settings object: defaults < TOML config file < SEMOT_* environment < CLI flags.

Everything tunable lives here so that `semot serve --help`, the README's configuration
table and the running server agree; a bad value stops the server at start with a message
naming the setting, instead of failing later under load.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


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

    # --- security
    secret_key: str | None = Field(
        None, min_length=32, description="Token signing key; generated into data_dir when unset. Share it across nodes."
    )
    access_token_ttl_s: int = Field(3600, ge=60, le=30 * 86400, description="Access token lifetime (s)")
    refresh_token_ttl_s: int = Field(30 * 86400, ge=3600, description="Refresh token lifetime (s)")
    self_registration: bool = Field(True, description="Allow POST /api/v1/auth/register")

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
    rate_close_after: int = Field(200, ge=1, description="Rejected requests in a row before closing with 4429")

    # --- messages
    recall_window_s: int = Field(120, ge=0, description="How long a sender may recall a message (s)")
    max_burn_s: int = Field(7 * 86400, ge=1, description="Longest burn-after-reading timer (s)")
    max_text_chars: int = Field(5000, ge=1, description="Longest text message body")
    write_batch_max: int = Field(512, ge=1, le=10000, description="Messages committed per group-commit transaction")

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

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level")

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
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
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
