"""The hand-written append paths (SQLite appender, PostgreSQL appender) under races,
and the SQLite WAL checkpoints that run beside the appender."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from semot.domain.conversations import direct_conv
from semot.domain.records import AppendResult, NewMessage
from semot.ids import new_mid
from semot.storage.base import Storage
from semot.storage.sql.engine import make_engines
from semot.storage.sql.pg_appender import PgAppender
from semot.storage.sql.sqlite_appender import SqliteAppender
from semot.storage.sql.store import sql_storage
from tests.contract.conftest import sql_parts

pytestmark = pytest.mark.asyncio


def dm(sender: str, to: str, cid: str, text: str = "hi") -> NewMessage:
    users = tuple(sorted((sender, to)))
    return NewMessage(direct_conv(sender, to), sender, cid, "text", {"text": text}, {}, 1000, new_mid(), users)  # type: ignore[arg-type]


def second_node(storage: Storage) -> Storage:
    """Another SQL storage on the same database: what a second node would be."""
    db, _ = sql_parts(storage)
    url = db.engines.write.url.render_as_string(hide_password=False)
    return sql_storage(make_engines(url, schema=db.schema, pool_size=3), schema=db.schema)


async def test_each_backend_appends_with_its_own_appender(sql_store: Storage) -> None:
    db, messages = sql_parts(sql_store)
    appender = messages._appender
    kind = db.dialect
    assert isinstance(appender, SqliteAppender if kind == "sqlite" else PgAppender)


async def test_two_nodes_racing_on_the_same_cids_store_each_once_without_gaps(sql_store: Storage) -> None:
    other = second_node(sql_store)
    try:
        # the first message of a brand-new direct chat, from both nodes at once, 30 times
        results = await asyncio.gather(
            *(node.messages.append_messages([dm("alice", "bob", f"c{i}", text=f"m{i}")]) for i in range(30) for node in (sql_store, other))
        )
    finally:
        await other.close()
    by_cid: dict[str, set[tuple[int, str]]] = {}
    created = 0
    for res in results:
        r = res[0]
        assert isinstance(r, AppendResult), r
        by_cid.setdefault(r.message.cid, set()).add((r.message.seq, r.message.mid))
        created += r.created
    assert created == 30  # one copy stored per cid, the racing one answered with it
    assert all(len(v) == 1 for v in by_cid.values())  # both nodes were told the same seq and mid
    assert sorted(next(iter(v))[0] for v in by_cid.values()) == list(range(1, 31))
    assert await sql_store.messages.conversation_max_seq(direct_conv("alice", "bob")) == 30


async def test_a_batch_mixing_repeats_new_chats_and_groups_keeps_its_order(storage: Storage) -> None:
    first = await storage.messages.append_messages([dm("alice", "bob", "a1"), dm("carol", "dave", "c1")])
    batch = [
        dm("alice", "bob", "a2"),
        dm("alice", "bob", "a1"),  # stored before
        dm("erin", "frank", "e1"),  # a new chat
        dm("alice", "bob", "a2"),  # repeated inside the batch
        dm("carol", "dave", "c2"),
    ]
    out = await storage.messages.append_messages(batch)
    assert all(isinstance(r, AppendResult) for r in out)
    seqs = [(r.message.cid, r.message.seq, r.created) for r in out]  # type: ignore[union-attr]
    assert seqs == [("a2", 2, True), ("a1", 1, False), ("e1", 1, True), ("a2", 2, False), ("c2", 2, True)]
    assert out[1].message.mid == first[0].message.mid  # type: ignore[union-attr]


async def test_sqlite_checkpoints_run_off_the_commit_and_keep_the_wal_bounded(tmp_path: Path) -> None:
    storage = sql_storage(make_engines(f"sqlite+aiosqlite:///{tmp_path / 'semot.db'}"))
    await storage.migrate()
    appender = sql_parts(storage)[1]._appender
    assert isinstance(appender, SqliteAppender)
    ckpt = appender.checkpointer
    ckpt._interval_s = 0.01
    ckpt._restart_pages = 64
    try:
        for i in range(300):
            await storage.messages.append_messages([dm(f"u{i % 20}", f"v{i % 20}", f"c{i}-{k}", text="x" * 200) for k in range(5)])
            if i % 10 == 0:  # the checkpointer's turns: a loaded machine gives its thread few
                await asyncio.sleep(0.05)
        con = appender._con
        assert con is not None
        assert con.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # never inside our COMMIT
        await asyncio.sleep(0.2)
        wal = tmp_path / "semot.db-wal"
        assert ckpt.passes > 0 and ckpt.restarts > 0
        # 1,500 messages with their indexes write about 13 MB of WAL with no checkpoint
        # (measured); restarts keep reusing the start of the file: 1.9-2.3 MB measured on a
        # quiet machine, 7.4 MB once at load 15 (before the checkpointer got more turns)
        assert os.path.getsize(wal) < 6 * 1024 * 1024
        assert await storage.messages.count_messages() == 1500
    finally:
        await storage.close()
