"""Edits and reactions in memory (semot.storage.message_changes), mixed into
MemoryMessages: the same rules as on SQL, each method atomic (it never awaits)."""

from __future__ import annotations

from collections.abc import Iterable

from semot.domain.messages import Message
from semot.errors import Forbidden, NotFound
from semot.storage.memory.db import MemoryDb, Row, clone
from semot.storage.memory.search import MemorySearchIndex
from semot.storage.message_changes import NOT_REACTABLE, MessageChangeStorage, summarise


class MemoryMessageChanges(MessageChangeStorage):
    _db: MemoryDb
    search_index: MemorySearchIndex  # set by MemoryMessages: an edit re-indexes the text

    def out(self, msg: Message) -> Message:
        """A copy of a stored message with its reaction summary, as SQL returns it."""
        copy = clone(msg)
        rx = self._db.reactions.get((msg.conv, msg.seq))
        if rx:
            copy.reactions = summarise((emoji, user, ts) for (emoji, user), ts in rx.items())
        return copy

    def out_all(self, msgs: Iterable[Message]) -> list[Message]:
        return [self.out(m) for m in msgs]

    def drop_reactions(self, conv: str, seq: int) -> None:
        """A recalled or burned message loses its reactions."""
        self._db.reactions.pop((conv, seq), None)

    def _get(self, conv: str, seq: int) -> Row:
        row = self._db.messages.get(conv, {}).get(seq)
        if row is None:
            raise NotFound(f"no message {seq} in {conv}")
        return row

    def _bump(self, conv: str) -> int:
        self._db.change_seqs[conv] = self._db.change_seqs.get(conv, 0) + 1
        return self._db.change_seqs[conv]

    async def edit_text(self, conv: str, seq: int, *, sender: str, text: str, now: int, sent_after: int) -> Message | None:
        msg = self._get(conv, seq).message
        if msg.kind != "text" or msg.sender != sender or msg.ts < sent_after:
            return None
        msg.body = {**msg.body, "text": text}
        msg.edited_ts, msg.change_seq = now, self._bump(conv)
        self.search_index.reindex(msg)
        return self.out(msg)

    async def set_reaction(
        self, conv: str, seq: int, *, user: str, emoji: str, on: bool, now: int, max_emoji: int
    ) -> Message | None:
        msg = self._get(conv, seq).message
        if msg.kind in NOT_REACTABLE:
            raise Forbidden(f"a {msg.kind} message cannot carry reactions")
        rx = self._db.reactions.get((conv, seq), {})
        key = (emoji, user)
        if on:
            if key in rx:
                return None
            present = {e for e, _ in rx}
            if emoji not in present and len(present) >= max_emoji:
                raise Forbidden(f"a message can carry at most {max_emoji} different reactions")
            self._db.reactions.setdefault((conv, seq), {})[key] = now
        else:
            if key not in rx:
                return None
            del rx[key]
            if not rx:
                self._db.reactions.pop((conv, seq), None)
        msg.change_seq = self._bump(conv)
        return self.out(msg)

    async def changed_messages(self, conv: str, after: int, limit: int) -> tuple[list[Message], int, bool]:
        rows = self._db.messages.get(conv, {}).values()
        changed = sorted(
            (r.message for r in rows if r.message.change_seq is not None and r.message.change_seq > after),
            key=lambda m: m.change_seq or 0,
        )
        return self.out_all(changed[:limit]), self._db.change_seqs.get(conv, 0), len(changed) > limit
