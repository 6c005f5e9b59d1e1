"""The search tokenizer (docs/search.md): one function for stored text and for queries.

Text is NFKC-normalised and case-folded, then split into runs:
- a run of CJK characters (Han, kana, Hangul) becomes its overlapping bigrams plus a
  trailing unigram: `请把合同发给我` -> 请把 把合 合同 同发 发给 给我 我. So any two
  neighbouring characters are one token, and a one-character query works as a prefix
  (`合` finds every token that starts with it, the trailing unigram covers the end);
- a run of other letters, digits and marks (English words, numbers, `abc123`) is one
  token (at most MAX_TOKEN_CHARS characters);
- everything else separates.

A query becomes terms that must all match: each CJK run of two or more characters is a
phrase of its bigrams (adjacent, in order), a single CJK character is a prefix term,
each word is a token. Pure: no storage, no I/O.

A stored document also carries one conversation token (`conv_token`): a private-use
character (which the text tokenizer never yields, so no query term can match it) and a
hash of the conversation id. The SQL stores match it with the keywords to restrict a
search to a user's conversations inside the full-text index (docs/search.md).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any

MAX_TOKENS = 10_000  # per message (PostgreSQL positions end at 16,383)
MAX_TOKEN_CHARS = 64
MAX_QUERY_TERMS = 32


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x3FFFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x3040 <= cp <= 0x30FF  # hiragana, katakana
        or 0x31F0 <= cp <= 0x31FF
        or 0xAC00 <= cp <= 0xD7AF  # Hangul syllables
        or 0x1100 <= cp <= 0x11FF
        or 0x3130 <= cp <= 0x318F
    )


def _is_word(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


def _runs(text: str) -> list[tuple[bool, str]]:
    """(is_cjk, run) in order."""
    norm = unicodedata.normalize("NFKC", text).casefold()
    out: list[tuple[bool, str]] = []
    cur: list[str] = []
    cur_cjk = False
    for ch in norm:
        if _is_cjk(ord(ch)):
            kind: bool | None = True
        elif _is_word(ch):
            kind = False
        else:
            kind = None
        if cur and (kind is None or kind != cur_cjk):
            out.append((cur_cjk, "".join(cur)))
            cur = []
        if kind is not None:
            cur.append(ch)
            cur_cjk = kind
    if cur:
        out.append((cur_cjk, "".join(cur)))
    return out


def _cjk_tokens(run: str) -> list[str]:
    grams = [run[i : i + 2] for i in range(len(run) - 1)]
    grams.append(run[-1])
    return grams


def tokenize(text: str) -> list[str]:
    """The tokens of a stored text, in order (a token's position is its index + 1)."""
    out: list[str] = []
    for cjk, run in _runs(text):
        if cjk:
            out.extend(_cjk_tokens(run))
        else:
            out.append(run[:MAX_TOKEN_CHARS])
        if len(out) >= MAX_TOKENS:
            return out[:MAX_TOKENS]
    return out


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """Tokens that must occur adjacent and in order; `prefix`: one token, matched as a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


def query_terms(q: str) -> tuple[QueryTerm, ...]:
    """What a search for `q` must match (empty: `q` holds no letter or digit)."""
    terms: list[QueryTerm] = []
    for cjk, run in _runs(q):
        if cjk and len(run) == 1:
            term = QueryTerm((run,), prefix=True)
        elif cjk:
            term = QueryTerm(tuple(run[i : i + 2] for i in range(len(run) - 1)))
        else:
            term = QueryTerm((run[:MAX_TOKEN_CHARS],))
        if term not in terms:
            terms.append(term)
    return tuple(terms[:MAX_QUERY_TERMS])


def searchable_text(kind: str, body: dict[str, Any]) -> str:
    """The text of a message that search finds: a text's text, a file's name, a location's
    title and address; nothing for other kinds."""
    parts: list[Any] = []
    if kind == "text":
        parts = [body.get("text")]
    elif kind in ("file", "image", "video", "voice"):
        parts = [body.get("name")]
    elif kind == "location":
        parts = [body.get("title"), body.get("address")]
    return " ".join(p for p in parts if isinstance(p, str))


def message_tokens(kind: str, body: dict[str, Any]) -> list[str]:
    return tokenize(searchable_text(kind, body))


CONV_MARK = "\ue000"  # private use (category Co): our tokenizer separates there, FTS5 keeps it


def conv_token(conv: str) -> str:
    """The token naming a document's conversation (a 64-bit hash: a collision only costs a
    few rows that the stores' exact `conv` filter drops)."""
    return CONV_MARK + hashlib.blake2b(conv.encode(), digest_size=8).hexdigest()


def document_tokens(conv: str, tokens: list[str]) -> list[str]:
    """What a stored document holds: the text's tokens, then its conversation token."""
    return [*tokens, conv_token(conv)]


def matches(tokens: list[str], terms: tuple[QueryTerm, ...]) -> bool:
    """Whether a text's tokens match every term (the in-memory store's search; the SQL
    stores answer the same question with FTS5 and tsquery)."""
    positions: dict[str, list[int]] = {}
    for i, t in enumerate(tokens):
        positions.setdefault(t, []).append(i)
    for term in terms:
        if term.prefix:
            if not any(t.startswith(term.tokens[0]) for t in positions):
                return False
            continue
        first = positions.get(term.tokens[0])
        if not first:
            return False
        rest = term.tokens[1:]
        if not any(all(p + k + 1 in set(positions.get(tok, ())) for k, tok in enumerate(rest)) for p in first):
            return False
    return True


def fts5_query(terms: tuple[QueryTerm, ...], convs: tuple[str, ...] = ()) -> str:
    """The FTS5 MATCH expression of the terms (tokens are letters/digits only; quoted anyway),
    and, given `convs`, of "in one of these conversations" (their conversation tokens)."""
    parts = []
    for term in terms:
        phrase = '"' + " ".join(t.replace('"', '""') for t in term.tokens) + '"'
        parts.append(phrase + "*" if term.prefix else phrase)
    if convs:
        parts.append("(" + " OR ".join(f'"{conv_token(c)}"' for c in convs) + ")")
    return " AND ".join(parts)


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_literal(terms: tuple[QueryTerm, ...], convs: tuple[str, ...] = ()) -> str:
    """A PostgreSQL tsquery literal (cast, never parsed by a text search configuration),
    and, given `convs`, of "in one of these conversations"."""
    parts = []
    for term in terms:
        if term.prefix:
            parts.append(_lexeme(term.tokens[0]) + ":*")
        else:
            parts.append("(" + " <-> ".join(_lexeme(t) for t in term.tokens) + ")")
    if convs:
        parts.append("(" + " | ".join(_lexeme(conv_token(c)) for c in convs) + ")")
    return " & ".join(parts)


def tsvector_literal(tokens: list[str]) -> str:
    """A PostgreSQL tsvector literal of the tokens with their positions (1-based)."""
    positions: dict[str, list[str]] = {}
    for i, t in enumerate(tokens, 1):
        positions.setdefault(t, []).append(str(i))
    return " ".join(_lexeme(t) + ":" + ",".join(p[:255]) for t, p in positions.items())
