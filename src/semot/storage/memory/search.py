"""Message search in memory (storage/search.py): the documents live beside the messages
(MemoryMessages keeps them up to date as it appends, edits, recalls and burns)."""

from __future__ import annotations

from dataclasses import dataclass, field

from semot.domain.messages import BURNED, RECALLED, SYSTEM, Message
from semot.domain.search_text import matches, message_tokens
from semot.storage.memory.db import MemoryDb, clone
from semot.storage.search import COUNT_CAP, SearchHit, SearchQuery, SearchStorage

Key = tuple[str, int]


@dataclass(slots=True)
class Doc:
    conv: str
    seq: int
    sender: str
    ts: int
    tokens: list[str]


@dataclass(slots=True)
class MemorySearchIndex:
    docs: dict[int, Doc] = field(default_factory=dict)
    by_key: dict[Key, int] = field(default_factory=dict)
    ips: dict[Key, str | None] = field(default_factory=dict)
    next_id: int = 1

    def add(self, msg: Message, ip: str | None) -> None:
        key = (msg.conv, msg.seq)
        self.ips[key] = ip
        if msg.kind == SYSTEM or key in self.by_key:
            return
        self.docs[self.next_id] = Doc(msg.conv, msg.seq, msg.sender, msg.ts, message_tokens(msg.kind, msg.body))
        self.by_key[key] = self.next_id
        self.next_id += 1

    def reindex(self, msg: Message) -> None:
        doc = self.by_key.get((msg.conv, msg.seq))
        if doc is not None:
            self.docs[doc].tokens = message_tokens(msg.kind, msg.body)

    def drop(self, conv: str, seq: int) -> None:
        doc = self.by_key.pop((conv, seq), None)
        if doc is not None:
            del self.docs[doc]


class MemorySearch(SearchStorage):
    def __init__(self, db: MemoryDb, index: MemorySearchIndex) -> None:
        self._db = db
        self._index = index

    def _matching(self, q: SearchQuery, before: int | None) -> list[SearchHit]:
        db, out = self._db, []
        convs = None
        if q.member is not None:
            convs = {c for c, members in db.members.items() if q.member in members}
        for doc_id in sorted(self._index.docs, reverse=True):
            if before is not None and doc_id >= before:
                continue
            d = self._index.docs[doc_id]
            row = db.messages.get(d.conv, {}).get(d.seq)
            if row is None or row.message.kind in (RECALLED, BURNED):
                continue
            m = row.message
            ip = self._index.ips.get((d.conv, d.seq))
            if (
                (convs is not None and d.conv not in convs)
                or (q.conv is not None and d.conv != q.conv)
                or (q.sender is not None and d.sender != q.sender)
                or (q.senders is not None and d.sender not in q.senders)
                or (q.not_sender is not None and d.sender == q.not_sender)
                or (q.kind is not None and m.kind != q.kind)
                or (q.since is not None and d.ts < q.since)
                or (q.until is not None and d.ts > q.until)
                or (q.ip is not None and not (ip or "").startswith(q.ip))
                or (q.terms and not matches(d.tokens, q.terms))
            ):
                continue
            out.append(SearchHit(clone(m), ip, doc_id))
        return out

    async def search(self, query: SearchQuery, *, before: int | None, limit: int) -> list[SearchHit]:
        return self._matching(query, before)[:limit]

    async def audit_page(
        self, query: SearchQuery, *, offset: int, limit: int, count_cap: int = COUNT_CAP
    ) -> tuple[list[SearchHit], int, bool]:
        hits = self._matching(query, None)
        return hits[offset : offset + limit], min(len(hits), count_cap), len(hits) > count_cap

    async def around(self, conv: str, seq: int, limit: int) -> tuple[list[tuple[Message, str | None]], bool, bool]:
        rows = self._db.messages.get(conv, {})
        seqs = sorted(rows)
        older = [s for s in seqs if s < seq]
        newer = [s for s in seqs if s >= seq]
        n_before = min(len(older), limit // 2)
        n_after = min(len(newer), limit - n_before)
        n_before = min(len(older), limit - n_after)
        picked = older[len(older) - n_before :] + newer[:n_after]
        out = [(clone(rows[s].message), self._index.ips.get((conv, s))) for s in picked]
        return out, n_before < len(older), n_after < len(newer)

    async def unindex(self, keys: list[tuple[str, int]]) -> None:
        for conv, seq in keys:
            self._index.drop(conv, seq)

    async def index_size(self) -> int:
        return 0
