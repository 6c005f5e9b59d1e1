"""Where a node listens, its TLS and scheduled backups, and where it keeps its data."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator


class ServerSettings(BaseModel):
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

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not v.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must start with sqlite:// or postgresql://")
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
