"""SqlClientConfig: the client configuration document in one row of `client_config`."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select, update

from semot.storage.client_config import ClientConfigStorage, StoredClientConfig
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.schema_client_config import client_config as _t

_ID = "client"


class SqlClientConfig(ClientConfigStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert

    async def get_client_config(self) -> StoredClientConfig | None:
        async with self._engines.read.connect() as conn:
            row = (await conn.execute(select(_t).where(_t.c.id == _ID))).first()
        if row is None or row.version == 0:
            return None
        return StoredClientConfig(orjson.loads(row.doc), row.version, row.updated_at, row.updated_by)

    async def client_config_version(self) -> int:
        async with self._engines.read.connect() as conn:
            version = await conn.scalar(select(_t.c.version).where(_t.c.id == _ID))
        return int(version or 0)

    async def put_client_config(
        self, doc: dict[str, Any], *, expected_version: int | None, updated_by: str | None, now: int
    ) -> StoredClientConfig | None:
        async with self._engines.write.begin() as conn:
            # the row exists before it is locked, so two first writers queue on it too
            await conn.execute(
                self._insert(_t)
                .values(id=_ID, doc="{}", version=0, updated_at=now, updated_by=None)
                .on_conflict_do_nothing(index_elements=["id"])
            )
            current = await conn.scalar(select(_t.c.version).where(_t.c.id == _ID).with_for_update())
            if expected_version is not None and current != expected_version:
                return None
            version = int(current or 0) + 1
            await conn.execute(
                update(_t)
                .where(_t.c.id == _ID)
                .values(doc=orjson.dumps(doc).decode(), version=version, updated_at=now, updated_by=updated_by)
            )
        return StoredClientConfig(doc, version, now, updated_by)
