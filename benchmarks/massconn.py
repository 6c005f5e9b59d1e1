#!/usr/bin/env python
"""Many idle connections on one node while 200 users chat (issue 9: "100,000 connections").

    .venv/bin/python benchmarks/massconn.py                    # as many as the fd limit allows, up to 100,000
    .venv/bin/python benchmarks/massconn.py --conns 20000 --workers 4 --heartbeat 25
    .venv/bin/python benchmarks/massconn.py --db postgresql

One server process (pinned to the first CPU, like run.py) gets `--conns` authenticated
WebSocket connections that then stay idle: opened by `--workers` client processes on
the second CPU, spread over the source addresses 127.0.0.2, 127.0.0.3, ... (each has
its own ~28,000 ephemeral ports towards the server's port). Heartbeats stay on (the
server pings every connection every `--heartbeat` s; the clients answer). Then 200 more
users chat at 1,000 msg/s (load 1 of run.py) while the idle ones stay connected, in
`--rounds` rounds. Without the GC governor (`--patch no-gcfreeze`) the first one may also
pay the first full garbage collection after the connect storm (it walks every object of
every connection); the later ones show the steady state.

Figures: connect rate (connect + auth), server RSS per idle connection, server CPU while
everything is idle over one full heartbeat round (% of a core), direct latency p50/p99
and server CPU per message during the chat, and how many idle connections survived.
A process may not hold more descriptors than its hard RLIMIT_NOFILE (this machine:
20,000, and no CAP_SYS_RESOURCE to raise it): the default count is what fits, and the
table extrapolates linearly to 100,000. Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loads  # noqa: E402
from server import PgDatabases, Server, cpus, mint_tokens, raise_fd_limit, seed_template  # noqa: E402
from wsclient import connect_many  # noqa: E402

RESULTS = HERE / "results"
CHATTERS = 200
TARGET = 100_000


def run_async(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


# --- client worker processes ------------------------------------------------------------


def _worker(idx: int, port: int, tokens: list[str], sources: list[str], cpu: int | None, pipe: Any) -> None:
    """Connect every token, report, hold the connections (answering pings) until told to stop."""
    raise_fd_limit()
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})

    async def main() -> None:
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        try:
            clients = await connect_many(port, tokens, concurrency=32, device=f"idle{idx}", timeout=60, sources=sources)
        except Exception as exc:  # report, do not hang the harness
            pipe.send({"error": f"{type(exc).__name__}: {exc}"})
            return
        pipe.send({"connected": len(clients), "seconds": time.perf_counter() - t0})
        stop = asyncio.Event()
        loop.add_reader(pipe.fileno(), stop.set)
        await stop.wait()
        loop.remove_reader(pipe.fileno())
        pipe.recv()
        alive = sum(1 for c in clients if not c.closed)
        for c in clients:
            c.close()
        await asyncio.sleep(0.5)
        pipe.send({"alive": alive})

    run_async(main())


class Workers:
    def __init__(self, n: int, port: int, tokens: list[str], sources: list[str], cpu: int | None) -> None:
        ctx = mp.get_context("fork")
        self.pipes = []
        self.procs = []
        per = -(-len(tokens) // n)
        for i in range(n):
            ours, theirs = ctx.Pipe()
            chunk = tokens[i * per : (i + 1) * per]
            p = ctx.Process(target=_worker, args=(i, port, chunk, sources[i::n] or sources, cpu, theirs), daemon=True)
            p.start()
            self.pipes.append(ours)
            self.procs.append(p)

    def wait_connected(self, timeout: float) -> list[dict[str, Any]]:
        out = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError("a client worker did not finish connecting in time")
            out.append(pipe.recv())
        return out

    def stop(self) -> int:
        alive = 0
        for pipe in self.pipes:
            try:
                pipe.send("stop")
            except (BrokenPipeError, OSError):
                pass
        for pipe in self.pipes:
            try:
                if pipe.poll(60):
                    alive += pipe.recv().get("alive", 0)
            except (EOFError, OSError):
                pass
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()
        return alive


# --- the run ------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    fds = raise_fd_limit()
    server_cpu, gen_cpu = cpus()
    if gen_cpu is not None:
        os.sched_setaffinity(0, {gen_cpu})
    # the server holds one descriptor per connection, plus its database, listener, logs
    n_idle = args.conns or max(0, min(TARGET, fds - 400) - CHATTERS)
    n_users = n_idle + CHATTERS
    work = Path(tempfile.mkdtemp(prefix="semot-massconn-"))
    pg = PgDatabases(args.pg_url) if args.db == "postgresql" else None
    res: dict[str, Any] = {"idle_connections_asked": n_idle, "fd_limit": fds, "workers": args.workers,
                           "heartbeat_s": args.heartbeat, "db": args.db}
    try:
        print(f"seeding {n_users} users ...", flush=True)
        res["seed_s"] = seed_template(work / "template", n_users, pg)
        tokens = mint_tokens(n_users)
        srv = Server(work / "template", work, "massconn", cpu=server_cpu, pg=pg, patches=args.patch,
                     env={"SEMOT_HEARTBEAT_S": str(args.heartbeat), "SEMOT_MAX_DEVICES_PER_USER": "10"})
        srv.start(timeout=60)
        workers: Workers | None = None
        try:
            time.sleep(1.0)
            rss0, cpu0 = srv.rss_kib(), srv.cpu_s()
            sources = [f"127.0.0.{2 + i}" for i in range(max(1, -(-n_idle // 20000)) + 1)]
            print(f"connecting {n_idle} idle clients from {len(sources)} source addresses, "
                  f"{args.workers} worker processes (server pid {srv.pid}) ...", flush=True)
            t0 = time.perf_counter()
            workers = Workers(args.workers, srv.port, tokens[CHATTERS:], sources, gen_cpu)
            reports = workers.wait_connected(timeout=max(120.0, n_idle / 50))
            t1 = time.perf_counter()
            errors = [r["error"] for r in reports if "error" in r]
            connected = sum(r.get("connected", 0) for r in reports)
            cpu1 = srv.cpu_s()
            res.update(connected=connected, connect_errors=errors[:3], connect_s=t1 - t0,
                       connect_rate_per_s=connected / (t1 - t0),
                       server_cpu_ms_per_connect=(cpu1 - cpu0) * 1e3 / max(1, connected))
            print(f"  {connected} connected in {t1 - t0:.1f} s ({connected / (t1 - t0):.0f}/s); errors: {errors[:1]}",
                  flush=True)
            # let the auth-time work (presence fan-out to contacts, caches) finish first
            settle_t0 = time.perf_counter()
            while time.perf_counter() - settle_t0 < args.settle_max_s:
                a = srv.cpu_s()
                time.sleep(2.0)
                if (srv.cpu_s() - a) / 2.0 < 0.10:
                    break
            res["settle_s"] = time.perf_counter() - settle_t0
            print(f"  settled in {res['settle_s']:.0f} s", flush=True)
            rss1 = srv.rss_kib()
            res.update(rss_before_kib=rss0, rss_after_kib=rss1,
                       rss_per_connection_kib=(rss1 - rss0) / max(1, connected))
            # idle: one full heartbeat round, every connection pinged once and answering
            print(f"idle for {args.idle_s:.0f} s (heartbeat every {args.heartbeat} s) ...", flush=True)
            c0, t0 = srv.cpu_s(), time.perf_counter()
            time.sleep(args.idle_s)
            c1, t1 = srv.cpu_s(), time.perf_counter()
            res.update(idle_s=t1 - t0, idle_cpu_share=(c1 - c0) / (t1 - t0), rss_after_idle_kib=srv.rss_kib())
            print(f"  idle CPU {res['idle_cpu_share']:.1%} of a core", flush=True)
            # without the GC governor the first chat round may also pay the first full
            # collection after the connect storm; later rounds are the steady state
            res["chat_rounds"] = []
            for k in range(args.rounds):
                print(f"chat {k + 1}/{args.rounds}: {CHATTERS} users, 1,000 msg/s for {args.seconds:.0f} s ...",
                      flush=True)
                res["chat_rounds"].append(run_async(loads.direct(srv, tokens, pairs=CHATTERS // 2, rate=1000.0,
                                                                 duration=args.seconds, cid_prefix=f"r{k}-")))
                time.sleep(1.0)
            res["direct"] = res["chat_rounds"][-1]
            res["rss_end_kib"] = srv.rss_kib()
        finally:
            if workers is not None:
                res["idle_alive_at_end"] = workers.stop()
            res["server_exit"] = srv.stop()
    finally:
        if args.keep:
            print(f"kept {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
        if pg is not None:
            pg.drop(pg.template)
    return res


def table(r: dict[str, Any]) -> str:
    n = r.get("connected", 0)
    scale = TARGET / n if n else float("nan")
    rows = [
        ("idle connections (authenticated, heartbeats on)", f"{n:,} of {r['idle_connections_asked']:,} asked "
         f"(fd limit {r['fd_limit']:,}); {r.get('idle_alive_at_end', 0):,} still open at the end", "100,000"),
        ("connect + auth rate", f"{r.get('connect_rate_per_s', 0):,.0f}/s ({r.get('server_cpu_ms_per_connect', 0):.2f} ms "
         f"server CPU each; {r['workers']} client processes)", ""),
        ("server RSS per idle connection", f"{r.get('rss_per_connection_kib', 0):.1f} KiB "
         f"({r.get('rss_before_kib', 0) / 1024:.0f} -> {r.get('rss_after_kib', 0) / 1024:.0f} MiB); "
         f"at 100,000: {r.get('rss_per_connection_kib', 0) * TARGET / 1024 / 1024:.2f} GiB", "<= 15 KiB"),
        ("server CPU, all idle", f"{r.get('idle_cpu_share', 0):.1%} of a core over {r.get('idle_s', 0):.0f} s "
         f"(heartbeat {r['heartbeat_s']} s); x{scale:.1f} at 100,000: {r.get('idle_cpu_share', 0) * scale:.1%}",
         "<= 10 %"),
    ]
    for k, d in enumerate(r.get("chat_rounds", [])):
        rows += [
            (f"chat {k + 1}: direct latency p50 / p99 (max)", f"{d['latency_p50_ms']:.2f} / {d['latency_p99_ms']:.2f} "
             f"ms ({d['latency_max_ms']:.1f}); delivered {d['received']:,} / {d['sent']:,}", "p99 <= 10 ms"),
            (f"chat {k + 1}: server CPU per message", f"{d['server_cpu_ms_per_msg']:.3f} ms (server core "
             f"{d['server_cpu_util']:.0%} busy, idle connections' heartbeats included)", ""),
        ]
    w = [max(len(x[i]) for x in rows) for i in range(3)]
    out = [f"| {'figure':<{w[0]}} | {'result':<{w[1]}} | {'target':<{w[2]}} |",
           f"|{'-' * (w[0] + 2)}|{'-' * (w[1] + 2)}|{'-' * (w[2] + 2)}|"]
    out += [f"| {a:<{w[0]}} | {b:<{w[1]}} | {c:<{w[2]}} |" for a, b, c in rows]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conns", type=int, default=0, help="idle connections (default: what the fd limit allows, "
                    "at most 100,000 - 200)")
    ap.add_argument("--workers", type=int, default=4, help="client processes holding the idle connections")
    ap.add_argument("--heartbeat", type=int, default=25, help="SEMOT_HEARTBEAT_S of the server (default 25)")
    ap.add_argument("--idle-s", type=float, default=0.0, help="idle measurement (default: one heartbeat round)")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each chat round")
    ap.add_argument("--rounds", type=int, default=2, help="chat rounds, one after the other")
    ap.add_argument("--settle-max-s", type=float, default=300.0,
                    help="after connecting, wait at most this long for the server to go quiet (< 10 %% CPU over 2 s)")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("SEMOT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--json", type=Path, default=RESULTS / "massconn.json")
    ap.add_argument("--patch", default="", help="what-if / diagnostic patches (patched_serve.py)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (server log)")
    args = ap.parse_args()
    args.idle_s = args.idle_s or float(args.heartbeat)
    t = time.perf_counter()
    res = measure(args)
    res["date"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    res["total_s"] = time.perf_counter() - t
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2, default=str))
    print(f"\nSemot, many idle connections on one node, {res['date']}, {args.db}")
    print(table(res))
    print(f"\ntotal {res['total_s']:.0f} s; raw figures in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
