"""MemoryModeration: the moderation queue in a dict, for unit tests (same contract as SQL)."""

from __future__ import annotations

from copy import deepcopy

from semot.domain.moderation import HeldMessage, ModerationSettings
from semot.storage.moderation import ModerationStorage


class MemoryModeration(ModerationStorage):
    def __init__(self) -> None:
        self._items: dict[str, HeldMessage] = {}
        self._by_cid: dict[tuple[str, str], str] = {}
        self._settings = ModerationSettings()

    async def hold(self, item: HeldMessage) -> HeldMessage:
        mid = self._by_cid.get((item.sender, item.cid))
        if mid is not None:
            return deepcopy(self._items[mid])
        self._items[item.mid] = deepcopy(item)
        self._by_cid[(item.sender, item.cid)] = item.mid
        return deepcopy(item)

    async def held_by_cid(self, sender: str, cid: str) -> HeldMessage | None:
        mid = self._by_cid.get((sender, cid))
        return None if mid is None else deepcopy(self._items[mid])

    async def held(self, mid: str) -> HeldMessage | None:
        item = self._items.get(mid)
        return None if item is None else deepcopy(item)

    async def held_many(self, mids: list[str]) -> list[HeldMessage]:
        return [deepcopy(self._items[m]) for m in dict.fromkeys(mids) if m in self._items]

    async def list_held(
        self, *, status: str | None, conv: str | None, sender: str | None, offset: int, limit: int
    ) -> tuple[list[HeldMessage], int]:
        found = [
            i for i in self._items.values()
            if (status is None or i.status == status) and (conv is None or i.conv == conv)
            and (sender is None or i.sender == sender)
        ]
        found.sort(key=lambda i: (i.ts, i.mid), reverse=status != "pending")
        return [deepcopy(i) for i in found[offset : offset + limit]], len(found)

    async def mine(self, sender: str, *, since: int, limit: int) -> list[HeldMessage]:
        found = [
            i for i in self._items.values()
            if i.sender == sender and (i.status == "pending" or (i.status == "rejected" and (i.reviewed_at or 0) >= since))
        ]
        found.sort(key=lambda i: (i.ts, i.mid))
        return [deepcopy(i) for i in found[:limit]]

    async def decide(self, mid: str, status: str, *, reason: str | None, reviewer: str, at: int) -> bool:
        item = self._items.get(mid)
        if item is None or item.status != "pending":
            return False
        item.status, item.reason, item.reviewer, item.reviewed_at = status, reason, reviewer, at
        return True

    async def undo_decision(self, mid: str) -> None:
        item = self._items.get(mid)
        if item is not None:
            item.status, item.reason, item.reviewer, item.reviewed_at = "pending", None, None, None

    async def set_seq(self, mid: str, seq: int) -> None:
        if mid in self._items:
            self._items[mid].seq = seq

    async def overdue(self, before_ts: int, limit: int) -> list[str]:
        found = sorted((i for i in self._items.values() if i.status == "pending" and i.ts < before_ts), key=lambda i: i.ts)
        return [i.mid for i in found[:limit]]

    async def moderation_settings(self) -> ModerationSettings:
        return self._settings

    async def put_moderation_settings(self, settings: ModerationSettings) -> None:
        self._settings = settings
