"""Tables of sensitive words and their hits, on the shared `metadata` (see schema.py's
last lines; storage/sensitive.py says what they hold).

`sensitive_words` is unique by `key` (the folded word): an import of thousands of words
inserts with ON CONFLICT DO NOTHING and counts what was already there. `sensitive_state`
is one row whose `version` grows with every add and delete, in the same transaction: a
node compares (count, version) with what it built from. `sensitive_hits` is listed
newest first by time alone (`ts`), one user (`user_id`, `ts`) or one level (`level`, `ts`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from semot.storage.sensitive import MAX_EXCERPT, MAX_IP
from semot.storage.sql.schema import metadata

sensitive_words = Table(
    "sensitive_words",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("word", String(64), nullable=False),
    Column("key", String(64), nullable=False, unique=True),
    Column("level", String(8), nullable=False),
    Column("category", String(32), nullable=False),
    Column("created_by", String(64), nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

sensitive_state = Table(
    "sensitive_state",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

sensitive_hits = Table(
    "sensitive_hits",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("target", String(16), nullable=False),
    Column("conv", String(140), nullable=True),
    Column("ip", String(MAX_IP), nullable=False),
    Column("word_id", String(40), nullable=False),
    Column("word", String(64), nullable=False),
    Column("level", String(8), nullable=False),
    Column("category", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("excerpt", String(MAX_EXCERPT), nullable=False),
    Index(None, "ts"),
    Index(None, "user_id", "ts"),
    Index(None, "level", "ts"),
)
