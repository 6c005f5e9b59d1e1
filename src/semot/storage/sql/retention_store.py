"""SqlRetention: the retention policy, legal holds and the sweep's batch delete on SQL.

`delete_expired` picks a batch oldest first through the index on `messages.ts`, with the
legal holds applied in the same statement (a held conversation, a conversation a held
user is in, a held user's message), then deletes those rows, their reactions and their
file references in the same transaction. A file nothing references any more is then
the file collector's (services/files.py), as after a recall.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from semot.domain.files import REF_MESSAGE
from semot.domain.retention import LegalHold, RetentionPolicy, RetentionRun
from semot.storage.retention import Expired, RetentionStorage
from semot.storage.sql import schema as s
from semot.storage.sql import schema_files as fs
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.schema_reactions import message_reactions as rx
from semot.storage.sql.schema_retention import legal_holds as h
from semot.storage.sql.schema_retention import retention_settings as rs

_ID = "policy"


def _hold(r: Any) -> LegalHold:
    return LegalHold(r.id, r.kind, r.target, r.reason, r.created_at, r.created_by)


class SqlRetention(RetentionStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert

    async def _row(self) -> Any:
        async with self._engines.read.connect() as conn:
            return (await conn.execute(select(rs).where(rs.c.id == _ID))).first()

    async def _put(self, **values: object) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(self._insert(rs).values(id=_ID).on_conflict_do_nothing(index_elements=["id"]))
            await conn.execute(update(rs).where(rs.c.id == _ID).values(**values))

    async def get_policy(self) -> RetentionPolicy:
        r = await self._row()
        if r is None:
            return RetentionPolicy()
        return RetentionPolicy(r.direct_days, r.group_days, r.updated_at, r.updated_by)

    async def set_policy(self, policy: RetentionPolicy) -> None:
        await self._put(
            direct_days=policy.direct_days, group_days=policy.group_days,
            updated_at=policy.updated_at, updated_by=policy.updated_by,
        )

    async def holds(self) -> list[LegalHold]:
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(select(h).order_by(h.c.created_at.desc(), h.c.id))
            return [_hold(r) for r in rows]

    async def add_hold(self, hold: LegalHold) -> LegalHold:
        same = select(h).where(and_(h.c.kind == hold.kind, h.c.target == hold.target))
        try:
            async with self._engines.write.begin() as conn:
                found = (await conn.execute(same)).first()
                if found is not None:
                    return _hold(found)
                await conn.execute(
                    h.insert().values(
                        id=hold.id, kind=hold.kind, target=hold.target, reason=hold.reason,
                        created_at=hold.created_at, created_by=hold.created_by,
                    )
                )
        except IntegrityError:  # the same hold added at the same moment elsewhere
            async with self._engines.read.connect() as conn:
                found = (await conn.execute(same)).first()
            if found is None:
                raise
            return _hold(found)
        return hold

    async def remove_hold(self, hold_id: str) -> LegalHold | None:
        async with self._engines.write.begin() as conn:
            found = (await conn.execute(select(h).where(h.c.id == hold_id))).first()
            if found is None:
                return None
            await conn.execute(delete(h).where(h.c.id == hold_id))
            return _hold(found)

    async def last_run(self) -> RetentionRun:
        r = await self._row()
        if r is None:
            return RetentionRun()
        return RetentionRun(
            r.last_started_at, r.last_finished_at, int(r.last_deleted or 0), r.last_error
        )

    async def record_run(self, run: RetentionRun) -> None:
        await self._put(
            last_started_at=run.started_at, last_finished_at=run.finished_at, last_deleted=run.deleted,
            last_error=run.error,
        )

    async def delete_expired(self, conv_kind: str, before_ts: int, limit: int) -> list[Expired]:
        m, c, cm, refs = s.messages, s.conversations, s.conv_members, fs.file_refs
        held_conv = exists().where(and_(h.c.kind == "conv", h.c.target == m.c.conv))
        held_sender = exists().where(and_(h.c.kind == "user", h.c.target == m.c.sender))
        held_member = exists().where(
            and_(cm.c.conv == m.c.conv, exists().where(and_(h.c.kind == "user", h.c.target == cm.c.user_id)))
        )
        of_kind = exists().where(and_(c.c.id == m.c.conv, c.c.kind == conv_kind))
        pick = (
            select(m.c.conv, m.c.seq, m.c.mid)
            .where(and_(m.c.ts < before_ts, of_kind, ~held_conv, ~held_sender, ~held_member))
            .order_by(m.c.ts)
            .limit(limit)
        )
        async with self._engines.write.begin() as conn:
            picked = [Expired(r.conv, r.seq, r.mid) for r in await conn.execute(pick)]
            by_conv: dict[str, list[int]] = {}
            for e in picked:
                by_conv.setdefault(e.conv, []).append(e.seq)
            for conv, seqs in by_conv.items():
                for i in range(0, len(seqs), IN_CHUNK):
                    chunk = seqs[i : i + IN_CHUNK]
                    await conn.execute(delete(rx).where(and_(rx.c.conv == conv, rx.c.seq.in_(chunk))))
                    await conn.execute(delete(m).where(and_(m.c.conv == conv, m.c.seq.in_(chunk))))
            mids = [e.mid for e in picked]
            for i in range(0, len(mids), IN_CHUNK):
                await conn.execute(
                    delete(refs).where(and_(refs.c.kind == REF_MESSAGE, refs.c.ref.in_(mids[i : i + IN_CHUNK])))
                )
        return picked
