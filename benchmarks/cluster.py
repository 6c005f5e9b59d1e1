"""Cluster benchmark (docs/scaling.md): the cost of a message crossing nodes through
Redis against one node, with 1, 2 and 3 nodes on the machine's PostgreSQL. Prints a table.

    python benchmarks/cluster.py [--rate 400] [--seconds 15] [--pairs 100] [--nodes 1,2,3]

Every configuration gets a fresh clone of a seeded PostgreSQL template database
(`--pg-url`, like run.py's `--db postgresql`) and, with several nodes, a Redis server of
its own on a free port (Debian's redis-server, no persistence), so its CPU is only this
load's. `--pairs` direct chats send `--rate` messages/s in all (paced, open loop) for
`--seconds`; with N nodes each pair's two users sit on different nodes, so every
message is stored by one node and pushed to its receiver by another through Redis. The
`1+redis` row is one node publishing on Redis with nobody else subscribed: the bus's own
cost on the sending side.

Figures: CPU from /proc (utime + stime) of every node, of the Redis server and of the
PostgreSQL backends serving the clone (plus the WAL writer, checkpointer and background
writer), per message; ack latency (send -> ack at the sender) and delivery latency
(send -> push at the receiver, same clock), p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loads import pct
from server import PgDatabases, Server, mint_tokens, proc_cpu_s, raise_fd_limit, seed_template, user_id
from wsclient import WSClient, connect_many

_M = ord("m")
IDLE_S = 3.0
_R = ord("r")


class Redis:
    """redis-server on a free port, its CPU readable from /proc."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=open(workdir / f"redis-{self.port}.log", "wb"), stderr=subprocess.STDOUT,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


class Node(Server):
    """A benchmark server that joins an existing database (the cluster's clone) instead of
    making its own."""

    def __init__(self, template: Path, workdir: Path, name: str, db_url: str, env: dict[str, str]) -> None:
        super().__init__(template, workdir, name, cpu=None, env={"SEMOT_DATABASE_URL": db_url, **env})


async def _load(nodes: list[Node], tokens: list[str], pairs: int, rate: float, seconds: float) -> dict[str, Any]:
    """Pairs (2i, 2i+1): the sender on node i % N, the receiver on the next node."""
    n_nodes = len(nodes)
    senders: list[WSClient] = []
    receivers: list[WSClient] = []
    for k, node in enumerate(nodes):
        mine = [i for i in range(pairs) if i % n_nodes == k]
        senders += await connect_many(node.port, [tokens[2 * i] for i in mine], device="s")
        theirs = [i for i in range(pairs) if (i + 1) % n_nodes == k]
        receivers += await connect_many(node.port, [tokens[2 * i + 1] for i in theirs], device="r")
    st: dict[str, Any] = {"acks": 0, "errors": 0, "recv": 0, "ack": [], "lat": []}

    def on_frame(c: WSClient, payload: bytes) -> None:
        now = time.time_ns()
        if payload[6] == _M:
            st["lat"].append(now - int(orjson.loads(payload)["body"]["text"][:19]))
            st["recv"] += 1
        elif payload[6] == _R:
            o = orjson.loads(payload)
            t0 = c.state.pop(o["rid"], None)
            if o["ok"]:
                st["acks"] += 1
                if t0 is not None:
                    st["ack"].append(now - t0)
            else:
                st["errors"] += 1

    by_user = {}
    for c in senders + receivers:
        c.on_frame = on_frame
        c.state = {}
        by_user[c.user] = c
    pair_senders = [by_user[user_id(2 * i)] for i in range(pairs)]
    rids = [1] * pairs

    def send(i: int, prefix: str) -> None:
        c = pair_senders[i]
        rids[i] += 1
        now = time.time_ns()
        c.state[rids[i]] = now
        frame = {"t": "send", "rid": rids[i], "cid": f"{prefix}{rids[i]}", "to": user_id(2 * i + 1), "kind": "text",
                 "body": {"text": f"{now:019d} cluster benchmark payload"}}
        c.send(orjson.dumps(frame))

    async def drain(expected: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and (st["acks"] + st["errors"] < expected or st["recv"] < st["acks"]):
            await asyncio.sleep(0.005)

    for i in range(pairs):  # warm-up: creates the conversations
        send(i, "w")
    await drain(pairs, 20)
    st.update(acks=0, errors=0, recv=0, ack=[], lat=[])

    # what the nodes burn idle (heartbeats, presence beats, sweeps) is subtracted below
    idle0 = [n.cpu_s() for n in nodes]
    await asyncio.sleep(IDLE_S)
    idle_rate = sum(n.cpu_s() - c for n, c in zip(nodes, idle0, strict=True)) / IDLE_S
    cpu0 = [n.cpu_s() for n in nodes]
    db0 = await asyncio.to_thread(nodes[0].db_cpu_s)  # also looks the backends up (asyncio.run inside)
    total = int(rate * seconds)
    t0 = time.perf_counter()
    for k in range(total):
        due = t0 + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        send(k % pairs, "m")
    await drain(total, 30)
    wall = time.perf_counter() - t0
    cpu = sum(n.cpu_s() - c for n, c in zip(nodes, cpu0, strict=True))
    db = await asyncio.to_thread(nodes[0].db_cpu_s) - db0
    # idle again after the load (the mean of both windows is subtracted: one alone swings
    # with the other processes on a shared machine)
    idle1 = [n.cpu_s() for n in nodes]
    await asyncio.sleep(IDLE_S)
    idle_rate = (idle_rate + sum(n.cpu_s() - c for n, c in zip(nodes, idle1, strict=True)) / IDLE_S) / 2
    for c in senders + receivers:
        c.close()
    return {"sent": total, "acks": st["acks"], "errors": st["errors"], "recv": st["recv"], "wall": wall,
            "gross_cpu": cpu, "node_cpu": cpu - idle_rate * wall, "idle_cpu": idle_rate, "db_cpu": db,
            "ack": sorted(st["ack"]), "lat": sorted(st["lat"])}


def run_config(label: str, n_nodes: int, with_redis: bool, args: argparse.Namespace, template: Path, pg: PgDatabases,
               workdir: Path, tokens: list[str]) -> dict[str, Any]:
    db = f"semot_bench_cluster_{label.replace('+', '_')}"
    pg.create(db, template=pg.template)
    redis = Redis(workdir) if with_redis else None
    env = {"SEMOT_REDIS_URL": redis.url} if redis else {}
    nodes = [Node(template, workdir, f"{label}-{k}", pg.url(db), env) for k in range(n_nodes)]
    try:
        for node in nodes:
            node.start(60)
        nodes[0].pg, nodes[0].db_name = pg, db  # db_cpu_s: the clone's backends
        redis0 = redis.cpu_s() if redis else 0.0

        async def go() -> dict[str, Any]:
            # look the PostgreSQL backends up under load: start a short load first
            return await _load(nodes, tokens, args.pairs, args.rate, args.seconds)

        out = asyncio.run(go())
        out["redis_cpu"] = (redis.cpu_s() - redis0) if redis else 0.0
        return out
    finally:
        for node in nodes:
            node.pg = None  # the clone is dropped below, once
            node.stop()
        if redis:
            redis.stop()
        pg.drop(db)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=400.0, help="messages/s in all")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--nodes", default="1,2,3", help="node counts to run (1 also runs 1+redis)")
    ap.add_argument("--pg-url",
                    default=os.environ.get("SEMOT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with the logs")
    args = ap.parse_args()
    raise_fd_limit()
    pg = PgDatabases(args.pg_url)
    pg.template = "semot_bench_cluster_template"
    workdir = Path(tempfile.mkdtemp(prefix="semot-cluster-bench-"))
    template = workdir / "template"
    seed_s = seed_template(template, 2 * args.pairs, pg)
    tokens = mint_tokens(2 * args.pairs)
    configs: list[tuple[str, int, bool]] = []
    for n in (int(x) for x in args.nodes.split(",")):
        configs += [("1", 1, False), ("1+redis", 1, True)] if n == 1 else [(str(n), n, True)]
    rows = []
    try:
        for label, n, redis in configs:
            r = run_config(label, n, redis, args, template, pg, workdir, tokens)
            rows.append((label, r))
            print(f"  {label}: done", file=sys.stderr)
    finally:
        pg.drop(pg.template)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nCluster benchmark: {args.rate:.0f} msg/s for {args.seconds:.0f} s over {args.pairs} direct chats, "
          f"PostgreSQL (seeded in {seed_s:.1f} s); every message crosses nodes when there are several\n")
    head = (f"{'nodes':>8} {'acked':>7} {'pushed':>7} {'err':>4} {'gross ms/msg':>12} {'nodes ms/msg':>12} "
            f"{'redis ms/msg':>12} "
            f"{'pg ms/msg':>9} {'idle %cpu':>9} {'ack p50/p99 ms':>15} {'push p50/p99 ms':>16}")
    print(head)
    print("-" * len(head))
    for label, r in rows:
        per = r["acks"] or 1
        node_ms, redis_ms, db_ms = 1000 * r["node_cpu"] / per, 1000 * r["redis_cpu"] / per, 1000 * r["db_cpu"] / per
        ack = f"{pct(r['ack'], 50) / 1e6:.1f}/{pct(r['ack'], 99) / 1e6:.1f}"
        lat = f"{pct(r['lat'], 50) / 1e6:.1f}/{pct(r['lat'], 99) / 1e6:.1f}"
        gross_ms = 1000 * r["gross_cpu"] / per
        print(f"{label:>8} {r['acks']:>7} {r['recv']:>7} {r['errors']:>4} {gross_ms:>12.3f} {node_ms:>12.3f} "
              f"{redis_ms:>12.3f} "
              f"{db_ms:>9.3f} {100 * r['idle_cpu']:>9.1f} {ack:>15} {lat:>16}")
    print("\nnodes ms/msg: CPU of all Semot nodes per acknowledged message (store + ack + push, and with Redis "
          "the publish and the receiving node's decode), their idle CPU (idle %cpu, all nodes, "
          "before and after the load) subtracted; gross ms/msg: the same without subtracting. Compare with row 1.")


if __name__ == "__main__":
    main()
