"""Reading the settings: a TOML file, SEMOT_* and overrides, with one readable error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from semot.config.settings import Settings


class ConfigError(Exception):
    """Raised with a human-readable explanation of every invalid setting."""


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
