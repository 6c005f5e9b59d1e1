"""SqlSensitive: sensitive words and their hits in SQLite or PostgreSQL (schema_sensitive.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from semot.storage.sensitive import HitQuery, SensitiveHit, SensitiveStorage, SensitiveWord, WordQuery
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.login_log_store import like_escape
from semot.storage.sql.schema_sensitive import sensitive_hits as _h
from semot.storage.sql.schema_sensitive import sensitive_state as _s
from semot.storage.sql.schema_sensitive import sensitive_words as _w

_STATE = "words"
_CHUNK = 500  # rows per INSERT statement (far below both databases' parameter limits)


def _word(r: Any) -> SensitiveWord:
    return SensitiveWord(r.id, r.word, r.key, r.level, r.category, r.created_by, r.created_at)


def _hit(r: Any) -> SensitiveHit:
    return SensitiveHit(
        ts=r.ts, user_id=r.user_id, target=r.target, conv=r.conv, ip=r.ip, word_id=r.word_id, word=r.word,
        level=r.level, category=r.category, action=r.action, excerpt=r.excerpt, id=r.id,
    )


class SqlSensitive(SensitiveStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert

    # --- words
    async def all_sensitive_words(self) -> list[SensitiveWord]:
        async with self._engines.read.connect() as conn:
            return [_word(r) for r in await conn.execute(select(_w))]

    async def sensitive_words_signature(self) -> tuple[int, int]:
        async with self._engines.read.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(_w))
            version = await conn.scalar(select(_s.c.version).where(_s.c.id == _STATE))
        return int(count or 0), int(version or 0)

    @staticmethod
    def _word_where(q: WordQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if q.level is not None:
            where.append(_w.c.level == q.level)
        if q.category is not None:
            where.append(_w.c.category == q.category)
        if q.q:
            pattern = "%" + like_escape(q.q.lower()) + "%"
            where.append(or_(func.lower(_w.c.word).like(pattern, escape="\\"), _w.c.key.like(pattern, escape="\\")))
        return where

    async def sensitive_words(
        self, query: WordQuery, *, offset: int, limit: int
    ) -> tuple[list[SensitiveWord], int]:
        where = self._word_where(query)
        page = select(_w).where(*where).order_by(_w.c.created_at.desc(), _w.c.id.desc()).offset(offset).limit(limit)
        async with self._engines.read.connect() as conn:
            rows = [_word(r) for r in await conn.execute(page)]
            total = await conn.scalar(select(func.count()).select_from(_w).where(*where))
        return rows, int(total or 0)

    async def sensitive_categories(self) -> list[str]:
        async with self._engines.read.connect() as conn:
            return [r[0] for r in await conn.execute(select(_w.c.category).distinct().order_by(_w.c.category))]

    async def _bump(self, conn: Any) -> None:
        await conn.execute(
            self._insert(_s).values(id=_STATE, version=0).on_conflict_do_nothing(index_elements=["id"])
        )
        await conn.execute(update(_s).where(_s.c.id == _STATE).values(version=_s.c.version + 1))

    async def add_sensitive_words(self, words: Sequence[SensitiveWord]) -> list[SensitiveWord]:
        if not words:
            return []
        unique: dict[str, SensitiveWord] = {}
        for w in words:
            unique.setdefault(w.key, w)
        added: list[SensitiveWord] = []
        items = list(unique.values())
        async with self._engines.write.begin() as conn:
            for i in range(0, len(items), _CHUNK):
                chunk = items[i : i + _CHUNK]
                rows = [
                    {"id": w.id, "word": w.word, "key": w.key, "level": w.level, "category": w.category,
                     "created_by": w.created_by, "created_at": w.created_at}
                    for w in chunk
                ]
                stmt = self._insert(_w).values(rows).on_conflict_do_nothing(index_elements=["key"]).returning(_w.c.id)
                ids = {r[0] for r in await conn.execute(stmt)}
                added.extend(w for w in chunk if w.id in ids)
            if added:
                await self._bump(conn)
        return added

    async def delete_sensitive_word(self, word_id: str) -> SensitiveWord | None:
        async with self._engines.write.begin() as conn:
            row = (await conn.execute(delete(_w).where(_w.c.id == word_id).returning(*_w.c))).first()
            if row is None:
                return None
            await self._bump(conn)
        return _word(row)

    # --- hits
    async def add_sensitive_hits(self, hits: Sequence[SensitiveHit]) -> None:
        if not hits:
            return
        rows = [
            {"ts": h.ts, "user_id": h.user_id, "target": h.target, "conv": h.conv, "ip": h.ip, "word_id": h.word_id,
             "word": h.word, "level": h.level, "category": h.category, "action": h.action, "excerpt": h.excerpt}
            for h in hits
        ]
        async with self._engines.write.begin() as conn:
            await conn.execute(insert(_h), rows)

    @staticmethod
    def _hit_where(q: HitQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if q.user_id is not None:
            where.append(_h.c.user_id == q.user_id)
        if q.since is not None:
            where.append(_h.c.ts >= q.since)
        if q.until is not None:
            where.append(_h.c.ts < q.until)
        if q.level is not None:
            where.append(_h.c.level == q.level)
        if q.conv is not None:
            where.append(_h.c.conv == q.conv)
        if q.target is not None:
            where.append(_h.c.target == q.target)
        if q.word:
            where.append(func.lower(_h.c.word).like("%" + like_escape(q.word.lower()) + "%", escape="\\"))
        return where

    async def sensitive_hits(self, query: HitQuery, *, offset: int, limit: int) -> tuple[list[SensitiveHit], int]:
        where = self._hit_where(query)
        page = select(_h).where(*where).order_by(_h.c.ts.desc(), _h.c.id.desc()).offset(offset).limit(limit)
        async with self._engines.read.connect() as conn:
            rows = [_hit(r) for r in await conn.execute(page)]
            total = await conn.scalar(select(func.count()).select_from(_h).where(*where))
        return rows, int(total or 0)

    async def sensitive_hits_before(
        self, query: HitQuery, *, before: tuple[int, int] | None, limit: int
    ) -> list[SensitiveHit]:
        where = self._hit_where(query)
        if before is not None:
            ts, hid = before
            where.append(or_(_h.c.ts < ts, and_(_h.c.ts == ts, _h.c.id < hid)))
        stmt = select(_h).where(*where).order_by(_h.c.ts.desc(), _h.c.id.desc()).limit(limit)
        async with self._engines.read.connect() as conn:
            return [_hit(r) for r in await conn.execute(stmt)]

    async def purge_sensitive_hits(self, before_ts: int, *, limit: int) -> int:
        oldest = select(_h.c.id).where(_h.c.ts < before_ts).order_by(_h.c.ts).limit(limit)
        async with self._engines.write.begin() as conn:
            result = await conn.execute(delete(_h).where(_h.c.id.in_(oldest.scalar_subquery())))
        return int(result.rowcount or 0)
