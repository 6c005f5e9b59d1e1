"""MemoryFiles: the FileStorage interface on the in-memory tables (see db.py)."""

from __future__ import annotations

from dataclasses import replace

from semot.domain.files import REF_MESSAGE, FileRecord, FileRef
from semot.storage.files import FileStorage
from semot.storage.memory.db import MemoryDb, clone


class MemoryFiles(FileStorage):
    def __init__(self, db: MemoryDb) -> None:
        self.db = db

    def _live(self, file_id: str) -> FileRecord | None:
        rec = self.db.files.get(file_id)
        return rec if rec is not None and rec.deleted_at is None else None

    async def create_file(self, record: FileRecord) -> None:
        self.db.files[record.id] = clone(record)

    async def get_file(self, file_id: str) -> FileRecord | None:
        return clone(self._live(file_id))

    async def advance_offset(self, file_id: str, old: int, new: int) -> bool:
        rec = self._live(file_id)
        if rec is None or rec.complete or rec.offset != old:
            return False
        rec.offset = new
        return True

    async def complete_file(
        self, file_id: str, *, mime: str, sha256: str, w: int | None, h: int | None, duration_ms: int | None, now: int
    ) -> bool:
        rec = self._live(file_id)
        if rec is None or rec.complete:
            return False
        self.db.files[file_id] = replace(
            rec, mime=mime, sha256=sha256, w=w, h=h, duration_ms=duration_ms, completed_at=now, expires_at=None
        )
        return True

    async def mark_deleted(self, file_id: str, now: int) -> bool:
        rec = self._live(file_id)
        if rec is None:
            return False
        rec.deleted_at = now
        self.db.file_refs = {k: v for k, v in self.db.file_refs.items() if k[0] != file_id}
        return True

    async def usage(self, owner: str) -> int:
        return sum(r.size for r in self.db.files.values() if r.owner == owner and r.deleted_at is None)

    async def add_ref(self, ref: FileRef) -> None:
        self.db.file_refs.setdefault((ref.file_id, ref.kind, ref.ref), ref)

    async def remove_refs(self, kind: str, ref: str) -> int:
        gone = [k for k in self.db.file_refs if k[1] == kind and k[2] == ref]
        for k in gone:
            del self.db.file_refs[k]
        return len(gone)

    async def can_read(self, file_id: str, user_id: str) -> bool:
        rec = self._live(file_id)
        if rec is None:
            return False
        if rec.owner == user_id:
            return True
        for k, r in self.db.file_refs.items():
            if k[0] != file_id or r.conv is None:
                continue
            if user_id in self.db.members.get(r.conv, {}):
                return True
            left_at = self.db.departures.get((r.conv, user_id))
            if r.kind == REF_MESSAGE and left_at is not None and r.created_at <= left_at:
                return True  # a former member keeps what they saw before leaving
        return False

    async def expired_uploads(self, now: int, limit: int) -> list[FileRecord]:
        found = [
            r for r in self.db.files.values()
            if r.deleted_at is None and not r.complete and r.expires_at is not None and r.expires_at < now
        ]
        return clone(sorted(found, key=lambda r: r.expires_at or 0)[:limit])

    async def unreferenced_files(self, completed_before: int, limit: int) -> list[FileRecord]:
        referenced = {k[0] for k in self.db.file_refs}
        found = [
            r for r in self.db.files.values()
            if r.deleted_at is None and r.completed_at is not None and r.completed_at < completed_before
            and r.id not in referenced
        ]
        return clone(sorted(found, key=lambda r: r.completed_at or 0)[:limit])
