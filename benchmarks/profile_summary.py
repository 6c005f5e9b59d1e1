"""Summarise a py-spy raw (collapsed stacks) profile: where the server's CPU goes.

    .venv/bin/python benchmarks/profile_summary.py benchmarks/results/profile-direct.txt

py-spy samples only non-idle threads by default, so shares are shares of busy CPU
samples. C functions are attributed to the Python frame that called them (no --native).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

# (label, substring of the file path) - first match wins, most specific first
AREAS = [
    ("semot: storage (SQL building/rows)", "semot/storage"),
    ("semot: services (messages, writer)", "semot/services"),
    ("semot: gateway (ws session, hub)", "semot/gateway"),
    ("semot: protocol (parse/validate)", "semot/protocol"),
    ("semot: domain", "semot/domain"),
    ("semot: other", "semot/"),
    ("sqlalchemy", "sqlalchemy"),
    ("aiosqlite (thread hand-off)", "aiosqlite"),
    ("sqlite3 module", "sqlite3"),
    ("pydantic", "pydantic"),
    ("aiohttp", "aiohttp"),
    ("prometheus_client", "prometheus_client"),
    ("jwt", "jwt"),
    ("asyncio / uvloop", "asyncio"),
    ("asyncio / uvloop", "uvloop"),
    ("threading / queue", "threading.py"),
    ("threading / queue", "queue.py"),
    ("logging", "logging"),
]


# frames that mean "waiting, not computing" (only seen in --native profiles, where py-spy's
# idle detection does not apply): samples with any of them in the stack are dropped
IDLE_FRAMES = ("_queue_SimpleQueue_get", "epoll_pwait", "epoll_wait", "PyThread_acquire_lock_timed", "take_gil",
               "pthread_cond_wait", "pthread_cond_timedwait", "sem_wait", "sem_timedwait")


def _wait_lines() -> set[tuple[str, str, int]]:
    """(func, file suffix, line) of blocking queue waits in worker threads: py-spy's idle
    detection misses them in its default (blocking) mode, so they are dropped here."""
    import inspect

    found: set[tuple[str, str, int]] = set()
    for mod_name, func, needle, suffix in (
        ("aiosqlite.core", "_connection_worker_thread", "tx.get()", "aiosqlite/core.py"),
        ("concurrent.futures.thread", "_worker", "work_queue.get(block=True)", "concurrent/futures/thread.py"),
    ):
        try:
            mod = __import__(mod_name, fromlist=["x"])
            lines, start = inspect.getsourcelines(getattr(mod, func))
        except Exception:
            continue
        for i, text in enumerate(lines):
            if needle in text:
                found.add((func, suffix, start + i))
    return found


WAIT_LINES = _wait_lines()


def parse(path: Path) -> list[tuple[str, list[tuple[str, str]], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        line = line.rstrip()
        if not line:
            continue
        body, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        parts = body.split(";")
        thread = parts[0] if parts and parts[0].startswith(("thread", "process")) else ""
        frames = []
        leaf_line = 0
        for part in parts[1:] if thread else parts:
            m = _FRAME.match(part)
            if m:
                frames.append((m["func"], m["file"]))
                leaf_line = int(m["line"] or 0)
            else:
                frames.append((part, ""))
                leaf_line = 0
        if frames and any(
            frames[-1][0] == f and frames[-1][1].endswith(sfx) and leaf_line == ln for f, sfx, ln in WAIT_LINES
        ):
            continue
        if any(f[0] in IDLE_FRAMES for f in frames):
            continue
        stacks.append((thread, frames, n))
    return stacks


def short(file: str) -> str:
    for marker in ("site-packages/", "lib/python3"):
        i = file.find(marker)
        if i >= 0:
            return file[i + len(marker):].lstrip("/").removeprefix(".11/")
    i = file.find("src/")
    return file[i + 4:] if i >= 0 else file


def area(file: str) -> str:
    for label, needle in AREAS:
        if needle in file:
            return label
    return "other"


def summarise(path: Path, top: int = 30) -> str:
    stacks = parse(path)
    total = sum(n for _, _, n in stacks)
    if not total:
        return f"{path}: no samples\n"
    by_thread: Counter[str] = Counter()
    self_fn: Counter[str] = Counter()
    incl_fn: Counter[str] = Counter()
    self_area: Counter[str] = Counter()
    incl_area: Counter[str] = Counter()
    for thread, frames, n in stacks:
        by_thread[re.sub(r"\(\d+\)|\(0x[0-9a-f]+\)", "", thread).strip() or "?"] += n
        if not frames:
            continue
        func, file = frames[-1]
        self_fn[f"{func}  ({short(file)})"] += n
        self_area[area(file)] += n
        seen = set()
        seen_area = set()
        for func, file in frames:
            key = f"{func}  ({short(file)})"
            if key not in seen:
                seen.add(key)
                incl_fn[key] += n
            a = area(file)
            if a not in seen_area:
                seen_area.add(a)
                incl_area[a] += n
    out = [f"profile {path.name}: {total} busy samples (all threads)", ""]
    out.append("threads (share of samples):")
    for k, v in by_thread.most_common(8):
        out.append(f"  {100 * v / total:5.1f}%  {k}")
    out.append("")
    out.append("by area, self time (leaf frame) | inclusive (anywhere in the stack):")
    for k, v in self_area.most_common():
        out.append(f"  {100 * v / total:5.1f}% | {100 * incl_area[k] / total:5.1f}%  {k}")
    out.append("")
    out.append(f"top {top} functions by self time:")
    for k, v in self_fn.most_common(top):
        out.append(f"  {100 * v / total:5.1f}%  {k}")
    out.append("")
    out.append(f"top {top + 10} functions by inclusive time:")
    for k, v in incl_fn.most_common(top + 10):
        out.append(f"  {100 * v / total:5.1f}%  {k}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(summarise(Path(arg)))
