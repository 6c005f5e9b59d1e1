"""Message search storage (docs/search.md): one interface, in memory, on SQLite (FTS5)
and on PostgreSQL (tsvector + GIN), with the same results (tests/contract/test_search_contract.py).

Every message but `system` notices gets an index row ("document") when it is stored, in
the transaction that stores it; its id grows with every document, so "newest first" is
document id descending and a page cursor is the last document id seen. An edit re-indexes
the message under the same id; recall, burn and deletion drop the document (`unindex`).
Every search also joins the live message row and skips recalled and burned ones, so a
stale document can never show a message whose body is gone (the audit total counts
documents only: recall and burn drop them in their own transaction).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from semot.domain.messages import Message
from semot.domain.search_text import QueryTerm

COUNT_CAP = 10_000  # the audit search counts matches exactly up to this many


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[QueryTerm, ...] = ()  # empty: no keyword, the other filters only
    member: str | None = None  # only conversations this user is a member of now
    conv: str | None = None
    sender: str | None = None
    senders: frozenset[str] | None = None  # only messages sent by one of these (an admin's department scope)
    not_sender: str | None = None  # not sent by this user (the audit `receiver` filter)
    kind: str | None = None
    since: int | None = None  # ts >= since (ms)
    until: int | None = None  # ts <= until (ms)
    ip: str | None = None  # the sender's IP starts with this


@dataclass(slots=True)
class SearchHit:
    message: Message
    ip: str | None  # the sending device's IP (audit only; never on the client's wire form)
    doc: int  # the document id: newest first, the page cursor


class SearchStorage(abc.ABC):
    @abc.abstractmethod
    async def search(self, query: SearchQuery, *, before: int | None, limit: int) -> list[SearchHit]:
        """Matching messages newest first, with document id below `before` (a cursor)."""

    @abc.abstractmethod
    async def audit_page(
        self, query: SearchQuery, *, offset: int, limit: int, count_cap: int = COUNT_CAP
    ) -> tuple[list[SearchHit], int, bool]:
        """A page of matching messages newest first, the total (exact up to `count_cap`)
        and whether the count stopped at the cap."""

    @abc.abstractmethod
    async def around(self, conv: str, seq: int, limit: int) -> tuple[list[tuple[Message, str | None]], bool, bool]:
        """Up to `limit` messages of `conv` centred on `seq` (oldest first) with their
        senders' IPs, and whether there are more before and after."""

    @abc.abstractmethod
    async def unindex(self, keys: list[tuple[str, int]]) -> None:
        """Drop the documents of these (conv, seq) messages (retention deletes call this;
        recall and burn do it inside their own transaction)."""

    @abc.abstractmethod
    async def index_size(self) -> int:
        """Bytes the index takes (the benchmark reports it; 0 where unknown)."""
