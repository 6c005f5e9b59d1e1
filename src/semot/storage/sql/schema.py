"""The one schema both databases share. Alembic migrations are generated from it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    # the username case-folded (domain.users.username_key): unique, so names differing
    # only in case are one name; see migration 0006 for accounts that clashed before
    Column("username_key", String(80), nullable=False, server_default=""),
    Column("display_name", String(128), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("avatar_file_id", String(64), nullable=True),
    Index(None, "username_key", unique=True),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("family", String(64), nullable=False, index=True),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    Column("revoked", Boolean, nullable=False, default=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(140), primary_key=True),
    Column("kind", String(1), nullable=False),
    Column("max_seq", BigInteger, nullable=False, default=0),
    Column("last_ts", BigInteger, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    # bumped by every edit / reaction change in the conversation (migration 0010)
    Column("change_seq", BigInteger, nullable=False, server_default="0"),
)

conv_members = Table(
    "conv_members",
    metadata,
    Column("conv", String(140), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("role", String(16), nullable=False, default="member"),
    Column("read_seq", BigInteger, nullable=False, default=0),
    Column("joined_at", BigInteger, nullable=False),
    Column("muted_until", BigInteger, nullable=True),
    # The member's own view of the conversation, synced to all their devices:
    Column("pinned_at", BigInteger, nullable=True),  # pinned to the top of the list since
    Column("dnd", Boolean, nullable=False, server_default=false()),  # do not disturb
    Column("hidden_seq", BigInteger, nullable=True),  # hidden until a message after this seq
    PrimaryKeyConstraint("conv", "user_id"),
    Index(None, "user_id"),
)

groups = Table(
    "groups",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("settings", Text, nullable=False, default="{}"),
    Column("kind", String(16), nullable=False, server_default="project"),
    Column("announcement", Text, nullable=True),
    Column("dismissed_at", BigInteger, nullable=True),
    Column("name_key", String(512), nullable=False, server_default=""),  # the name case-folded, for search
    Column("listed", Boolean, nullable=False, server_default=false()),  # found by name in group search
    Column("avatar_file_id", String(64), nullable=True),
    Index(None, "listed", "created_at"),
    Index(None, "created_at"),  # the admin console's list of every group, newest first (migration 0017)
)

group_requests = Table(
    "group_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("group_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),  # who would join
    Column("inviter", String(64), nullable=True),  # null: the user asked to join
    Column("message", String(500), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="pending"),
    Column("created_at", BigInteger, nullable=False),
    Column("handled_by", String(64), nullable=True),
    Column("handled_at", BigInteger, nullable=True),
    Index(None, "group_id", "status"),
)

messages = Table(
    "messages",
    metadata,
    Column("conv", String(140), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("mid", String(64), nullable=False, unique=True),
    Column("cid", String(64), nullable=False),
    Column("sender", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("opts", Text, nullable=False, default="{}"),
    Column("ts", BigInteger, nullable=False),
    Column("burn_s", Integer, nullable=True),
    Column("burn_at", BigInteger, nullable=True),
    Column("edited_ts", BigInteger, nullable=True),  # last edit (migration 0010)
    Column("change_seq", BigInteger, nullable=True),  # the conversation's change_seq at its last edit/reaction
    Column("ip", String(64), nullable=True),  # the sending device's IP (migration 0019; audit search only)
    Column("recalled_by", String(64), nullable=True),  # who recalled it (migration 0022)
    Column("recalled_role", String(16), nullable=True),  # sender, group_admin or admin
    PrimaryKeyConstraint("conv", "seq"),
    Index(None, "conv", "change_seq"),
    UniqueConstraint("sender", "cid"),
    Index(None, "burn_at"),
    Index(None, "ts"),  # the retention sweep's oldest-first scan (migration 0022)
)


# --- contacts: friends, friend requests, tags, blacklist
friends = Table(
    "friends",
    metadata,
    Column("user_id", String(64), nullable=False),
    Column("friend_id", String(64), nullable=False),
    Column("remark", String(128), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("user_id", "friend_id"),
)

friend_requests = Table(
    "friend_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("from_user", String(64), nullable=False),
    Column("to_user", String(64), nullable=False),
    Column("message", String(500), nullable=False, server_default=""),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("handled_at", BigInteger, nullable=True),
    Index(None, "to_user", "status"),
    Index(None, "from_user", "status"),
)

contact_tags = Table(
    "contact_tags",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("user_id", "name"),
)

contact_tag_members = Table(
    "contact_tag_members",
    metadata,
    Column("tag_id", String(32), nullable=False),
    Column("friend_id", String(64), nullable=False),
    PrimaryKeyConstraint("tag_id", "friend_id"),
)

blocks = Table(
    "blocks",
    metadata,
    Column("user_id", String(64), nullable=False),
    Column("blocked_id", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("user_id", "blocked_id"),
    Index(None, "blocked_id"),
)
from semot.storage.sql import schema_admin as _schema_admin  # noqa: E402,F401  (admin roles, grants, audit log)
from semot.storage.sql import schema_admin_users as _schema_admin_users  # noqa: E402,F401  (user administration)
from semot.storage.sql import schema_api_keys as _schema_api_keys  # noqa: E402,F401  (server API keys, call log)
from semot.storage.sql import schema_client_config as _schema_client_config  # noqa: E402,F401  (client configuration)
from semot.storage.sql import schema_customer_service as _schema_cs  # noqa: E402,F401  (customer service)
from semot.storage.sql import schema_devtools as _schema_devtools  # noqa: E402,F401  (developer tools)
from semot.storage.sql import schema_external_identities as _schema_ext_ids  # noqa: E402,F401  (OIDC identities)
from semot.storage.sql import schema_files as _schema_files  # noqa: E402,F401  (registers the file tables)
from semot.storage.sql import schema_ldap as _schema_ldap  # noqa: E402,F401  (LDAP users, sync runs)
from semot.storage.sql import schema_login_logs as _schema_login_logs  # noqa: E402,F401  (login log, dashboard)
from semot.storage.sql import schema_moderation as _schema_moderation  # noqa: E402,F401  (pre-moderation queue)
from semot.storage.sql import schema_org as _schema_org  # noqa: E402,F401  (registers the org tables)
from semot.storage.sql import schema_reactions as _schema_reactions  # noqa: E402,F401  (reactions)
from semot.storage.sql import schema_retention as _schema_retention  # noqa: E402,F401  (retention, legal holds)
from semot.storage.sql import schema_search as _schema_search  # noqa: E402,F401  (messages.ip; search tables)
from semot.storage.sql import schema_sensitive as _schema_sensitive  # noqa: E402,F401  (sensitive words, hits)
from semot.storage.sql import schema_webhooks as _schema_webhooks  # noqa: E402,F401  (webhooks and their outbox)
