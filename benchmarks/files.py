#!/usr/bin/env python
"""Semot file benchmarks (issue 10): one command, a table per section.

    .venv/bin/python benchmarks/files.py                  # 500 MB upload/download, 1,000 image GETs, thumbnails; ~1-2 min
    .venv/bin/python benchmarks/files.py --quick          # 50 MB, 200 GETs, fewer thumbnails; ~12-50 s
    .venv/bin/python benchmarks/files.py --only upload,download --size-mb 200
    .venv/bin/python benchmarks/files.py --only upload --profile   # + py-spy and perf on the server

One real server (`python -m semot serve`, a seeded SQLite data dir in a temp dir, a
free 127.0.0.1 port) pinned to the first CPU, this process (the clients) to the second,
as benchmarks/run.py does. The source file, `cp`'s copy and the server's data dir are
in the same temp dir, so `cp` and the uploads write to the same disk.

1. upload: `cp` of the file (best of 2), then the file uploaded with raw aiohttp PATCHes
   (32 MiB, tus-js-client style), tuspy (8 MiB) and one PATCH of the whole file
   (tus-js-client's default); throughput vs `cp`, server CPU per MB, server RSS sampled
   every 100 ms (peak over the baseline: must stay flat).
2. download: the file in sequential 8 MiB Range GETs, and whole; 1,000 GETs of a 1 MB
   JPEG, 200 in flight, with a bearer token and with a signed URL: p50/p99, errors.
3. thumbs: a 12-megapixel JPEG's thumbnail: time and server memory; the p99 of text
   sends over WebSocket while rounds of 10 thumbnails are made vs without (ratio).

Raw figures: benchmarks/results/files-latest.json (gitignored).
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

import files_http as fh  # noqa: E402
import files_thumbs as ft  # noqa: E402
import profile_summary  # noqa: E402
from run import run_async, source_version  # noqa: E402
from server import Profiler, Server, cpus, mint_tokens, raise_fd_limit, seed_template  # noqa: E402

ALL = ("upload", "download", "thumbs")
RESULTS = HERE / "results"
MiB = fh.MiB


def plan(quick: bool, size_mb: float | None) -> dict[str, Any]:
    return {
        "size": int((size_mb or (50 if quick else 500)) * fh.MB),
        "raw_chunk": 32 * MiB, "tuspy_chunk": 8 * MiB, "range": 8 * MiB,
        "gets": 200 if quick else 1000, "in_flight": 50 if quick else 200,
        "rounds": 2 if quick else 8, "pairs": 50, "rate": 500.0, "seconds": 2.0 if quick else 6.0,
    }


async def section_upload(srv: Server, base: str, token: str, src: Path, sha: str, p: dict[str, Any]) -> dict[str, Any]:
    return await fh.uploads(srv.pid, srv.port, base, token, src, p["size"], sha, raw_chunk=p["raw_chunk"],
                            tuspy_chunk=p["tuspy_chunk"], whole=True)


async def section_download(srv: Server, base: str, token: str, src: Path, p: dict[str, Any]) -> dict[str, Any]:
    print(f"  download: uploading the {p['size'] / fh.MB:.0f} MB file and a 1 MB JPEG ...", flush=True)
    fid = await asyncio.to_thread(fh.upload_raw, srv.port, token, src, p["size"], p["raw_chunk"], "big.bin")
    with open(src, "rb") as f:
        head = f.read(MiB)
    out: dict[str, Any] = {"big": await fh.download_ranges(srv.pid, base, token, fid, p["size"], p["range"], head)}
    image = await asyncio.to_thread(ft.photo, 2000, 1500, 7, 60.0)
    img_path = src.with_name("image.jpg")
    img_path.write_bytes(image)
    img = await asyncio.to_thread(fh.upload_raw, srv.port, token, img_path, len(image), len(image), "image.jpg")
    out["image_bytes"] = len(image)
    url = f"{base}{fh.FILES}{img}/content"
    from semot.services.files import UrlSigner
    from server import BENCH_SECRET

    signed = f"{url}?{UrlSigner(BENCH_SECRET, 3600).query(img, 'content')}"
    print(f"  download: {p['gets']} GETs of the image, {p['in_flight']} in flight, token / signed URL ...", flush=True)
    many = [f"127.0.0.{i}" for i in range(2, 2 + max(1, p["in_flight"] // 5))]  # ~5 connections per address
    bearer = {"Authorization": f"Bearer {token}"}
    out["gets_token"] = await fh.many_downloads(srv.pid, url, bearer, p["gets"], p["in_flight"], len(image), many)
    out["gets_signed"] = await fh.many_downloads(srv.pid, signed, {}, p["gets"], p["in_flight"], len(image), many)
    out["gets_one_address"] = await fh.many_downloads(srv.pid, url, bearer, p["gets"], p["in_flight"], len(image),
                                                      ["127.0.0.1"])
    await fh.delete(base, token, fid)
    return out


async def section_thumbs(srv: Server, base: str, token: str, tokens: list[str], p: dict[str, Any]) -> dict[str, Any]:
    if not await ft.thumb_route_exists(base):
        return {"error": "GET /api/v1/files/{file_id}/thumb is not in the server's /openapi.json (not implemented yet)"}
    return await ft.thumbnails(srv.pid, base, srv.port, token, tokens, rounds=p["rounds"], pairs=p["pairs"],
                               rate=p["rate"], seconds=p["seconds"])


# --- tables ----------------------------------------------------------------------------------


def render(title: str, rows: list[tuple[str, str, str, bool | None]]) -> str:
    head = ("metric", "result", "target", "")
    cells = [(m, r, t, "" if ok is None else ("ok" if ok else "MISSED")) for m, r, t, ok in rows]
    w = [max(len(c[i]) for c in [head, *cells]) for i in range(4)]
    out = [f"\n{title}", "| " + " | ".join(f"{head[i]:<{w[i]}}" for i in range(4)) + " |",
           "|" + "|".join("-" * (w[i] + 2) for i in range(4)) + "|"]
    out += ["| " + " | ".join(f"{c[i]:<{w[i]}}" for i in range(4)) + " |" for c in cells]
    return "\n".join(out)


def tables(res: dict[str, Any]) -> str:
    parts = []
    for name, r in res.items():
        if not name.startswith("_") and "error" in r:
            parts.append(render(f"{name}: FAILED", [(name, r["error"][:160], "", False)]))
    if "upload" in res and "error" not in res["upload"]:
        u = res["upload"]
        rows: list[tuple[str, str, str, bool | None]] = [
            (f"cp of the {u['size_mb']:.0f} MB file, same disk (before each upload and after the last)",
             ", ".join(f"{u['size_mb'] / c['cp_s']:.0f}" for c in u["cps"]) + " MB/s; + fsync: "
             + ", ".join(f"{u['size_mb'] / c['cp_fsync_s']:.0f}" for c in u["cps"]) + " MB/s; cp's CPU per MB: "
             + ", ".join(f"{c['cp_cpu_ms_per_mb']:.2f}" for c in u["cps"]) + " ms", "", None)]
        for run in u["runs"]:
            c = run["client"]
            rows.append((f"upload, {c}: throughput", f"{run['mb_per_s']:.0f} MB/s ({run['seconds']:.2f} s) = "
                         f"{run['vs_cp']:.0%} of cp ({run['cp_mb_per_s']:.0f} MB/s; cp + fsync "
                         f"{run['cp_fsync_mb_per_s']:.0f}), sha256 {'ok' if run['sha256_ok'] else 'WRONG'}",
                         ">= 50 % of cp", run["vs_cp"] >= 0.5 and run["sha256_ok"]))
            rows.append((f"upload, {c}: server CPU per MB", f"{run['server_cpu_ms_per_mb']:.2f} ms "
                         f"({run['server_cpu_s']:.2f} s CPU; client {run['client_cpu_ms_per_mb']:.2f} ms/MB)", "", None))
            rows.append((f"upload, {c}: server RSS peak - baseline",
                         f"{run['rss_peak_over_baseline_mib']:.1f} MiB (baseline {run['rss_baseline_mib']:.0f} MiB, "
                         f"{run['rss_samples']} samples)", "flat (< 64 MiB)", run["rss_peak_over_baseline_mib"] < 64))
        parts.append(render("1. upload", rows))
    if "download" in res and "error" not in res["download"]:
        d = res["download"]
        b = d["big"]
        rows = []
        for key, label in (("ranges", f"{b['range_mib']} MiB Range GETs, sequential"), ("whole", "one GET")):
            x = b[key]
            rows.append((f"download {res_size(res):.0f} MB, {label}",
                         f"{x['mb_per_s']:.0f} MB/s ({x['seconds']:.2f} s), {x['server_cpu_ms_per_mb']:.2f} ms CPU/MB, "
                         f"RSS +{x['rss_peak_over_baseline_mib']:.1f} MiB, bytes {'ok' if x['bytes_ok'] else 'WRONG'}",
                         "", x["bytes_ok"]))
        for key, label in (("gets_token", "bearer token"), ("gets_signed", "signed URL"),
                           ("gets_one_address", "bearer, ONE address")):
            g = d[key]
            rows.append((f"{g['n']} GETs of a {d['image_bytes'] / 1e6:.1f} MB JPEG, {g['in_flight']} in flight from "
                         f"{g['sources']} address{'es' if g['sources'] > 1 else ''}, {label}",
                         f"p50 {g['p50_ms']:.0f} / p99 {g['p99_ms']:.0f} ms (max {g['max_ms']:.0f}); "
                         f"{g['requests_per_s']:.0f} req/s, {g['mb_per_s']:.0f} MB/s; errors {g['errors']}; "
                         f"{g['server_cpu_ms_per_request']:.2f} ms CPU/req", "no errors", g["errors"] == 0))
        parts.append(render("2. download", rows))
    if "thumbs" in res and "error" not in res["thumbs"]:
        t = res["thumbs"]
        s1 = t["single"]
        th = s1["thumb"]
        rows = [
            (f"thumbnail of a 12 MP JPEG ({t['photo_mb']:.1f} MB)",
             f"{s1['all_ready_s'] * 1000:.0f} ms from the last byte to GET /thumb 200 "
             f"({th['type']}, {th['size']}, {th['bytes'] / 1000:.0f} kB)", "<= 320 px",
             th["size"] is not None and max(th["size"]) <= 320),
            ("thumbnail: server CPU, RSS peak - baseline",
             f"{s1['server_cpu_s'] * 1000:.0f} ms CPU; +{s1['rss_peak_over_baseline_mib']:.0f} MiB "
             f"(baseline {s1['rss_baseline_mib']:.0f} MiB)", "", None),
        ]
        rs = t["rounds"]
        if rs:
            rows.append((f"10 thumbnails at once ({len(rs)} rounds)",
                         f"all ready in {min(r['all_ready_s'] for r in rs) * 1000:.0f}-"
                         f"{max(r['all_ready_s'] for r in rs) * 1000:.0f} ms; server RSS "
                         f"+{t['during']['rss_peak_over_baseline_mib']:.0f} MiB; "
                         f"{t['during']['server_cpu_s'] / max(1, 10 * len(rs)) * 1000:.0f} ms CPU per thumbnail "
                         "(sends included)", "", None))
        for key, label in (("sends_before", "without thumbnails"), ("sends_during", "while thumbnails are made"),
                           ("sends_after", "without, again")):
            x = t[key]
            rows.append((f"text sends {label}", f"p50 {x['p50_ms']:.2f} / p99 {x['p99_ms']:.2f} ms (max "
                         f"{x['max_ms']:.0f}); {x['received']}/{x['sent']} in {x['seconds']:.1f} s", "",
                         x["received"] == x["sent"] and x["errors"] == 0))
        rows.append(("p99 during / p99 without (mean of both; best)",
                     f"{t['p99_ratio']:.2f}; {t['p99_ratio_vs_best']:.2f}", "<= 1.5 (not slowed)",
                     t["p99_ratio"] <= 1.5))
        rows.append(("p50 during / p50 without (mean of both)", f"{t['p50_ratio']:.2f}", "", None))
        parts.append(render("3. thumbnails", rows))
    return "\n".join(parts)


def res_size(res: dict[str, Any]) -> float:
    return float(res.get("_size_mb", 0))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=None, help="size of the big file (default 500; 50 with --quick)")
    ap.add_argument("--quick", action="store_true", help="smaller and shorter: a ~30 s smoke run")
    ap.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    ap.add_argument("--what-if", choices=("nice-media", "idle-media", "early-writeback"), default=None,
                    help="server patched at start-up by files_whatif/sitecustomize.py (sizing a proposal; not the "
                         "project's figures): nice-media = media worker threads at nice 19 (idle-media: SCHED_IDLE); early-writeback = uploads start "
                         "writeback every 64 MiB and overlap the write of a batch with the next")
    ap.add_argument("--no-pin", action="store_true", help="let the server use both CPUs (default: the first only)")
    ap.add_argument("--json", type=Path, default=RESULTS / "files-latest.json", help="where to write the raw figures")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (server log)")
    ap.add_argument("--profile", action="store_true",
                    help="py-spy and perf on the server during each section; benchmarks/results/profile-files-*")
    args = ap.parse_args()
    which = [w.strip() for w in args.only.split(",") if w.strip()]
    if bad := [w for w in which if w not in ALL]:
        ap.error(f"unknown section(s) {bad}; choose from {ALL}")
    p = plan(args.quick, args.size_mb)
    raise_fd_limit()
    server_cpu, gen_cpu = cpus()
    if gen_cpu is not None:
        os.sched_setaffinity(0, {gen_cpu})
    t_all = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="semot-files-bench-"))
    need_gb = 3 * p["size"] / 1e9 + 1
    if fh.disk_free_gb(work) < need_gb:
        ap.error(f"{work} has {fh.disk_free_gb(work):.1f} GB free; this run needs ~{need_gb:.1f} GB")
    n_users = 2 * p["pairs"] + 1
    print(f"seeding {n_users} users ...", flush=True)
    seed_template(work / "template", n_users)
    tokens = mint_tokens(n_users)
    token = tokens[-1]  # the uploader is not one of the chatting pairs
    results: dict[str, Any] = {"_size_mb": p["size"] / fh.MB}
    srv = Server(work / "template", work, "files", cpu=None if args.no_pin else server_cpu,
                 env={"SEMOT_FILE_MAX_BYTES": str(max(p["size"], 1024**3)),
                      **({"SEMOT_BENCH_WHATIF": args.what_if, "PYTHONPATH": str(HERE / "files_whatif")}
                         if args.what_if else {})})
    try:
        src = work / "source.bin"
        sha = ""
        if {"upload", "download"} & set(which):
            print(f"writing {p['size'] / fh.MB:.0f} MB of random bytes to {src} ...", flush=True)
            sha = fh.random_file(src, p["size"])
        srv.start()
        base = f"http://127.0.0.1:{srv.port}"
        print(f"server pid {srv.pid} on port {srv.port}, CPU {srv.cpu}; clients on CPU {gen_cpu}", flush=True)
        for name in which:
            t = time.perf_counter()
            print(f"running {name} ...", flush=True)
            prof = None
            if args.profile:
                prof = Profiler(srv.pid, RESULTS / f"profile-files-{name}", cpu=gen_cpu)
                prof.start()
                prof.start_perf()
            try:
                if name == "upload":
                    results[name] = run_async(section_upload(srv, base, token, src, sha, p))
                elif name == "download":
                    results[name] = run_async(section_download(srv, base, token, src, p))
                else:
                    results[name] = run_async(section_thumbs(srv, base, token, tokens, p))
            except Exception as exc:  # report it in the table and go on with the next section
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                print(f"  {name} FAILED: {results[name]['error']}", flush=True)
                if srv.log_path.exists():
                    print(srv.log_path.read_text(errors="replace")[-1500:], flush=True)
            finally:
                if prof is not None:
                    raw = prof.stop()
                    if raw.exists():
                        out = raw.with_name(raw.stem + "-summary.txt")
                        out.write_text(profile_summary.summarise(raw) + "\n" + prof.perf_report())
                        print(f"  profile: {out}", flush=True)
            print(f"  {name} done in {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        rc = srv.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    meta = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "source": source_version(), "quick": args.quick, "plan": p, "python": platform.python_version(),
        "server_cpu": None if args.no_pin else server_cpu, "loadgen_cpu": gen_cpu,
        "load_average_at_end": os.getloadavg(), "total_s": time.perf_counter() - t_all, "server_exit": rc,
        "what_if": args.what_if,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    print(f"\nSemot file benchmarks, {meta['date']}, source {meta['source']}{' (quick)' if args.quick else ''}, "
          f"server on CPU {meta['server_cpu']}, load average {os.getloadavg()[0]:.1f}"
          + (f" (WHAT-IF, server patched: {args.what_if})" if args.what_if else ""))
    print(tables(results))
    print(f"\ntotal {meta['total_s']:.0f} s; raw figures in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
