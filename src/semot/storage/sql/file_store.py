"""SqlFiles: the FileStorage interface on SQL (SQLite and PostgreSQL).

Who may read a file is one query: the uploader, a member of a conversation where a
message referencing it was sent, or a former member (conv_departures) of one where
such a message was sent before they left. A recalled or burned message has no
reference any more (the message store deletes it in the same transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, exists, func, select, update

from semot.domain.files import REF_MESSAGE, FileRecord, FileRef
from semot.storage.files import FileStorage
from semot.storage.sql import schema as s
from semot.storage.sql import schema_files as fs
from semot.storage.sql.database import SqlDatabase

_f = fs.files
_r = fs.file_refs
_d = fs.conv_departures


def _record(r: Any) -> FileRecord:
    return FileRecord(
        id=r.id, owner=r.owner, name=r.name, size=r.size, offset=r.offset, mime=r.mime, created_at=r.created_at,
        expires_at=r.expires_at, sha256=r.sha256, w=r.w, h=r.h, duration_ms=r.duration_ms,
        completed_at=r.completed_at, deleted_at=r.deleted_at,
    )


class SqlFiles(FileStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert  # for ON CONFLICT DO NOTHING

    async def create_file(self, record: FileRecord) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(
                _f.insert().values(
                    id=record.id, owner=record.owner, name=record.name, size=record.size, offset=record.offset,
                    mime=record.mime, sha256=record.sha256, w=record.w, h=record.h, duration_ms=record.duration_ms,
                    created_at=record.created_at, expires_at=record.expires_at, completed_at=record.completed_at,
                    deleted_at=record.deleted_at,
                )
            )

    async def get_file(self, file_id: str) -> FileRecord | None:
        async with self._engines.write.connect() as conn:  # the writer's view: an offset just advanced
            r = (await conn.execute(select(_f).where(_f.c.id == file_id, _f.c.deleted_at.is_(None)))).first()
        return _record(r) if r else None

    async def advance_offset(self, file_id: str, old: int, new: int) -> bool:
        async with self._engines.write.begin() as conn:
            done = await conn.execute(
                update(_f)
                .where(_f.c.id == file_id, _f.c.offset == old, _f.c.deleted_at.is_(None), _f.c.completed_at.is_(None))
                .values(offset=new)
            )
        return bool(done.rowcount)

    async def complete_file(
        self, file_id: str, *, mime: str, sha256: str, w: int | None, h: int | None, duration_ms: int | None, now: int
    ) -> bool:
        async with self._engines.write.begin() as conn:
            done = await conn.execute(
                update(_f)
                .where(_f.c.id == file_id, _f.c.completed_at.is_(None), _f.c.deleted_at.is_(None))
                .values(mime=mime, sha256=sha256, w=w, h=h, duration_ms=duration_ms, completed_at=now, expires_at=None)
            )
        return bool(done.rowcount)

    async def mark_deleted(self, file_id: str, now: int) -> bool:
        async with self._engines.write.begin() as conn:
            done = await conn.execute(
                update(_f).where(_f.c.id == file_id, _f.c.deleted_at.is_(None)).values(deleted_at=now)
            )
            await conn.execute(delete(_r).where(_r.c.file_id == file_id))
        return bool(done.rowcount)

    async def usage(self, owner: str) -> int:
        async with self._engines.read.connect() as conn:
            total = await conn.scalar(
                select(func.coalesce(func.sum(_f.c.size), 0)).where(_f.c.owner == owner, _f.c.deleted_at.is_(None))
            )
        return int(total or 0)

    async def add_ref(self, ref: FileRef) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(
                self._insert(_r)
                .values(file_id=ref.file_id, kind=ref.kind, ref=ref.ref, conv=ref.conv, created_at=ref.created_at)
                .on_conflict_do_nothing()
            )

    async def remove_refs(self, kind: str, ref: str) -> int:
        async with self._engines.write.begin() as conn:
            done = await conn.execute(delete(_r).where(_r.c.kind == kind, _r.c.ref == ref))
        return int(done.rowcount or 0)

    async def can_read(self, file_id: str, user_id: str) -> bool:
        m = s.conv_members
        shared = exists().where(
            _r.c.file_id == file_id, _r.c.conv.is_not(None), m.c.conv == _r.c.conv, m.c.user_id == user_id
        )
        seen = exists().where(  # what a former member saw before leaving stays readable
            _r.c.file_id == file_id, _r.c.kind == REF_MESSAGE, _d.c.conv == _r.c.conv, _d.c.user_id == user_id,
            _r.c.created_at <= _d.c.left_at,
        )
        q = select(_f.c.id).where(
            _f.c.id == file_id, _f.c.deleted_at.is_(None), (_f.c.owner == user_id) | shared | seen
        )
        async with self._engines.read.connect() as conn:
            return (await conn.execute(q)).first() is not None

    async def expired_uploads(self, now: int, limit: int) -> list[FileRecord]:
        q = (
            select(_f)
            .where(_f.c.completed_at.is_(None), _f.c.deleted_at.is_(None), _f.c.expires_at < now)
            .order_by(_f.c.expires_at)
            .limit(limit)
        )
        async with self._engines.read.connect() as conn:
            return [_record(r) for r in await conn.execute(q)]

    async def unreferenced_files(self, completed_before: int, limit: int) -> list[FileRecord]:
        referenced = exists().where(_r.c.file_id == _f.c.id)
        q = (
            select(_f)
            .where(and_(_f.c.completed_at < completed_before, _f.c.deleted_at.is_(None), ~referenced))
            .order_by(_f.c.completed_at)
            .limit(limit)
        )
        async with self._engines.read.connect() as conn:
            return [_record(r) for r in await conn.execute(q)]
