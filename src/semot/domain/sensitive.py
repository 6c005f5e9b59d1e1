"""Sensitive words (三级敏感词过滤): folding, the matcher and the three levels, pure.

A text is checked after folding every character to one comparable character (the same
length, so a hit maps back to the original characters without bookkeeping):

- NFKC (full-width letters and digits, compatibility forms), then case folding, kept
  only where the result is one character (a few ligatures that would expand are left
  as they are);
- traditional Chinese characters to simplified ones, from OpenCC's character tables
  (opencc-python-reimplemented ships them: TSCharacters plus the Taiwan and Hong Kong
  variant tables), single characters only: `說` and `说` match the same word;

and then ignoring separators between characters: whitespace, punctuation, symbols
(emoji included) and invisible format characters (zero-width spaces). The folding is one
`str.translate` table built once per process; separators are taken out by a second one.
The compact text goes through one Aho-Corasick automaton (pyahocorasick) of every word,
folded the same way. A hit's compact span maps back to the original text, so `replace`
stars exactly the characters of the word as they were written, separators inside it
included (`法 轮` -> `***`), and nothing around it.

Levels: `block` refuses the whole text, `replace` stars the word, `warn` leaves it as it
is; all three are recorded. Where words overlap, every one is a hit; the strongest level
decides what happens to the text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import ahocorasick

from semot.errors import BadRequest, Blocked

Level = Literal["warn", "replace", "block"]
LEVELS: tuple[Level, ...] = ("warn", "replace", "block")
RANK = {"warn": 1, "replace": 2, "block": 3}
MAX_WORD = 64  # characters, as written
MAX_CATEGORY = 32
DEFAULT_CATEGORY = "general"
STAR = "*"

# what was done with the text, recorded with each hit
BLOCKED, REPLACED, WARNED = "blocked", "replaced", "warned"
ACTIONS = (BLOCKED, REPLACED, WARNED)
# what a hit was found in
TARGETS = ("message", "edit", "display_name", "group_name", "announcement")

_SEPARATOR_CATEGORIES = ("Z", "P", "S", "Cc", "Cf")
# the planes worth a table entry: the BMP, and the emoji and symbol blocks of plane 1
_RANGES = ((0, 0x10000), (0x1F000, 0x1FB00))


class BlockedText(Blocked):
    """A display name, group name or announcement with a `block` word: 400 `blocked`
    (PROTOCOL.md §7); a message is refused with the plain `Blocked`."""

    http_status = 400


def _opencc_dir() -> Path | None:
    try:
        import opencc
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    return Path(opencc.__file__).parent / "dictionary"


def _chinese_table() -> dict[str, str]:
    """Traditional (and regional variant) characters -> simplified, single characters."""
    folder = _opencc_dir()
    table: dict[str, str] = {}
    if folder is None:
        return table
    # variants first (臺 -> 台 as written in Taiwan), then traditional -> simplified on top
    for name in ("HKVariantsRev.txt", "TWVariantsRev.txt", "TSCharacters.txt"):
        path = folder / name
        if not path.is_file():
            continue
        for line in path.read_text("utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            src, targets = parts[0], parts[1].split(" ")
            dst = targets[0] if targets else ""
            if len(src) == 1 and len(dst) == 1 and src != dst:
                table[src] = table.get(dst, dst)
    # a chain (variant -> traditional -> simplified) ends at its last link
    for src, dst in list(table.items()):
        seen = 0
        while dst in table and table[dst] != dst and seen < 4:
            dst, seen = table[dst], seen + 1
        table[src] = dst
    return table


@lru_cache(maxsize=1)
def tables() -> tuple[dict[int, str], dict[int, None]]:
    """(fold, strip): the two translate tables, built once per process (~0.3 s)."""
    chinese = _chinese_table()
    fold: dict[int, str] = {}
    strip: dict[int, None] = {}
    for lo, hi in _RANGES:
        for cp in range(lo, hi):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            ch = chr(cp)
            cat = unicodedata.category(ch)
            if cat.startswith(_SEPARATOR_CATEGORIES) or cat in _SEPARATOR_CATEGORIES:
                strip[cp] = None
                continue
            out = ch
            n = unicodedata.normalize("NFKC", ch)
            if len(n) == 1:
                out = n
            c = out.casefold()
            if len(c) == 1:
                out = c
            elif len(out.lower()) == 1:
                out = out.lower()
            out = chinese.get(out, out)
            if out != ch:
                if unicodedata.category(out).startswith(_SEPARATOR_CATEGORIES):
                    strip[cp] = None  # a full-width space or comma is a separator too
                else:
                    fold[cp] = out
    for src, dst in chinese.items():  # supplementary-plane characters of the tables
        if ord(src) not in fold and ord(src) >= 0x10000:
            fold[ord(src)] = dst
    return fold, strip


def fold_text(text: str) -> str:
    """Each character folded (same length as `text`)."""
    return text.translate(tables()[0])


def word_key(word: str) -> str:
    """What a word is matched as: folded, separators taken out ('' if nothing is left)."""
    fold, strip = tables()
    return word.translate(fold).translate(strip)


def clean_word(word: str) -> tuple[str, str]:
    """(the word as written, trimmed; its key): BadRequest when it cannot be a word."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in word):  # before trimming: as the API's schema says
        raise BadRequest("word: control characters are not allowed")
    word = word.strip()
    if not word or len(word) > MAX_WORD:
        raise BadRequest(f"word: 1-{MAX_WORD} characters")
    nfc = unicodedata.normalize("NFC", word)
    word = nfc if len(nfc) <= MAX_WORD else word  # NFC lengthens a few characters: the word as written then
    key = word_key(word)
    if not key:
        raise BadRequest("word: only separators (spaces, punctuation, symbols): nothing to match")
    return word, key


def clean_level(level: str) -> Level:
    if level not in RANK:
        raise BadRequest(f"level: one of {', '.join(LEVELS)}")
    return level  # type: ignore[return-value]


def clean_category(category: str | None) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in category or ""):
        raise BadRequest(f"category: 1-{MAX_CATEGORY} characters, no control characters")
    text = (category or "").strip() or DEFAULT_CATEGORY
    if len(text) > MAX_CATEGORY:
        raise BadRequest(f"category: 1-{MAX_CATEGORY} characters, no control characters")
    return text


@dataclass(frozen=True, slots=True)
class WordEntry:
    """One word of the list, as the matcher needs it."""

    id: str
    word: str
    level: Level
    category: str


@dataclass(frozen=True, slots=True)
class Hit:
    word_id: str
    word: str
    level: Level
    category: str
    start: int  # in the original text
    end: int  # exclusive


@dataclass(frozen=True, slots=True)
class Screened:
    """A text after the check: `text` with `replace` words starred (unchanged for warn),
    the hits, and what was done (None: no hit)."""

    text: str
    hits: tuple[Hit, ...]
    action: str | None

    @property
    def blocked(self) -> bool:
        return self.action == BLOCKED


class _CodeTable(dict[int, "str | None"]):
    """Code point -> the folded character (None: a separator, taken out). Filled for the
    BMP and the emoji blocks up front (identity entries too: a dict subclass's
    `__missing__` is a Python call, far slower than a hit); any other character on first
    sight."""

    def __missing__(self, cp: int) -> str | None:
        fold, strip = tables()
        ch = chr(cp)
        if cp in strip or unicodedata.category(ch) in _SEPARATOR_CATEGORIES or unicodedata.category(ch)[0] in "ZPS":
            value: str | None = None
        else:
            value = fold.get(cp, ch)
        if len(self) < 2_000_000:
            self[cp] = value
        return value


@lru_cache(maxsize=1)
def code_table() -> _CodeTable:
    fold, strip = tables()
    table = _CodeTable()
    for lo, hi in _RANGES:
        for cp in range(lo, hi):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            table[cp] = None if cp in strip else (fold.get(cp) or chr(cp))
    for cp, dst in fold.items():
        table[cp] = dst
    return table


def _units(folded: str) -> str:
    """The automaton's alphabet: the folded text's UTF-8 bytes, one character each
    (latin-1). pyahocorasick looks a node's children up one by one, so a root with
    thousands of children (every first character of 10,000 Chinese words) would make
    each step slow; in UTF-8 no node has more than 64 children in practice (a Chinese
    character is a lead byte E4-E9 and two bytes of 64 values), ASCII stays one step a
    character, and a match can only start at a character's lead byte (UTF-8 is
    self-synchronising), so hits stay aligned. Encoding and decoding are C fast paths."""
    return folded if folded.isascii() else folded.encode("utf-8").decode("latin-1")


def _char_of_unit(folded: str) -> list[int]:
    """For each unit of `_units(folded)`: the index of its character in `folded`."""
    out: list[int] = []
    for i, c in enumerate(folded):
        o = ord(c)
        out.extend([i] * (1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4))
    return out


class Matcher:
    """An immutable automaton of the word list; build it off the event loop (a 10,000-word
    list takes tens of milliseconds), swap it in whole."""

    def __init__(self, words: Iterable[WordEntry]) -> None:
        entries = list(words)
        # the tables (~0.15 s) are built on the first list that has words, not on import
        codes = self._codes = code_table() if entries else _CodeTable()
        auto: Any = ahocorasick.Automaton(ahocorasick.STORE_ANY)
        by_key: dict[str, WordEntry] = {}
        for w in entries:
            key = w.word.translate(codes)
            old = by_key.get(key)
            if key and (old is None or RANK[w.level] > RANK[old.level]):
                by_key[key] = w  # two spellings of one key: the stronger level wins
        for key, w in by_key.items():
            auto.add_word(_units(key), (len(key), w))  # (its length in characters, the word)
        self.size = len(by_key)
        if by_key:
            auto.make_automaton()
            self._auto: Any = auto
        else:
            self._auto = None

    def check(self, text: str) -> Screened:
        """The hot path: one translate, one encode and one automaton walk when nothing matches."""
        if self._auto is None or not text:
            return Screened(text, (), None)
        codes = self._codes
        folded = text.translate(codes)
        units = _units(folded)
        found = list(self._auto.iter(units)) if units else []
        if not found:
            return Screened(text, (), None)
        positions: Sequence[int]  # folded character -> its index in `text`
        if len(folded) == len(text):
            positions = range(len(text))
        else:
            positions = [i for i, c in enumerate(text) if codes[ord(c)] is not None]
        char_of: Sequence[int] = range(len(units)) if len(units) == len(folded) else _char_of_unit(folded)
        hits: dict[tuple[str, int], Hit] = {}
        for end, (length, w) in found:
            last = char_of[end]
            start = positions[last - length + 1]
            stop = positions[last] + 1
            hits.setdefault((w.id, start), Hit(w.id, w.word, w.level, w.category, start, stop))
        ordered = tuple(sorted(hits.values(), key=lambda h: (h.start, h.end)))
        top = max(RANK[h.level] for h in ordered)
        if top == RANK["block"]:
            return Screened(text, ordered, BLOCKED)
        if top == RANK["warn"]:
            return Screened(text, ordered, WARNED)
        chars = list(text)
        for h in ordered:
            if h.level == "replace":
                for i in range(h.start, h.end):
                    chars[i] = STAR
        return Screened("".join(chars), ordered, REPLACED)


EMPTY = Matcher(())


def bench_words(n: int, *, seed: int = 7) -> list[WordEntry]:  # pragma: no cover - benchmarks and tests
    """`n` made-up words (2-4 CJK characters or 4-8 Latin letters) for benchmarks."""
    import random

    rnd = random.Random(seed)
    out = []
    for i in range(n):
        if i % 2:
            word = "".join(chr(rnd.randint(0x4E00, 0x9FA5)) for _ in range(rnd.randint(2, 4)))
        else:
            word = "".join(chr(rnd.randint(97, 122)) for _ in range(rnd.randint(4, 8)))
        out.append(WordEntry(str(i), word, LEVELS[i % 3], DEFAULT_CATEGORY))
    return out

