"""MemoryRetention: the retention policy, legal holds and the sweep's delete in memory
(the contract tests run it beside SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace

from semot.domain.files import REF_MESSAGE
from semot.domain.retention import LegalHold, RetentionPolicy, RetentionRun
from semot.storage.memory.db import MemoryDb, clone
from semot.storage.retention import Expired, RetentionStorage


class MemoryRetention(RetentionStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db
        self._policy = RetentionPolicy()
        self._holds: dict[str, LegalHold] = {}
        self._run = RetentionRun()

    async def get_policy(self) -> RetentionPolicy:
        return self._policy

    async def set_policy(self, policy: RetentionPolicy) -> None:
        self._policy = policy

    async def holds(self) -> list[LegalHold]:
        return sorted(self._holds.values(), key=lambda h: (-h.created_at, h.id))

    async def add_hold(self, hold: LegalHold) -> LegalHold:
        for h in self._holds.values():
            if (h.kind, h.target) == (hold.kind, hold.target):
                return h
        self._holds[hold.id] = clone(hold)
        return hold

    async def remove_hold(self, hold_id: str) -> LegalHold | None:
        return self._holds.pop(hold_id, None)

    async def last_run(self) -> RetentionRun:
        return self._run

    async def record_run(self, run: RetentionRun) -> None:
        self._run = replace(run)

    async def delete_expired(self, conv_kind: str, before_ts: int, limit: int) -> list[Expired]:
        db = self._db
        users = {h.target for h in self._holds.values() if h.kind == "user"}
        convs = {h.target for h in self._holds.values() if h.kind == "conv"}
        due: list[tuple[int, str, int]] = []
        for conv, rows in db.messages.items():
            c = db.convs.get(conv)
            if c is None or c.kind != conv_kind or conv in convs:
                continue
            if users & set(db.members.get(conv, {})):
                continue
            due.extend((r.message.ts, conv, s) for s, r in rows.items()
                       if r.message.ts < before_ts and r.message.sender not in users)
        due.sort()
        out: list[Expired] = []
        for _, conv, seq in due[:limit]:
            row = db.messages[conv].pop(seq)
            m = row.message
            if db.by_cid.get((m.sender, m.cid)) == (conv, seq):
                del db.by_cid[(m.sender, m.cid)]
            db.reactions.pop((conv, seq), None)
            for key in [k for k in db.file_refs if k[1] == REF_MESSAGE and k[2] == m.mid]:
                del db.file_refs[key]
            out.append(Expired(conv, seq, m.mid))
        return out
