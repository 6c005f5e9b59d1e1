"""Tables of administrator roles, grants and the admin audit log, on the shared `metadata`
(see schema.py's last lines). Role permissions and grant lists are small JSON arrays:
they are read whole, through a per-node cache, never searched inside by SQL.

The audit log is listed newest first under any mix of filters (admin, action, target,
time range); each filter column leads an index ending in `ts`, so a filtered page is an
index range scan and its count an index-only count.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from semot.storage.sql.schema import metadata

admin_roles = Table(
    "admin_roles",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", String(512), nullable=False, server_default=""),
    Column("perms", Text, nullable=False),  # JSON array of permission names
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

admin_grants = Table(
    "admin_grants",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("roles", Text, nullable=False),  # JSON array of role ids
    Column("departments", Text, nullable=True),  # JSON array of department ids; null: the whole organisation
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(64), nullable=False, server_default=""),
)

admin_audit = Table(
    "admin_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("admin", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False, server_default=""),
    Column("ip", String(64), nullable=False, server_default=""),
    Column("before", Text, nullable=True),  # JSON
    Column("after", Text, nullable=True),  # JSON
    Index(None, "ts"),
    Index(None, "admin", "ts"),
    Index(None, "action", "ts"),
    Index(None, "target", "ts"),
)
