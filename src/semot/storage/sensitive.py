"""The storage interface of sensitive words (domain/sensitive.py, services/sensitive_words.py).

Words: one row each, unique by `key` (the word folded, separators taken out: `ＡＢＣ` and
`a b c` are one word). Every node loads the whole list to build its automaton and
re-reads it when the bus says it changed, or when the cheap `signature` (count,
version) differs from the one it built from.

Hits: one row per word found in a text (message, edit, display name, group name,
announcement), written in batches off the send path; listed newest first under filters
(time, user, level, word) and exported in keyset batches.
"""

from __future__ import annotations

import abc
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from semot.ids import now_ms

MAX_EXCERPT = 200
MAX_IP = 64


def new_word_id() -> str:
    return f"sw_{now_ms():x}{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class SensitiveWord:
    id: str
    word: str  # as the administrator wrote it
    key: str  # domain/sensitive.word_key(word): unique
    level: str  # warn, replace, block
    category: str
    created_by: str | None
    created_at: int

    def to_wire(self) -> dict[str, object]:
        return {
            "word_id": self.id,
            "word": self.word,
            "level": self.level,
            "category": self.category,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class WordQuery:
    q: str | None = None  # a part of the word (any case)
    level: str | None = None
    category: str | None = None

    def matches(self, w: SensitiveWord) -> bool:
        if self.level is not None and w.level != self.level:
            return False
        if self.category is not None and w.category != self.category:
            return False
        return not self.q or self.q.lower() in w.word.lower() or self.q.lower() in w.key


@dataclass(frozen=True, slots=True)
class SensitiveHit:
    ts: int
    user_id: str
    target: str  # message, edit, display_name, group_name, announcement
    conv: str | None  # the conversation (messages, edits; g:<id> for group names and announcements)
    ip: str
    word_id: str
    word: str
    level: str
    category: str
    action: str  # blocked, replaced, warned: what was done with the text
    excerpt: str  # the text as written (cut to MAX_EXCERPT): the only record of a blocked one
    id: int = 0  # assigned by the store: with `ts`, the log's order

    def to_wire(self) -> dict[str, object]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "conv": self.conv,
            "ts": self.ts,
            "ip": self.ip,
            "word": self.word,
            "level": self.level,
            "word_id": self.word_id,
            "category": self.category,
            "target": self.target,
            "action": self.action,
            "excerpt": self.excerpt,
        }


@dataclass(frozen=True, slots=True)
class HitQuery:
    """All optional: `since` inclusive, `until` exclusive (ms); `word` a part of the word."""

    user_id: str | None = None
    since: int | None = None
    until: int | None = None
    level: str | None = None
    word: str | None = None
    conv: str | None = None
    target: str | None = None

    def matches(self, h: SensitiveHit) -> bool:
        if self.user_id is not None and h.user_id != self.user_id:
            return False
        if self.since is not None and h.ts < self.since:
            return False
        if self.until is not None and h.ts >= self.until:
            return False
        if self.level is not None and h.level != self.level:
            return False
        if self.conv is not None and h.conv != self.conv:
            return False
        if self.target is not None and h.target != self.target:
            return False
        return not self.word or self.word.lower() in h.word.lower()


def newest_first(h: SensitiveHit) -> tuple[int, int]:
    return (h.ts, h.id)


class SensitiveStorage(abc.ABC):
    # --- words
    @abc.abstractmethod
    async def all_sensitive_words(self) -> list[SensitiveWord]:
        """Every word (what a node builds its automaton from)."""

    @abc.abstractmethod
    async def sensitive_words_signature(self) -> tuple[int, int]:
        """(how many words, a version that grows with every add and delete): a node re-reads
        the list when it differs from the one it built from."""

    @abc.abstractmethod
    async def sensitive_words(
        self, query: WordQuery, *, offset: int, limit: int
    ) -> tuple[list[SensitiveWord], int]:
        """A page of matching words, newest first, and how many match."""

    @abc.abstractmethod
    async def sensitive_categories(self) -> list[str]:
        """The categories in use, sorted."""

    @abc.abstractmethod
    async def add_sensitive_words(self, words: Sequence[SensitiveWord]) -> list[SensitiveWord]:
        """Insert the words whose key is not taken (in one transaction); returns those inserted."""

    @abc.abstractmethod
    async def delete_sensitive_word(self, word_id: str) -> SensitiveWord | None:
        """Delete one word; returns it (None: no such word)."""

    # --- hits
    @abc.abstractmethod
    async def add_sensitive_hits(self, hits: Sequence[SensitiveHit]) -> None:
        """Append in one transaction (ids assigned here)."""

    @abc.abstractmethod
    async def sensitive_hits(self, query: HitQuery, *, offset: int, limit: int) -> tuple[list[SensitiveHit], int]:
        """A page of matching hits, newest first (`ts`, then `id`), and how many match."""

    @abc.abstractmethod
    async def sensitive_hits_before(
        self, query: HitQuery, *, before: tuple[int, int] | None, limit: int
    ) -> list[SensitiveHit]:
        """Matching hits older than `before` (`ts`, `id`; None: the newest), newest first."""

    @abc.abstractmethod
    async def purge_sensitive_hits(self, before_ts: int, *, limit: int) -> int:
        """Delete at most `limit` of the oldest hits older than `before_ts` (ms), in one short
        transaction; returns how many (fewer than `limit`: nothing older is left)."""
