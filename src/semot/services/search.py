"""Message search (docs/search.md): a user's own search over the conversations they are a
member of now, and the auditors' search over every conversation (with the senders' IPs,
the conversation around a hit and a CSV export).

Recalled and burned messages are never found (their documents are dropped with their
bodies, and every search joins the live message row); a user who left a conversation no
longer finds its messages. The audit search does not find recalled messages either:
their bodies are gone; the conversation context shows their tombstones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from semot.domain.messages import Message
from semot.domain.search_text import query_terms
from semot.errors import BadRequest
from semot.storage.search import COUNT_CAP, SearchHit, SearchQuery, SearchStorage

MAX_USER_LIMIT = 50
MAX_AUDIT_LIMIT = 200
CSV_MAX_ROWS = 50_000  # the most rows one CSV export holds (docs/search.md)
MAX_QUERY_CHARS = 200


def _cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise BadRequest("cursor: not a cursor this server gave")
    return int(raw)


def audit_wire(msg: Message, ip: str | None) -> dict[str, Any]:
    """The <msg> wire form plus the sending device's IP (only the audit API shows it)."""
    return {**msg.to_wire(), "ip": ip}


class SearchService:
    def __init__(self, store: SearchStorage, decorate: Callable[[list[Message]], list[Message]] | None = None) -> None:
        self._store = store
        # file messages get their signed URLs as in history (MessageService.attachments)
        self._decorate = decorate or (lambda msgs: msgs)

    def _terms(self, q: str | None) -> tuple[Any, ...]:
        if q is None:
            return ()
        if len(q) > MAX_QUERY_CHARS:
            raise BadRequest(f"q: at most {MAX_QUERY_CHARS} characters")
        return query_terms(q)

    async def user_search(
        self,
        user_id: str,
        *,
        q: str | None,
        conv: str | None = None,
        sender: str | None = None,
        kind: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """`{"hits":[<msg>...],"next":cursor|null}` newest first."""
        if not 1 <= limit <= MAX_USER_LIMIT:
            raise BadRequest(f"limit: 1 to {MAX_USER_LIMIT}")
        terms = self._terms(q)
        if not (q or "").strip() and conv is None and sender is None and kind is None and since is None and until is None:
            raise BadRequest("q: give a keyword or another filter")
        if (q or "").strip() and not terms:
            return {"hits": [], "next": None}  # only punctuation: nothing can match
        query = SearchQuery(
            terms=terms, member=user_id, conv=conv, sender=sender, kind=kind, since=since, until=until
        )
        hits = await self._store.search(query, before=_cursor(cursor), limit=limit + 1)
        more = len(hits) > limit
        hits = hits[:limit]
        msgs = self._decorate([h.message for h in hits])
        return {"hits": [m.to_wire() for m in msgs], "next": str(hits[-1].doc) if more else None}

    def audit_query(
        self,
        *,
        q: str | None,
        user_id: str | None = None,
        receiver: str | None = None,
        conv: str | None = None,
        kind: str | None = None,
        since: int | None = None,
        until: int | None = None,
        ip: str | None = None,
        scope: frozenset[str] | None = None,
    ) -> SearchQuery | None:
        """The audit filters as a query (None: `q` holds no letter or digit, nothing matches)."""
        terms = self._terms(q)
        if (q or "").strip() and not terms:
            return None
        return SearchQuery(
            terms=terms, sender=user_id, member=receiver, not_sender=receiver, conv=conv, kind=kind,
            since=since, until=until, ip=ip.lower() if ip else None, senders=scope,
        )

    async def audit_search(self, query: SearchQuery | None, *, offset: int, limit: int) -> dict[str, Any]:
        """`{"messages":[<msg>+"ip"],"total","total_capped"}` newest first."""
        if not 1 <= limit <= MAX_AUDIT_LIMIT:
            raise BadRequest(f"limit: 1 to {MAX_AUDIT_LIMIT}")
        if query is None:
            return {"messages": [], "total": 0, "total_capped": False}
        hits, total, capped = await self._store.audit_page(query, offset=offset, limit=limit, count_cap=COUNT_CAP)
        return {"messages": self._audit_wire(hits), "total": total, "total_capped": capped}

    def _audit_wire(self, hits: list[SearchHit]) -> list[dict[str, Any]]:
        msgs = self._decorate([h.message for h in hits])
        return [audit_wire(m, h.ip) for m, h in zip(msgs, hits, strict=True)]

    async def export(self, query: SearchQuery | None, *, batch: int = 1000) -> AsyncIterator[list[SearchHit]]:
        """Every matching message (newest first, at most CSV_MAX_ROWS), in batches."""
        if query is None:
            return
        sent, before = 0, None
        while sent < CSV_MAX_ROWS:
            hits = await self._store.search(query, before=before, limit=min(batch, CSV_MAX_ROWS - sent))
            if not hits:
                return
            yield hits
            sent += len(hits)
            before = hits[-1].doc

    async def context(self, conv: str, around: int, limit: int) -> dict[str, Any]:
        """The conversation around a hit: `{"messages":[<msg>+"ip"],"more_before","more_after"}`."""
        if not 1 <= limit <= MAX_AUDIT_LIMIT:
            raise BadRequest(f"limit: 1 to {MAX_AUDIT_LIMIT}")
        rows, more_before, more_after = await self._store.around(conv, around, limit)
        msgs = self._decorate([m for m, _ in rows])
        return {
            "messages": [audit_wire(m, ip) for m, (_, ip) in zip(msgs, rows, strict=True)],
            "more_before": more_before,
            "more_after": more_after,
        }
