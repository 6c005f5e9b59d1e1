"""The LDAP tables (storage/ldap.py, migration 0026), on the shared `metadata`.

`ldap_users`: one row per directory-managed user (its DN, e-mail, phone, the roles its
groups gave, whether the sync disabled it). `ldap_sync_runs`: the newest sync runs for
the console. `ldap_leases`: who runs the scheduled sync now (one node at a time).
`ldap_config`: what administrators change on the console (the group -> role mapping).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from semot.storage.ldap import MAX_DN, MAX_EMAIL, MAX_PHONE
from semot.storage.sql.schema import metadata

ldap_users = Table(
    "ldap_users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("dn", String(MAX_DN), nullable=False),
    Column("email", String(MAX_EMAIL), nullable=False),
    Column("phone", String(MAX_PHONE), nullable=False),
    Column("roles", Text, nullable=False),  # JSON list of role ids
    Column("disabled_by_sync", Boolean, nullable=False),
    Column("seen_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

ldap_sync_runs = Table(
    "ldap_sync_runs",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("trigger", String(16), nullable=False),
    Column("by", String(64), nullable=True),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("ok", Boolean, nullable=True),
    Column("counts", Text, nullable=False),  # JSON object
    Column("errors", Text, nullable=False),  # JSON list
    Index(None, "started_at"),
)

ldap_leases = Table(
    "ldap_leases",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("until", BigInteger, nullable=False),
)

ldap_config = Table(
    "ldap_config",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
)
