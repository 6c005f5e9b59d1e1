"""Tables of the login log and of the dashboard's counters, on the shared `metadata`
(see schema.py's last lines). The dashboard's new-user figures read users by created_at
through `ix_users_created_at_id` (schema_admin_users.py), whose leading column serves them.

`login_logs` is listed newest first under filters: time alone (`ts`), one user
(`user_id`, `ts`) or an address prefix (`ip`, `ts`), each an index range scan, and
purged by `ts`. `stats_minutes` holds one row per (metric, minute), the sum over every
node, read a day at a time by its primary key.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, PrimaryKeyConstraint, String, Table

from semot.storage.login_logs import MAX_DEVICE, MAX_IP, MAX_METHOD, MAX_PLATFORM, MAX_USER_AGENT, MAX_USERNAME
from semot.storage.sql.schema import metadata

login_logs = Table(
    "login_logs",
    metadata,
    # 64-bit in PostgreSQL (failed attempts can be many); SQLite's rowid is 64-bit already
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("user_id", String(64), nullable=True),
    Column("username", String(MAX_USERNAME), nullable=False),
    Column("ip", String(MAX_IP), nullable=False),
    Column("device", String(MAX_DEVICE), nullable=False),
    Column("platform", String(MAX_PLATFORM), nullable=False),
    Column("user_agent", String(MAX_USER_AGENT), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("method", String(MAX_METHOD), nullable=False),
    Index(None, "ts"),
    Index(None, "user_id", "ts"),
    Index(None, "ip", "ts"),
)

stats_minutes = Table(
    "stats_minutes",
    metadata,
    Column("metric", String(32), nullable=False),
    Column("minute", BigInteger, nullable=False),  # the minute's start, ms since the epoch
    Column("n", BigInteger, nullable=False),
    PrimaryKeyConstraint("metric", "minute"),
)
