"""Seeding a data dir, running the real server as a separate pinned process, reading its /proc.

Users are created directly through Semot's own storage layer (one precomputed argon2
hash for all of them) and their access tokens minted with Semot's TokenSigner and the
same secret the server is given through SEMOT_SECRET_KEY: 5,000 users take seconds
instead of the ~100 s that 5,000 HTTP registrations (argon2, ~20 ms each) would.
The seeded template is copied into a fresh data dir for every server start, so each
load runs against a new process and an untouched database.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
BENCH_SECRET = "semot-benchmark-secret-key-0123456789abcdefghijklmnop"
PASSWORD = "bench-password-1"


def user_id(i: int) -> str:
    return f"u{i:05d}"


def login_id(i: int) -> str:
    """The seeded login of user i: access tokens name a live login (`sid`)."""
    return f"bench-login-{i:05d}"


def cpus() -> tuple[int | None, int | None]:
    """(server cpu, load generator cpu): the first two CPUs this process may use."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None, None
    if len(allowed) < 2:
        return None, None
    return allowed[0], allowed[1]


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- seeding -------------------------------------------------------------------------


async def _seed(data_dir: Path, n_users: int, database_url: str | None = None) -> None:
    from semot.app import make_storage
    from semot.config import load_settings
    from semot.domain.records import RefreshToken, User
    from semot.ids import now_ms
    from semot.services.security import hash_password_sync

    settings = load_settings(data_dir=data_dir, secret_key=BENCH_SECRET, database_url=database_url)
    storage = make_storage(settings)
    try:
        await storage.migrate()
        pw_hash = hash_password_sync(PASSWORD)  # one argon2 hash, reused by every user
        now = now_ms()
        users = getattr(storage, "users", storage)  # stores per aggregate, or one store (before)
        tokens = getattr(storage, "tokens", storage)
        for i in range(n_users):
            uid = user_id(i)
            await users.create_user(User(uid, uid, f"Bench {i}", pw_hash, created_at=now))
            await tokens.add_refresh_token(RefreshToken(f"bench-{i:05d}", uid, login_id(i), now + 365 * 86_400_000))
    finally:
        await storage.close()


def seed_template(data_dir: Path, n_users: int, pg: PgDatabases | None = None) -> float:
    """Create a migrated database holding n_users users; returns seconds taken.

    SQLite: semot.db in data_dir, copied for every server. PostgreSQL: a template
    database, cloned (CREATE DATABASE ... TEMPLATE) for every server."""
    t = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    if pg is None:
        asyncio.run(_seed(data_dir, n_users))
    else:
        pg.create(pg.template)
        asyncio.run(_seed(data_dir, n_users, pg.url(pg.template)))
    return time.perf_counter() - t


class PgDatabases:
    """Benchmark databases on the machine's PostgreSQL: one seeded template, one clone per server.

    `admin_url` names any database the user may connect to (it creates and drops the
    others); every name starts with `semot_bench_`, and each is dropped after its load."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = "semot_bench_template"

    def url(self, name: str) -> str:
        base, _, _db = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def _admin(self, *statements: str) -> None:
        import asyncpg

        async def run() -> None:
            con = await asyncpg.connect(self.admin_url, timeout=10)
            try:
                for sql in statements:
                    await con.execute(sql)
            finally:
                await con.close()

        asyncio.run(run())

    def create(self, name: str, template: str | None = None) -> None:
        self.drop(name)
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def drop(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def backend_pids(self, name: str) -> list[int]:
        """The server's backends on `name`, plus the WAL writer, checkpointer and background
        writer it keeps busy (shared with anything else on this PostgreSQL)."""
        import asyncpg

        async def run() -> list[int]:
            con = await asyncpg.connect(self.admin_url, timeout=10)
            try:
                rows = await con.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE (datname = $1 AND pid <> pg_backend_pid()) "
                    "OR backend_type IN ('walwriter', 'checkpointer', 'background writer')",
                    name,
                )
            finally:
                await con.close()
            return [r[0] for r in rows]

        return asyncio.run(run())


def mint_tokens(n_users: int, ttl_s: int = 3600) -> list[str]:
    from semot.services.security import TokenSigner

    signer = TokenSigner(BENCH_SECRET, ttl_s)
    return [signer.issue(user_id(i), login_id(i)) for i in range(n_users)]


# --- the server process ------------------------------------------------------------


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_cpu_split_s(pid: int) -> tuple[float, float]:
    """(utime, stime) of a process, seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def proc_ctx_switches(pid: int) -> int:
    """Voluntary + involuntary context switches summed over all threads of a process."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that just ended
    return total


def proc_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


class Server:
    """`python -m semot serve` on a free port, a fresh copy of the template, pinned to one CPU."""

    def __init__(self, template: Path, workdir: Path, name: str, *, cpu: int | None, env: dict[str, str] | None = None,
                 patches: str = "", pg: PgDatabases | None = None):
        self.template = template
        self.pg = pg  # None: SQLite in the data dir; else a clone of the PostgreSQL template
        self.db_name = f"semot_bench_{name}" if pg is not None else ""
        self._db_pids: list[int] = []
        self.data_dir = workdir / f"data-{name}"
        self.log_path = workdir / f"server-{name}.log"
        self.port = free_port()
        self.cpu = cpu
        self.extra_env = env or {}
        self.patches = patches  # see patched_serve.py: what-if runs only
        self.proc: subprocess.Popen[bytes] | None = None
        self.data_files_kib: dict[str, int] = {}

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> None:
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        shutil.copytree(self.template, self.data_dir)
        env = dict(os.environ)
        env.update(
            {
                "SEMOT_SECRET_KEY": BENCH_SECRET,
                "SEMOT_RATE_PER_S": "1000000",
                "SEMOT_RATE_BURST": "1000000",
                "SEMOT_LOG_LEVEL": "WARNING",
                "SEMOT_ABUSE_LIMITS": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.pg is not None:
            self.pg.create(self.db_name, template=self.pg.template)
            env["SEMOT_DATABASE_URL"] = self.pg.url(self.db_name)
        env.update(self.extra_env)
        if self.patches:
            env["BENCH_PATCHES"] = self.patches
            entry = [str(Path(__file__).with_name("patched_serve.py"))]
        else:
            entry = ["-m", "semot"]
        cpu = self.cpu

        def pin() -> None:  # runs in the child before exec
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, *entry, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=pin,
        )
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.flush()
                tail = self.log_path.read_text(errors="replace")[-800:]
                raise RuntimeError(f"server exited with {self.proc.returncode}; {self.log_path} ends:\n{tail}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not become healthy in {timeout}s; see {self.log_path}")

    def cpu_s(self) -> float:
        return proc_cpu_s(self.pid)

    def db_cpu_s(self) -> float:
        """CPU of the PostgreSQL processes serving this server (0 on SQLite, where the
        database runs inside the server process and is counted in cpu_s). Call it once
        under load first: the backends are looked up then."""
        if self.pg is None:
            return 0.0
        if not self._db_pids:
            self._db_pids = self.pg.backend_pids(self.db_name)
        total = 0.0
        for pid in self._db_pids:
            try:
                total += proc_cpu_s(pid)
            except (FileNotFoundError, ProcessLookupError):
                pass
        return total

    def ctx_switches(self) -> int:
        return proc_ctx_switches(self.pid)

    def cpu_split_s(self) -> tuple[float, float]:
        return proc_cpu_split_s(self.pid)

    def metrics(self) -> dict[str, float]:
        """The server's own /metrics (prometheus text), unlabelled samples only."""
        out: dict[str, float] = {}
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("#") or "{" in line:
                    continue
                name, _, value = line.partition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
        return out

    def rss_kib(self) -> int:
        return proc_rss_kib(self.pid)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        rc = self.proc.returncode
        self.data_files_kib = {
            p.name: p.stat().st_size // 1024 for p in sorted(self.data_dir.iterdir()) if p.is_file()
        } if self.data_dir.exists() else {}
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.pg is not None:
            self.pg.drop(self.db_name)
        return rc


class Profiler:
    """py-spy record attached to the server pid, writing collapsed stacks."""

    def __init__(self, pid: int, out_base: Path, *, cpu: int | None, rate: int = 200, native: bool = False) -> None:
        self.pid = pid
        self.native = native
        self.out_base = out_base
        self.cpu = cpu
        self.rate = rate
        self.procs: list[subprocess.Popen[bytes]] = []

    @staticmethod
    def available() -> str | None:
        exe = Path(sys.executable).with_name("py-spy")
        if exe.exists():
            return str(exe)
        return shutil.which("py-spy")

    def start(self) -> None:
        exe = self.available()
        if exe is None:
            raise RuntimeError("py-spy not found: .venv/bin/pip install py-spy")
        cpu = self.cpu

        def pin() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        self.out_base.parent.mkdir(parents=True, exist_ok=True)
        # raw = collapsed stacks ("a;b;c count"): summarised by profile_summary.py, and
        # loadable as is in https://www.speedscope.app or flamegraph.pl
        self.procs.append(
            subprocess.Popen(
                [exe, "record", "--pid", str(self.pid), "--rate", str(self.rate),
                 # --native (C frames: uvloop, sqlite3, orjson) must pause the process per sample
                 *(["--native"] if self.native else []),
                 "--threads", "--format", "raw", "--output", f"{self.out_base}.txt"],
                stdout=subprocess.DEVNULL,
                stderr=open(f"{self.out_base}.log", "wb"),
                preexec_fn=pin,
            )
        )

    def start_perf(self) -> bool:
        """Also sample the whole process natively with perf (by shared object and symbol), if present."""
        exe = shutil.which("perf")
        if exe is None:
            return False
        cpu = self.cpu

        def pin() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        self.procs.append(
            subprocess.Popen(
                [exe, "record", "-F", "499", "-g", "-p", str(self.pid), "-o", f"{self.out_base}.perf.data"],
                stdout=subprocess.DEVNULL,
                stderr=open(f"{self.out_base}.perf.log", "wb"),
                preexec_fn=pin,
            )
        )
        return True

    def perf_report(self) -> str:
        data = Path(f"{self.out_base}.perf.data")
        exe = shutil.which("perf")
        if exe is None or not data.exists():
            return ""
        out = []
        for sort, limit in (("dso", 15), ("dso,sym", 40)):
            r = subprocess.run(
                [exe, "report", "-i", str(data), "--no-children", "--stdio", "--sort", sort, "--percent-limit", "0.7",
                 "-g", "none"],
                capture_output=True, text=True, timeout=180,
            )
            lines = [ln for ln in r.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
            out.append(f"perf (native, whole process, all threads) by {sort}, self time:")
            out.extend("  " + ln.strip() for ln in lines[:limit])
            out.append("")
        # kernel time by system call (inclusive): which syscalls the server's CPU goes into
        r = subprocess.run(
            [exe, "report", "-i", str(data), "--children", "--stdio", "--sort", "sym", "-g", "none"],
            capture_output=True, text=True, timeout=180,
        )
        calls = [ln.strip() for ln in r.stdout.splitlines()
                 if "[k]" in ln and any(k in ln for k in ("__x64_sys_", "ksys_", "do_syscall_64"))]
        out.append("perf: time inside system calls, by call (children = inclusive):")
        out.extend("  " + ln for ln in calls[:15])
        return "\n".join(out) + "\n"

    def stop(self) -> Path:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        return Path(f"{self.out_base}.txt")
