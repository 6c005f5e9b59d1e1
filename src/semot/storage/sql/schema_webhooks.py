"""The webhook tables, on the shared `metadata` (see schema.py's last lines).

`webhooks`: the registered hooks (their secret is kept: it signs every request).
`webhook_deliveries`: the outbox. `seq` orders it (the claim takes the oldest pending
delivery of each (hook, key) only: `ix_..._webhook_id_key_status_seq` answers that
NOT EXISTS); `delivery_id` is the public id posted as `id`; `claimed_by` /
`claimed_until` are a node's lease on a delivery it is posting (storage/webhooks.py).
`event_outbox`: events written in the transaction of the change they describe, waiting
to be fanned out to deliveries (storage/outbox.py); `id` orders them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from semot.storage.sql.schema import metadata

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # JSON list
    Column("secret", String(128), nullable=False),
    Column("timeout_ms", Integer, nullable=False),
    Column("on_timeout", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(64), nullable=True),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), nullable=False, unique=True),
    Column("webhook_id", String(64), nullable=False),
    Column("event", String(64), nullable=False),
    Column("key", String(160), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("tries", Integer, nullable=False),
    Column("next_at", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", BigInteger, nullable=True),
    Index(None, "status", "next_at"),
    Index(None, "webhook_id", "key", "status", "seq"),
    Index(None, "webhook_id", "seq"),
    Index(None, "status", "updated_at"),
)

event_outbox = Table(
    "event_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("event", String(64), nullable=False),
    Column("key", String(160), nullable=False),
    Column("data", Text, nullable=False),
    Column("seq", BigInteger, nullable=True),  # a message's seq, added to data at fan-out
    Column("created_at", BigInteger, nullable=False),
)
