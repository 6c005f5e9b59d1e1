"""Settings precedence and validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from semot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for k in list(os.environ):
        if k.startswith("SEMOT_"):
            monkeypatch.delenv(k)


def test_defaults() -> None:
    s = load_settings()
    assert s.port == 8080 and s.heartbeat_s == 25 and s.recall_window_s == 120 and s.is_sqlite
    assert s.sqlalchemy_url.startswith("sqlite+aiosqlite:///") and s.sqlalchemy_url.endswith("semot-data/semot.db")


def test_precedence_file_env_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "semot.toml"
    cfg.write_text('port = 9000\nheartbeat_s = 30\nrecall_window_s = 60\n')
    monkeypatch.setenv("SEMOT_HEARTBEAT_S", "40")
    s = load_settings(cfg, recall_window_s=10)
    assert (s.port, s.heartbeat_s, s.recall_window_s) == (9000, 40, 10)


def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMOT_PORT", "eighty")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "SEMOT_PORT" in str(info.value)
    monkeypatch.delenv("SEMOT_PORT")
    monkeypatch.setenv("SEMOT_DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigError, match="SEMOT_DATABASE_URL"):
        load_settings()


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "semot.toml"
    cfg.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")


def test_postgres_url_gets_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMOT_DATABASE_URL", "postgres://u@h/db")
    assert load_settings().sqlalchemy_url == "postgresql+asyncpg://u@h/db"


def test_secret_is_created_once(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path / "d")
    key = s.resolved_secret()
    assert len(key) >= 32 and s.resolved_secret() == key
    assert (tmp_path / "d" / "secret.key").stat().st_mode & 0o777 == 0o600
