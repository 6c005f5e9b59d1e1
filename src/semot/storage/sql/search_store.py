"""Message search on SQL (storage/search.py, docs/search.md): FTS5 on SQLite, a tsvector
with a GIN index on PostgreSQL, over the same tokens (domain/search_text.py).

The documents are written by the appenders in the messages' own transaction
(sqlite_appender.py, pg_appender.py, and `index_new` below for the SQLAlchemy path);
edits re-index and recall/burn drop documents inside their transactions through
`reindex` and `drop_docs`. Queries are hand-written SQL with bound parameters only: the
FTS5 MATCH string and the tsquery literal are bound values built from our own tokens.

Speed (docs/search.md, benchmarks/search.py): a member's search (up to MAX_CONV_TOKENS
conversations) and a one-conversation search add "one of these conversation tokens" to
the match, so the index only yields that user's documents; the newest-first page is
FTS5's rowid order on SQLite and, on PostgreSQL, whichever the planner finds cheaper of
the GIN bitmap (rare terms) and a backward primary-key scan filtered by the match
(common terms); the capped total counts documents alone, without the message rows,
and is skipped when the page itself shows it.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from semot.domain.messages import BURNED, RECALLED, Message
from semot.domain.search_text import fts5_query, tsquery_literal
from semot.storage.search import COUNT_CAP, SearchHit, SearchQuery, SearchStorage
from semot.storage.sql.change_store import attach_reactions
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.search_index import drop_docs

# a member's conversations up to this many restrict the full-text match by their tokens;
# beyond, the match runs over every conversation and the membership filters its rows
MAX_CONV_TOKENS = 100

_COLS = "m.conv, m.seq, m.mid, m.cid, m.sender, m.kind, m.body, m.ts, m.opts, m.edited_ts, m.change_seq, m.ip"


def _message(r: Any) -> Message:
    return Message(
        conv=r.conv, seq=r.seq, mid=r.mid, cid=r.cid, sender=r.sender, kind=r.kind, body=orjson.loads(r.body),
        ts=r.ts, opts=orjson.loads(r.opts), edited_ts=r.edited_ts, change_seq=r.change_seq,
    )


class SqlSearch(SearchStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._pg = db.dialect == "postgresql"

    async def _custom_plans(self, conn: AsyncConnection) -> None:
        """PostgreSQL plans each search for its own tsquery: a generic plan of a prepared
        statement cannot tell a rare word (GIN bitmap) from a common one (backward id scan)
        and, picking the scan for a word that matches nothing, reads the whole table.
        SET LOCAL: this read transaction only (rolled back when the connection returns)."""
        if self._pg:
            await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))

    async def _convs(self, conn: AsyncConnection, q: SearchQuery) -> tuple[str, ...] | None:
        """The conversations whose tokens restrict the full-text match (() when none do, or
        the member is in too many to list); None: nothing can match (a member of none)."""
        if q.conv is not None:
            return (q.conv,)
        if q.member is None:
            return ()
        rows = await conn.execute(
            text("SELECT conv FROM conv_members WHERE user_id = :member ORDER BY conv LIMIT :n"),
            {"member": q.member, "n": MAX_CONV_TOKENS + 1},
        )
        convs = tuple(r[0] for r in rows)
        if not convs:
            return None
        return convs if len(convs) <= MAX_CONV_TOKENS else ()

    def _sql(
        self, q: SearchQuery, convs: tuple[str, ...], params: dict[str, Any], *, before: int | None, count: bool = False
    ) -> tuple[str, str]:
        """(FROM ... WHERE ..., the document id expression) for `q`. A count (`count`) reads
        the documents alone unless a filter needs the message row: documents of recalled and
        burned messages are dropped in the transaction that erases them."""
        where: list[str] = []
        msg_where: list[str] = [] if count else [f"m.kind NOT IN ('{RECALLED}', '{BURNED}')"]
        need_doc = not count
        idcol = "d.id"
        fts = bool(q.terms or convs)
        if fts and self._pg:
            where.append("d.tokens @@ CAST(:tsq AS tsquery)")
            params["tsq"] = tsquery_literal(q.terms, convs)
        elif fts:
            where.append("message_fts MATCH :match")
            params["match"] = fts5_query(q.terms, convs)
            idcol = "f.rowid"  # FTS5 walks its rowids newest first and stops at the LIMIT
        if before is not None:
            where.append(f"{idcol} < :before")
            params["before"] = before
        if q.member is not None:
            need_doc = True
            if convs and q.conv is None:
                where.append("d.conv IN :member_convs")
                params["member_convs"] = list(convs)
            else:
                where.append("d.conv IN (SELECT conv FROM conv_members WHERE user_id = :member)")
                params["member"] = q.member
        for cond, key, value in (
            ("d.conv = :conv", "conv", q.conv),
            ("d.sender = :sender", "sender", q.sender),
            ("d.sender <> :not_sender", "not_sender", q.not_sender),
            ("d.ts >= :since", "since", q.since),
            ("d.ts <= :until", "until", q.until),
        ):
            if value is not None:
                need_doc = True
                where.append(cond)
                params[key] = value
        if q.senders is not None:
            need_doc = True
            where.append("d.sender IN :senders")
            params["senders"] = sorted(q.senders) or [""]
        if q.kind is not None:
            msg_where.append("m.kind = :kind")
            params["kind"] = q.kind
        if q.ip is not None:
            msg_where.append("m.ip LIKE :ip ESCAPE '!'")
            params["ip"] = q.ip.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        if self._pg or not fts:
            source = "message_search d"
        elif need_doc or msg_where:
            source = "message_fts f JOIN message_search d ON d.id = f.rowid"
        else:
            source = "message_fts f"
        if msg_where:
            source += " JOIN messages m ON m.conv = d.conv AND m.seq = d.seq"
        conds = where + msg_where
        return f"FROM {source}" + (f" WHERE {' AND '.join(conds)}" if conds else ""), idcol

    def _stmt(self, sql: str, params: dict[str, Any]) -> Any:
        stmt = text(sql)
        for key in ("senders", "member_convs"):
            if key in params:
                stmt = stmt.bindparams(bindparam(key, expanding=True))
        return stmt

    async def _hits(self, conn: AsyncConnection, sql: str, params: dict[str, Any]) -> list[SearchHit]:
        rows = (await conn.execute(self._stmt(sql, params), params)).all()
        hits = [SearchHit(_message(r), r.ip, int(r.doc)) for r in rows]
        await attach_reactions(conn, [h.message for h in hits])
        return hits

    async def search(self, query: SearchQuery, *, before: int | None, limit: int) -> list[SearchHit]:
        params: dict[str, Any] = {"limit": limit}
        async with self._engines.read.connect() as conn:
            await self._custom_plans(conn)
            convs = await self._convs(conn, query)
            if convs is None:
                return []
            where, idcol = self._sql(query, convs, params, before=before)
            return await self._hits(
                conn, f"SELECT {_COLS}, {idcol} AS doc {where} ORDER BY {idcol} DESC LIMIT :limit", params
            )

    async def audit_page(
        self, query: SearchQuery, *, offset: int, limit: int, count_cap: int = COUNT_CAP
    ) -> tuple[list[SearchHit], int, bool]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        async with self._engines.read.connect() as conn:
            await self._custom_plans(conn)
            convs = await self._convs(conn, query)
            if convs is None:
                return [], 0, False
            where, idcol = self._sql(query, convs, params, before=None)
            hits = await self._hits(
                conn,
                f"SELECT {_COLS}, {idcol} AS doc {where} ORDER BY {idcol} DESC LIMIT :limit OFFSET :offset",
                params,
            )
            if len(hits) < limit and (hits or offset == 0):
                total = offset + len(hits)  # the last page: exact without counting
            elif len(hits) == limit and offset + limit > count_cap:
                total = count_cap + 1  # the page alone shows there are more than the cap
            else:
                cparams: dict[str, Any] = {"cap": count_cap + 1}
                cwhere, _ = self._sql(query, convs, cparams, before=None, count=True)
                count_sql = f"SELECT count(*) FROM (SELECT 1 {cwhere} LIMIT :cap) t"
                total = int((await conn.execute(self._stmt(count_sql, cparams), cparams)).scalar_one())
        return hits, min(total, count_cap), total > count_cap

    async def around(self, conv: str, seq: int, limit: int) -> tuple[list[tuple[Message, str | None]], bool, bool]:
        p = {"conv": conv, "seq": seq, "n": limit + 1}
        async with self._engines.read.connect() as conn:
            older = (
                await conn.execute(
                    text(f"SELECT {_COLS} FROM messages m WHERE m.conv = :conv AND m.seq < :seq ORDER BY m.seq DESC LIMIT :n"), p
                )
            ).all()
            newer = (
                await conn.execute(
                    text(f"SELECT {_COLS} FROM messages m WHERE m.conv = :conv AND m.seq >= :seq ORDER BY m.seq LIMIT :n"), p
                )
            ).all()
            n_before = min(len(older), limit // 2)
            n_after = min(len(newer), limit - n_before)
            n_before = min(len(older), limit - n_after)
            rows = list(reversed(older[:n_before])) + list(newer[:n_after])
            msgs = [_message(r) for r in rows]
            await attach_reactions(conn, msgs)
        return [(m, r.ip) for m, r in zip(msgs, rows, strict=True)], n_before < len(older), n_after < len(newer)

    async def unindex(self, keys: list[tuple[str, int]]) -> None:
        dialect = "postgresql" if self._pg else "sqlite"
        async with self._engines.write.begin() as conn:
            for i in range(0, len(keys), IN_CHUNK):
                await drop_docs(conn, dialect, keys[i : i + IN_CHUNK])

    async def index_size(self) -> int:
        async with self._engines.read.connect() as conn:
            if self._pg:
                sql = "SELECT pg_total_relation_size('message_search')"
            else:
                sql = (
                    "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'message_fts%' "
                    "OR name LIKE 'message_search%' OR name LIKE '%message_search%'"
                )
            try:
                return int((await conn.execute(text(sql))).scalar_one())
            except Exception:  # dbstat is an optional SQLite module
                return 0
