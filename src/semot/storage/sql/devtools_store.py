"""SqlDevTools: protocol log sessions, captured frames and client error reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select

from semot.domain.devtools import CapturedFrame, ClientError, ClientErrorFilter, LogSession
from semot.domain.org import like_escape
from semot.storage.devtools import DevToolsStorage
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.schema_devtools import client_errors as _ce
from semot.storage.sql.schema_devtools import protocol_log_frames as _pf
from semot.storage.sql.schema_devtools import protocol_log_sessions as _ps


def _frame(r: Any) -> CapturedFrame:
    return CapturedFrame(
        r.user_id,
        r.ts,
        r.direction,
        r.node,
        r.device_id,
        r.platform,
        r.session_id,
        r.size,
        r.text,
        bool(r.truncated),
        r.id,
    )


def _error(r: Any) -> ClientError:
    return ClientError(r.ts, r.user_id, r.ip, r.app, r.version, r.message, r.stack, r.url, r.user_agent, r.id)


class SqlDevTools(DevToolsStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert  # the dialect's INSERT, for ON CONFLICT DO UPDATE

    # --- sessions
    async def set_log_session(self, session: LogSession) -> None:
        values = {
            "user_id": session.user_id,
            "until": session.until,
            "started_by": session.started_by,
            "started_at": session.started_at,
        }
        stmt = self._insert(_ps).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "until": stmt.excluded.until,
                "started_by": stmt.excluded.started_by,
                "started_at": stmt.excluded.started_at,
            },
        )
        async with self._engines.write.begin() as conn:
            await conn.execute(stmt)

    async def end_log_session(self, user_id: str) -> LogSession | None:
        async with self._engines.write.begin() as conn:
            row = (await conn.execute(select(_ps).where(_ps.c.user_id == user_id))).first()
            if row is None:
                return None
            await conn.execute(delete(_ps).where(_ps.c.user_id == user_id))
        return LogSession(row.user_id, row.until, row.started_by, row.started_at)

    async def log_sessions(self, now: int) -> list[LogSession]:
        async with self._engines.write.begin() as conn:
            await conn.execute(delete(_ps).where(_ps.c.until <= now))
            rows = (await conn.execute(select(_ps).order_by(_ps.c.until, _ps.c.user_id))).all()
        return [LogSession(r.user_id, r.until, r.started_by, r.started_at) for r in rows]

    # --- frames
    async def add_frames(self, frames: Sequence[CapturedFrame]) -> None:
        if not frames:
            return
        rows = [
            {
                "user_id": f.user_id,
                "ts": f.ts,
                "direction": f.direction,
                "node": f.node,
                "device_id": f.device_id,
                "platform": f.platform,
                "session_id": f.session_id,
                "size": f.size,
                "text": f.text,
                "truncated": f.truncated,
            }
            for f in frames
        ]
        async with self._engines.write.begin() as conn:
            await conn.execute(_pf.insert(), rows)

    async def frames(self, user_id: str, *, after: int, limit: int) -> list[CapturedFrame]:
        q = select(_pf).where(_pf.c.user_id == user_id, _pf.c.id > after).order_by(_pf.c.id).limit(limit)
        async with self._engines.read.connect() as conn:
            return [_frame(r) for r in (await conn.execute(q)).all()]

    async def prune_frames(self, *, before_ts: int, keep: int) -> int:
        async with self._engines.write.begin() as conn:
            top = int((await conn.execute(select(func.max(_pf.c.id)))).scalar() or 0)
            result = await conn.execute(delete(_pf).where(or_(_pf.c.ts < before_ts, _pf.c.id <= top - keep)))
        return int(result.rowcount or 0)

    # --- client errors
    async def add_client_error(self, report: ClientError) -> int:
        values = {
            "ts": report.ts,
            "user_id": report.user_id,
            "ip": report.ip,
            "app": report.app,
            "version": report.version,
            "message": report.message,
            "stack": report.stack,
            "url": report.url,
            "user_agent": report.user_agent,
        }
        async with self._engines.write.begin() as conn:
            result = await conn.execute(_ce.insert().values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def client_errors(
        self, where: ClientErrorFilter, *, offset: int, limit: int
    ) -> tuple[list[ClientError], int]:
        conds: list[Any] = []
        if where.app is not None:
            conds.append(_ce.c.app == where.app)
        if where.user_id is not None:
            conds.append(_ce.c.user_id == where.user_id)
        if where.user_ids is not None:
            conds.append(_ce.c.user_id.in_(sorted(where.user_ids)))
        if where.q:
            conds.append(func.lower(_ce.c.message).like(f"%{like_escape(where.q.lower())}%", escape="\\"))
        if where.since is not None:
            conds.append(_ce.c.ts >= where.since)
        if where.until is not None:
            conds.append(_ce.c.ts < where.until)
        page = select(_ce).where(*conds).order_by(_ce.c.id.desc()).offset(offset).limit(limit)
        count = select(func.count()).select_from(_ce).where(*conds)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(page)).all()
            total = int((await conn.execute(count)).scalar() or 0)
        return [_error(r) for r in rows], total

    async def prune_client_errors(self, *, keep: int) -> int:
        async with self._engines.write.begin() as conn:
            top = int((await conn.execute(select(func.max(_ce.c.id)))).scalar() or 0)
            result = await conn.execute(delete(_ce).where(_ce.c.id <= top - keep))
        return int(result.rowcount or 0)
