"""Tables of uploaded files, on the shared `metadata` (see schema.py's last lines).

`files` holds one row per upload (its bytes are in the BlobStore under the file id);
`file_refs` records what keeps a file alive and who may read it: a message of a
conversation (its members may read the file) or an avatar.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table

from semot.storage.sql.schema import metadata

files = Table(
    "files",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("mime", String(255), nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("w", Integer, nullable=True),
    Column("h", Integer, nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("completed_at", BigInteger, nullable=True),
    Column("deleted_at", BigInteger, nullable=True),
    Index(None, "owner"),
    Index(None, "expires_at"),
    Index(None, "completed_at"),
)

file_refs = Table(
    "file_refs",
    metadata,
    Column("file_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref", String(160), nullable=False),
    Column("conv", String(140), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("file_id", "kind", "ref"),
    Index(None, "kind", "ref"),
)

# When a user last left a conversation: the files of its messages sent before then stay
# readable to them (what they saw stays readable), recalled or burned ones excepted.
conv_departures = Table(
    "conv_departures",
    metadata,
    Column("conv", String(140), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("left_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("conv", "user_id"),
    Index(None, "user_id"),
)
