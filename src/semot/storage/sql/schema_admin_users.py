"""Tables of user administration, on the shared `metadata` (see schema.py's last lines).

`password_links` holds one-time set-password links, by the SHA-256 of their token (a
leaked table opens no account); `user_devices` records which device used which login,
from where and when (written by the gateway when a socket authenticates, in batches),
for the admin console's view of a user's devices. `ix_users_created_at_id` gives the
admin user list its default order (newest first, ties by id) and, being a covering
index for the page's ids, finds a deep page without reading the rows it skips.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, PrimaryKeyConstraint, String, Table

from semot.storage.sql.schema import metadata, users

password_links = Table(
    "password_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    Index(None, "user_id"),
    Index(None, "expires_at"),  # long-expired links are dropped as new ones are made
)

user_devices = Table(
    "user_devices",
    metadata,
    Column("login_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    PrimaryKeyConstraint("login_id", "device_id"),
    Index(None, "user_id", "last_seen"),
    Index(None, "last_seen"),
)

users_created_at_id = Index("ix_users_created_at_id", users.c.created_at, users.c.id)
