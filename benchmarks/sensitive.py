"""Sensitive-word benchmark (docs/sensitive-words.md): one command, prints a table.

    python benchmarks/sensitive.py [--words 10000] [--seconds 10] [--rate 1000]

1. The matcher alone: `--words` made-up words (half 2-4 Chinese characters, half 4-8
   Latin letters, levels mixed) built into one automaton (build time, as a node does
   it in a thread on every change), then µs per check of 100-character messages:
   Chinese, English and mixed text, a few percent of them with a hit.
2. The send path: a real server (SQLite) whose database holds the same words, the
   `direct` load of benchmarks/run.py (100 pairs, `--rate` messages/s, 100-character
   texts) once with SEMOT_SENSITIVE_WORDS=false and once with it on: ack and delivery
   p50/p99 and the server's CPU per message.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loads  # noqa: E402
from semot.domain.sensitive import Matcher, bench_words, code_table, word_key  # noqa: E402
from server import Server, cpus, mint_tokens, raise_fd_limit, seed_template  # noqa: E402

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

CHINESE = "我们今天下午三点在会议室开会讨论一下项目的进度和下周的安排请大家准时参加谢谢"
BATCH = 100  # checks per timed batch
ENGLISH = "please review the quarterly report before the meeting at three and send comments "


def messages(words: list[str], n: int = 2000, seed: int = 11) -> dict[str, list[str]]:
    rnd = random.Random(seed)
    out: dict[str, list[str]] = {"chinese": [], "english": [], "mixed": []}
    for i in range(n):
        zh = "".join(rnd.choice(CHINESE) for _ in range(100))
        en = "".join(rnd.choice(ENGLISH) for _ in range(100))
        mixed = "".join(rnd.choice(CHINESE + ENGLISH) for _ in range(100))
        if i % 25 == 0:  # 4 % of the messages hold a listed word
            w = rnd.choice(words)
            zh, en, mixed = zh[: 100 - len(w)] + w, en[: 100 - len(w)] + w, w + mixed[len(w):]
        out["chinese"].append(zh)
        out["english"].append(en)
        out["mixed"].append(mixed)
    return out


def micro(n_words: int) -> dict[str, Any]:
    t = time.perf_counter()
    code_table()
    tables_ms = (time.perf_counter() - t) * 1000
    entries = bench_words(n_words)
    builds = []
    matcher = Matcher(())
    for _ in range(3):
        t = time.perf_counter()
        matcher = Matcher(entries)
        builds.append((time.perf_counter() - t) * 1000)
    res: dict[str, Any] = {"words": matcher.size, "tables_ms": tables_ms, "build_ms": statistics.median(builds)}
    for name, texts in messages([e.word for e in entries]).items():
        for s in texts[:200]:
            matcher.check(s)  # warm
        # many short batches, the best one: on a busy machine (other processes on the cores) a
        # batch that ran undisturbed is the cost of a check; the CPU time (process_time over
        # every batch) is the same figure measured another way, and barely moves with load
        runs = []
        cpu = 0.0
        for _ in range(10):
            for i in range(0, len(texts), BATCH):
                part = texts[i : i + BATCH]
                t, c = time.perf_counter(), time.process_time()
                for s in part:
                    matcher.check(s)
                cpu += time.process_time() - c
                runs.append((time.perf_counter() - t) / len(part) * 1e6)
        res[f"check_us_{name}"] = min(runs)
        res[f"cpu_us_{name}"] = cpu / (10 * len(texts)) * 1e6
        res[f"hits_{name}"] = sum(1 for s in texts if matcher.check(s).hits)
    return res


def seed_words(template: Path, n_words: int) -> None:
    db = sqlite3.connect(template / "semot.db")
    rows = [(f"sw_bench{i}", e.word, word_key(e.word), e.level, "bench", None, 1) for i, e in enumerate(bench_words(n_words))]
    with db:
        db.executemany("INSERT OR IGNORE INTO sensitive_words VALUES (?,?,?,?,?,?,?)", rows)
        db.execute("INSERT OR REPLACE INTO sensitive_state VALUES ('words', 1)")
    db.close()


def sends(n_words: int, seconds: float, rate: float) -> dict[str, dict[str, Any]]:
    raise_fd_limit()
    server_cpu, gen_cpu = cpus()
    if gen_cpu is not None:
        import os

        os.sched_setaffinity(0, {gen_cpu})
    work = Path(tempfile.mkdtemp(prefix="semot-bench-sensitive-"))
    out: dict[str, dict[str, Any]] = {}
    try:
        template = work / "template"
        seed_template(template, 200)
        seed_words(template, n_words)
        tokens = mint_tokens(200)
        for mode in ("off", "on"):
            srv = Server(template, work, f"sens-{mode}", cpu=server_cpu,
                         env={"SEMOT_SENSITIVE_WORDS": "true" if mode == "on" else "false"})
            srv.start()
            try:
                run = uvloop.run if uvloop is not None else asyncio.run
                out[mode] = run(loads.direct(srv, tokens, pairs=100, rate=rate, duration=seconds, text_len=100,
                                             cid_prefix=f"s{mode}"))
            finally:
                srv.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each send run")
    ap.add_argument("--rate", type=float, default=1000.0, help="messages per second offered in each send run")
    ap.add_argument("--no-server", action="store_true", help="the matcher only")
    args = ap.parse_args()
    m = micro(args.words)
    print(f"\nmatcher: {m['words']} words; folding tables {m['tables_ms']:.0f} ms once per process; "
          f"automaton build {m['build_ms']:.1f} ms (median of 3)")
    print(f"{'100-char messages':<20}{'µs / check':>12}{'cpu µs':>10}{'with a hit':>12}")
    for name in ("chinese", "english", "mixed"):
        print(f"{name:<20}{m[f'check_us_{name}']:>12.1f}{m[f'cpu_us_{name}']:>10.1f}{m[f'hits_{name}']:>12}")
    if args.no_server:
        return 0
    s = sends(args.words, args.seconds, args.rate)
    print(f"\nsend path: direct load, 100 pairs, {args.rate:.0f} msg/s for {args.seconds:.0f} s, 100-char texts, "
          f"{args.words} words in the database")
    print(f"{'filter':<8}{'acked':>8}{'errors':>8}{'ack p50 ms':>12}{'ack p99 ms':>12}{'deliv p99 ms':>14}{'cpu ms/msg':>12}")
    for mode, r in s.items():
        print(f"{mode:<8}{r['acked']:>8}{r['errors']:>8}{r['ack_p50_ms']:>12.2f}{r['ack_p99_ms']:>12.2f}"
              f"{r['latency_p99_ms']:>14.2f}{r['server_cpu_ms_per_msg']:>12.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
