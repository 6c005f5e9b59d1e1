"""Edits and reactions on SQL (SQLite and PostgreSQL): semot.storage.message_changes.

Every change runs in one transaction that first bumps `conversations.change_seq` (on
PostgreSQL an UPDATE holds that row's lock to commit, so the changes of a conversation
commit in change_seq order and a reader never sees N+1 without N), then writes the
message with a WHERE that re-checks the rules: a recall committed in between wins.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from semot.domain.messages import Message
from semot.domain.search_text import message_tokens
from semot.errors import Forbidden, NotFound
from semot.storage.message_changes import NOT_REACTABLE, MessageChangeStorage, summarise
from semot.storage.sql import schema as s
from semot.storage.sql.engine import Engines
from semot.storage.sql.schema_reactions import message_reactions as mr
from semot.storage.sql.search_index import reindex


async def attach_reactions(conn: AsyncConnection, msgs: Sequence[Message]) -> None:
    """Fill `reactions` of the messages that ever changed (change_seq set): one query
    per conversation present, none for a page nobody reacted to."""
    wanted: dict[str, list[int]] = {}
    for m in msgs:
        if m.change_seq is not None:
            wanted.setdefault(m.conv, []).append(m.seq)
    for conv, seqs in wanted.items():
        rows: dict[int, list[tuple[str, str, int]]] = {}
        for i in range(0, len(seqs), 500):
            q = select(mr.c.seq, mr.c.emoji, mr.c.user_id, mr.c.ts).where(
                and_(mr.c.conv == conv, mr.c.seq.in_(seqs[i : i + 500]))
            )
            for r in await conn.execute(q):
                rows.setdefault(r.seq, []).append((r.emoji, r.user_id, r.ts))
        for m in msgs:
            if m.conv == conv and m.seq in rows:
                m.reactions = summarise(rows[m.seq])


class _NoChange(Exception):
    """Raised inside a transaction to roll it back when nothing is to change."""


class SqlMessageChanges(MessageChangeStorage):
    """Mixed into SqlMessages, whose engines and dialect it uses."""

    _engines: Engines
    _dialect: str

    # provided by SqlMessages
    @abc.abstractmethod
    async def _read_messages(self, conn: AsyncConnection, where: Any, order: Any, limit: int) -> list[Message]: ...

    async def _bump_change(self, conn: AsyncConnection, conv: str) -> int:
        c = s.conversations
        r = (
            await conn.execute(
                update(c).where(c.c.id == conv).values(change_seq=c.c.change_seq + 1).returning(c.c.change_seq)
            )
        ).first()
        if r is None:
            raise NotFound(f"no conversation {conv}")
        return int(r.change_seq)

    async def _one(self, conn: AsyncConnection, conv: str, seq: int) -> Message:
        m = s.messages
        found = await self._read_messages(conn, and_(m.c.conv == conv, m.c.seq == seq), m.c.seq, 1)
        if not found:
            raise NotFound(f"no message {seq} in {conv}")
        await attach_reactions(conn, found)
        return found[0]

    async def edit_text(self, conv: str, seq: int, *, sender: str, text: str, now: int, sent_after: int) -> Message | None:
        try:
            return await self._edit(conv, seq, sender=sender, text=text, now=now, sent_after=sent_after)
        except _NoChange:
            return None

    async def _edit(self, conv: str, seq: int, *, sender: str, text: str, now: int, sent_after: int) -> Message:
        m = s.messages
        tokens = message_tokens("text", {"text": text})  # before the transaction
        async with self._engines.write.begin() as conn:
            cur = await self._one(conn, conv, seq)
            if cur.kind != "text" or cur.sender != sender or cur.ts < sent_after:
                raise _NoChange
            change = await self._bump_change(conn, conv)
            body = {**cur.body, "text": text}
            res = await conn.execute(
                update(m)
                .where(and_(m.c.conv == conv, m.c.seq == seq, m.c.kind == "text", m.c.sender == sender))
                .values(body=orjson.dumps(body).decode(), edited_ts=now, change_seq=change)
            )
            if res.rowcount != 1:
                raise _NoChange
            await reindex(conn, self._dialect, conv, seq, tokens)  # found by its new text only
            cur.body, cur.edited_ts, cur.change_seq = body, now, change
            return cur

    async def set_reaction(
        self, conv: str, seq: int, *, user: str, emoji: str, on: bool, now: int, max_emoji: int
    ) -> Message | None:
        try:
            return await self._react(conv, seq, user=user, emoji=emoji, on=on, now=now, max_emoji=max_emoji)
        except _NoChange:
            return None

    async def _react(self, conv: str, seq: int, *, user: str, emoji: str, on: bool, now: int, max_emoji: int) -> Message:
        m = s.messages
        async with self._engines.write.begin() as conn:
            # bump first: on PostgreSQL it takes the conversation's row lock, which
            # orders this against other changes (and a recall's check) of the conversation
            change = await self._bump_change(conn, conv)
            q = select(m.c.kind).where(and_(m.c.conv == conv, m.c.seq == seq))
            if self._dialect == "postgresql":
                q = q.with_for_update()
            row = (await conn.execute(q)).first()
            if row is None:
                raise NotFound(f"no message {seq} in {conv}")
            if row.kind in NOT_REACTABLE:
                raise Forbidden(f"a {row.kind} message cannot carry reactions")
            key = and_(mr.c.conv == conv, mr.c.seq == seq)
            if on:
                present = (await conn.execute(select(mr.c.emoji).where(key).distinct())).scalars().all()
                if emoji not in present and len(present) >= max_emoji:
                    raise Forbidden(f"a message can carry at most {max_emoji} different reactions")
                mine = (
                    await conn.execute(select(func.count()).where(and_(key, mr.c.emoji == emoji, mr.c.user_id == user)))
                ).scalar_one()
                if mine:
                    raise _NoChange
                await conn.execute(mr.insert().values(conv=conv, seq=seq, emoji=emoji, user_id=user, ts=now))
            else:
                res = await conn.execute(delete(mr).where(and_(key, mr.c.emoji == emoji, mr.c.user_id == user)))
                if res.rowcount == 0:
                    raise _NoChange
            await conn.execute(update(m).where(and_(m.c.conv == conv, m.c.seq == seq)).values(change_seq=change))
            return await self._one(conn, conv, seq)

    async def changed_messages(self, conv: str, after: int, limit: int) -> tuple[list[Message], int, bool]:
        m, c = s.messages, s.conversations
        async with self._engines.read.connect() as conn:
            top = (await conn.execute(select(c.c.change_seq).where(c.c.id == conv))).scalar()
            msgs = await self._read_messages(
                conn, and_(m.c.conv == conv, m.c.change_seq > after), m.c.change_seq.asc(), limit + 1
            )
            more = len(msgs) > limit
            msgs = msgs[:limit]
            await attach_reactions(conn, msgs)
        return msgs, int(top or 0), more
