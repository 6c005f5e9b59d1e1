"""Message search storage (storage/search.py): the same results in memory, on SQLite
(FTS5) and on PostgreSQL (tsvector + GIN)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from semot.domain.records import NewMessage
from semot.domain.search_text import fts5_query, query_terms
from semot.storage.base import Storage
from semot.storage.search import SearchQuery
from semot.storage.sql import search_store
from semot.storage.sql.migrate import alembic_config

_n = itertools.count(1)
AB, AC = "d:alice:bob", "d:alice:carol"


async def _send(store: Storage, conv: str, sender: str, text: str, *, ip: str = "10.0.0.1", kind: str = "text") -> int:
    n = next(_n)
    users = tuple(conv.split(":")[1:])
    body = {"text": text} if kind == "text" else {"lat": 1.0, "lng": 2.0, "title": text}
    item = NewMessage(conv, sender, f"c{n}", kind, body, {}, 1_000_000 + n, f"m{n}", direct_users=(users[0], users[1]), ip=ip)
    (res,) = await store.messages.append_messages([item])
    assert not isinstance(res, Exception)
    return res.message.seq


async def _texts(store: Storage, q: str, **kw: object) -> list[str]:
    hits = await store.search.search(SearchQuery(terms=query_terms(q), **kw), before=None, limit=50)  # type: ignore[arg-type]
    return [h.message.body.get("text") or h.message.body.get("title") for h in hits]


async def _corpus(store: Storage) -> None:
    await _send(store, AB, "alice", "请把合同发给我")
    await _send(store, AB, "bob", "Hello World, order 20240315 shipped", ip="192.168.1.7")
    await _send(store, AC, "carol", "合同已经签好了 hello")
    await _send(store, AC, "alice", "会议 at 3pm 在三楼", ip="2001:db8::1")
    await _send(store, AB, "bob", "北京", kind="location")


async def test_chinese_english_numbers_and_mixed(storage: Storage) -> None:
    await _corpus(storage)
    assert await _texts(storage, "合同") == ["合同已经签好了 hello", "请把合同发给我"]  # newest first
    assert await _texts(storage, "合同发") == ["请把合同发给我"]
    assert await _texts(storage, "同发给") == ["请把合同发给我"]
    assert await _texts(storage, "合") == ["合同已经签好了 hello", "请把合同发给我"]  # one character: a prefix
    assert await _texts(storage, "我") == ["请把合同发给我"]  # the trailing unigram
    assert await _texts(storage, "HELLO") == ["合同已经签好了 hello", "Hello World, order 20240315 shipped"]
    assert await _texts(storage, "hello 合同") == ["合同已经签好了 hello"]
    assert await _texts(storage, "20240315") == ["Hello World, order 20240315 shipped"]
    assert await _texts(storage, "３ｐｍ 三楼") == ["会议 at 3pm 在三楼"]  # NFKC: full-width forms
    assert await _texts(storage, "北京") == ["北京"]  # a location's title
    assert await _texts(storage, "同合") == []
    assert await _texts(storage, "worlds") == []


async def test_filters_membership_and_paging(storage: Storage) -> None:
    await _corpus(storage)
    assert await _texts(storage, "合同", member="bob") == ["请把合同发给我"]
    assert await _texts(storage, "hello", member="carol") == ["合同已经签好了 hello"]
    assert await _texts(storage, "合同", conv=AC) == ["合同已经签好了 hello"]
    assert await _texts(storage, "", sender="bob") == ["北京", "Hello World, order 20240315 shipped"]
    assert await _texts(storage, "", sender="bob", kind="location") == ["北京"]
    assert await _texts(storage, "", ip="192.168.") == ["Hello World, order 20240315 shipped"]
    assert await _texts(storage, "", ip="2001:db8") == ["会议 at 3pm 在三楼"]
    assert await _texts(storage, "", member="alice", not_sender="alice") == [
        "北京", "合同已经签好了 hello", "Hello World, order 20240315 shipped",
    ]
    assert await _texts(storage, "", senders=frozenset({"carol"})) == ["合同已经签好了 hello"]
    all_hits = await storage.search.search(SearchQuery(), before=None, limit=50)
    assert len(all_hits) == 5
    since = all_hits[2].message.ts
    assert await _texts(storage, "", since=since, until=all_hits[1].message.ts) == [
        "会议 at 3pm 在三楼", "合同已经签好了 hello",
    ]
    first = await storage.search.search(SearchQuery(), before=None, limit=2)
    second = await storage.search.search(SearchQuery(), before=first[-1].doc, limit=2)
    assert [h.message.seq for h in first + second] == [h.message.seq for h in all_hits[:4]]
    assert all_hits[0].ip == "10.0.0.1" and all_hits[3].ip == "192.168.1.7"
    page, total, capped = await storage.search.audit_page(SearchQuery(), offset=1, limit=2, count_cap=3)
    assert [h.doc for h in page] == [h.doc for h in all_hits[1:3]] and (total, capped) == (3, True)
    page, total, capped = await storage.search.audit_page(SearchQuery(terms=query_terms("合同")), offset=0, limit=1)
    assert len(page) == 1 and (total, capped) == (2, False)
    page, total, capped = await storage.search.audit_page(SearchQuery(), offset=3, limit=5)  # the last page
    assert [h.doc for h in page] == [h.doc for h in all_hits[3:]] and (total, capped) == (5, False)
    page, total, capped = await storage.search.audit_page(SearchQuery(), offset=2, limit=2, count_cap=3)
    assert [h.doc for h in page] == [h.doc for h in all_hits[2:4]] and (total, capped) == (3, True)
    page, total, capped = await storage.search.audit_page(SearchQuery(), offset=9, limit=2)
    assert page == [] and (total, capped) == (5, False)
    page, total, capped = await storage.search.audit_page(SearchQuery(terms=query_terms("hello"), member="dave"), offset=0, limit=5)
    assert page == [] and (total, capped) == (0, False)  # a member of no conversation


async def test_member_of_many_conversations(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_CONV_TOKENS conversations the SQL stores match over every conversation and
    filter by membership: the same results."""
    await _corpus(storage)
    monkeypatch.setattr(search_store, "MAX_CONV_TOKENS", 1)
    assert await _texts(storage, "合同", member="alice") == ["合同已经签好了 hello", "请把合同发给我"]
    assert await _texts(storage, "hello", member="bob") == ["Hello World, order 20240315 shipped"]
    assert await _texts(storage, "", member="alice", not_sender="alice") == [
        "北京", "合同已经签好了 hello", "Hello World, order 20240315 shipped",
    ]


async def test_recall_burn_edit_and_unindex(storage: Storage) -> None:
    seq = await _send(storage, AB, "alice", "机密合同 alpha")
    other = await _send(storage, AB, "alice", "合同 beta")
    third = await _send(storage, AB, "alice", "合同 gamma")
    await storage.messages.recall(AB, seq)
    assert await _texts(storage, "合同") == ["合同 gamma", "合同 beta"]
    edited = await storage.messages.edit_text(AB, other, sender="alice", text="协议 delta", now=5, sent_after=0)
    assert edited is not None
    assert await _texts(storage, "合同") == ["合同 gamma"]
    assert await _texts(storage, "协议") == ["协议 delta"]
    assert await _texts(storage, "beta") == []
    await storage.search.unindex([(AB, third)])
    assert await _texts(storage, "合同") == []
    assert await _texts(storage, "delta") == ["协议 delta"]
    msgs, more_before, more_after = await storage.search.around(AB, other, 2)
    assert [m.seq for m, _ in msgs] == [seq, other] and not more_before and more_after
    assert msgs[0][0].kind == "recalled" and msgs[1][1] == "10.0.0.1"


async def test_burned_messages_are_not_found(storage: Storage) -> None:
    n = next(_n)
    item = NewMessage(AB, "alice", f"c{n}", "text", {"text": "阅后即焚 secret"}, {"burn_s": 1}, 1000 + n, f"m{n}",
                      direct_users=("alice", "bob"))
    (res,) = await storage.messages.append_messages([item])
    assert not isinstance(res, Exception)
    assert await _texts(storage, "secret") == ["阅后即焚 secret"]
    await storage.messages.set_read(AB, "bob", res.message.seq, 10_000)
    assert await storage.messages.claim_due_burns(10_000_000, 10) == [(AB, res.message.seq)]
    assert await _texts(storage, "secret") == []
    assert await _texts(storage, "") == []


def test_migration_0019_indexes_stored_messages_with_their_conversation(tmp_path: Path) -> None:
    """Messages stored before 0019 get documents with their conversation token: a member's
    search (keywords AND one of their conversations) finds them like new ones."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0018")
        for seq, (conv, text) in enumerate([(AB, "请把合同发给我"), (AC, "合同 hello"), (AB, "hello")], 1):
            conn.execute(
                sa.text(
                    "INSERT INTO messages (conv, seq, mid, cid, sender, kind, body, opts, ts) "
                    "VALUES (:conv, :seq, :mid, :mid, 'alice', 'text', :body, '{}', :seq)"
                ),
                {"conv": conv, "seq": seq, "mid": f"old{seq}", "body": json.dumps({"text": text})},
            )
        command.upgrade(alembic_config(conn), "head")

        def found(q: str, convs: tuple[str, ...]) -> list[int]:
            sql = "SELECT rowid FROM message_fts WHERE message_fts MATCH :m ORDER BY rowid"
            return [r[0] for r in conn.execute(sa.text(sql), {"m": fts5_query(query_terms(q), convs)})]

        assert found("合同", (AB,)) == [1]
        assert found("合同", (AB, AC)) == [1, 2]
        assert found("hello", (AB,)) == [3]
        assert found("", (AC,)) == [2]
