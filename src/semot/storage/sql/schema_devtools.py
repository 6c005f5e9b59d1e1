"""Tables of the developer tools, on the shared `metadata` (see schema.py's last lines).

`protocol_log_sessions`: whose WebSocket frames are captured, until when (one row per
watched user). `protocol_log_frames`: the captured frames, redacted, read by id as a
cursor. `client_errors`: uncaught errors browsers reported. The two logs are bounded by
their services (pruned by age and count), so neither grows without limit.

The ids count up and are never reused (AUTOINCREMENT on SQLite, a sequence on
PostgreSQL): a console polling with `after=<id>` must never see the counter restart
after the table was emptied.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from semot.storage.sql.schema import metadata

# BIGINT on PostgreSQL (BIGSERIAL); SQLite numbers rows only through INTEGER PRIMARY KEY
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

protocol_log_sessions = Table(
    "protocol_log_sessions",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("until", BigInteger, nullable=False),
    Column("started_by", String(64), nullable=False),
    Column("started_at", BigInteger, nullable=False),
)

protocol_log_frames = Table(
    "protocol_log_frames",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("user_id", String(64), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("direction", String(3), nullable=False),
    Column("node", String(32), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("truncated", Boolean, nullable=False),
    Index(None, "user_id", "id"),
    sqlite_autoincrement=True,
)

client_errors = Table(
    "client_errors",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("user_id", String(64), nullable=True),
    Column("ip", String(64), nullable=False),
    Column("app", String(16), nullable=False),
    Column("version", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("stack", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("user_agent", Text, nullable=False),
    Index(None, "user_id", "id"),
    sqlite_autoincrement=True,
)
