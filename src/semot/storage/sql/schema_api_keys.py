"""Tables of the server API (storage/api_keys.py, migration 0023), on the shared `metadata`.

`api_keys`: one row per key, found by `key_hash` (unique). `api_calls`: the call log,
listed newest first (`ts`), by key (`key_id`, `ts`) and purged by `ts`. `sso_tickets`:
single-use login tickets, found by their hash and deleted when taken.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from semot.storage.api_keys import MAX_IP, MAX_NAME, MAX_PATH
from semot.storage.sql.schema import metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(MAX_NAME), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False),
    Column("scopes", Text, nullable=False),  # JSON list
    Column("allow_ips", Text, nullable=False),  # JSON list of CIDRs
    Column("rate_per_min", Integer, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(64), nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Column("last_used_at", BigInteger, nullable=True),
)

api_calls = Table(
    "api_calls",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("key_id", String(32), nullable=True),
    Column("ip", String(MAX_IP), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(MAX_PATH), nullable=False),
    Column("status", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Index(None, "ts"),
    Index(None, "key_id", "ts"),
)

sso_tickets = Table(
    "sso_tickets",
    metadata,
    Column("ticket_hash", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "expires_at"),
)
