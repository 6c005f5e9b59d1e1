#!/usr/bin/env python
"""Bulk user import and the admin user list (issue 12): one command, one table.

    .venv/bin/python benchmarks/admin_import.py                 # all: ~5-8 min on 2 busy cores
    .venv/bin/python benchmarks/admin_import.py --only plain,list --list-users 20000
    .venv/bin/python benchmarks/admin_import.py --users 2000 --only passwords   # shorter argon2 phase

A real server (`python -m semot serve`, SQLite, a seeded temp data dir, a free
127.0.0.1 port; not pinned to a CPU, because the import's hashing processes inherit the
server's affinity and would then share its core), a fresh one per phase:

1. plain: `POST /api/admin/v1/users/import` of N users (default 10,000) without
   passwords, with a department path (50 departments) and a title each; then the same
   without departments. Wall time of the request, server CPU, peak RSS over the baseline.
2. passwords: the same N users with passwords, as a console job (`POST .../import-jobs`,
   polled). Before it and during it, direct text sends between 40 connected users (rate
   --send-rate, default 200/s, for --send-s seconds) measure send-to-receive p50/p99:
   idle vs while the import hashes. Rate = rows per second of the job; peak RSS of the
   server plus its hashing processes.
3. list: M users (default 100,000) imported without passwords into 100 departments, then
   `GET /api/admin/v1/users?offset=&limit=50` pages: first, middle, last, `q=`, a
   department filter, the top department (its subtree: everyone; first page, page 500),
   each department with `q=`; median and p95 of 20 requests each (target <= 200 ms).

Raw figures: benchmarks/results/admin-import-latest.json (gitignored).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from loads import direct, pct  # noqa: E402
from run import run_async, source_version  # noqa: E402
from server import PASSWORD, Server, mint_tokens, proc_rss_kib, raise_fd_limit, seed_template, user_id  # noqa: E402

ALL = ("plain", "passwords", "list")
RESULTS = HERE / "results"
CHAT_USERS = 40
A = "/api/admin/v1"


def people_csv(n: int, *, prefix: str, passwords: bool, depts: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["username", "password", "display_name", "department", "title"])
    for i in range(n):
        dept = f"总部/部门{i % depts:03d}" if depts else ""
        w.writerow(
            [f"{prefix}{i:06d}", f"pw-{i:06d}-secret" if passwords else "", f"员工{i}", dept, "工程师" if depts else ""]
        )
    return buf.getvalue().encode()


def http(
    server: Server,
    method: str,
    path: str,
    token: str,
    data: bytes | None = None,
    ctype: str = "text/csv",
    timeout: float = 3600,
) -> Any:
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def admin_token(server: Server) -> str:
    body = json.dumps({"username": user_id(0), "password": PASSWORD}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/v1/auth/login",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return str(json.loads(r.read())["access_token"])


def family_rss_kib(pid: int) -> int:
    """RSS of a process and its children (the hashing processes)."""
    total = proc_rss_kib(pid)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                total += proc_rss_kib(int(entry))
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError, RuntimeError):
            pass
    return total


class PeakRss:
    """Samples the server's (and its children's) RSS every 50 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.base = pid, 0, family_rss_kib(pid)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, family_rss_kib(self.pid))
            except (FileNotFoundError, RuntimeError):
                return

    def stop(self) -> tuple[float, float]:
        """(baseline MiB, peak MiB)."""
        self._stop.set()
        self._t.join()
        return self.base / 1024, max(self.peak, self.base) / 1024


def seed(template: Path) -> float:
    took = seed_template(template, CHAT_USERS)

    async def make_admin() -> None:
        from semot.app import make_storage
        from semot.config import load_settings
        from server import BENCH_SECRET

        storage = make_storage(load_settings(data_dir=template, secret_key=BENCH_SECRET))
        try:
            await storage.users.set_user_admin(user_id(0), True)
        finally:
            await storage.close()

    run_async(make_admin())
    return took


def plain(template: Path, work: Path, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, depts in (("with_depts", 50), ("no_depts", 0)):
        server = Server(template, work, f"plain-{label}", cpu=None)
        server.start()
        try:
            token = admin_token(server)
            data = people_csv(n, prefix="p", passwords=False, depts=depts)
            rss = PeakRss(server.pid)
            cpu0, t0 = server.cpu_s(), time.perf_counter()
            body = http(server, "POST", f"{A}/users/import", token, data)
            wall = time.perf_counter() - t0
            base, peak = rss.stop()
            out[label] = {
                "rows": n,
                "created": body["created"],
                "errors": body["error_count"],
                "wall_s": wall,
                "server_cpu_s": server.cpu_s() - cpu0,
                "rss_base_mib": base,
                "rss_peak_mib": peak,
                "bytes": len(data),
            }
        finally:
            server.stop()
    return out


async def _sends(server: Server, tokens: list[str], rate: float, seconds: float, tag: str) -> dict[str, Any]:
    r = await direct(server, tokens, pairs=CHAT_USERS // 2, rate=rate, duration=seconds, cid_prefix=tag)
    return {k: r[k] for k in ("latency_p50_ms", "latency_p99_ms", "latency_max_ms", "delivered_ratio", "acked")}


def passwords(template: Path, work: Path, n: int, rate: float, seconds: float, patches: str = "") -> dict[str, Any]:
    server = Server(template, work, "passwords" + (f"-{patches}" if patches else ""), cpu=None, patches=patches)
    server.start()
    try:
        token = admin_token(server)
        chat = mint_tokens(CHAT_USERS)
        idle = run_async(_sends(server, chat, rate, seconds, "idle"))
        data = people_csv(n, prefix="h", passwords=True, depts=50)
        rss = PeakRss(server.pid)
        cpu0, t0 = server.cpu_s(), time.perf_counter()
        job = http(server, "POST", f"{A}/users/import-jobs", token, data)
        while job["done"] < min(n // 10, 200):  # hashing has started
            time.sleep(0.2)
            job = http(server, "GET", f"{A}/users/import-jobs/{job['job_id']}", token)
        during = run_async(_sends(server, chat, rate, seconds, "busy"))
        done_at_sends = job["done"]
        while not job["finished"]:
            time.sleep(0.5)
            job = http(server, "GET", f"{A}/users/import-jobs/{job['job_id']}", token)
        wall = time.perf_counter() - t0
        base, peak = rss.stop()
        return {
            "rows": n,
            "created": job["created"],
            "errors": job["error_count"],
            "status": job["status"],
            "wall_s": wall,
            "rate_rows_s": n / wall,
            "server_cpu_s": server.cpu_s() - cpu0,
            "rss_base_mib": base,
            "rss_peak_mib": peak,
            "idle": idle,
            "during": during,
            "done_when_sends_began": done_at_sends,
            "send_rate": rate,
        }
    finally:
        server.stop()


def _timed_get(server: Server, path: str, token: str, reps: int) -> dict[str, Any]:
    times = []
    body: Any = None
    for _ in range(reps):
        t0 = time.perf_counter()
        body = http(server, "GET", path, token)
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return {
        "median_ms": pct(times, 50),
        "p95_ms": pct(times, 95),
        "max_ms": times[-1],
        "total": body["total"],
        "rows": len(body["users"]),
    }


def listing(template: Path, work: Path, m: int, reps: int) -> dict[str, Any]:
    server = Server(template, work, "list", cpu=None)
    server.start()
    try:
        token = admin_token(server)
        t0 = time.perf_counter()
        made = 0
        for start in range(0, m, 100_000):  # one import holds at most 100,000 rows
            rows = min(100_000, m - start)
            data = people_csv(rows, prefix=f"l{start // 100_000}_", passwords=False, depts=100)
            made += http(server, "POST", f"{A}/users/import", token, data)["created"]
        seeded = time.perf_counter() - t0
        depts = http(server, "GET", "/api/v1/directory/departments", token)["departments"]
        dept = next(d["department_id"] for d in depts if d["name"] == "部门042")
        top = next(d["department_id"] for d in depts if d["name"] == "总部")
        total = m + CHAT_USERS
        cases = {
            "first page": f"{A}/users?offset=0&limit=50",
            "middle page": f"{A}/users?offset={total // 2}&limit=50",
            "last page": f"{A}/users?offset={total - 50}&limit=50",
            "q=员工4242": f"{A}/users?q={urllib.request.quote('员工4242')}&limit=50",
            "q=l0_00777": f"{A}/users?q=l0_00777&limit=50",
            "department (1,000)": f"{A}/users?department_id={dept}&limit=50",
            "department subtree (all), first page": f"{A}/users?department_id={top}&limit=50",
            "department subtree (all), page 500": f"{A}/users?department_id={top}&offset=25000&limit=50",
            "department + q": f"{A}/users?department_id={dept}&q={urllib.request.quote('员工1042')}&limit=50",
            "department subtree (all) + q": f"{A}/users?department_id={top}&q={urllib.request.quote('员工1042')}&limit=50",
            "q=zhang (no match, pinyin read too)": f"{A}/users?q=zhang&limit=50",
        }
        return {
            "users": made,
            "seed_import_s": seeded,
            "pages": {name: _timed_get(server, path, token, reps) for name, path in cases.items()},
        }
    finally:
        server.stop()


def table(res: dict[str, Any]) -> str:
    lines = [f"Semot admin import benchmark ({res['source']}, {res['when']})", ""]
    if "plain" in res:
        lines.append("| import without passwords | rows | wall | server CPU | RSS base -> peak |")
        lines.append("|---|---|---|---|---|")
        for label, r in res["plain"].items():
            lines.append(
                f"| {label.replace('_', ' ')} | {r['created']:,} | {r['wall_s']:.1f} s | {r['server_cpu_s']:.1f} s "
                f"| {r['rss_base_mib']:.0f} -> {r['rss_peak_mib']:.0f} MiB |"
            )
        lines.append("")
    for key in ("passwords", "passwords_what_if"):
        if key not in res:
            continue
        r = res[key]
        lines.append(f"| import with passwords (job){' what-if ' + r['patches'] if r.get('patches') else ''} | value |")
        lines.append("|---|---|")
        lines.append(f"| rows created / errors | {r['created']:,} / {r['errors']} |")
        lines.append(f"| wall, rate | {r['wall_s']:.1f} s, {r['rate_rows_s']:.0f} rows/s |")
        lines.append(f"| server CPU (event loop process) | {r['server_cpu_s']:.1f} s |")
        lines.append(
            f"| RSS server + hashing processes, base -> peak | {r['rss_base_mib']:.0f} -> {r['rss_peak_mib']:.0f} MiB |"
        )
        for k in ("idle", "during"):
            s = r[k]
            lines.append(
                f"| sends {k} ({r['send_rate']:.0f}/s): p50 / p99 / max | {s['latency_p50_ms']:.2f} / "
                f"{s['latency_p99_ms']:.1f} / {s['latency_max_ms']:.1f} ms (delivered {s['delivered_ratio']:.0%}) |"
            )
        lines.append("")
    if "list" in res:
        r = res["list"]
        lines.append(
            f"| users list at {r['users'] + CHAT_USERS:,} users (imported in {r['seed_import_s']:.0f} s) "
            "| median | p95 | total |"
        )
        lines.append("|---|---|---|---|")
        for name, p in r["pages"].items():
            lines.append(f"| {name} | {p['median_ms']:.1f} ms | {p['p95_ms']:.1f} ms | {p['total']:,} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(ALL), help=f"any of {','.join(ALL)}")
    ap.add_argument("--users", type=int, default=10_000, help="rows of the plain and passwords imports")
    ap.add_argument("--list-users", type=int, default=100_000, help="users in the database for the list")
    ap.add_argument("--send-rate", type=float, default=200.0)
    ap.add_argument("--send-s", type=float, default=15.0)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--what-if", default="", help="passwords again with these patched_serve.py patches (import-nice0)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    ap.add_argument("--json", type=Path, default=RESULTS / "admin-import-latest.json")
    args = ap.parse_args()
    only = [x for x in args.only.split(",") if x]
    raise_fd_limit()
    work = Path(tempfile.mkdtemp(prefix="semot-admin-import-"))
    res: dict[str, Any] = {
        "source": source_version(),
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "load_before": os.getloadavg(),
    }
    try:
        template = work / "template"
        res["seed_s"] = seed(template)

        def save() -> None:  # after each phase: a later failure keeps the figures
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False))

        if "plain" in only:
            res["plain"] = plain(template, work, args.users)
            save()
        if "passwords" in only:
            res["passwords"] = passwords(template, work, args.users, args.send_rate, args.send_s)
            if args.what_if:
                res["passwords_what_if"] = passwords(
                    template, work, args.users, args.send_rate, args.send_s, args.what_if
                )
                res["passwords_what_if"]["patches"] = args.what_if
            save()
        if "list" in only:
            res["list"] = listing(template, work, args.list_users, args.reps)
        res["load_after"] = os.getloadavg()
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False))
    print(table(res))
    print(f"\nload average before / after: {res['load_before'][0]:.1f} / {res.get('load_after', [0])[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
