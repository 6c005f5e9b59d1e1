"""Uploads and downloads of issue 10 against the real server: tus clients, Range reads,
many concurrent image downloads, and the server's CPU and memory while they run.

Two tus clients, because they put different loads on the server: tuspy (the reference
Python client: `requests`, one PATCH per chunk read into memory) and raw aiohttp PATCHes
streamed from the file the way tus-js-client sends them (`chunkSize` of tens of MB, or
its default of the whole file in one PATCH). The bytes are random, so nothing on the way
can compress them, and every upload's sha256 is checked against the server's `/info`.

Server figures come from /proc (no psutil here): CPU = utime + stime of the server and
any child processes (a thumbnail process pool would be one), memory = VmRSS of the same
tree, sampled every 100 ms by a thread, so a server that buffered a whole PATCH body or a
whole file would show it as a step of tens to hundreds of MB.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import os
import resource
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

from server import proc_cpu_s, proc_rss_kib

FILES = "/api/v1/files/"
MB = 1_000_000
MiB = 1024 * 1024


# --- the server's process tree -----------------------------------------------------------


def tree_pids(pid: int) -> list[int]:
    """pid and its descendants (a worker process pool counts as the server)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def tree_rss_kib(pid: int) -> int:
    total = 0
    for p in tree_pids(pid):
        try:
            total += proc_rss_kib(p)
        except (FileNotFoundError, ProcessLookupError, RuntimeError):
            pass
    return total


def tree_cpu_s(pid: int) -> float:
    total = 0.0
    for p in tree_pids(pid):
        try:
            total += proc_cpu_s(p)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def reset_peak(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of the tree: `5` to /proc/<pid>/clear_refs."""
    ok = True
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            ok = False
    return ok


def tree_hwm_kib(pid: int) -> int:
    """Sum of VmHWM over the tree: each process's peak RSS since reset_peak (exact, where
    the 100 ms samples can miss a peak that lasts 50 ms)."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


class Watch:
    """Server CPU and RSS over a stretch of work: RSS sampled every `interval` s in a thread.

    `baseline` is the RSS when the watch starts; `peak - baseline` is what the work held."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append(tree_rss_kib(self.pid))
            except (FileNotFoundError, ProcessLookupError):
                return

    def __enter__(self) -> Watch:
        self.hwm = reset_peak(self.pid)
        self.baseline_kib = tree_rss_kib(self.pid)
        self.cpu0 = tree_cpu_s(self.pid)
        self.t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu_s = tree_cpu_s(self.pid) - self.cpu0
        self._stop.set()
        self._thread.join()
        self.samples.append(tree_rss_kib(self.pid))
        self.peak_kib = max(max(self.samples), tree_hwm_kib(self.pid) if self.hwm else 0)
        self.end_kib = self.samples[-1]

    def figures(self, nbytes: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seconds": self.seconds,
            "server_cpu_s": self.cpu_s,
            "rss_baseline_mib": self.baseline_kib / 1024,
            "rss_peak_over_baseline_mib": (self.peak_kib - self.baseline_kib) / 1024,
            "rss_end_over_baseline_mib": (self.end_kib - self.baseline_kib) / 1024,
            "rss_samples": len(self.samples),
            "peak_from_vmhwm": self.hwm,
        }
        if nbytes:
            out["mb_per_s"] = nbytes / MB / self.seconds
            out["server_cpu_ms_per_mb"] = self.cpu_s * 1000 / (nbytes / MB)
        return out


# --- the file to move ---------------------------------------------------------------------


def random_file(path: Path, size: int) -> str:
    """`size` random bytes (incompressible), written in 8 MiB pieces; returns the sha256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(8 * MiB, left))
            h.update(block)
            f.write(block)
            left -= len(block)
        f.flush()
        os.fsync(f.fileno())
    return h.hexdigest()


def cp_once(src: Path, dst: Path) -> dict[str, float]:
    """`cp` of the file on the same disk (coreutils 9: copy_file_range, a copy inside the
    kernel), then an fsync of the copy: what the server does before it answers a PATCH.
    Dirty pages of earlier steps are written out first (`sync`), so that no step pays
    for the writeback of the one before."""
    os.sync()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(["cp", str(src), str(dst)], check=True)
    plain = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    synced = time.perf_counter() - t
    dst.unlink()
    os.sync()
    return {"cp_s": plain, "cp_fsync_s": synced, "cp_cpu_ms_per_mb": cpu * 1000 / (src.stat().st_size / MB)}


# --- tus ------------------------------------------------------------------------------------


def tus_headers(token: str, **extra: str) -> dict[str, str]:
    return {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}", **extra}


def b64(s: str) -> str:
    import base64

    return base64.b64encode(s.encode()).decode()


async def tus_create(session: aiohttp.ClientSession, base: str, token: str, size: int, name: str,
                     mime: str = "application/octet-stream") -> str:
    """POST: a new upload; returns its URL."""
    meta = f"filename {b64(name)},filetype {b64(mime)}"
    async with session.post(base + FILES, headers=tus_headers(token, **{"Upload-Length": str(size),
                                                                        "Upload-Metadata": meta})) as r:
        if r.status != 201:
            raise RuntimeError(f"create: {r.status} {await r.text()}")
        loc = r.headers["Location"]
    return loc if loc.startswith("http") else base + loc


def upload_raw(port: int, token: str, path: Path, size: int, chunk: int, name: str) -> str:
    """The whole file in PATCHes of `chunk` bytes over one kept-alive HTTP/1.1 connection,
    each body sent with sendfile(2) from the page cache: the leanest client there is, so
    the figure is the server's (tus-js-client sends a file the same way: `chunkSize`
    bytes per PATCH, by default the whole file in one). Blocking: run it in a thread.
    Returns the file id."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        meta = f"filename {b64(name)},filetype {b64('application/octet-stream')}"
        conn.request("POST", FILES, headers=tus_headers(token, **{"Upload-Length": str(size), "Upload-Metadata": meta}))
        r = conn.getresponse()
        r.read()
        if r.status != 201:
            raise RuntimeError(f"create: {r.status}")
        loc = r.headers["Location"]
        target = loc.split("://", 1)[-1].split("/", 1)[-1]
        target = "/" + target if not loc.startswith("/") else loc
        offset = 0
        with open(path, "rb") as f:
            while offset < size:
                n = min(chunk, size - offset)
                conn.putrequest("PATCH", target, skip_accept_encoding=True)
                for k, v in tus_headers(token, **{"Upload-Offset": str(offset), "Content-Length": str(n),
                                                  "Content-Type": "application/offset+octet-stream"}).items():
                    conn.putheader(k, v)
                conn.endheaders()
                assert conn.sock is not None
                sent = conn.sock.sendfile(f, offset, n)
                if sent != n:
                    raise RuntimeError(f"sendfile sent {sent} of {n} bytes")
                r = conn.getresponse()
                body = r.read()
                if r.status != 204:
                    raise RuntimeError(f"PATCH at {offset}: {r.status} {body[:200]!r}")
                offset = int(r.headers["Upload-Offset"])
        return target.rsplit("/", 1)[1]
    finally:
        conn.close()


def upload_tuspy(base: str, token: str, path: Path, chunk: int, name: str) -> str:
    """tuspy, the reference client (blocking: run it in a thread)."""
    from tusclient import client as tus

    c = tus.TusClient(base + FILES, headers={"Authorization": f"Bearer {token}"})
    up = c.uploader(file_path=str(path), chunk_size=chunk,
                    metadata={"filename": name, "filetype": "application/octet-stream"})
    up.upload()
    assert up.url is not None
    return str(up.url).rsplit("/", 1)[1]


async def info(base: str, token: str, file_id: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.get(f"{base}{FILES}{file_id}/info",
                                                   headers={"Authorization": f"Bearer {token}"}) as r:
        r.raise_for_status()
        out: dict[str, Any] = await r.json()
        return out


async def delete(base: str, token: str, file_id: str) -> None:
    async with aiohttp.ClientSession() as s, s.delete(base + FILES + file_id, headers=tus_headers(token)) as r:
        if r.status != 204:
            raise RuntimeError(f"DELETE {file_id}: {r.status}")


async def uploads(pid: int, port: int, base: str, token: str, path: Path, size: int, sha: str, *, raw_chunk: int,
                  tuspy_chunk: int, whole: bool) -> dict[str, Any]:
    """Each client in turn, between two `cp`s of the same file (this machine's disk and
    page cache speed swing by 5x within minutes; each upload is compared with the cps
    next to it): throughput, server CPU per MB, RSS over the baseline."""
    mb = size / MB
    dst = path.with_name("cp-copy.bin")
    cps = [cp_once(path, dst)]
    variants: list[tuple[str, int]] = [("raw", raw_chunk), ("tuspy", tuspy_chunk)]
    if whole:
        variants.append(("raw", size))
    runs = []
    for client, chunk in variants:
        label = f"{client}, {'1 PATCH' if chunk >= size else f'{chunk // MiB} MiB PATCHes'}"
        print(f"  upload {mb:.0f} MB: {label} ...", flush=True)
        with Watch(pid) as w:
            c0 = tree_cpu_s(os.getpid())
            if client == "raw":
                fid = await asyncio.to_thread(upload_raw, port, token, path, size, chunk, "bench.bin")
            else:
                fid = await asyncio.to_thread(upload_tuspy, base, token, path, chunk, "bench.bin")
            client_cpu = tree_cpu_s(os.getpid()) - c0
        got = await info(base, token, fid)
        await delete(base, token, fid)
        cps.append(cp_once(path, dst))
        cp_s = (cps[-2]["cp_s"] + cps[-1]["cp_s"]) / 2
        run = {"client": label, "patches": -(-size // chunk), **w.figures(size),
               "client_cpu_ms_per_mb": client_cpu * 1000 / mb,
               "sha256_ok": got["sha256"] == sha and got["size"] == size,
               "cp_mb_per_s": mb / cp_s, "cp_fsync_mb_per_s": mb / ((cps[-2]["cp_fsync_s"] + cps[-1]["cp_fsync_s"]) / 2)}
        run["vs_cp"] = run["mb_per_s"] / run["cp_mb_per_s"]
        runs.append(run)
    return {"size_mb": mb, "cps": cps, "runs": runs}


# --- downloads ------------------------------------------------------------------------------


async def download_ranges(pid: int, base: str, token: str, file_id: str, size: int, chunk: int,
                          check: bytes) -> dict[str, Any]:
    """Sequential `Range` GETs of `chunk` bytes over one kept-alive connection, then one
    plain GET of the whole file; the first bytes are checked against `check`."""
    out: dict[str, Any] = {"range_mib": chunk // MiB}
    url = f"{base}{FILES}{file_id}/content"
    auth = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        with Watch(pid) as w:
            got = 0
            first = b""
            for start in range(0, size, chunk):
                end = min(size, start + chunk) - 1
                async with s.get(url, headers={**auth, "Range": f"bytes={start}-{end}"}) as r:
                    if r.status != 206:
                        raise RuntimeError(f"Range {start}-{end}: {r.status}")
                    async for data in r.content.iter_any():
                        if len(first) < len(check):
                            first += data[: len(check)]
                        got += len(data)
        out["ranges"] = {**w.figures(size), "bytes_ok": got == size and first[: len(check)] == check}
        with Watch(pid) as w:
            got = 0
            async with s.get(url, headers=auth) as r:
                async for data in r.content.iter_any():
                    got += len(data)
        out["whole"] = {**w.figures(size), "bytes_ok": got == size}
    return out


async def many_downloads(pid: int, url: str, headers: dict[str, str], n: int, in_flight: int, size: int,
                         sources: list[str]) -> dict[str, Any]:
    """`n` GETs of one file, `in_flight` at a time over as many kept-alive connections,
    spread over the `sources` addresses (127.0.0.x: one address per browser, ~5
    connections each, as many users behind their own addresses; one address: one client
    machine or a NAT). Latency from the moment a request gets its slot to its last byte
    (p50/p99); the batch's wall time is what the n-th request waited, queue included."""
    sem = asyncio.Semaphore(in_flight)
    lat: list[float] = []
    errors: list[str] = []
    per = max(1, in_flight // len(sources))
    timeout = aiohttp.ClientTimeout(total=120)
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=per, local_addr=(ip, 0)), timeout=timeout)
                for ip in sources]
    try:

        async def one(i: int) -> None:
            s = sessions[i % len(sessions)]
            async with sem:
                t = time.perf_counter()
                try:
                    async with s.get(url, headers=headers) as r:
                        body = await r.read()
                        if r.status != 200 or len(body) != size:
                            errors.append(f"{r.status} len {len(body)}")
                            return
                except (aiohttp.ClientError, TimeoutError) as exc:
                    errors.append(type(exc).__name__)
                    return
                lat.append(time.perf_counter() - t)

        with Watch(pid) as w:
            await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        for s in sessions:
            await s.close()
    lat.sort()
    return {
        "n": n, "in_flight": in_flight, "sources": len(sources), "errors": len(errors), "error_sample": errors[:3],
        "p50_ms": pct(lat, 50) * 1000, "p99_ms": pct(lat, 99) * 1000, "max_ms": (lat[-1] if lat else float("nan")) * 1000,
        "requests_per_s": n / w.seconds, **w.figures(size * (n - len(errors))),
        "server_cpu_ms_per_request": w.cpu_s * 1000 / n,
    }


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a sorted list (nan when empty)."""
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, int(-(-p * len(values) // 100)) - 1))
    return values[k]


def disk_free_gb(path: Path) -> float:
    return shutil.disk_usage(path).free / 1e9
