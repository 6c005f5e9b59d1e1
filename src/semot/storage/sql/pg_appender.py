"""The PostgreSQL message appender: asyncpg, hand-written SQL, one round trip per batch.

Through SQLAlchemy each statement of the group commit pays compile, execute and row
mapping: ~0.8 ms of CPU per single-message transaction (benchmarks/README.md). Here a
whole batch is ONE statement, so one round trip and its own implicit transaction: it
finds resent (sender, cid) pairs and, when there are none, locks the conversations in
id order (so nodes never deadlock), bumps their max_seq and inserts the rows (and the
file_refs rows of file messages: a stored file message always grants its readers
access; the webhook events of storage/outbox.py), all or nothing. Prepared once per
connection of a pool of its own. The first
message of a direct chat costs one more statement, which creates the chat. Same plan (batch.py) as
the SQLite appender, same contract tests.

The plan numbers the rows before the statement runs, with seqs relative to each
conversation's new max_seq (which only the statement knows): everything that can
refuse a message in Python (encoding its body, the test-only fault hook) fails before
anything is written. After the statement, a second plan numbers the results with the
real seqs; the statement computed the same ones (top - count + position).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import asyncpg
import orjson

from semot.domain.messages import SYSTEM, Message
from semot.domain.records import AppendResult, NewMessage
from semot.domain.search_text import document_tokens, message_tokens, tsvector_literal
from semot.storage.outbox import MESSAGE_EVENTS, OUTBOX_COLUMNS, OutboxWants, message_items

from .batch import REF_COLUMNS, BatchPlan, Key

# While any (sender, cid) of the batch is already stored, nothing is locked, bumped or
# inserted and the stored copies come back (the caller re-plans without them); else
# rows with a null mid are (conv, new max_seq). The lookup is one index probe per pair
# (LATERAL ... LIMIT 1): a join would let the planner hash the whole table while its
# statistics still say it is small. Row seqs ($7) are 1..n within each conversation.
_APPEND = """
WITH dup AS MATERIALIZED (
    SELECT m.conv, m.seq, m.mid, m.cid, m.sender, m.kind, m.body, m.ts, m.opts
    FROM unnest($1::text[], $2::text[]) AS k(sender, cid),
    LATERAL (SELECT * FROM messages WHERE sender = k.sender AND cid = k.cid LIMIT 1) AS m
), locked AS MATERIALIZED (
    SELECT c.id FROM conversations c
    WHERE c.id = ANY($3::text[]) AND NOT EXISTS (SELECT 1 FROM dup)
    ORDER BY c.id
    FOR UPDATE
), bumped AS (
    UPDATE conversations c
    SET max_seq = c.max_seq + n.n, last_ts = GREATEST(c.last_ts, n.ts)
    FROM locked l JOIN unnest($3::text[], $4::bigint[], $5::bigint[]) AS n(id, n, ts) ON n.id = l.id
    WHERE c.id = l.id
    RETURNING c.id, c.max_seq, n.n
), inserted AS (
    INSERT INTO messages (conv, seq, mid, cid, sender, kind, body, opts, ts, burn_s, ip)
    SELECT r.conv, b.max_seq - b.n + r.seq, r.mid, r.cid, r.sender, r.kind, r.body, r.opts, r.ts, r.burn_s, r.ip
    FROM unnest($6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                $13::text[], $14::bigint[], $15::int[], $16::text[])
         AS r(conv, seq, mid, cid, sender, kind, body, opts, ts, burn_s, ip)
    JOIN bumped b ON b.id = r.conv
), refs AS (
    INSERT INTO file_refs (file_id, kind, ref, conv, created_at)
    SELECT f.file_id, f.kind, f.ref, f.conv, f.created_at
    FROM unnest($17::text[], $18::text[], $19::text[], $20::text[], $21::bigint[])
         AS f(file_id, kind, ref, conv, created_at)
    JOIN bumped b ON b.id = f.conv
    ON CONFLICT DO NOTHING
), docs AS (
    INSERT INTO message_search (conv, seq, sender, ts, tokens)
    SELECT r.conv, b.max_seq - b.n + r.seq, r.sender, r.ts, r.tokens::tsvector
    FROM unnest($6::text[], $7::bigint[], $10::text[], $14::bigint[], $22::text[])
         WITH ORDINALITY AS r(conv, seq, sender, ts, tokens, i)
    JOIN bumped b ON b.id = r.conv
    WHERE r.tokens IS NOT NULL
    ORDER BY r.i
), outbox AS (
    INSERT INTO event_outbox (event_id, event, key, data, seq, created_at)
    SELECT o.event_id, o.event, o.key, o.data, b.max_seq - b.n + o.seq, o.created_at
    FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::bigint[], $28::bigint[])
         WITH ORDINALITY AS o(event_id, event, key, data, seq, created_at, i)
    JOIN bumped b ON b.id = o.key
    ORDER BY o.i
)
SELECT conv, seq, mid, cid, sender, kind, body, ts, opts FROM dup
UNION ALL
SELECT id, max_seq, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM bumped
"""
_NEW_DIRECT = """
WITH c AS (
    INSERT INTO conversations (id, kind, max_seq, last_ts, created_at)
    SELECT id, 'd', 0, 0, $4 FROM unnest($1::text[]) AS t(id)
    ON CONFLICT DO NOTHING
)
INSERT INTO conv_members (conv, user_id, role, read_seq, joined_at)
SELECT conv, user_id, 'member', 0, $4 FROM unnest($2::text[], $3::text[]) AS t(conv, user_id)
ON CONFLICT DO NOTHING
"""
# Another node storing the same (sender, cid), or a lock cycle: the statement rolls
# back whole (no seq consumed) and the next attempt sees the other node's commit.
_RETRYABLE = (asyncpg.UniqueViolationError, asyncpg.TransactionRollbackError)
_ATTEMPTS = 3


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as `width` column arrays for unnest (empty arrays when there are no rows)."""
    return [[r[i] for r in rows] for i in range(width)]


class _AppenderConnection(asyncpg.Connection):  # type: ignore[misc]
    """The appender leaves no session state behind (no LISTEN, advisory lock, SET or
    cursor), so handing a connection back to the pool needs no reset query: one round
    trip per batch saved."""

    def get_reset_query(self) -> str:
        return ""


class PgAppender:
    # benchmarks/search.py turns it off to measure what indexing costs the send path
    index_search: ClassVar[bool] = True

    def __init__(self, dsn: str, *, schema: str | None, pool_size: int) -> None:
        self._dsn = dsn
        self._schema = schema
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self.known_convs: set[str] = set()
        self.outbox = OutboxWants()  # shared with the other stores (SqlMessages sets it)

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    settings = {"search_path": self._schema} if self._schema else None
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=1,
                        max_size=self._pool_size,
                        server_settings=settings,
                        connection_class=_AppenderConnection,
                    )
        return self._pool

    async def append(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        pool = await self._get_pool()
        async with pool.acquire() as con:
            for attempt in range(_ATTEMPTS):
                try:
                    return await self._append(con, batch)
                except _RETRYABLE:
                    if attempt == _ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _append(self, con: Any, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        existing: dict[Key, Message] = {}
        # search documents (docs/search.md): tokens computed before the statement, written by it
        tokens = (
            {n.mid: tsvector_literal(document_tokens(n.conv, message_tokens(n.kind, n.body))) for n in batch if n.kind != SYSTEM}
            if self.index_search
            else {}
        )
        while True:  # ends: each pass either finds new repeats (finitely many) or stores
            plan = BatchPlan(batch)
            plan.take_existing(existing)
            new_direct = plan.new_direct_chats(self.known_convs)
            if new_direct:  # idempotent; a chat without messages yet is harmless
                members = [(c, u) for c, users in new_direct.items() for u in users]
                await con.execute(
                    _NEW_DIRECT, list(new_direct), [c for c, _ in members], [u for _, u in members], batch[0].ts
                )
                self.known_convs.update(new_direct)
            needs = plan.seq_needs()
            if not needs:  # every message is a repeat
                return plan.finish()
            convs = sorted(needs)
            rows = plan.number({c: n for c, (n, _) in needs.items()})  # seqs 1..n per conversation
            refs = plan.file_refs()  # of every numbered file message; joined with `bumped` in the statement
            keys = plan.keys()  # (sender, cid) pairs of the batch
            fresh = [k for k in keys if k not in existing]
            docs = [tokens.get(r[2]) for r in rows]  # a tsvector literal per row (None: no document)
            # webhook events (storage/outbox.py), seqs 1..n like the rows: the statement makes them real
            outbox = [] if not self.outbox.events & MESSAGE_EVENTS else [i.row() for i in message_items(
                [r.message for r in plan.results if isinstance(r, AppendResult) and r.created], self.outbox)]
            got = await con.fetch(
                _APPEND,
                [s for s, _ in fresh],
                [c for _, c in fresh],
                convs,
                [needs[c][0] for c in convs],
                [needs[c][1] for c in convs],
                *(list(col) for col in zip(*rows, strict=True)),
                *_columns(refs, len(REF_COLUMNS)),
                docs,
                *_columns(outbox, len(OUTBOX_COLUMNS)),
            )
            repeats = [r for r in got if r[2] is not None]
            if not repeats:
                final = BatchPlan(batch)
                final.take_existing(existing)
                final.number({r[0]: r[1] for r in got})
                return final.finish()
            for r in repeats:
                existing[(r[4], r[3])] = Message(
                    r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]), r[7], orjson.loads(r[8])
                )

    def note_conv(self, conv: str) -> None:
        self.known_convs.add(conv)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
