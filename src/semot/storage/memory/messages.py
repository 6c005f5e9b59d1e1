"""MemoryMessages: conversations and their messages in memory, numbered by the same
batch plan as the SQL appenders (semot.storage.batch); file messages' references are
added with them and dropped on recall and burn, as on SQL."""

from __future__ import annotations

from typing import Any

from semot.domain.files import REF_MESSAGE, FileRef
from semot.domain.messages import BURNED, RECALLED, SYSTEM, Message
from semot.domain.records import AppendResult, ConvState, NewMessage, ReadResult
from semot.errors import NotFound, StorageDataError
from semot.storage.base import MessageStorage
from semot.storage.batch import BatchPlan, Key
from semot.storage.memory.changes import MemoryMessageChanges
from semot.storage.memory.db import Conv, ConvMember, MemoryDb, Row, clone
from semot.storage.memory.search import MemorySearchIndex


class MemoryMessages(MemoryMessageChanges, MessageStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db
        self.search_index = MemorySearchIndex()  # the search documents and senders' IPs (memory/search.py)

    # --- appending
    async def append_messages(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        try:
            return self.append_now(batch)
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # data it cannot store, as on SQL
            raise StorageDataError(str(exc) or type(exc).__name__) from exc

    def append_now(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        """The whole batch or (on an exception) nothing: every check runs before any change."""
        db = self._db
        plan = BatchPlan(batch)
        existing: dict[Key, Message] = {}
        wanted = plan.keys()
        for key in wanted:
            at = db.by_cid.get(key)
            if at is not None:
                existing[key] = clone(db.messages[at[0]][at[1]].message)
        plan.take_existing(existing)
        new_direct = plan.new_direct_chats({n.conv for n in batch if n.conv in db.convs})
        needs = plan.seq_needs()
        tops: dict[str, int] = {}
        for conv, (n, _) in needs.items():
            if conv in db.convs:
                tops[conv] = db.convs[conv].max_seq + n
            elif conv in new_direct:
                tops[conv] = n
        plan.number(tops)  # raises (test fault hook, unencodable body) before anything changed
        now = batch[0].ts if batch else 0
        for conv, users in new_direct.items():
            db.convs[conv] = Conv("d", 0, 0)
            db.members[conv] = {u: ConvMember("member", 0, now) for u in users}
        for conv, (_, ts) in needs.items():
            if conv in tops:
                c = db.convs[conv]
                c.max_seq, c.last_ts = tops[conv], max(c.last_ts, ts)
        results = plan.finish()
        ips = {n.mid: n.ip for n in batch}
        for r in results:
            if isinstance(r, AppendResult) and r.created:
                m = r.message
                db.messages.setdefault(m.conv, {})[m.seq] = Row(clone(m), m.opts.get("burn_s"))
                db.by_cid[(m.sender, m.cid)] = (m.conv, m.seq)
                self.search_index.add(m, ips.get(m.mid))
        for file_id, kind, ref, conv, sent in plan.file_refs():
            db.file_refs.setdefault((file_id, kind, ref), FileRef(file_id, kind, ref, conv, sent))
        return results

    def _drop_refs(self, mid: str) -> None:
        """A recalled or burned message grants no access to its file any more."""
        for key in [k for k in self._db.file_refs if k[1] == REF_MESSAGE and k[2] == mid]:
            del self._db.file_refs[key]

    # --- reading
    def _row(self, conv: str, seq: int) -> Row | None:
        return self._db.messages.get(conv, {}).get(seq)

    async def get_message(self, conv: str, seq: int) -> Message | None:
        row = self._row(conv, seq)
        return self.out(row.message) if row else None

    async def history(
        self, conv: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        seqs = sorted(self._db.messages.get(conv, {}))
        if after is not None:
            picked = [s for s in seqs if s > after][: limit + 1]
        else:
            picked = [s for s in reversed(seqs) if before is None or s < before][: limit + 1]
        more = len(picked) > limit
        picked = picked[:limit]
        if after is None:
            picked.reverse()
        rows = self._db.messages[conv] if picked else {}
        return [self.out(rows[s].message) for s in picked], more

    async def sync(
        self, user_id: str, known: dict[str, int], changes: dict[str, int] | None = None
    ) -> list[ConvState]:
        db = self._db
        out: list[ConvState] = []
        for conv, members in db.members.items():
            me = members.get(user_id)
            c = db.convs.get(conv)
            change_seq = db.change_seqs.get(conv, 0)
            if me is None or c is None:
                continue
            if c.max_seq <= known.get(conv, -1) and (changes is None or change_seq <= changes.get(conv, 0)):
                continue
            rows = db.messages.get(conv, {})
            unread = sum(
                1
                for s, r in rows.items()
                if s > me.read_seq and r.message.sender != user_id and r.message.kind not in (SYSTEM, RECALLED)
            )
            last = rows.get(c.max_seq)
            peer = None
            if conv.startswith("d:"):
                peer = next((m.read_seq for u, m in members.items() if u != user_id), None)
            out.append(
                ConvState(
                    conv, c.max_seq, me.read_seq, unread, self.out(last.message) if last else None, peer,
                    pinned_at=me.pinned_at, dnd=me.dnd, hidden_seq=me.hidden_seq, change_seq=change_seq,
                )
            )
        return out

    async def conversation_max_seq(self, conv: str) -> int | None:
        c = self._db.convs.get(conv)
        return c.max_seq if c else None

    async def conv_members(self, conv: str) -> list[str]:
        return list(self._db.members.get(conv, {}))

    async def is_member(self, conv: str, user_id: str) -> bool:
        return user_id in self._db.members.get(conv, {})

    async def read_positions(self, conv: str) -> dict[str, int]:
        return {u: m.read_seq for u, m in self._db.members.get(conv, {}).items()}

    async def read_marks(self, conv: str) -> dict[str, tuple[int, int]]:
        return {u: (m.read_seq, m.joined_at) for u, m in self._db.members.get(conv, {}).items()}

    async def count_messages(self) -> int:
        return sum(len(rows) for rows in self._db.messages.values())

    # --- changing
    async def set_read(self, conv: str, user_id: str, seq: int, now: int) -> ReadResult:
        me = self._db.members.get(conv, {}).get(user_id)
        if me is None:
            raise NotFound("not a member of that conversation")
        previous = me.read_seq
        if seq <= previous:
            return ReadResult(previous, previous, [])
        me.read_seq = seq
        burns: list[tuple[int, int]] = []
        for s, row in sorted(self._db.messages.get(conv, {}).items()):
            if previous < s <= seq and row.burn_s is not None and row.burn_at is None and row.message.sender != user_id:
                row.burn_at = now + row.burn_s * 1000
                burns.append((s, row.burn_at))
        return ReadResult(previous, seq, burns)

    async def recall(self, conv: str, seq: int, by: str | None = None, role: str | None = None) -> None:
        row = self._row(conv, seq)
        if row is not None:
            row.message.recalled_by, row.message.recalled_role = by, role
            self._drop_refs(row.message.mid)
            self.drop_reactions(conv, seq)
            self.search_index.drop(conv, seq)
            row.message.kind, row.message.body = RECALLED, {}
            row.burn_at = row.burn_s = None

    async def set_reply_excerpts(self, conv: str, excerpts: dict[int, dict[str, Any]]) -> None:
        for seq, excerpt in excerpts.items():
            row = self._row(conv, seq)
            if row is not None and "reply_to" in row.message.body:
                row.message.body = {**row.message.body, "reply_to": excerpt}

    async def claim_due_burns(self, now: int, limit: int) -> list[tuple[str, int]]:
        due = sorted(
            (row.burn_at, conv, s)
            for conv, rows in self._db.messages.items()
            for s, row in rows.items()
            if row.burn_at is not None and row.burn_at <= now
        )[:limit]
        for _, conv, s in due:
            row = self._db.messages[conv][s]
            self._drop_refs(row.message.mid)
            self.drop_reactions(conv, s)
            self.search_index.drop(conv, s)
            row.message.kind, row.message.body, row.burn_at = BURNED, {}, None
        return [(conv, s) for _, conv, s in due]
