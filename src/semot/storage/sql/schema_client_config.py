"""The client configuration table, on the shared `metadata` (see schema.py's last lines).

One row (`id` = "client") holding the configuration as a JSON document: see
storage/client_config.py for why a document and not columns. Version 0 is a row made
to be locked before the first write, not a configuration.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text

from semot.storage.sql.schema import metadata

client_config = Table(
    "client_config",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("doc", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(64), nullable=True),
)
