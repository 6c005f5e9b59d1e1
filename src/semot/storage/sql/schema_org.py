"""Tables of the organisation directory, on the shared `metadata` (see schema.py's last line).

`user_search` holds one row per person in the directory with the keys people search
matches (lower-case name, username, pinyin spellings and initials), computed when they
are put in a department and refreshed by `OrgService.reindex_user`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text, false

from semot.storage.sql.schema import metadata

departments = Table(
    "departments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("parent_id", String(64), nullable=True),  # null: a top-level department
    Column("name", String(128), nullable=False),
    Column("sort_order", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "parent_id", "sort_order"),
)

department_members = Table(
    "department_members",
    metadata,
    Column("department_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("title", String(128), nullable=False, server_default=""),
    Column("sort_order", Integer, nullable=False, server_default="0"),
    Column("joined_at", BigInteger, nullable=False),
    # the person's primary department: at most one membership per user (migration 0017)
    Column("is_primary", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("department_id", "user_id"),
    # a user's memberships; with the department, the admin user list's membership probe
    # needs no row (migration 0018, storage/sql/user_list.py)
    Index(None, "user_id", "department_id"),
)

user_search = Table(
    "user_search",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("pinyin_full", Text, nullable=False, server_default=""),
    Column("pinyin_initials", String(512), nullable=False, server_default=""),
    Column("updated_at", BigInteger, nullable=False),
)
