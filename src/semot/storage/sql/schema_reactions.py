"""The reactions table, on the shared `metadata` (see schema.py's last lines).

One row per (message, emoji, user): toggling a reaction on inserts it, off deletes it.
The message's summary (count and who, per emoji) is read from these rows with each
history page; `messages.change_seq` tells which messages ever had one, so a page of
untouched messages costs no extra query.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, PrimaryKeyConstraint, String, Table

from semot.storage.sql.schema import metadata

message_reactions = Table(
    "message_reactions",
    metadata,
    Column("conv", String(140), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("emoji", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("ts", BigInteger, nullable=False),
    PrimaryKeyConstraint("conv", "seq", "emoji", "user_id"),
)
