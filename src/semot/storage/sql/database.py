"""SqlDatabase: the schema, health and connection pools that every SQL store shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from semot.storage.base import Database
from semot.storage.sql.engine import Engines
from semot.storage.sql.migrate import upgrade_to_head

IN_CHUNK = 500  # ids per `IN (...)`: far below both databases' parameter limits
_MIGRATION_LOCK = 7365676  # pg advisory lock id serialising migrations across nodes


class SqlDatabase(Database):
    def __init__(self, engines: Engines, *, schema: str | None = None) -> None:
        self.engines = engines
        self.schema = schema
        self.dialect = engines.write.dialect.name
        # the dialect's INSERT, for ON CONFLICT DO NOTHING
        self.insert: Any = postgresql.insert if self.dialect == "postgresql" else sqlite.insert

    async def migrate(self) -> None:
        async with self.engines.write.begin() as conn:
            if self.dialect == "postgresql":
                # Nodes starting together must not race on DDL: one migrates, the rest wait.
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                if self.schema:
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            await conn.run_sync(upgrade_to_head)

    async def ping(self) -> None:
        async with self.engines.read.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engines.dispose()
