"""MemorySensitive: sensitive words and their hits in lists (same contract as SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from semot.storage.sensitive import (
    HitQuery,
    SensitiveHit,
    SensitiveStorage,
    SensitiveWord,
    WordQuery,
    newest_first,
)


class MemorySensitive(SensitiveStorage):
    def __init__(self) -> None:
        self._words: dict[str, SensitiveWord] = {}  # by key
        self._changed = 0
        self._hits: list[SensitiveHit] = []
        self._next_hit = 1

    async def all_sensitive_words(self) -> list[SensitiveWord]:
        return list(self._words.values())

    async def sensitive_words_signature(self) -> tuple[int, int]:
        return len(self._words), self._changed

    async def sensitive_words(
        self, query: WordQuery, *, offset: int, limit: int
    ) -> tuple[list[SensitiveWord], int]:
        found = sorted(
            (w for w in self._words.values() if query.matches(w)), key=lambda w: (w.created_at, w.id), reverse=True
        )
        return found[offset : offset + limit], len(found)

    async def sensitive_categories(self) -> list[str]:
        return sorted({w.category for w in self._words.values()})

    async def add_sensitive_words(self, words: Sequence[SensitiveWord]) -> list[SensitiveWord]:
        added = []
        for w in words:
            if w.key not in self._words:
                self._words[w.key] = w
                added.append(w)
                self._changed += 1
        return added

    async def delete_sensitive_word(self, word_id: str) -> SensitiveWord | None:
        for key, w in self._words.items():
            if w.id == word_id:
                del self._words[key]
                self._changed += 1
                return w
        return None

    async def add_sensitive_hits(self, hits: Sequence[SensitiveHit]) -> None:
        for h in hits:
            self._hits.append(replace(h, id=self._next_hit))
            self._next_hit += 1

    def _matching(self, query: HitQuery) -> list[SensitiveHit]:
        return sorted((h for h in self._hits if query.matches(h)), key=newest_first, reverse=True)

    async def sensitive_hits(self, query: HitQuery, *, offset: int, limit: int) -> tuple[list[SensitiveHit], int]:
        found = self._matching(query)
        return found[offset : offset + limit], len(found)

    async def sensitive_hits_before(
        self, query: HitQuery, *, before: tuple[int, int] | None, limit: int
    ) -> list[SensitiveHit]:
        found = self._matching(query)
        if before is not None:
            found = [h for h in found if newest_first(h) < before]
        return found[:limit]

    async def purge_sensitive_hits(self, before_ts: int, *, limit: int) -> int:
        old = sorted((h for h in self._hits if h.ts < before_ts), key=newest_first)[:limit]
        gone = {h.id for h in old}
        self._hits = [h for h in self._hits if h.id not in gone]
        return len(gone)
