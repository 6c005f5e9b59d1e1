"""MemoryConvSettings: per-conversation settings on the in-memory member records."""

from __future__ import annotations

from semot.domain.conv_settings import ConvSettings
from semot.storage.conv_settings import ConvSettingsStorage
from semot.storage.memory.db import MemoryDb


class MemoryConvSettings(ConvSettingsStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db

    async def set_conv_settings(
        self, conv: str, user_id: str, *, pinned: bool | None, dnd: bool | None, hidden: bool | None, now: int
    ) -> ConvSettings | None:
        me = self._db.members.get(conv, {}).get(user_id)
        c = self._db.convs.get(conv)
        if me is None or c is None:
            return None
        if pinned is not None:
            me.pinned_at = (me.pinned_at or now) if pinned else None
        if dnd is not None:
            me.dnd = dnd
        if hidden is not None:
            me.hidden_seq = c.max_seq if hidden else None
        return ConvSettings(conv, c.max_seq, me.pinned_at, me.dnd, me.hidden_seq)

    async def conv_settings(self, user_id: str) -> list[ConvSettings]:
        out: list[ConvSettings] = []
        for conv, members in self._db.members.items():
            me = members.get(user_id)
            c = self._db.convs.get(conv)
            if me is None or c is None:
                continue
            found = ConvSettings(conv, c.max_seq, me.pinned_at, me.dnd, me.hidden_seq)
            if not found.is_default:
                out.append(found)
        return out
