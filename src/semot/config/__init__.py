"""One Settings object: defaults < TOML config file < SEMOT_* environment < CLI flags.

Everything tunable lives here so that `semot serve --help`, the README's configuration
table and the running server agree; a bad value stops the server at start with a message
naming the setting, instead of failing later under load.

The fields are declared by area (server.py, cluster.py, files.py, access.py, messaging.py,
admin.py, sso.py, services.py), assembled into one flat model in settings.py and read by
loading.py; callers import from here.
"""

from semot.config.loading import ConfigError, load_settings
from semot.config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
