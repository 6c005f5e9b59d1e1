"""SqlModeration: the moderation queue in SQLite or PostgreSQL (schema_moderation.py)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, select, update

from semot.domain.moderation import HeldMessage, ModerationSettings
from semot.storage.moderation import ModerationStorage
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.schema_moderation import moderation_queue as _q
from semot.storage.sql.schema_moderation import moderation_settings as _s

_ID = "moderation"


def _item(r: Any) -> HeldMessage:
    return HeldMessage(
        mid=r.mid, cid=r.cid, sender=r.sender, conv=r.conv, kind=r.kind,
        body=orjson.loads(r.body), opts=orjson.loads(r.opts), ts=r.ts, ip=r.ip, status=r.status,
        reason=r.reason, reviewer=r.reviewer, reviewed_at=r.reviewed_at, seq=r.seq,
    )


class SqlModeration(ModerationStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert

    async def hold(self, item: HeldMessage) -> HeldMessage:
        row = {
            "mid": item.mid, "cid": item.cid, "sender": item.sender, "conv": item.conv, "kind": item.kind,
            "body": orjson.dumps(item.body).decode(), "opts": orjson.dumps(item.opts).decode(), "ts": item.ts,
            "ip": item.ip, "status": item.status,
        }
        async with self._engines.write.begin() as conn:
            await conn.execute(self._insert(_q).values(row).on_conflict_do_nothing(index_elements=["sender", "cid"]))
            r = (await conn.execute(select(_q).where(_q.c.sender == item.sender, _q.c.cid == item.cid))).one()
        return _item(r)

    async def _one(self, *where: Any) -> HeldMessage | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_q).where(*where))).first()
        return None if r is None else _item(r)

    async def held_by_cid(self, sender: str, cid: str) -> HeldMessage | None:
        return await self._one(_q.c.sender == sender, _q.c.cid == cid)

    async def held(self, mid: str) -> HeldMessage | None:
        return await self._one(_q.c.mid == mid)

    async def held_many(self, mids: list[str]) -> list[HeldMessage]:
        wanted = list(dict.fromkeys(mids))
        out: dict[str, HeldMessage] = {}
        async with self._engines.read.connect() as conn:
            for i in range(0, len(wanted), IN_CHUNK):
                for r in await conn.execute(select(_q).where(_q.c.mid.in_(wanted[i : i + IN_CHUNK]))):
                    out[r.mid] = _item(r)
        return [out[m] for m in wanted if m in out]

    async def list_held(
        self, *, status: str | None, conv: str | None, sender: str | None, offset: int, limit: int
    ) -> tuple[list[HeldMessage], int]:
        where = []
        if status is not None:
            where.append(_q.c.status == status)
        if conv is not None:
            where.append(_q.c.conv == conv)
        if sender is not None:
            where.append(_q.c.sender == sender)
        order = (_q.c.ts, _q.c.mid) if status == "pending" else (_q.c.ts.desc(), _q.c.mid.desc())
        page = select(_q).where(*where).order_by(*order).offset(offset).limit(limit)
        count = select(func.count()).select_from(_q).where(*where)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(page)).all()
            total = (await conn.execute(count)).scalar_one()
        return [_item(r) for r in rows], int(total)

    async def mine(self, sender: str, *, since: int, limit: int) -> list[HeldMessage]:
        pending = select(_q).where(_q.c.sender == sender, _q.c.status == "pending")
        rejected = select(_q).where(_q.c.sender == sender, _q.c.status == "rejected", _q.c.reviewed_at >= since)
        async with self._engines.read.connect() as conn:
            rows = [*(await conn.execute(pending.limit(limit))).all(), *(await conn.execute(rejected.limit(limit))).all()]
        return sorted((_item(r) for r in rows), key=lambda i: (i.ts, i.mid))[:limit]

    async def decide(self, mid: str, status: str, *, reason: str | None, reviewer: str, at: int) -> bool:
        stmt = (
            update(_q)
            .where(_q.c.mid == mid, _q.c.status == "pending")
            .values(status=status, reason=reason, reviewer=reviewer, reviewed_at=at)
        )
        async with self._engines.write.begin() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount or 0) == 1

    async def undo_decision(self, mid: str) -> None:
        stmt = update(_q).where(_q.c.mid == mid).values(status="pending", reason=None, reviewer=None, reviewed_at=None)
        async with self._engines.write.begin() as conn:
            await conn.execute(stmt)

    async def set_seq(self, mid: str, seq: int) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(update(_q).where(_q.c.mid == mid).values(seq=seq))

    async def overdue(self, before_ts: int, limit: int) -> list[str]:
        stmt = select(_q.c.mid).where(_q.c.status == "pending", _q.c.ts < before_ts).order_by(_q.c.ts).limit(limit)
        async with self._engines.read.connect() as conn:
            return [r.mid for r in await conn.execute(stmt)]

    async def moderation_settings(self) -> ModerationSettings:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_s).where(_s.c.id == _ID))).first()
        if r is None:
            return ModerationSettings()
        return ModerationSettings(r.timeout_s, r.timeout_action, r.updated_at, r.updated_by)

    async def put_moderation_settings(self, settings: ModerationSettings) -> None:
        values = {
            "timeout_s": settings.timeout_s, "timeout_action": settings.timeout_action,
            "updated_at": settings.updated_at, "updated_by": settings.updated_by,
        }
        async with self._engines.write.begin() as conn:
            await conn.execute(
                self._insert(_s).values(id=_ID, **values).on_conflict_do_update(index_elements=["id"], set_=values)
            )
