"""SqlMessages: conversations and their messages on SQL (SQLite or PostgreSQL).

Batches are appended by hand-written SQL on a plain driver (sqlite_appender.py,
pg_appender.py: one hop / one round trip per batch); the SQLAlchemy `_append` here
serves engines made elsewhere and numbers the `system` notices that a group write
stores inside its own transaction (`append_in`). Both run the same plan (batch.py),
which also lists the file_refs rows of file messages, written in the same transaction.
Recalling or burning a message deletes its file reference in the transaction that
erases its body: from then on it grants nobody access, and a file that nothing else
references is left to the collector.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.schema import Column

from semot.domain.files import REF_MESSAGE
from semot.domain.messages import BURNED, RECALLED, SYSTEM, Message
from semot.domain.records import AppendResult, ConvState, NewMessage, ReadResult
from semot.errors import NotFound
from semot.ids import now_ms
from semot.storage.base import MessageStorage
from semot.storage.batch import REF_COLUMNS, ROW_COLUMNS, BatchPlan
from semot.storage.outbox import MESSAGE_EVENTS, OutboxWants, message_items, recall_item
from semot.storage.sql import schema as s
from semot.storage.sql import schema_files as fs
from semot.storage.sql.change_store import SqlMessageChanges, attach_reactions
from semot.storage.sql.database import IN_CHUNK as _IN_CHUNK
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.faults import as_storage_error
from semot.storage.sql.outbox_store import write_outbox
from semot.storage.sql.pg_appender import PgAppender
from semot.storage.sql.schema_reactions import message_reactions
from semot.storage.sql.search_index import drop_docs, index_new
from semot.storage.sql.sqlite_appender import SqliteAppender


def _pairs(first: Column[Any], second: Column[Any], pairs: list[tuple[Any, Any]]) -> ColumnElement[bool]:
    """`(a, b) IN pairs` written so both databases use the (a, b) index.

    SQLite plans a row-value `IN (VALUES ...)` as a full table scan; an OR of
    `a = ? AND b IN (...)` groups becomes one index search per group."""
    grouped: dict[Any, list[Any]] = {}
    for a, b in pairs:
        grouped.setdefault(a, []).append(b)
    return or_(*(and_(first == a, second.in_(bs)) for a, bs in grouped.items()))


def _row_to_message(r: Any) -> Message:
    return Message(
        conv=r.conv,
        seq=r.seq,
        mid=r.mid,
        cid=r.cid,
        sender=r.sender,
        kind=r.kind,
        body=orjson.loads(r.body),
        ts=r.ts,
        opts=orjson.loads(r.opts),
        edited_ts=r.edited_ts,
        change_seq=r.change_seq,
        recalled_by=r.recalled_by,
        recalled_role=r.recalled_role,
    )

_MSG_COLS = (
    s.messages.c.conv,
    s.messages.c.seq,
    s.messages.c.mid,
    s.messages.c.cid,
    s.messages.c.sender,
    s.messages.c.kind,
    s.messages.c.body,
    s.messages.c.ts,
    s.messages.c.opts,
    s.messages.c.edited_ts,
    s.messages.c.change_seq,
    s.messages.c.recalled_by,
    s.messages.c.recalled_role,
)


class SqlMessages(SqlMessageChanges, MessageStorage):
    def __init__(self, db: SqlDatabase, outbox: OutboxWants | None = None) -> None:
        engines = db.engines
        # webhook events written with the changes (storage/outbox.py); shared by the stores
        self.outbox = outbox or OutboxWants()
        self._engines = engines
        self._dialect = db.dialect
        self._insert = db.insert
        self._known_convs: set[str] = set()
        # messages are appended by hand-written SQL on a plain driver (one hop / few round
        # trips per batch); the SQLAlchemy `_append` below serves engines made elsewhere
        self._appender: SqliteAppender | PgAppender | None = None
        if engines.sqlite_path:
            self._appender = SqliteAppender(engines.sqlite_path, engines.sqlite_synchronous)
        elif engines.pg_dsn:
            self._appender = PgAppender(engines.pg_dsn, schema=engines.pg_schema, pool_size=engines.pg_pool_size)
        if self._appender is not None:
            self._appender.outbox = self.outbox

    @property
    def sqlite_appender(self) -> SqliteAppender | None:
        """The SQLite appender, whose thread the webhook fan-out shares (store.py)."""
        return self._appender if isinstance(self._appender, SqliteAppender) else None

    async def close(self) -> None:
        if self._appender is not None:
            await self._appender.close()

    async def append_in(self, conn: AsyncConnection, batch: list[NewMessage]) -> list[AppendResult]:
        """Append `batch` inside the caller's transaction (a group write's notices): all
        stored, or an exception that rolls the whole transaction back."""
        results, _ = await self._append(conn, batch)  # new direct chats are learnt on their next append
        out: list[AppendResult] = []
        for r in results:
            if not isinstance(r, AppendResult):
                raise r
            out.append(r)
        return out

    # --- messages
    async def append_messages(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        """Raises StorageDataError when the database refuses the data of the batch (not
        when it is down): the writer then retries in halves to isolate the bad message."""
        try:
            results = await self._append_messages(batch)
            if self.outbox.events & MESSAGE_EVENTS:
                self.outbox.written()  # committed: the webhook service may fan the events out
            return results
        except Exception as exc:
            poison = as_storage_error(exc)
            if poison is None:
                raise
            raise poison from exc

    async def _append_messages(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        if self._appender is not None:
            return await self._appender.append(batch)
        try:
            async with self._engines.write.begin() as conn:
                results, created_convs = await self._append(conn, batch)
            self._known_convs.update(created_convs)  # only once committed
            return results
        except IntegrityError:
            if len(batch) == 1:
                raise
        # A concurrent writer (another node) raced us on a cid: isolate each message.
        out: list[AppendResult | Exception] = []
        for item in batch:
            try:
                async with self._engines.write.begin() as conn:
                    results, created_convs = await self._append(conn, [item])
                self._known_convs.update(created_convs)
                out.extend(results)
            except IntegrityError as exc:
                out.append(exc)
        return out

    async def _append(
        self, conn: AsyncConnection, batch: list[NewMessage]
    ) -> tuple[list[AppendResult | Exception], set[str]]:
        m = s.messages
        plan = BatchPlan(batch)
        keys = plan.keys()
        existing: dict[tuple[str, str], Message] = {}
        for i in range(0, len(keys), _IN_CHUNK):
            found = await conn.execute(select(*_MSG_COLS).where(_pairs(m.c.sender, m.c.cid, keys[i : i + _IN_CHUNK])))
            for r in found:
                existing[(r.sender, r.cid)] = _row_to_message(r)
        plan.take_existing(existing)
        new_direct = plan.new_direct_chats(self._known_convs)
        if new_direct:
            now = batch[0].ts
            await conn.execute(
                self._insert(s.conversations)
                .values([{"id": c, "kind": "d", "max_seq": 0, "last_ts": 0, "created_at": now} for c in new_direct])
                .on_conflict_do_nothing()
            )
            await conn.execute(
                self._insert(s.conv_members)
                .values(
                    [
                        {"conv": c, "user_id": u, "role": "member", "read_seq": 0, "joined_at": now}
                        for c, users in new_direct.items()
                        for u in users
                    ]
                )
                .on_conflict_do_nothing()
            )
        rows = plan.number(await self._bump_seqs(conn, plan.seq_needs()))
        if rows:
            await conn.execute(m.insert(), [dict(zip(ROW_COLUMNS, r, strict=True)) for r in rows])
            created = [r.message for r in plan.results if isinstance(r, AppendResult) and r.created]
            await index_new(conn, self._dialect, created)  # search documents, same transaction
            if self.outbox.events & MESSAGE_EVENTS:  # webhook events, same transaction (storage/outbox.py)
                await write_outbox(conn, message_items(created, self.outbox))
        refs = plan.file_refs()
        if refs:
            await conn.execute(
                self._insert(fs.file_refs)
                .values([dict(zip(REF_COLUMNS, r, strict=True)) for r in refs])
                .on_conflict_do_nothing()
            )
        return plan.finish(), set(new_direct)

    async def _bump_seqs(self, conn: AsyncConnection, counts: dict[str, tuple[int, int]]) -> dict[str, int]:
        """Reserve `n` seqs in each conversation; returns the new max_seq of each.

        The row lock this takes is what makes seq gap-free across nodes on PostgreSQL;
        rows are locked in id order first so two nodes never deadlock on a pair."""
        if not counts:
            return {}
        c = s.conversations
        ids = sorted(counts)
        tops: dict[str, int] = {}
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i : i + _IN_CHUNK]
            if self._dialect == "postgresql":
                await conn.execute(select(c.c.id).where(c.c.id.in_(chunk)).order_by(c.c.id).with_for_update())
            stmt = (
                update(c)
                .where(c.c.id.in_(chunk))
                .values(
                    max_seq=c.c.max_seq + case({k: counts[k][0] for k in chunk}, value=c.c.id, else_=0),
                    last_ts=case({k: counts[k][1] for k in chunk}, value=c.c.id, else_=c.c.last_ts),
                )
                .returning(c.c.id, c.c.max_seq)
            )
            for r in await conn.execute(stmt):
                tops[r.id] = r.max_seq
        return tops

    async def _read_messages(self, conn: AsyncConnection, where: Any, order: Any, limit: int) -> list[Message]:
        """Messages matching `where` (the edits/reactions store reads through this)."""
        rows = await conn.execute(select(*_MSG_COLS).where(where).order_by(order).limit(limit))
        return [_row_to_message(r) for r in rows]

    async def get_message(self, conv: str, seq: int) -> Message | None:
        async with self._engines.read.connect() as conn:
            r = (
                await conn.execute(select(*_MSG_COLS).where(and_(s.messages.c.conv == conv, s.messages.c.seq == seq)))
            ).first()
            msg = _row_to_message(r) if r else None
            if msg is not None:
                await attach_reactions(conn, [msg])
        return msg

    async def history(
        self, conv: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        m = s.messages
        q = select(*_MSG_COLS).where(m.c.conv == conv)
        if after is not None:
            q = q.where(m.c.seq > after).order_by(m.c.seq.asc())
        else:
            if before is not None:
                q = q.where(m.c.seq < before)
            q = q.order_by(m.c.seq.desc())
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q.limit(limit + 1))).all()
            more = len(rows) > limit
            rows = rows[:limit]
            msgs = [_row_to_message(r) for r in rows]
            await attach_reactions(conn, msgs)  # a page shows each message as it is now
        if after is None:
            msgs.reverse()
        return msgs, more

    async def sync(
        self, user_id: str, known: dict[str, int], changes: dict[str, int] | None = None
    ) -> list[ConvState]:
        c, cm, m = s.conversations, s.conv_members, s.messages
        async with self._engines.read.connect() as conn:
            rows = (
                await conn.execute(
                    select(c.c.id, c.c.max_seq, cm.c.read_seq, cm.c.pinned_at, cm.c.dnd, cm.c.hidden_seq, c.c.change_seq)
                    .join(cm, cm.c.conv == c.c.id)
                    .where(cm.c.user_id == user_id)
                )
            ).all()
            moved = [
                r
                for r in rows
                if r.max_seq > known.get(r.id, -1) or (changes is not None and r.change_seq > changes.get(r.id, 0))
            ]
            if not moved:
                return []
            unread_rows = await conn.execute(
                select(m.c.conv, func.count())
                .join(cm, and_(cm.c.conv == m.c.conv, cm.c.user_id == user_id))
                .where(and_(m.c.seq > cm.c.read_seq, m.c.sender != user_id, m.c.kind.not_in((SYSTEM, RECALLED))))
                .group_by(m.c.conv)
            )
            unread = {r[0]: r[1] for r in unread_rows}
            lasts: dict[str, Message] = {}
            keys = [(r.id, r.max_seq) for r in moved if r.max_seq > 0]
            for i in range(0, len(keys), _IN_CHUNK):
                q = select(*_MSG_COLS).where(_pairs(m.c.conv, m.c.seq, keys[i : i + _IN_CHUNK]))
                for r in await conn.execute(q):
                    lasts[r.conv] = _row_to_message(r)
            await attach_reactions(conn, list(lasts.values()))
            # direct chats: the other party's read position, for "read" marks on a new device
            direct = [r.id for r in moved if r.id.startswith("d:")]
            peer_read: dict[str, int] = {}
            for i in range(0, len(direct), _IN_CHUNK):
                q = select(cm.c.conv, cm.c.read_seq).where(
                    and_(cm.c.conv.in_(direct[i : i + _IN_CHUNK]), cm.c.user_id != user_id)
                )
                for pr in await conn.execute(q):
                    peer_read[pr.conv] = pr.read_seq
        return [
            ConvState(
                r.id, r.max_seq, r.read_seq, unread.get(r.id, 0), lasts.get(r.id), peer_read.get(r.id),
                pinned_at=r.pinned_at, dnd=bool(r.dnd), hidden_seq=r.hidden_seq, change_seq=r.change_seq,
            )
            for r in moved
        ]

    async def set_read(self, conv: str, user_id: str, seq: int, now: int) -> ReadResult:
        cm, m = s.conv_members, s.messages
        async with self._engines.write.begin() as conn:
            r = (
                await conn.execute(
                    select(cm.c.read_seq).where(and_(cm.c.conv == conv, cm.c.user_id == user_id)).with_for_update()
                )
            ).first()
            if r is None:
                raise NotFound("not a member of that conversation")
            previous = r.read_seq
            if seq <= previous:
                return ReadResult(previous, previous, [])
            await conn.execute(
                update(cm).where(and_(cm.c.conv == conv, cm.c.user_id == user_id)).values(read_seq=seq)
            )
            burn_rows = (
                await conn.execute(
                    update(m)
                    .where(
                        and_(
                            m.c.conv == conv,
                            m.c.seq > previous,
                            m.c.seq <= seq,
                            m.c.burn_s.is_not(None),
                            m.c.burn_at.is_(None),
                            m.c.sender != user_id,
                        )
                    )
                    # typed BigInteger: else `now` is bound as burn_s's INTEGER (int32 on PostgreSQL)
                    .values(burn_at=literal(now, BigInteger) + cast(m.c.burn_s, BigInteger) * 1000)
                    .returning(m.c.seq, m.c.burn_at)
                )
            ).all()
        return ReadResult(previous, seq, [(b.seq, b.burn_at) for b in burn_rows])

    async def recall(self, conv: str, seq: int, by: str | None = None, role: str | None = None) -> None:
        m, r = s.messages, fs.file_refs
        async with self._engines.write.begin() as conn:
            await conn.execute(
                delete(r).where(
                    and_(r.c.kind == REF_MESSAGE, r.c.ref.in_(select(m.c.mid).where(m.c.conv == conv, m.c.seq == seq)))
                )
            )
            done = await conn.execute(
                update(m)
                .where(and_(m.c.conv == conv, m.c.seq == seq))
                .values(kind=RECALLED, body="{}", burn_at=None, burn_s=None, recalled_by=by, recalled_role=role)
            )
            wants_event = self.outbox.wants("message.recalled") and done.rowcount == 1
            if wants_event:  # the webhook event, same transaction (storage/outbox.py)
                await write_outbox(conn, [recall_item(conv, seq, by, role, now_ms())])
            rx = message_reactions  # a recalled message loses its reactions
            await conn.execute(delete(rx).where(and_(rx.c.conv == conv, rx.c.seq == seq)))
            await drop_docs(conn, self._dialect, [(conv, seq)])  # and is never found again
        if wants_event:
            self.outbox.written()

    async def set_reply_excerpts(self, conv: str, excerpts: dict[int, dict[str, Any]]) -> None:
        m = s.messages
        if not excerpts:
            return
        async with self._engines.write.begin() as conn:
            rows = (
                await conn.execute(select(m.c.seq, m.c.body).where(and_(m.c.conv == conv, m.c.seq.in_(list(excerpts)))))
            ).all()
            for r in rows:
                body = orjson.loads(r.body)
                if "reply_to" not in body:
                    continue  # recalled or burned meanwhile: nothing left to quote from
                body["reply_to"] = excerpts[r.seq]
                await conn.execute(
                    update(m).where(and_(m.c.conv == conv, m.c.seq == r.seq)).values(body=orjson.dumps(body).decode())
                )

    async def claim_due_burns(self, now: int, limit: int) -> list[tuple[str, int]]:
        m = s.messages
        due_q = select(m.c.conv, m.c.seq).where(and_(m.c.burn_at.is_not(None), m.c.burn_at <= now)).limit(limit)
        # Look first on a reader: the sweep runs every second and must not take the
        # write lock (and stall the message appender) when nothing is due.
        async with self._engines.read.connect() as conn:
            due = (await conn.execute(due_q)).all()
        if not due:
            return []
        async with self._engines.write.begin() as conn:
            keys = [(d.conv, d.seq) for d in due]
            res = await conn.execute(
                update(m)
                .where(and_(_pairs(m.c.conv, m.c.seq, keys), m.c.burn_at.is_not(None)))
                .values(kind=BURNED, body="{}", burn_at=None)
                .returning(m.c.conv, m.c.seq, m.c.mid)
            )
            burned = res.all()
            rx = message_reactions  # a burned message loses its reactions
            for b in burned:
                await conn.execute(delete(rx).where(and_(rx.c.conv == b.conv, rx.c.seq == b.seq)))
            mids = [b.mid for b in burned]
            for i in range(0, len(mids), _IN_CHUNK):  # the burned messages grant no access any more
                refs = fs.file_refs
                await conn.execute(
                    delete(refs).where(and_(refs.c.kind == REF_MESSAGE, refs.c.ref.in_(mids[i : i + _IN_CHUNK])))
                )
            await drop_docs(conn, self._dialect, [(b.conv, b.seq) for b in burned])  # never found again
            return [(b.conv, b.seq) for b in burned]

    async def conversation_max_seq(self, conv: str) -> int | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(s.conversations.c.max_seq).where(s.conversations.c.id == conv))).first()
        return r.max_seq if r else None

    # --- who is in a conversation
    async def conv_members(self, conv: str) -> list[str]:
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(select(s.conv_members.c.user_id).where(s.conv_members.c.conv == conv))
            return [r.user_id for r in rows]

    async def is_member(self, conv: str, user_id: str) -> bool:
        cm = s.conv_members
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(cm.c.role).where(and_(cm.c.conv == conv, cm.c.user_id == user_id)))).first()
        return r is not None

    async def read_positions(self, conv: str) -> dict[str, int]:
        cm = s.conv_members
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(select(cm.c.user_id, cm.c.read_seq).where(cm.c.conv == conv))
            return {r.user_id: r.read_seq for r in rows}

    async def read_marks(self, conv: str) -> dict[str, tuple[int, int]]:
        cm = s.conv_members
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(select(cm.c.user_id, cm.c.read_seq, cm.c.joined_at).where(cm.c.conv == conv))
            return {r.user_id: (r.read_seq, r.joined_at) for r in rows}

    async def count_messages(self) -> int:
        async with self._engines.read.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(s.messages))).scalar_one())
