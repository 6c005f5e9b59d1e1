"""Writing search documents on SQL (docs/search.md), inside the caller's transaction:
`index_new` for the SQLAlchemy append path (the appenders write their own, in the
messages' statement), `reindex` for edits, `drop_docs` for recall, burn and deletion.
SQLite keeps the space-joined tokens as the external content of the FTS5 table (an FTS5
row is deleted by handing it its old text); PostgreSQL a tsvector literal, cast.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from semot.domain.messages import SYSTEM, Message
from semot.domain.search_text import document_tokens, message_tokens, tsvector_literal


def doc_text(dialect: str, conv: str, tokens: list[str]) -> str:
    """What `message_search.tokens` holds for a text's tokens in `conv` (with its
    conversation token): space-joined tokens (SQLite) or a tsvector literal."""
    doc = document_tokens(conv, tokens)
    return tsvector_literal(doc) if dialect == "postgresql" else " ".join(doc)


async def index_new(conn: AsyncConnection, dialect: str, msgs: list[Message]) -> None:
    """Documents for messages just stored on `conn` (the SQLAlchemy append path)."""
    docs = [m for m in msgs if m.kind != SYSTEM]
    if not docs:
        return
    rows = [
        {"conv": m.conv, "seq": m.seq, "sender": m.sender, "ts": m.ts,
         "tokens": doc_text(dialect, m.conv, message_tokens(m.kind, m.body))}
        for m in docs
    ]
    if dialect == "postgresql":
        await conn.execute(
            text(
                "INSERT INTO message_search (conv, seq, sender, ts, tokens) "
                "VALUES (:conv, :seq, :sender, :ts, CAST(:tokens AS tsvector)) ON CONFLICT DO NOTHING"
            ),
            rows,
        )
        return
    top = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM message_search"))).scalar_one()
    for i, r in enumerate(rows, top + 1):
        r["id"] = i
    await conn.execute(
        text("INSERT INTO message_search (id, conv, seq, sender, ts, tokens) VALUES (:id, :conv, :seq, :sender, :ts, :tokens)"),
        rows,
    )
    await conn.execute(text("INSERT INTO message_fts (rowid, tokens) VALUES (:id, :tokens)"), rows)


async def drop_docs(conn: AsyncConnection, dialect: str, keys: list[tuple[str, int]]) -> None:
    """Remove the documents of these (conv, seq) messages (recall, burn, deletion)."""
    if not keys:
        return
    params = [{"conv": c, "seq": s} for c, s in keys]
    if dialect != "postgresql":  # an external-content FTS5 row is deleted with its old text
        await conn.execute(
            text(
                "INSERT INTO message_fts (message_fts, rowid, tokens) "
                "SELECT 'delete', id, tokens FROM message_search WHERE conv = :conv AND seq = :seq"
            ),
            params,
        )
    await conn.execute(text("DELETE FROM message_search WHERE conv = :conv AND seq = :seq"), params)


async def reindex(conn: AsyncConnection, dialect: str, conv: str, seq: int, tokens: list[str]) -> None:
    """The document of an edited message gets its new tokens and keeps its id (its place)."""
    p = {"conv": conv, "seq": seq, "tokens": doc_text(dialect, conv, tokens)}
    if dialect == "postgresql":
        await conn.execute(
            text("UPDATE message_search SET tokens = CAST(:tokens AS tsvector) WHERE conv = :conv AND seq = :seq"), p
        )
        return
    await conn.execute(
        text(
            "INSERT INTO message_fts (message_fts, rowid, tokens) "
            "SELECT 'delete', id, tokens FROM message_search WHERE conv = :conv AND seq = :seq"
        ),
        p,
    )
    await conn.execute(text("UPDATE message_search SET tokens = :tokens WHERE conv = :conv AND seq = :seq"), p)
    await conn.execute(
        text("INSERT INTO message_fts (rowid, tokens) SELECT id, tokens FROM message_search WHERE conv = :conv AND seq = :seq"),
        p,
    )
