"""The external sign-in identities table (storage/external_identities.py, migration 0025).

`external_identities`: one row per (provider, subject), the primary key a sign-in looks
up; unique (provider, user_id) too, so a user has one identity per provider.
`departments`: a JSON array of the department ids the claim gave (NULL: none).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from semot.storage.external_identities import MAX_PROVIDER, MAX_SUBJECT
from semot.storage.sql.schema import metadata

external_identities = Table(
    "external_identities",
    metadata,
    Column("provider", String(MAX_PROVIDER), primary_key=True),
    Column("subject", String(MAX_SUBJECT), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_login_at", BigInteger, nullable=True),
    Column("departments", Text, nullable=True),
    Index(None, "provider", "user_id", unique=True),
    Index(None, "user_id"),
)
