"""SqlExternalIdentities: external sign-in identities in SQLite or PostgreSQL
(schema_external_identities.py)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from semot.storage.external_identities import ExternalIdentity, ExternalIdentityStorage
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.schema_external_identities import external_identities as _x


def _identity(r: Any) -> ExternalIdentity:
    return ExternalIdentity(
        provider=r.provider, subject=r.subject, user_id=r.user_id, created_at=r.created_at,
        last_login_at=r.last_login_at, departments=tuple(orjson.loads(r.departments)) if r.departments else (),
    )


class SqlExternalIdentities(ExternalIdentityStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines

    async def get_identity(self, provider: str, subject: str) -> ExternalIdentity | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_x).where(_x.c.provider == provider, _x.c.subject == subject))).first()
        return _identity(r) if r is not None else None

    async def user_identities(self, user_id: str) -> list[ExternalIdentity]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_x).where(_x.c.user_id == user_id).order_by(_x.c.provider))).all()
        return [_identity(r) for r in rows]

    async def link_identity(self, identity: ExternalIdentity) -> bool:
        values: dict[str, Any] = {f: getattr(identity, f) for f in ExternalIdentity.__slots__}
        values["departments"] = orjson.dumps(list(identity.departments)).decode() if identity.departments else None
        try:
            async with self._engines.write.begin() as conn:
                await conn.execute(insert(_x).values(values))
        except IntegrityError:  # the subject or the user is linked already (the unique keys)
            return False
        return True

    async def touch_identity(self, provider: str, subject: str, now: int) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(
                update(_x).where(_x.c.provider == provider, _x.c.subject == subject).values(last_login_at=now)
            )

    async def set_departments(self, provider: str, subject: str, departments: tuple[str, ...]) -> None:
        value = orjson.dumps(list(departments)).decode() if departments else None
        async with self._engines.write.begin() as conn:
            await conn.execute(
                update(_x).where(_x.c.provider == provider, _x.c.subject == subject).values(departments=value)
            )

    async def unlink_identity(self, provider: str, subject: str) -> bool:
        async with self._engines.write.begin() as conn:
            res = await conn.execute(delete(_x).where(_x.c.provider == provider, _x.c.subject == subject))
        return bool(res.rowcount)
