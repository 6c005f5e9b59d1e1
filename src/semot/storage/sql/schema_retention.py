"""Tables of message retention (docs/retention.md), on the shared `metadata`.

`retention_settings` is one row (`id` = "policy"): how many days messages of direct
chats and of groups are kept (NULL: forever) and what the last sweep did.
`legal_holds` exempts a user (every conversation they are in, and their messages
anywhere) or a conversation from the sweep. The message columns the sweep reads
(`messages.ts`, its index) and the tombstone's `recalled_by` / `recalled_role` are on
the `messages` table itself (schema.py), added by the same migration (0022).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, UniqueConstraint

from semot.storage.sql.schema import metadata

retention_settings = Table(
    "retention_settings",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("direct_days", Integer, nullable=True),
    Column("group_days", Integer, nullable=True),
    Column("updated_at", BigInteger, nullable=True),
    Column("updated_by", String(64), nullable=True),
    Column("last_started_at", BigInteger, nullable=True),
    Column("last_finished_at", BigInteger, nullable=True),
    Column("last_deleted", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
)

legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(8), nullable=False),  # "user" or "conv"
    Column("target", String(140), nullable=False),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(64), nullable=True),
    UniqueConstraint("kind", "target"),
)
