#!/usr/bin/env python
"""Semot benchmarks (issue 2): one command, a table out.

    .venv/bin/python benchmarks/run.py                 # all four loads, ~80 s
    .venv/bin/python benchmarks/run.py --quick         # shorter loads, ~40 s
    .venv/bin/python benchmarks/run.py --only direct,group
    .venv/bin/python benchmarks/run.py --profile       # + py-spy and perf on the server under loads 1 and 3
    .venv/bin/python benchmarks/run.py --patch writer-raw   # what-if (see patched_serve.py)
    .venv/bin/python benchmarks/run.py --db postgresql      # the same loads on the machine's PostgreSQL

Every load gets a fresh server process (`python -m semot serve`, SQLite in WAL mode,
the default group-commit writer) on a free 127.0.0.1 port with a fresh copy of a
seeded data dir, pinned to the first CPU; this process, the load generator, pins
itself to the second. Results go to benchmarks/results/latest.json (gitignored).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loads  # noqa: E402
import profile_summary  # noqa: E402
from server import PgDatabases, Profiler, Server, cpus, mint_tokens, raise_fd_limit, seed_template  # noqa: E402

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

ALL = ("direct", "group", "throughput", "memory", "biggroup")
RESULTS = HERE / "results"


def run_async(coro: Any) -> Any:
    if uvloop is not None:
        return uvloop.run(coro)
    return asyncio.run(coro)


def plan(quick: bool) -> dict[str, dict[str, Any]]:
    if quick:
        return {
            "direct": {"pairs": 100, "rate": 1000.0, "duration": 8.0},
            "group": {"members": 500, "reps": 10},
            "throughput": {"pairs": 100, "windows": (2, 8, 32), "step_s": 2.0, "final_s": 5.0},
            "memory": {"connections": 5000},
            "biggroup": {"members": 10000, "online": 2000, "reps": 5},
        }
    return {
        "direct": {"pairs": 100, "rate": 1000.0, "duration": 20.0},
        "group": {"members": 500, "reps": 20},
        "throughput": {"pairs": 100, "windows": (1, 2, 4, 8, 16, 32, 64), "step_s": 3.0, "final_s": 12.0},
        "memory": {"connections": 5000},
        "biggroup": {"members": 10000, "online": 2000, "reps": 10},
    }


def users_needed(which: list[str], p: dict[str, dict[str, Any]]) -> int:
    n = 0
    for name in which:
        cfg = p[name]
        if name in ("direct", "throughput"):
            n = max(n, 2 * cfg["pairs"])
        elif name in ("group", "biggroup"):
            n = max(n, cfg["members"])
        elif name == "memory":
            n = max(n, cfg["connections"] + 20)
    return n


def fmt(v: Any, spec: str = ".2f") -> str:
    if isinstance(v, float):
        return format(v, spec)
    return str(v)


def table(res: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = []

    def row(metric: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((metric, value, target, "" if ok is None else ("ok" if ok else "MISSED")))

    for name, r in res.items():
        if "error" in r:
            row(f"{name}: FAILED", r["error"][:100], "", False)
    res = {k: v for k, v in res.items() if "error" not in v}
    if "direct" in res:
        d = res["direct"]
        row("1. direct: offered / achieved rate", f"{d['offered_rate']:.0f} / {d['achieved_send_rate']:.0f} msg/s "
            f"for {d['duration_s']:.0f} s, {d['users']} users")
        row("1. direct: latency p50 / p99", f"{d['latency_p50_ms']:.2f} / {d['latency_p99_ms']:.2f} ms "
            f"(max {d['latency_max_ms']:.1f})", "p99 <= 9 ms", d["latency_p99_ms"] <= 9)
        row("1. direct: ack latency p50 / p99", f"{d['ack_p50_ms']:.2f} / {d['ack_p99_ms']:.2f} ms")
        row("1. direct: delivered / sent", f"{d['received']} / {d['sent']} = {d['delivered_ratio']:.4f}",
            "1.0", d["delivered_ratio"] >= 0.9999 and d["errors"] == 0)
        row("1. direct: server CPU per message", f"{d['server_cpu_ms_per_msg']:.3f} ms "
            f"(user {d['server_user_sys_ms_per_msg'][0]:.3f} + sys {d['server_user_sys_ms_per_msg'][1]:.3f}; "
            f"server core {d['server_cpu_util']:.0%} busy)", "<= 0.35 ms", d["server_cpu_ms_per_msg"] <= 0.35)
        if d.get("db_cpu_ms_per_msg"):
            row("1. direct: PostgreSQL CPU per message", f"{d['db_cpu_ms_per_msg']:.3f} ms (its backends, WAL "
                "writer, checkpointer; not in the line above)")
        row("1. direct: commits, msgs per commit, ctx switches per msg",
            f"{d['commits']:.0f}, {d['mean_batch']:.2f}, {d['server_ctx_switches_per_msg']:.1f}")
        row("1. direct: load generator CPU", f"{d['loadgen_cpu_util']:.0%} of a core")
    if "group" in res:
        g = res["group"]
        row("2. group 500: time to last member p50 / p90",
            f"{g['last_member_p50_ms']:.1f} / {g['last_member_p90_ms']:.1f} ms ({g['reps']} sends)", "<= 40 ms",
            g["last_member_p90_ms"] <= 40)
        row("2. group 500: first / median member, sender ack",
            f"{g['first_member_p50_ms']:.1f} / {g['median_member_p50_ms']:.1f} / {g['sender_ack_p50_ms']:.1f} ms")
        row("2. group 500: server CPU per fan-out", f"{g['server_cpu_ms_per_fanout']:.1f} ms "
            f"= {g['server_cpu_us_per_delivery']:.1f} us per delivery; missing {g['missing_deliveries']}")
    if "throughput" in res:
        t = res["throughput"]
        f = t["final"]
        row("3. max sustained acked msgs/s", f"{f['acks_per_s']:.0f}/s over {f['seconds']:.0f} s "
            f"(window {f['window']} x {t['connections']} conns; slowest 1 s: {f['slowest_1s_slice']:.0f})",
            ">= 10,000/s", f["acks_per_s"] >= 10000)
        row("3. ack latency p50 / p99 at that rate", f"{f['ack_p50_ms']:.1f} / {f['ack_p99_ms']:.1f} ms "
            f"({f['messages_in_db_at_start'] / 1000:.0f}k messages already stored)")
        row("3. server / load generator CPU", f"{f['server_cpu_util']:.0%} / {f['loadgen_cpu_util']:.0%} of a core; "
            f"{f['server_cpu_ms_per_msg']:.3f} ms server CPU per msg; {f['mean_batch']:.0f} msgs per commit"
            + (f"; PostgreSQL {f['db_cpu_ms_per_msg']:.3f} ms per msg" if f.get("db_cpu_ms_per_msg") else ""))
        row("3. sweep (window: acks/s, p99, stored before)", ", ".join(
            f"{s['window']}: {s['acks_per_s']:.0f}, {s['ack_p99_ms']:.0f} ms, {s['messages_in_db_at_start'] / 1000:.0f}k"
            for s in t["sweep"]))
    if "memory" in res:
        m = res["memory"]
        row("4. memory per idle authed connection", f"{m['bytes_per_connection'] / 1000:.1f} KB "
            f"({m['bytes_per_connection'] / 1024:.1f} KiB) at {m['connections']} conns", "<= 30 KB",
            m["bytes_per_connection"] <= 30000)
        row("4. server RSS before / after", f"{m['rss_before_kib'] / 1024:.1f} / "
            f"{max(m['rss_after_kib'], m['rss_after_later_kib']) / 1024:.1f} MiB; "
            f"{m['server_cpu_ms_per_connect']:.2f} ms CPU per connect+auth, {m['connect_rate_per_s']:.0f} conn/s")
    if "biggroup" in res:
        g = res["biggroup"]
        tag = f"5. group {g['members']}, {g['online']} online"
        row(f"{tag}: time to last online member p50 / p90",
            f"{g['last_member_p50_ms']:.1f} / {g['last_member_p90_ms']:.1f} ms ({g['reps']} sends)", "<= 100 ms",
            g["last_member_p90_ms"] <= 100)
        row(f"{tag}: server CPU per message", f"{g['server_cpu_ms_per_fanout']:.1f} ms "
            f"= {g['server_cpu_us_per_delivery']:.1f} us per delivery; missing {g['missing_deliveries']}")
    w = [max(len(r[i]) for r in [*rows, ("metric", "result", "target", "")]) for i in range(4)]
    line = f"| {'metric':<{w[0]}} | {'result':<{w[1]}} | {'target':<{w[2]}} | {'':<{w[3]}} |"
    sep = f"|{'-' * (w[0] + 2)}|{'-' * (w[1] + 2)}|{'-' * (w[2] + 2)}|{'-' * (w[3] + 2)}|"
    out = [line, sep]
    for r in rows:
        out.append(f"| {r[0]:<{w[0]}} | {r[1]:<{w[1]}} | {r[2]:<{w[2]}} | {r[3]:<{w[3]}} |")
    return "\n".join(out)


def source_version() -> str:
    """Commit of the tree under test, '+dirty' when src/ has uncommitted changes (read-only git)."""
    import subprocess

    root = HERE.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    ap.add_argument("--quick", action="store_true", help="shorter runs (about a minute in all)")
    ap.add_argument("--profile", action="store_true",
                    help="attach py-spy to the server during direct and throughput; writes benchmarks/results/profile-*")
    ap.add_argument("--native", action="store_true",
                    help="with --profile: also sample C frames (py-spy --native; pauses the server per sample)")
    ap.add_argument("--patch", default="",
                    help="what-if: run the server through patched_serve.py with these monkeypatches (see that file)")
    ap.add_argument("--windows", default="", help="throughput: comma-separated windows to sweep (overrides the plan)")
    ap.add_argument("--seconds", type=float, default=0.0,
                    help="override the duration of direct and of the held throughput run")
    ap.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="where to write the raw figures")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (server logs, template db)")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                    help="the server's database: SQLite in its data dir (default) or PostgreSQL at --pg-url")
    ap.add_argument("--pg-url", default=os.environ.get("SEMOT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                    help="with --db postgresql: a database to administer from; semot_bench_* databases are "
                         "created next to it and dropped afterwards")
    args = ap.parse_args()

    which = [w.strip() for w in args.only.split(",") if w.strip()]
    bad = [w for w in which if w not in ALL]
    if bad:
        ap.error(f"unknown load(s) {bad}; choose from {ALL}")
    p = plan(args.quick)
    if args.windows:
        p["throughput"]["windows"] = tuple(int(w) for w in args.windows.split(","))
    if args.seconds:
        p["direct"]["duration"] = args.seconds
        p["throughput"]["final_s"] = args.seconds
    fds = raise_fd_limit()  # the server subprocess inherits it
    server_cpu, gen_cpu = cpus()
    if gen_cpu is not None:
        os.sched_setaffinity(0, {gen_cpu})
    if args.profile and Profiler.available() is None:
        ap.error("--profile needs py-spy: .venv/bin/pip install py-spy")

    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="semot-bench-"))
    template = work / "template"
    n_users = users_needed(which, p)
    t_all = time.perf_counter()
    pg = PgDatabases(args.pg_url) if args.db == "postgresql" else None
    print(f"seeding {n_users} users into {pg.template if pg else template} ...", flush=True)
    seed_s = seed_template(template, n_users, pg)
    tokens = mint_tokens(n_users)
    print(f"  seeded in {seed_s:.1f} s; server on CPU {server_cpu}, load generator on CPU {gen_cpu}; "
          f"fd limit {fds}", flush=True)

    results: dict[str, Any] = {}
    profiles: dict[str, str] = {}
    runners = {
        "direct": loads.direct,
        "group": loads.group,
        "throughput": loads.throughput,
        "memory": loads.memory,
        "biggroup": loads.group,
    }
    try:
        for name in which:
            srv = Server(template, work, name, cpu=server_cpu, patches=args.patch, pg=pg)
            try:
                srv.start()
            except RuntimeError as exc:  # report it in the table and go on with the next load
                results[name] = {"error": f"server did not start: {str(exc).splitlines()[0]}"}
                print(f"  {name} FAILED to start: {exc}", flush=True)
                srv.stop()
                continue
            prof = None
            if args.profile and name in ("direct", "throughput"):
                prof = Profiler(srv.pid, RESULTS / f"profile-{name}{'-native' if args.native else ''}",
                                cpu=gen_cpu, native=args.native)
                prof.start()
                prof.start_perf()
            t = time.perf_counter()
            print(f"running {name} (server pid {srv.pid}, port {srv.port}) ...", flush=True)
            try:
                results[name] = run_async(runners[name](srv, tokens, **p[name]))
            except Exception as exc:  # report it in the table and go on with the next load
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                print(f"  {name} FAILED: {results[name]['error']} (server log: {srv.log_path}; --keep keeps it)",
                      flush=True)
                if srv.log_path.exists():
                    print(srv.log_path.read_text(errors="replace")[-1500:], flush=True)
            finally:
                if prof is not None:
                    raw = prof.stop()
                    if raw.exists():
                        summary = profile_summary.summarise(raw) + "\n" + prof.perf_report()
                        out = raw.with_name(raw.stem + "-summary.txt")
                        out.write_text(summary)
                        profiles[name] = str(out)
                rc = srv.stop()
            if isinstance(results.get(name), dict):
                results[name]["data_files_kib"] = srv.data_files_kib
            print(f"  {name} done in {time.perf_counter() - t:.1f} s (server exit code {rc}; data dir at exit, KiB: "
                  f"{srv.data_files_kib})", flush=True)
            if rc not in (0, None):
                print(f"  WARNING: server exited with {rc}; log: {srv.log_path}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        if pg is not None:
            pg.drop(pg.template)

    meta = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "source": source_version(),
        "quick": args.quick,
        "profiled": args.profile,
        "patches": args.patch,
        "db": args.db,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "server_cpu": server_cpu,
        "loadgen_cpu": gen_cpu,
        "load_average_at_end": os.getloadavg(),
        "total_s": time.perf_counter() - t_all,
        "profiles": profiles,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    print()
    print(f"Semot benchmarks, {meta['date']}, source {meta['source']}, {args.db}{' (quick)' if args.quick else ''}"
          f"{' (PROFILED: py-spy attached, figures perturbed)' if args.profile else ''}"
          f"{f' (WHAT-IF, server patched: {args.patch})' if args.patch else ''}")
    print(table(results))
    print(f"\ntotal {meta['total_s']:.0f} s; raw figures in {args.json}")
    for name, path in profiles.items():
        print(f"profile of {name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
