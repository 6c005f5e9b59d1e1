#!/usr/bin/env python
"""Connection churn on one node: does memory come back, and what does a connection keep?

    .venv/bin/python benchmarks/churn.py                          # 3 rounds of 10,000 connect + disconnect
    .venv/bin/python benchmarks/churn.py --conns 3000 --rounds 1 --census
    .venv/bin/python benchmarks/churn.py --patch no-gcfreeze      # the "before" side of an A/B

Each round connects `--conns` authenticated idle WebSockets (from the second CPU, as
massconn.py does), reads the server's RSS once it is quiet, closes them all and reads
RSS again once the server has unregistered them. A node that leaks (for instance
reference cycles left in the GC's permanent generation by `gc.freeze()`) shows RSS after
each disconnect growing round by round; one that does not returns to about the same
level. `--census` also writes, at the first round's peak, the live objects gained by
type (patched_serve.py `census`) to benchmarks/results/census.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from server import Server, cpus, mint_tokens, raise_fd_limit, seed_template  # noqa: E402
from wsclient import connect_many  # noqa: E402

RESULTS = HERE / "results"


def quiet(srv: Server, max_s: float = 120.0) -> None:
    """Wait until the server uses < 10 % of a core over 2 s (the connect work is done)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_s:
        a = srv.cpu_s()
        time.sleep(2.0)
        if (srv.cpu_s() - a) / 2.0 < 0.10:
            return


async def one_round(srv: Server, tokens: list[str], sources: list[str], census: Path | None) -> dict[str, Any]:
    t0 = time.perf_counter()
    clients = await connect_many(srv.port, tokens, concurrency=32, device="churn", timeout=60, sources=sources)
    connect_s = time.perf_counter() - t0
    await asyncio.to_thread(quiet, srv)
    peak = srv.rss_kib()
    if census is not None:
        os.kill(srv.pid, signal.SIGUSR2)
        await asyncio.sleep(5)
    for c in clients:
        c.close()
    del clients
    await asyncio.sleep(3)
    await asyncio.to_thread(quiet, srv)
    await asyncio.sleep(5)  # a GC governor check or two
    return {"connected": len(tokens), "connect_s": connect_s, "rss_peak_kib": peak, "rss_after_close_kib": srv.rss_kib()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conns", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--patch", default="", help="patched_serve.py patches (comma-separated)")
    ap.add_argument("--census", action="store_true", help="objects gained by type at the first peak")
    ap.add_argument("--json", type=Path, default=RESULTS / "churn.json")
    args = ap.parse_args()
    raise_fd_limit()
    server_cpu, gen_cpu = cpus()
    if gen_cpu is not None:
        os.sched_setaffinity(0, {gen_cpu})
    work = Path(tempfile.mkdtemp(prefix="semot-churn-"))
    patches = ",".join(filter(None, [args.patch, "census" if args.census else ""]))
    census_out = RESULTS / "census.txt"
    RESULTS.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"conns": args.conns, "patch": patches, "rounds": []}
    try:
        seed_template(work / "template", args.conns)
        tokens = mint_tokens(args.conns)
        env = {"SEMOT_MAX_DEVICES_PER_USER": "10", "BENCH_CENSUS_OUT": str(census_out)}
        srv = Server(work / "template", work, "churn", cpu=server_cpu, patches=patches, env=env)
        srv.start(timeout=60)
        try:
            time.sleep(1.0)
            quiet(srv)
            res["rss_start_kib"] = srv.rss_kib()
            if args.census:
                os.kill(srv.pid, signal.SIGUSR1)
                time.sleep(3)
            sources = ["127.0.0.2", "127.0.0.3"]
            for k in range(args.rounds):
                r = asyncio.run(one_round(srv, tokens, sources, census_out if args.census and k == 0 else None))
                r["per_connection_kib"] = (r["rss_peak_kib"] - res["rss_start_kib"]) / args.conns
                res["rounds"].append(r)
                print(f"round {k + 1}: {args.conns} connected in {r['connect_s']:.0f} s; RSS peak "
                      f"{r['rss_peak_kib'] / 1024:.0f} MiB ({r['per_connection_kib']:.1f} KiB/conn over the start), "
                      f"after close {r['rss_after_close_kib'] / 1024:.0f} MiB (start {res['rss_start_kib'] / 1024:.0f})",
                      flush=True)
        finally:
            res["server_exit"] = srv.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
