"""Sensitive words and hits on every backend (memory, SQLite, PostgreSQL): the same
contract: unique folded keys (an import's duplicates left out), the (count, version)
signature every change moves, filtered pages newest first, the hits' filters and the
export's keyset walk; and the matcher built from what the store holds."""

from __future__ import annotations

import pytest

from semot.bus.local import LocalBus
from semot.domain.sensitive import Matcher, WordEntry, clean_level, word_key
from semot.services.sensitive_words import SensitiveWords
from semot.storage.base import Storage
from semot.storage.sensitive import HitQuery, SensitiveHit, SensitiveWord, WordQuery, new_word_id
from tests.contract.conftest import storage  # noqa: F401  (memory, sqlite, postgresql)

pytestmark = pytest.mark.asyncio


def w(text: str, level: str = "warn", category: str = "general", at: int = 1000) -> SensitiveWord:
    return SensitiveWord(new_word_id(), text, word_key(text), level, category, "root", at)


def hit(ts: int, user: str, word: str = "bad", level: str = "warn", target: str = "message") -> SensitiveHit:
    return SensitiveHit(ts=ts, user_id=user, target=target, conv="d:a:b", ip="10.0.0.1", word_id="sw_1", word=word,
                        level=level, category="general", action="warned", excerpt=f"a {word} text")


async def test_words_unique_by_folded_key_and_signature(storage: Storage) -> None:
    s = storage.sensitive
    assert await s.sensitive_words_signature() == (0, 0)
    added = await s.add_sensitive_words([w("BadWord", "block", "abuse", 1), w("说谎", "replace", at=2), w("ｂａｄ ｗｏｒｄ")])
    assert [a.word for a in added] == ["BadWord", "说谎"]  # the full-width spelling folds to the same key
    count, version = await s.sensitive_words_signature()
    assert count == 2 and version > 0
    assert await s.add_sensitive_words([w("bad-word")]) == []
    assert await s.sensitive_words_signature() == (2, version)  # nothing changed
    page, total = await s.sensitive_words(WordQuery(), offset=0, limit=10)
    assert total == 2 and [p.word for p in page] == ["说谎", "BadWord"]  # newest first
    page, total = await s.sensitive_words(WordQuery(q="badw"), offset=0, limit=10)
    assert total == 1 and page[0].level == "block" and page[0].category == "abuse" and page[0].created_by == "root"
    assert (await s.sensitive_words(WordQuery(level="replace"), offset=0, limit=10))[1] == 1
    assert (await s.sensitive_words(WordQuery(category="abuse"), offset=0, limit=10))[1] == 1
    assert await s.sensitive_categories() == ["abuse", "general"]
    gone = await s.delete_sensitive_word(added[0].id)
    assert gone is not None and gone.word == "BadWord"
    assert await s.delete_sensitive_word(added[0].id) is None
    count2, version2 = await s.sensitive_words_signature()
    assert count2 == 1 and version2 > version
    words = await s.all_sensitive_words()
    m = Matcher(WordEntry(x.id, x.word, clean_level(x.level), x.category) for x in words)
    assert m.check("他說謊了").text == "他**了"


async def test_bulk_import_thousands(storage: Storage) -> None:
    s = storage.sensitive
    batch = [w(f"word{i:05d}", at=i) for i in range(3000)]
    added = await s.add_sensitive_words([*batch, w("WORD00001")])
    assert len(added) == 3000
    again = await s.add_sensitive_words([w("word00002"), w("fresh")])
    assert [a.word for a in again] == ["fresh"]
    assert (await s.sensitive_words_signature())[0] == 3001


async def test_hits_filters_pages_and_export(storage: Storage) -> None:
    s = storage.sensitive
    await s.add_sensitive_hits([hit(1000, "ann"), hit(2000, "ann", "Scam", "block", "display_name"), hit(2000, "ben"),
                                hit(3000, "ben", "100%_off", "replace")])
    found, total = await s.sensitive_hits(HitQuery(), offset=0, limit=10)
    assert total == 4 and [(h.ts, h.user_id) for h in found] == [(3000, "ben"), (2000, "ben"), (2000, "ann"), (1000, "ann")]
    assert all(h.id > 0 for h in found) and found[0].ip == "10.0.0.1" and found[0].conv == "d:a:b"
    assert (await s.sensitive_hits(HitQuery(user_id="ann"), offset=0, limit=10))[1] == 2
    assert (await s.sensitive_hits(HitQuery(level="block"), offset=0, limit=10))[0][0].word == "Scam"
    assert (await s.sensitive_hits(HitQuery(word="scam"), offset=0, limit=10))[1] == 1
    assert (await s.sensitive_hits(HitQuery(word="0%_"), offset=0, limit=10))[1] == 1  # LIKE characters are literal
    assert (await s.sensitive_hits(HitQuery(word="%"), offset=0, limit=10))[1] == 1
    assert (await s.sensitive_hits(HitQuery(since=2000, until=3000), offset=0, limit=10))[1] == 2
    assert (await s.sensitive_hits(HitQuery(target="display_name"), offset=0, limit=10))[1] == 1
    page, total = await s.sensitive_hits(HitQuery(), offset=1, limit=2)
    assert total == 4 and [h.ts for h in page] == [2000, 2000]
    walked: list[int] = []
    before = None
    while True:
        batch = await s.sensitive_hits_before(HitQuery(), before=before, limit=3)
        if not batch:
            break
        walked += [h.id for h in batch]
        before = (batch[-1].ts, batch[-1].id)
    assert walked == [h.id for h in found]


async def test_hits_purged_oldest_first_in_batches(storage: Storage) -> None:
    s = storage.sensitive
    await s.add_sensitive_hits([hit(ts, "ann") for ts in (100, 200, 300, 400, 500)])
    assert await s.purge_sensitive_hits(450, limit=2) == 2  # the two oldest
    left, total = await s.sensitive_hits(HitQuery(), offset=0, limit=10)
    assert total == 3 and [h.ts for h in left] == [500, 400, 300]
    assert await s.purge_sensitive_hits(450, limit=2) == 2
    assert await s.purge_sensitive_hits(450, limit=2) == 0  # nothing older is left
    assert [h.ts for h in (await s.sensitive_hits(HitQuery(), offset=0, limit=10))[0]] == [500]


async def test_retention_sweep(storage: Storage) -> None:
    day = 86_400_000
    now = 1000 * day
    svc = SensitiveWords(storage.sensitive, LocalBus(), retention_days=180, purge_batch=2, purge_pause_s=0)
    await storage.sensitive.add_sensitive_hits([hit(now - d * day, "ann") for d in (400, 200, 181, 179, 1)])
    assert await svc.purge(now=now) == 3  # two batches: 2, then 1
    assert [h.ts for h in (await storage.sensitive.sensitive_hits(HitQuery(), offset=0, limit=10))[0]] == [
        now - day, now - 179 * day]
    assert await SensitiveWords(storage.sensitive, LocalBus(), retention_days=0).purge(now=now * 2) == 0  # kept
