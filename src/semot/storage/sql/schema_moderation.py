"""The pre-moderation tables, on the shared `metadata` (see schema.py's last lines).

`moderation_queue`: one row per held message (domain/moderation.py), unique by
`(sender, cid)` like stored messages, so a resend finds its row. `moderation_settings`:
one row (`id` = "moderation") with the timeout setting.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from semot.storage.sql.schema import metadata

moderation_queue = Table(
    "moderation_queue",
    metadata,
    Column("mid", String(64), primary_key=True),
    Column("cid", String(64), nullable=False),
    Column("sender", String(64), nullable=False),
    Column("conv", String(140), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("opts", Text, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("ip", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("reviewer", String(64), nullable=True),
    Column("reviewed_at", BigInteger, nullable=True),
    Column("seq", BigInteger, nullable=True),
    UniqueConstraint("sender", "cid"),
    Index(None, "status", "ts"),
    Index(None, "conv", "status", "ts"),
    Index(None, "sender", "status"),
)

moderation_settings = Table(
    "moderation_settings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("timeout_s", Integer, nullable=False),
    Column("timeout_action", String(16), nullable=False),
    Column("updated_at", BigInteger, nullable=True),
    Column("updated_by", String(64), nullable=True),
)
