"""The Settings model: every area's settings in one flat object (SEMOT_<NAME> each), the
sources it reads, and the values derived from it."""

from __future__ import annotations

import secrets

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from semot.config.access import AccessSettings
from semot.config.admin import AdminSettings
from semot.config.cluster import ClusterSettings
from semot.config.files import FileSettings
from semot.config.messaging import MessagingSettings
from semot.config.server import ServerSettings
from semot.config.services import CustomerServiceSettings, DiagnosticsSettings, ModerationWebhookSettings
from semot.config.sso import LdapSettings, OidcSettings
from semot.datadir import create_private_file, ensure_private_dir


# pydantic orders the fields from the last base to the first (reversed MRO): this list
# reads bottom-up as the README table reads top-down, and a validator that looks at an
# earlier field (info.data) keeps seeing it validated first.
class Settings(
    DiagnosticsSettings,
    CustomerServiceSettings,
    LdapSettings,
    ModerationWebhookSettings,
    OidcSettings,
    AdminSettings,
    MessagingSettings,
    AccessSettings,
    FileSettings,
    ClusterSettings,
    ServerSettings,
    BaseSettings,
):
    model_config = SettingsConfigDict(env_prefix="SEMOT_", extra="forbid", validate_default=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments (CLI flags) over SEMOT_* over the TOML file that load_settings names; no .env."""
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
