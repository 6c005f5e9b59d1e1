"""The SQLite message appender: one connection, one thread, one hop per batch.

Through SQLAlchemy's async adapter every statement of the group commit is several
round trips to aiosqlite's thread; measured (benchmarks/README.md) that cost ~1 ms of
CPU per message and put p99 at 34 ms. Here the whole transaction runs as one call in a
dedicated thread on a plain sqlite3 connection with cached, parameterised statements:
0.22 ms per message. Same schema, same plan (batch.py), same contract tests.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, TypeVar

import orjson

from semot.domain.messages import SYSTEM, Message
from semot.domain.records import AppendResult, NewMessage
from semot.domain.search_text import document_tokens, message_tokens
from semot.storage.outbox import MESSAGE_EVENTS, OutboxWants, message_items

from .batch import REF_COLUMNS, ROW_COLUMNS, BatchPlan, Key
from .outbox_store import SQLITE_INSERT as _OUTBOX
from .sqlite_checkpoint import WalCheckpointer

T = TypeVar("T")
_CHUNK = 400  # (sender, cid) pairs per lookup: 2 parameters each, far below SQLite's limit
_INSERT = f"INSERT INTO messages ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('?' * len(ROW_COLUMNS))})"
_REF = (
    f"INSERT INTO file_refs ({', '.join(REF_COLUMNS)}) VALUES ({', '.join('?' * len(REF_COLUMNS))}) "
    "ON CONFLICT DO NOTHING"
)
_BUMP = "UPDATE conversations SET max_seq = max_seq + ?, last_ts = max(last_ts, ?) WHERE id = ? RETURNING max_seq"
_NEW_CONV = "INSERT INTO conversations (id, kind, max_seq, last_ts, created_at) VALUES (?, 'd', 0, 0, ?) ON CONFLICT DO NOTHING"
_NEW_MEMBER = (
    "INSERT INTO conv_members (conv, user_id, role, read_seq, joined_at) VALUES (?, ?, 'member', 0, ?) "
    "ON CONFLICT DO NOTHING"
)
_COLS = "conv, seq, mid, cid, sender, kind, body, ts, opts"
# search documents (docs/search.md): written in the messages' transaction
_DOC_TOP = "SELECT coalesce(max(id), 0) FROM message_search"
_DOC = "INSERT INTO message_search (id, conv, seq, sender, ts, tokens) VALUES (?, ?, ?, ?, ?, ?)"
_FTS = "INSERT INTO message_fts (rowid, tokens) VALUES (?, ?)"


def search_tokens(batch: list[NewMessage]) -> dict[str, str]:
    """mid -> the space-joined search tokens of each message that gets a document."""
    return {n.mid: " ".join(document_tokens(n.conv, message_tokens(n.kind, n.body))) for n in batch if n.kind != SYSTEM}


def _lookup_sql(keys: list[Key]) -> tuple[str, list[str]]:
    """`(sender, cid) IN keys` as OR-ed index searches (a row-value IN scans the table)."""
    grouped: dict[str, list[str]] = {}
    for sender, cid in keys:
        grouped.setdefault(sender, []).append(cid)
    terms, params = [], []
    for sender, cids in grouped.items():
        terms.append(f"(sender = ? AND cid IN ({','.join('?' * len(cids))}))")
        params.append(sender)
        params.extend(cids)
    return f"SELECT {_COLS} FROM messages WHERE {' OR '.join(terms)}", params


class SqliteAppender:
    # benchmarks/search.py turns it off to measure what indexing costs the send path
    index_search: ClassVar[bool] = True

    def __init__(self, path: str, synchronous: str) -> None:
        self._path = path
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="semot-sqlite-appender")
        self._con: sqlite3.Connection | None = None
        self.known_convs: set[str] = set()
        self.checkpointer = WalCheckpointer(path)
        self.outbox = OutboxWants()  # shared with the other stores (SqlMessages sets it)

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            con = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, cached_statements=512)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(f"PRAGMA synchronous={self._synchronous}")
            con.execute("PRAGMA busy_timeout=10000")
            con.execute("PRAGMA cache_size=-32000")
            # checkpoints run in their own thread (sqlite_checkpoint.py), never in our COMMIT
            con.execute("PRAGMA wal_autocheckpoint=0")
            self._con = con
            self.checkpointer.start()
        return self._con

    async def append(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._append, batch)

    def _append(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        con = self._connection()
        plan = BatchPlan(batch)
        # the search tokens, before the transaction (the write lock is held only to write)
        tokens = search_tokens(batch) if self.index_search else {}
        con.execute("BEGIN IMMEDIATE")
        try:
            keys = plan.keys()
            existing: dict[Key, Message] = {}
            for i in range(0, len(keys), _CHUNK):
                sql, params = _lookup_sql(keys[i : i + _CHUNK])
                for r in con.execute(sql, params):
                    existing[(r[4], r[3])] = Message(
                        r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]), r[7], orjson.loads(r[8])
                    )
            plan.take_existing(existing)
            new_direct = plan.new_direct_chats(self.known_convs)
            if new_direct:
                now = batch[0].ts
                con.executemany(_NEW_CONV, [(c, now) for c in new_direct])
                con.executemany(_NEW_MEMBER, [(c, u, now) for c, users in new_direct.items() for u in users])
            tops: dict[str, int] = {}
            for conv, (n, last_ts) in sorted(plan.seq_needs().items()):
                row = con.execute(_BUMP, (n, last_ts, conv)).fetchone()
                if row is not None:
                    tops[conv] = row[0]
            rows = plan.number(tops)
            if rows:
                con.executemany(_INSERT, rows)
                docs = [r for r in rows if r[2] in tokens]
                if docs:
                    top = con.execute(_DOC_TOP).fetchone()[0]
                    con.executemany(
                        _DOC, [(top + i, r[0], r[1], r[4], r[8], tokens[r[2]]) for i, r in enumerate(docs, 1)]
                    )
                    con.executemany(_FTS, [(top + i, tokens[r[2]]) for i, r in enumerate(docs, 1)])
            refs = plan.file_refs()
            if refs:  # in the messages' transaction: a file message always grants access
                con.executemany(_REF, refs)
            if self.outbox.events & MESSAGE_EVENTS:  # webhook events, with the messages (storage/outbox.py)
                created = [r.message for r in plan.results if isinstance(r, AppendResult) and r.created]
                con.executemany(_OUTBOX, [i.row() for i in message_items(created, self.outbox)])
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        self.known_convs.update(new_direct)
        return plan.finish()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on this appender's connection, in its thread, between two batches
        (the webhook outbox's fan-out: storage/sql/webhook_store.py)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: work(self._connection()))

    def note_conv(self, conv: str) -> None:
        self.known_convs.add(conv)

    async def close(self) -> None:
        def shut() -> None:
            if self._con is not None:
                self._con.close()
                self._con = None

        await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)
        await asyncio.to_thread(self.checkpointer.stop)
