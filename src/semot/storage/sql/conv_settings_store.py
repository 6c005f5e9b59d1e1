"""SqlConvSettings: per-conversation settings on the member's `conv_members` row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select, update

from semot.domain.conv_settings import ConvSettings
from semot.storage.conv_settings import ConvSettingsStorage
from semot.storage.sql import schema as s
from semot.storage.sql.database import SqlDatabase

_c, _cm = s.conversations, s.conv_members


class SqlConvSettings(ConvSettingsStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines

    async def set_conv_settings(
        self, conv: str, user_id: str, *, pinned: bool | None, dnd: bool | None, hidden: bool | None, now: int
    ) -> ConvSettings | None:
        mine = and_(_cm.c.conv == conv, _cm.c.user_id == user_id)
        async with self._engines.write.begin() as conn:
            # the member row locked first (PostgreSQL), so two devices changing settings
            # at once each see the other's result; max_seq is read for hidden_seq
            row = (
                await conn.execute(
                    select(_cm.c.pinned_at, _cm.c.dnd, _cm.c.hidden_seq, _c.c.max_seq)
                    .join(_c, _c.c.id == _cm.c.conv)
                    .where(mine)
                    .with_for_update(of=_cm)
                )
            ).first()
            if row is None:
                return None
            values: dict[str, Any] = {}
            pinned_at = row.pinned_at
            if pinned is not None:
                pinned_at = (pinned_at or now) if pinned else None
                values["pinned_at"] = pinned_at
            new_dnd = bool(row.dnd) if dnd is None else dnd
            if dnd is not None:
                values["dnd"] = dnd
            hidden_seq = row.hidden_seq
            if hidden is not None:
                hidden_seq = row.max_seq if hidden else None
                values["hidden_seq"] = hidden_seq
            if values:
                await conn.execute(update(_cm).where(mine).values(**values))
        return ConvSettings(conv, row.max_seq, pinned_at, new_dnd, hidden_seq)

    async def conv_settings(self, user_id: str) -> list[ConvSettings]:
        q = (
            select(_cm.c.conv, _cm.c.pinned_at, _cm.c.dnd, _cm.c.hidden_seq, _c.c.max_seq)
            .join(_c, _c.c.id == _cm.c.conv)
            .where(
                and_(
                    _cm.c.user_id == user_id,
                    or_(_cm.c.pinned_at.is_not(None), _cm.c.dnd.is_(True), _cm.c.hidden_seq >= _c.c.max_seq),
                )
            )
        )
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [ConvSettings(r.conv, r.max_seq, r.pinned_at, bool(r.dnd), r.hidden_seq) for r in rows]
