"""Customer service's tables (storage/customer_service.py, migration 0027), on the shared `metadata`.

`cs_queues`, `cs_agents` (an agent's queues as a JSON list), `cs_settings` (one row: the
widget's settings as JSON), `cs_visitors` (anonymous visitors, found by the hash of
their key; `last_seen_at` for the purge of idle ones), `cs_customers` (users an
integrator marked `external`: restricted like visitors), `cs_sessions` (one per service
conversation; listed by state with queue, agent or visitor, and by `created_at` for the
statistics; at most one open session per visitor: a partial unique index, so two
simultaneous requests of one visitor, on one node or several, make one session).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, text

from semot.storage.sql.schema import metadata

cs_queues = Table(
    "cs_queues",
    metadata,
    Column("queue_id", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

cs_agents = Table(
    "cs_agents",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("queues", Text, nullable=False),  # JSON list of queue ids
    Column("field", String(64), nullable=False),
    Column("max_concurrent", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

cs_settings = Table(
    "cs_settings",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
)

cs_visitors = Table(
    "cs_visitors",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False, server_default="0"),
    Index(None, "last_seen_at"),
)

cs_customers = Table(
    "cs_customers",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

OPEN_WHERE = text("state <> 'closed'")

cs_sessions = Table(
    "cs_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("conv", String(80), nullable=False, unique=True),
    Column("visitor_id", String(64), nullable=False),
    Column("queue_id", String(64), nullable=True),
    Column("agent_id", String(64), nullable=True),
    Column("state", String(16), nullable=False),
    Column("context", Text, nullable=True),  # JSON
    Column("created_at", BigInteger, nullable=False),
    Column("assigned_at", BigInteger, nullable=True),
    Column("first_response_at", BigInteger, nullable=True),
    Column("closed_at", BigInteger, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("rating", Integer, nullable=True),
    Column("comment", Text, nullable=True),
    Index(None, "visitor_id", "created_at"),
    Index(None, "state", "queue_id", "created_at"),
    Index(None, "agent_id", "state"),
    Index(None, "created_at"),
    Index("uq_cs_sessions_open_visitor", "visitor_id", unique=True, sqlite_where=OPEN_WHERE,
          postgresql_where=OPEN_WHERE),
)
