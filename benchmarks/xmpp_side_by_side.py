#!/usr/bin/env python
"""Issue 9: Semot and ejabberd side by side, in ONE run, under the same load generator.

    .venv/bin/python benchmarks/xmpp_side_by_side.py            # direct, group, memory; ~2-4 min a round
    .venv/bin/python benchmarks/xmpp_side_by_side.py --quick    # direct 8 s, 10 group sends
    .venv/bin/python benchmarks/xmpp_side_by_side.py --sm       # + ejabberd with XEP-0198 acks per message
    .venv/bin/python benchmarks/xmpp_side_by_side.py --only direct --rounds 2
    .venv/bin/python benchmarks/xmpp_side_by_side.py --ejabberd-flags '+sbwt none'   # + a what-if ejabberd (direct)

The loads are loads.py's, driven through a wire (wire.py): Semot's WebSocket protocol,
or XMPP c2s (xmpp_client.py) to a private ejabberd instance (xmpp_server.py: Debian's
package and stock config, no MAM, so it stores nothing, where Semot commits every
message before its ack). Every load gets a fresh server process on each side, pinned to
the first CPU; the load generator (this process) is pinned to the second. Server CPU is
utime + stime of the server process from /proc (all threads; for ejabberd beam.smp and
its children). The sides alternate per load (S,E then E,S ...), so drifting machine load
does not always hit the same side first.

1. direct: 200 users in 100 pairs, 1,000 msgs/s offered for 20 s, send-to-receive latency.
2. group: 500 members all online (XMPP: a MUC room all of them have entered), one member
   sends 20 times (after 3 warm-ups), time until the last of the other 499 has it.
3. memory: 20 warm-up connections, then 2,000 more logged in and idle (XMPP: bound,
   initial presence sent); (RSS after - RSS before) / 2,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loads  # noqa: E402
import xmpp_server  # noqa: E402
from run import run_async, source_version  # noqa: E402
from server import Server, cpus, mint_tokens, raise_fd_limit, seed_template  # noqa: E402
from wire import SemotWire, Wire  # noqa: E402
from xmpp_client import XmppWire  # noqa: E402

RESULTS = HERE / "results"
LOADS = ("direct", "group", "memory")
MEMORY_CONNS = 2000
WARMUP_CONNS = 20


def plan(quick: bool) -> dict[str, dict[str, Any]]:
    return {
        "direct": {"pairs": 100, "rate": 1000.0, "duration": 8.0 if quick else 20.0},
        "group": {"members": 500, "reps": 10 if quick else 20},
        "memory": {"connections": MEMORY_CONNS, "warmup": WARMUP_CONNS},
    }


def ejabberd_template(n_users: int, cpu: int | None) -> tuple[Path, str]:
    """A spool with n_users registered, kept under results/ between runs (registration
    hashes every password with SCRAM: ~40 s for 2,000 users on this machine)."""
    node = "semotbenchtpl@localhost"  # Mnesia ties a spool to its node name
    keep = RESULTS / f"ejabberd-template-{xmpp_server.version()}-{n_users}"
    if (keep / "schema.DAT").exists():
        return keep, node
    work = Path(tempfile.mkdtemp(prefix="semot-ejtpl-"))
    try:
        ej = xmpp_server.Ejabberd(work, "template", cpu=cpu, node=node)
        ej.start()
        try:
            secs = ej.register(n_users)
        finally:
            ej.stop()
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(ej.spool, keep)
        print(f"  registered {n_users} ejabberd users in {secs:.1f} s (kept in {keep})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return keep, node


def loadavg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def run_one(side: str, name: str, srv: Any, wire: Wire, cfg: dict[str, Any]) -> dict[str, Any]:
    runners: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
        "direct": loads.direct, "group": loads.group, "memory": loads.memory}
    runner = runners[name]
    la0 = loadavg()
    t = time.perf_counter()
    print(f"running {name} on {side} (pid {srv.pid}, port {srv.port}; load average {la0}) ...", flush=True)
    try:
        res: dict[str, Any] = run_async(runner(srv, wire, **cfg))
    except Exception as exc:  # report it in the table and go on
        res = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"  FAILED: {res['error']}", flush=True)
    res["load_average"] = [la0, loadavg()]
    if isinstance(srv, xmpp_server.Ejabberd):
        res["vm_threads"] = srv.threads()
    print(f"  done in {time.perf_counter() - t:.1f} s (load average {res['load_average'][1]})", flush=True)
    return res


def _f(r: dict[str, Any] | None, fmt: str) -> str:
    if r is None:
        return "-"
    if "error" in r:
        return f"FAILED: {r['error'][:60]}"
    return fmt.format(**r)


def table(res: dict[str, dict[str, dict[str, Any]]], sides: list[str]) -> str:
    """One row per figure, one column per side, the issue's goal and whether Semot meets it."""
    rows: list[list[str]] = []
    ej = "ejabberd"

    def goal(name: str, key: str, text: str, factor: float | None = None, limit: float | None = None) -> list[str]:
        s, e = res.get(name, {}).get("semot"), res.get(name, {}).get(ej)
        if s is None or "error" in s:
            return [text, ""]
        if limit is not None:
            return [text, "ok" if s[key] <= limit else "MISSED"]
        if e is None or "error" in e or factor is None:
            return [text, ""]
        ratio = e[key] / s[key] if s[key] else float("inf")
        return [f"{text} (ejabberd/Semot {ratio:.1f}x)", "ok" if s[key] <= e[key] * factor else "MISSED"]

    def row(name: str, label: str, fmt: str, g: list[str] | None = None) -> None:
        if name in res:
            rows.append([label, *(_f(res[name].get(s), fmt) for s in sides), *(g or ["", ""])])

    row("direct", "direct p50 / p99 (max), ms", "{latency_p50_ms:.2f} / {latency_p99_ms:.2f} ({latency_max_ms:.1f})",
        goal("direct", "latency_p99_ms", "p99 <= ejabberd's / 2", 0.5))
    row("direct", "direct: delivered / sent", "{received} / {sent}")
    row("direct", "direct: server CPU per message", "{server_cpu_ms_per_msg:.3f} ms ({server_cpu_util:.0%} busy)",
        goal("direct", "server_cpu_ms_per_msg", "<= ejabberd's / 2", 0.5))
    row("direct", "direct: ack p50 / p99, ms", "{ack_p50_ms:.2f} / {ack_p99_ms:.2f}")
    row("direct", "direct: pacing worst lag; load gen CPU", "{pacing_worst_lag_ms:.0f} ms; {loadgen_cpu_util:.0%}")
    row("group", "group 500: last member p50 / p90, ms",
        "{last_member_p50_ms:.1f} / {last_member_p90_ms:.1f}",
        goal("group", "last_member_p50_ms", "p50 <= ejabberd's / 2", 0.5))
    row("group", "group 500: first member p50; sender ack p50", "{first_member_p50_ms:.1f}; {sender_ack_p50_ms:.1f} ms")
    row("group", "group 500: server CPU per send; missing",
        "{server_cpu_ms_per_fanout:.1f} ms ({server_cpu_us_per_delivery:.0f} us/delivery); {missing_deliveries}")
    mem = {k: {**v, "kib": v["bytes_per_connection"] / 1024} if "error" not in v else v
           for k, v in res.get("memory", {}).items()}
    if mem:
        res = {**res, "memory": mem}
    row("memory", f"memory per idle connection ({MEMORY_CONNS:,})", "{kib:.1f} KiB",
        goal("memory", "kib", "<= 15 KiB", limit=15.0))
    row("memory", "memory: server CPU per connect + login", "{server_cpu_ms_per_connect:.2f} ms ({connect_rate_per_s:.0f}/s)")
    for name in res:
        row(name, f"{name}: load average before / after", "{load_average[0]} -> {load_average[1]}")
    head = ["", *sides, "goal for Semot", ""]
    w = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    out = ["| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(head)) + " |",
           "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    out += ["| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |" for r in rows]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(LOADS), help=f"comma-separated subset of {','.join(LOADS)}")
    ap.add_argument("--quick", action="store_true", help="direct for 8 s, 10 group sends")
    ap.add_argument("--sm", action="store_true",
                    help="also ejabberd with XEP-0198 and <r/> after every message (each send acknowledged)")
    ap.add_argument("--ejabberd-flags", default="",
                    help="what-if: also direct on ejabberd with these extra Erlang VM flags, e.g. '+sbwt none' "
                         "(no scheduler busy-wait)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the whole comparison (sides alternate)")
    ap.add_argument("--json", type=Path, default=RESULTS / "side-by-side.json")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    args = ap.parse_args()
    why = xmpp_server.available()
    if why:
        ap.error(why)
    which = [w.strip() for w in args.only.split(",") if w.strip()]
    if bad := [w for w in which if w not in LOADS]:
        ap.error(f"unknown load(s) {bad}; choose from {LOADS}")
    p = plan(args.quick)
    raise_fd_limit()
    server_cpu, gen_cpu = cpus()
    n_users = MEMORY_CONNS + WARMUP_CONNS
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"ejabberd {xmpp_server.version()}: template with {n_users} users ...", flush=True)
    ej_template, ej_node = ejabberd_template(n_users, None)
    if gen_cpu is not None:
        os.sched_setaffinity(0, {gen_cpu})
    work = Path(tempfile.mkdtemp(prefix="semot-sbs-"))
    t_all = time.perf_counter()
    print(f"seeding {n_users} Semot users ...", flush=True)
    seed_template(work / "template", n_users)
    tokens = mint_tokens(n_users)
    sides: dict[str, tuple[Wire, Any]] = {
        "semot": (SemotWire(tokens), lambda name: Server(work / "template", work, name, cpu=server_cpu)),
        "ejabberd": (XmppWire(), lambda name: xmpp_server.Ejabberd(
            work, name, cpu=server_cpu, template=ej_template, node=ej_node)),
    }
    if args.sm:
        sides["ejabberd+SM"] = (XmppWire(sm=True), sides["ejabberd"][1])
    if args.ejabberd_flags:
        sides["ejabberd+flags"] = (XmppWire(), lambda name: xmpp_server.Ejabberd(
            work, name, cpu=server_cpu, template=ej_template, node=ej_node, vm_flags=args.ejabberd_flags.split()))
    rounds: list[dict[str, dict[str, dict[str, Any]]]] = []
    try:
        for rnd in range(args.rounds):
            res: dict[str, dict[str, dict[str, Any]]] = {}
            rounds.append(res)
            for k, name in enumerate(which):
                order = list(sides)
                if (k + rnd) % 2:
                    order.reverse()
                res[name] = {}
                for side in order:
                    if side in ("ejabberd+SM", "ejabberd+flags") and name != "direct":
                        continue
                    wire, make = sides[side]
                    srv = make(f"{name}-{side.replace('+', '')}-{rnd}")
                    try:
                        srv.start(timeout=120)
                    except RuntimeError as exc:  # a loaded machine: report it and go on
                        res[name][side] = {"error": f"did not start: {str(exc).splitlines()[0]}"}
                        print(f"  {side} FAILED to start: {exc}", flush=True)
                        srv.stop()
                        continue
                    try:
                        res[name][side] = run_one(side, name, srv, wire, p[name])
                    finally:
                        rc = srv.stop()
                        if rc not in (0, None):
                            print(f"  WARNING: {side} exited with {rc}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    meta = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "source": source_version(),
        "ejabberd": xmpp_server.version(),
        "quick": args.quick,
        "ejabberd_vm_flags": args.ejabberd_flags,
        "server_cpu": server_cpu,
        "loadgen_cpu": gen_cpu,
        "total_s": time.perf_counter() - t_all,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "rounds": rounds}, indent=2, default=str))
    cols = list(sides)
    for i, res in enumerate(rounds):
        print(f"\nSemot ({meta['source']}, SQLite, every message stored before its ack) vs ejabberd "
              f"{meta['ejabberd']} (stock config, no mod_mam{'; +flags: ' + args.ejabberd_flags if args.ejabberd_flags else ''}), "
              f"{meta['date']}"
              f"{' (quick)' if args.quick else ''}, round {i + 1} of {len(rounds)}")
        print(table(res, cols))
    print(f"\ntotal {meta['total_s']:.0f} s; raw figures in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
