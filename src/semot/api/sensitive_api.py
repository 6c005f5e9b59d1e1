"""Admin API of sensitive words (PROTOCOL.md §7; docs/sensitive-words.md).

- `GET /api/admin/v1/sensitive-words?q=&level=&category=&offset=&limit=` the list
  (`{"words":[...],"total","offset","categories"}`), newest first;
- `POST /api/admin/v1/sensitive-words` `{"word","level","category"?}` -> 201 `{"word_id"}`
  (409 when the word, folded, is in the list already);
- `DELETE /api/admin/v1/sensitive-words/{word_id}` -> 204;
- `POST /api/admin/v1/sensitive-words/import?level=&category=` a text file, one word per
  line or `word,level,category` -> `{"added","duplicates","errors":[{"line","message"}]}`;
- `GET /api/admin/v1/sensitive-hits?from=&to=&user_id=&level=&word=&conv=&target=`
  `{"hits":[{"user_id","conv","ts","ip","word","level", ...}],"total","offset"}`;
- `GET /api/admin/v1/sensitive-hits.csv` the same filters as CSV (audited);
- `GET /api/admin/v1/sensitive-hits/live?after=` the hits of the last moments on every
  node, from memory (the console polls it: new hits appear within a poll).

Reading needs `sensitive.view`, changing `sensitive.write`; every change is audited.
"""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from semot.domain.sensitive import ACTIONS, LEVELS, MAX_CATEGORY, MAX_WORD, TARGETS
from semot.errors import BadRequest, NotFound, Unavailable
from semot.ids import ID_PATTERN, now_ms
from semot.services.sensitive_words import SensitiveWords
from semot.storage.sensitive import HitQuery, SensitiveHit, WordQuery

from .admin_logs_api import csv_rows
from .http import Call
from .import_api import read_body
from .models import MAX_SAFE_INT, not_blank
from .routing import CONV, Query, Route, RouteTable

TAG = "admin: sensitive words"
MAX_PAGE = 200
MAX_IMPORT_BYTES = 8 * 1024 * 1024
_LEVEL_PATTERN = "^(" + "|".join(LEVELS) + ")$"
_CONTROL = "\\x00-\\x1f\\x7f-\\x9f"  # no control characters (domain/sensitive.py clean_word, clean_category)
_CATEGORY_PATTERN = f"^[^{_CONTROL}]*$"
CSV_HEADER = ["time", "user_id", "target", "conv", "ip", "word", "level", "category", "action", "excerpt"]


class SensitiveWordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    word: str = Field(
        min_length=1, max_length=MAX_WORD, pattern=not_blank(_CONTROL),
        description="trimmed; made only of separators (spaces, punctuation, symbols) it has nothing to match: 400",
    )
    level: str = Field(pattern=_LEVEL_PATTERN, description="warn, replace or block")
    category: str | None = Field(
        None, max_length=MAX_CATEGORY, pattern=_CATEGORY_PATTERN,
        description=f"default (also when blank): general (at most {MAX_CATEGORY} characters)",
    )


class SensitiveWordCreated(BaseModel):
    word_id: str


class SensitiveWordOut(BaseModel):
    word_id: str
    word: str = Field(description="as written; matched after folding case, full-width forms, traditional characters")
    level: str = Field(description="warn, replace or block")
    category: str
    created_by: str | None
    created_at: int


class SensitiveWordsOut(BaseModel):
    words: list[SensitiveWordOut]
    total: int
    offset: int
    categories: list[str] = Field(description="every category in use (for the filter)")


class SensitiveImportError(BaseModel):
    line: int
    message: str


class SensitiveImportOut(BaseModel):
    added: int
    duplicates: int = Field(description="lines whose word (folded) was in the list already or earlier in the file")
    errors: list[SensitiveImportError] = Field(description="lines refused (at most 1,000 listed)")


class SensitiveHitOut(BaseModel):
    id: int | None = Field(description="increases with every hit (null in the live feed: not yet written)")
    user_id: str = Field(description="who wrote the text")
    conv: str | None = Field(description="the conversation (messages, edits; g:<id> for group names and announcements)")
    ts: int
    ip: str = Field(
        description="the writer's address: the WebSocket's for messages and edits, the HTTP client's for names "
        "and announcements (empty for the command line's user import)"
    )
    word: str
    level: str
    word_id: str
    category: str
    target: str = Field(description=", ".join(TARGETS))
    action: str = Field(description=", ".join(ACTIONS) + ": what was done with the text")
    excerpt: str = Field(description="the text as written (first 200 characters)")


class SensitiveHitsOut(BaseModel):
    hits: list[SensitiveHitOut]
    total: int
    offset: int


class SensitiveLiveHitOut(SensitiveHitOut):
    uid: str = Field(description="unique per hit (the live feed's key)")


class SensitiveLiveOut(BaseModel):
    hits: list[SensitiveLiveHitOut] = Field(description="oldest first")
    now: int = Field(description="the server's clock: pass it as `after` next time")


PAGE: dict[str, Query | str] = {
    "offset": Query("skip this many (default 0)"),
    "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
}
WORD_FILTERS: dict[str, Query | str] = {
    "q": Query("a part of the word (any case)", "string", max_length=MAX_WORD, min_length=1),
    "level": Query("warn, replace or block", "string", max_length=8, pattern=_LEVEL_PATTERN),
    "category": Query("one category", "string", max_length=MAX_CATEGORY, min_length=1),
}
HIT_FILTERS: dict[str, Query | str] = {
    "from": Query("from this time (ms, inclusive)", maximum=MAX_SAFE_INT),
    "to": Query("up to this time (ms, inclusive)", maximum=MAX_SAFE_INT),
    "user_id": Query("only this user's hits", "string", max_length=64, min_length=1, pattern=ID_PATTERN),
    "level": Query("warn, replace or block", "string", max_length=8, pattern=_LEVEL_PATTERN),
    "word": Query("a part of the word (any case)", "string", max_length=MAX_WORD, min_length=1),
    "conv": Query(CONV.description, "string", max_length=CONV.max_length, min_length=3, pattern=CONV.pattern),
    "target": Query(", ".join(TARGETS), "string", max_length=16, pattern="^(" + "|".join(TARGETS) + ")$"),
}
IMPORT_QUERY: dict[str, Query | str] = {
    "level": Query("the level of lines that name none (default warn)", "string", max_length=8, pattern=_LEVEL_PATTERN),
    "category": Query(
        "the category of lines that name none", "string", max_length=MAX_CATEGORY, min_length=1,
        pattern=_CATEGORY_PATTERN,
    ),
}


def _service(call: Call) -> SensitiveWords:
    svc = call.services.sensitive
    if svc is None:
        raise Unavailable("sensitive words are not available on this server")
    return svc


def _page(call: Call) -> tuple[int, int]:
    return call.query_int("offset") or 0, call.query_int("limit") or 50


async def list_words(call: Call) -> dict[str, Any]:
    svc = _service(call)
    query = WordQuery(q=call.query_str("q"), level=call.query_str("level"), category=call.query_str("category"))
    offset, limit = _page(call)
    words, total = await svc.words(query, offset=offset, limit=limit)
    return {"words": [w.to_wire() for w in words], "total": total, "offset": offset,
            "categories": await svc.categories()}


async def add_word(call: Call) -> dict[str, Any]:
    body: SensitiveWordIn = call.body
    word = await _service(call).add(body.word, body.level, body.category, admin=call.me.id)
    await call.audit("sensitive_word.add", word.id, after=word.to_wire())
    return {"word_id": word.id}


async def delete_word(call: Call) -> web.Response:
    word_id = call.request.match_info["word_id"]
    gone = await _service(call).delete(word_id)
    if gone is None:
        raise NotFound(f"no sensitive word {word_id!r}")
    await call.audit("sensitive_word.delete", word_id, before=gone.to_wire())
    return web.Response(status=204)


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "gb18030"):  # files saved by Chinese editions of Windows
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadRequest("file: not UTF-8 or GB18030 text")


async def import_words(call: Call) -> dict[str, Any]:
    data = await read_body(call.request, MAX_IMPORT_BYTES)
    text = _decode(data)
    if "\x00" in text:
        raise BadRequest("file: NUL characters are not allowed")
    report = await _service(call).import_lines(
        text.splitlines(), level=call.query_str("level") or "warn", category=call.query_str("category"),
        admin=call.me.id,
    )
    await call.audit(
        "sensitive_word.import",
        "sensitive-words",
        after={"added": report.added, "duplicates": report.duplicates, "errors": len(report.errors)},
    )
    return {"added": report.added, "duplicates": report.duplicates, "errors": report.errors}


def _hit_query(call: Call) -> HitQuery:
    to = call.query_int("to")
    return HitQuery(
        user_id=call.query_str("user_id"),
        since=call.query_int("from"),
        until=None if to is None else to + 1,
        level=call.query_str("level"),
        word=call.query_str("word"),
        conv=call.query_str("conv"),
        target=call.query_str("target"),
    )


async def list_hits(call: Call) -> dict[str, Any]:
    offset, limit = _page(call)
    hits, total = await _service(call).hits(_hit_query(call), offset=offset, limit=limit)
    return {"hits": [h.to_wire() for h in hits], "total": total, "offset": offset}


async def live_hits(call: Call) -> dict[str, Any]:
    return {"hits": _service(call).live(call.query_int("after")), "now": now_ms()}


def _row(h: SensitiveHit, zone: timezone) -> list[object]:
    when = datetime.fromtimestamp(h.ts / 1000, zone).strftime("%Y-%m-%d %H:%M:%S")
    return [when, h.user_id, h.target, h.conv or "", h.ip, h.word, h.level, h.category, h.action, h.excerpt]


async def hits_csv(call: Call) -> web.StreamResponse:
    query = _hit_query(call)
    tz = call.query_int("tz") or 0
    zone = timezone(timedelta(minutes=tz)) if tz else UTC
    batches = _service(call).export(query)
    first: list[SensitiveHit] = await anext(batches, [])
    filters = {k: call.query_str(k) for k in HIT_FILTERS}
    await call.audit("sensitive_hits.export", "sensitive-hits", after={k: v for k, v in filters.items() if v})
    stamp = datetime.fromtimestamp(now_ms() / 1000, zone).strftime("%Y%m%d-%H%M")
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="sensitive-hits-{stamp}.csv"',
            "Cache-Control": "no-store",
        }
    )
    await resp.prepare(call.request)
    offset = datetime.now(zone).strftime("%z")
    header: list[object] = [f"time (UTC{offset[:3]}:{offset[3:]})", *CSV_HEADER[1:]]
    await resp.write(b"\xef\xbb\xbf" + csv_rows([header]))
    batch = first
    while batch:
        await resp.write(csv_rows([_row(h, zone) for h in batch]))
        batch = await anext(batches, [])
    await resp.write_eof()
    return resp


def routes() -> RouteTable:
    t = RouteTable()
    words = "/api/admin/v1/sensitive-words"
    t.add(Route("GET", words, list_words, "Sensitive words, newest first, with filters", TAG, None, SensitiveWordsOut,
                auth="admin", perm="sensitive.view", query={**WORD_FILTERS, **PAGE}))
    t.add(Route("POST", words, add_word, "Add a sensitive word (409: in the list already, as folded)", TAG, SensitiveWordIn,
                SensitiveWordCreated, status=201, auth="admin", perm="sensitive.write", responses={409: "In the list already"}))
    t.add(Route("DELETE", words + "/{word_id}", delete_word, "Delete a sensitive word", TAG, status=204,
                auth="admin", perm="sensitive.write"))
    t.add(Route("POST", words + "/import", import_words,
                "Import a text file (UTF-8 or GB18030): one word per line, or `word,level,category`; "
                "blank lines and lines starting with # are skipped", TAG, None, SensitiveImportOut,
                auth="admin", perm="sensitive.write", query=IMPORT_QUERY, raw_body="text/plain",
                responses={413: f"The file is over {MAX_IMPORT_BYTES // 2**20} MiB"}))
    hits = "/api/admin/v1/sensitive-hits"
    t.add(Route("GET", hits, list_hits, "Sensitive-word hits, newest first", TAG, None, SensitiveHitsOut,
                auth="admin", perm="sensitive.view", query={**HIT_FILTERS, **PAGE}))
    t.add(Route("GET", hits + ".csv", hits_csv, "Sensitive-word hits as CSV (UTF-8 with BOM; at most 1,000,000 rows)",
                TAG, auth="admin", perm="sensitive.view", reply_media="text/csv",
                query={**HIT_FILTERS, "tz": Query("the times' zone, in minutes east of UTC (480: UTC+8)",
                                                  minimum=-840, maximum=840)}))
    t.add(Route("GET", hits + "/live", live_hits,
                "The newest hits of every node, from memory (poll it; warn hits are the ones to look at)", TAG,
                None, SensitiveLiveOut, auth="admin", perm="sensitive.view",
                query={"after": Query("only hits from this time on (ms; the `now` of the previous reply)",
                                      maximum=MAX_SAFE_INT)}))
    return t
