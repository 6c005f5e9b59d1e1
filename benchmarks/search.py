"""Message search benchmark (docs/search.md): one command, prints a table.

    python benchmarks/search.py [--messages 1000000] [--backends sqlite,postgresql]

For each backend it migrates a fresh database (SQLite file in a temp dir; a PostgreSQL
schema of its own at SEMOT_TEST_DATABASE_URL, dropped afterwards), then bulk-loads
`--messages` mixed Chinese/English messages straight into `messages` and the search
tables (tokens by the same domain/search_text.py code the appenders use; big
executemany / COPY batches, not the send path), in 3,000 group conversations of 10
members among 2,000 users. It reports the load time, the index size, the p50/p95 of a
user's keyword search (member filter, first page of 20) and of an audit search over
everything (first page of 50 + the capped total) over a mix of rare and common words,
and the p99 of storing one message through the real appender with indexing on and off
(sequential single-message batches, as the writer sends under light load; on and off
alternate message by message).

The loader is built for speed, not safety (about 5 min per backend for 1,000,000 on a
quiet 2-core machine): messages are generated and tokenized once in Python; SQLite gets
big `executemany` batches in one transaction with `synchronous=OFF` and a 1 GB page
cache (loader connection only), then an FTS5 `optimize` and `ANALYZE`; PostgreSQL gets
`COPY` (asyncpg `copy_records_to_table`) with `synchronous_commit=off`, the GIN index
dropped during the load and rebuilt after it with `maintenance_work_mem=1GB`, then
`VACUUM ANALYZE` of the loaded tables. `--keep` keeps the databases (prints where) and
`--reuse-sqlite DIR` / `--reuse-pg SCHEMA` measure a kept one again without loading.
Not part of the test suite (pytest collects tests/ only).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from semot.domain.records import NewMessage
from semot.domain.search_text import document_tokens, query_terms, tokenize, tsvector_literal
from semot.storage.base import Storage
from semot.storage.search import SearchQuery
from semot.storage.sql.engine import make_engines
from semot.storage.sql.message_store import SqlMessages
from semot.storage.sql.pg_appender import PgAppender
from semot.storage.sql.sqlite_appender import SqliteAppender
from semot.storage.sql.store import sql_storage

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
ZH = ["合同", "发票", "报销", "会议", "项目", "进度", "客户", "需求", "预算", "审批", "采购", "部署", "服务器", "数据库", "测试", "上线", "周报", "领导", "同事", "通知", "文件", "签字", "盖章", "付款", "财务", "人事", "招聘", "培训", "出差", "酒店", "机票", "安排", "讨论", "方案", "设计", "开发", "修复", "问题", "风险", "计划", "北京", "上海", "深圳", "广州", "杭州", "成都", "明天", "今天", "下午", "上午", "晚上", "马上", "尽快", "确认", "收到", "谢谢", "好的", "没问题", "请把", "发给我"]
EN = ["the", "a", "to", "of", "and", "in", "for", "on", "with", "please", "send", "check", "review", "update", "deploy", "server", "database", "invoice", "contract", "meeting", "project", "budget", "client", "report", "release", "fix", "bug", "test", "plan", "schedule", "tomorrow", "today", "urgent", "approve", "design", "draft", "final", "version", "ticket", "status", "build", "pipeline", "api", "latency", "memory", "cpu", "disk", "network"]
GROUPS, MEMBERS, USERS = 3000, 10, 2000
QUERIES = ["合同", "报销", "服务器", "发票 审批", "invoice", "deploy", "contract 合同", "latency", "杭州", "2024"]


def sentence(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(4, 14)):
        r = rng.random()
        if r < 0.55:
            words.append(rng.choice(ZH))
        elif r < 0.95:
            words.append(rng.choice(EN))
        else:
            words.append(str(rng.randint(1, 20249999)))
    # Chinese words run together as in real text; English words keep their spaces
    out = ""
    for w in words:
        out += w if (out and not w.isascii() and not out[-1].isascii()) else (" " + w if out else w)
    return out


def members_of(g: int) -> list[str]:
    return [f"u{(g * 7 + k * 13) % USERS}" for k in range(MEMBERS)]


def rows(n: int, seed: int = 1) -> Any:
    """(conv, seq, sender, ts, text) in send order."""
    rng = random.Random(seed)
    seqs = [0] * GROUPS
    ts = 1_700_000_000_000
    for _ in range(n):
        g = rng.randrange(GROUPS)
        seqs[g] += 1
        ts += rng.randint(1, 40)
        yield f"g:g{g}", seqs[g], rng.choice(members_of(g)), ts, sentence(rng)


async def load_sqlite(path: Path, n: int) -> float:
    started = time.perf_counter()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")  # the loader only: a crash just loses the benchmark
    con.execute("PRAGMA cache_size=-1000000")  # 1 GB: the random (conv, seq) inserts stay in memory
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO conversations (id, kind, max_seq, last_ts, created_at, change_seq) VALUES (?, 'g', 0, 0, 0, 0)",
        [(f"g:g{g}",) for g in range(GROUPS)],
    )
    con.executemany(
        "INSERT INTO conv_members (conv, user_id, role, read_seq, joined_at) VALUES (?, ?, 'member', 0, 0)",
        [(f"g:g{g}", u) for g in range(GROUPS) for u in members_of(g)],
    )
    msgs, docs, fts = [], [], []
    top: dict[str, int] = {}
    for i, (conv, seq, sender, ts, text) in enumerate(rows(n), 1):
        mid = f"m{i}"
        msgs.append((conv, seq, mid, mid, sender, "text", orjson.dumps({"text": text}).decode(), "{}", ts, f"10.1.{i % 250}.{i % 200}"))
        tok = " ".join(document_tokens(conv, tokenize(text)))
        docs.append((i, conv, seq, sender, ts, tok))
        fts.append((i, tok))
        top[conv] = seq
        if len(msgs) >= 50_000:
            _flush_sqlite(con, msgs, docs, fts)
    _flush_sqlite(con, msgs, docs, fts)
    con.executemany("UPDATE conversations SET max_seq = ?, last_ts = 1 WHERE id = ?", [(s, c) for c, s in top.items()])
    con.execute("COMMIT")
    con.execute("INSERT INTO message_fts (message_fts) VALUES ('optimize')")
    con.execute("ANALYZE")
    con.close()
    return time.perf_counter() - started


def _flush_sqlite(con: sqlite3.Connection, msgs: list[Any], docs: list[Any], fts: list[Any]) -> None:
    con.executemany(
        "INSERT INTO messages (conv, seq, mid, cid, sender, kind, body, opts, ts, ip) VALUES (?,?,?,?,?,?,?,?,?,?)", msgs
    )
    con.executemany("INSERT INTO message_search (id, conv, seq, sender, ts, tokens) VALUES (?,?,?,?,?,?)", docs)
    con.executemany("INSERT INTO message_fts (rowid, tokens) VALUES (?,?)", fts)
    msgs.clear()
    docs.clear()
    fts.clear()


async def load_pg(schema: str, n: int) -> float:
    started = time.perf_counter()
    con = await asyncpg.connect(
        PG_URL,
        server_settings={"search_path": schema, "synchronous_commit": "off", "maintenance_work_mem": "1GB"},
    )
    await con.copy_records_to_table(
        "conversations", records=[(f"g:g{g}", "g", 0, 0, 0, 0) for g in range(GROUPS)],
        columns=["id", "kind", "max_seq", "last_ts", "created_at", "change_seq"],
    )
    await con.copy_records_to_table(
        "conv_members", records=[(f"g:g{g}", u, "member", 0, 0) for g in range(GROUPS) for u in members_of(g)],
        columns=["conv", "user_id", "role", "read_seq", "joined_at"],
    )
    await con.execute("DROP INDEX ix_message_search_tokens")  # built once after the load
    msgs: list[Any] = []
    docs: list[Any] = []
    top: dict[str, int] = {}
    for i, (conv, seq, sender, ts, text) in enumerate(rows(n), 1):
        mid = f"m{i}"
        msgs.append((conv, seq, mid, mid, sender, "text", orjson.dumps({"text": text}).decode(), "{}", ts, f"10.1.{i % 250}.{i % 200}"))
        docs.append((i, conv, seq, sender, ts, tsvector_literal(document_tokens(conv, tokenize(text)))))
        top[conv] = seq
        if len(msgs) >= 50_000:
            await _flush_pg(con, msgs, docs)
    await _flush_pg(con, msgs, docs)
    await con.executemany("UPDATE conversations SET max_seq = $1 WHERE id = $2", [(s, c) for c, s in top.items()])
    await con.execute("SELECT setval(pg_get_serial_sequence('message_search', 'id'), $1)", n + 1)
    await con.execute("CREATE INDEX ix_message_search_tokens ON message_search USING gin (tokens)")
    for table in ("messages", "message_search", "conversations", "conv_members"):  # not the whole database
        await con.execute(f"VACUUM ANALYZE {table}")
    await con.close()
    return time.perf_counter() - started


async def _flush_pg(con: Any, msgs: list[Any], docs: list[Any]) -> None:
    await con.copy_records_to_table(
        "messages", records=msgs, columns=["conv", "seq", "mid", "cid", "sender", "kind", "body", "opts", "ts", "ip"]
    )
    await con.execute("CREATE TEMP TABLE IF NOT EXISTS docs_in (id bigint, conv text, seq bigint, sender text, ts bigint, tokens text)")
    await con.copy_records_to_table("docs_in", records=docs)
    await con.execute(
        "INSERT INTO message_search (id, conv, seq, sender, ts, tokens) "
        "SELECT id, conv, seq, sender, ts, tokens::tsvector FROM docs_in; TRUNCATE docs_in"
    )
    msgs.clear()
    docs.clear()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def measure(store: Storage, rounds: int) -> dict[str, float]:
    rng = random.Random(7)
    user_t, audit_t = [], []
    for r in range(rounds):
        q = QUERIES[r % len(QUERIES)]
        user = f"u{rng.randrange(USERS)}"
        t0 = time.perf_counter()
        await store.search.search(SearchQuery(terms=query_terms(q), member=user), before=None, limit=21)
        user_t.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        await store.search.audit_page(SearchQuery(terms=query_terms(q)), offset=0, limit=50)
        audit_t.append((time.perf_counter() - t0) * 1000)
    return {
        "user_p50": statistics.median(user_t), "user_p95": pct(user_t, 0.95),
        "audit_p50": statistics.median(audit_t), "audit_p95": pct(audit_t, 0.95),
    }


async def send_p99(store: Storage, count: int) -> dict[str, float]:
    """p99 of single-message appends with indexing on and off, alternating message by
    message so that the machine's noise hits both alike."""
    msgs = store.messages
    assert isinstance(msgs, SqlMessages)
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(2 * count):
        on = i % 2 == 0
        SqliteAppender.index_search = PgAppender.index_search = on
        g = i % GROUPS
        item = NewMessage(
            f"g:g{g}", members_of(g)[0], uuid.uuid4().hex, "text", {"text": "请把合同发给我 send path check"},
            {}, 1_800_000_000_000 + i, uuid.uuid4().hex, ip="10.0.0.1",
        )
        t0 = time.perf_counter()
        await msgs.append_messages([item])
        times[on].append((time.perf_counter() - t0) * 1000)
    SqliteAppender.index_search = PgAppender.index_search = True
    return {"send_p99_on": pct(times[True], 0.99), "send_p99_off": pct(times[False], 0.99)}


async def run(backend: str, n: int, rounds: int, sends: int, keep: bool = False, reuse: str | None = None) -> dict[str, Any]:
    load, keep = 0.0, keep or reuse is not None
    if backend == "sqlite":
        where = reuse or tempfile.mkdtemp(prefix="semot-search-bench-")
        store = sql_storage(make_engines(f"sqlite+aiosqlite:///{Path(where) / 'bench.db'}"))
        if reuse is None:
            await store.migrate()
            load = await load_sqlite(Path(where) / "bench.db", n)
    else:
        where = reuse or f"semot_bench_{uuid.uuid4().hex[:10]}"
        url = "postgresql+asyncpg://" + PG_URL.split("://", 1)[1]
        store = sql_storage(make_engines(url, schema=where, pool_size=5), schema=where)
        if reuse is None:
            await store.migrate()
            load = await load_pg(where, n)
    try:
        size = await store.search.index_size()
        await measure(store, 10)  # warm the cache
        figures = await measure(store, rounds)
        figures.update(await send_p99(store, sends))
    finally:
        await store.close()
        if keep:
            print(f"kept {backend}: {where}")
        elif backend == "sqlite":
            shutil.rmtree(where, ignore_errors=True)
        else:
            con = await asyncpg.connect(PG_URL)
            await con.execute(f'DROP SCHEMA IF EXISTS "{where}" CASCADE')
            await con.close()
    return {"backend": backend, "messages": n, "load_s": load, "index_mb": size / 1e6, **figures}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--rounds", type=int, default=100, help="searches of each kind measured")
    ap.add_argument("--sends", type=int, default=1000, help="single-message appends per on/off pass")
    ap.add_argument("--keep", action="store_true", help="keep the databases (prints the directory / schema)")
    ap.add_argument("--reuse-sqlite", help="measure a kept SQLite directory instead of loading (kept again)")
    ap.add_argument("--reuse-pg", help="measure a kept PostgreSQL schema instead of loading (kept again)")
    args = ap.parse_args()
    reuse = {"sqlite": args.reuse_sqlite, "postgresql": args.reuse_pg}
    results = [
        await run(b, args.messages, args.rounds, args.sends, args.keep, reuse.get(b)) for b in args.backends.split(",")
    ]
    cols = ["backend", "messages", "load_s", "index_mb", "user_p50", "user_p95", "audit_p50", "audit_p95",
            "send_p99_on", "send_p99_off"]
    print("search benchmark (times in ms; targets: user p95 <= 100, audit p95 <= 300)")
    print(" | ".join(f"{c:>12}" for c in cols))
    for r in results:
        print(" | ".join(f"{r[c]:>12.1f}" if isinstance(r[c], float) else f"{r[c]:>12}" for c in cols))


if __name__ == "__main__":
    asyncio.run(main())
