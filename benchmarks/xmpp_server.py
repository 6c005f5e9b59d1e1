"""ejabberd (Debian's package) as the other side of the issue-9 comparison: a private
instance per load, run and measured the way server.py runs and measures Semot.

Why a private instance and not the system service: the benchmark needs a fresh server
per load on a free port, pinned to the server CPU, with its own config, spool (Mnesia)
and logs in the harness's temp dir, and must not depend on (or disturb) whatever the
machine runs. The config is Debian's /etc/ejabberd/ejabberd.yml as shipped, with only
what the loads need changed (see `bench_config`): one plaintext c2s listener on
127.0.0.1 (Semot's side is plain ws:// too), no other listeners, no MAM anywhere, the
c2s shaper off (Semot's per-connection rate limit is lifted the same way), MUC rooms of
up to 1,000 occupants (the stock cap of 200 is below the 500-member group) that do not
broadcast every occupant's entry (see `bench_config`), an accept
backlog of 1,024 (stock: 5), log level warning.

Users are registered once per run into a template spool through `ejabberd_auth:
try_register/3` over Erlang distribution from one short-lived `erl` (seconds for
thousands, where `ejabberdctl register` starts a VM per user); every load gets a copy.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from server import PASSWORD, free_port, proc_cpu_s, proc_cpu_split_s, proc_ctx_switches, proc_rss_kib, user_id

STOCK_CONFIG = Path("/etc/ejabberd/ejabberd.yml")
ERL = "/usr/bin/erl"
ERL_LIBS = "/usr/lib/x86_64-linux-gnu"  # where Debian puts ejabberd and its deps (as ejabberdctl sets it)
DOMAIN = "localhost"
COOKIE = "semotbench"


def available() -> str | None:
    """Why ejabberd cannot run here (None when it can)."""
    if not STOCK_CONFIG.exists() or not Path(ERL).exists():
        return "ejabberd is not installed (apt-get install -y ejabberd)"
    return None


def version() -> str:
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "ejabberd"], capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def bench_config(port: int, log_dir: Path) -> dict[str, Any]:
    """Debian's stock config with the changes the module docstring lists."""
    cfg: dict[str, Any] = yaml.safe_load(STOCK_CONFIG.read_text())
    cfg["loglevel"] = "warning"
    cfg["hosts"] = [DOMAIN]
    cfg["listen"] = [{
        "port": port, "ip": "127.0.0.1", "module": "ejabberd_c2s", "max_stanza_size": 262144,
        "shaper": "c2s_shaper", "access": "c2s",
        # the stock accept backlog is 5: 100 handshakes at a time (as on Semot's side) would
        # overflow it and stall in SYN retransmits (1 s, 3 s, ...) instead of measuring anything
        "backlog": 1024,
    }]
    cfg["shaper_rules"]["c2s_shaper"] = "none"
    modules = cfg["modules"]
    modules.pop("mod_mam", None)
    muc = modules.setdefault("mod_muc", {})
    muc["max_users"] = 1000
    # presence_broadcast: occupants' entries are not broadcast to the room (the owner's is):
    # without it 500 entries cost 125,000 presence stanzas before the first message, where
    # Semot's group has its members from creation and tells nobody
    muc.setdefault("default_room_options", {}).update(
        {"mam": False, "max_users": 1000, "presence_broadcast": ["moderator"]})
    cfg.pop("log_rotate_count", None)
    cfg["log_rotate_count"] = 0
    return cfg


def _pin(cpu: int | None) -> Any:
    def pin() -> None:  # in the child before exec
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    return pin


def _children(pid: int) -> list[int]:
    """Direct children of every thread of pid (erl_child_setup, port programs)."""
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                out += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                pass
    except FileNotFoundError:
        pass
    return out


class Ejabberd:
    """One ejabberd node (`erl ... -s ejabberd`, what `ejabberdctl foreground` runs) on a free
    port, with a copy of the template spool, pinned to one CPU. Same measuring surface as
    server.Server: cpu_s, cpu_split_s, ctx_switches, rss_kib, metrics, db_cpu_s."""

    def __init__(self, workdir: Path, name: str, *, cpu: int | None, template: Path | None = None,
                 node: str | None = None, vm_flags: list[str] | None = None) -> None:
        self.workdir = workdir
        self.name = name
        self.template = template
        self.spool = workdir / f"ejabberd-spool-{name}"
        self.log_dir = workdir / f"ejabberd-log-{name}"
        self.config_path = workdir / f"ejabberd-{name}.yml"
        self.port = free_port()
        self.cpu = cpu
        # the Mnesia schema names its node: the template and its copies share one name
        self.node = node or f"semotbench{os.getpid()}@localhost"
        self.vm_flags = vm_flags or []  # what-if only, e.g. ["+sbwt", "none"]; stock: none
        self.proc: subprocess.Popen[bytes] | None = None
        self.data_files_kib: dict[str, int] = {}

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> None:
        if self.spool.exists():
            shutil.rmtree(self.spool)
        if self.template is not None:
            shutil.copytree(self.template, self.spool)
        else:
            self.spool.mkdir(parents=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(bench_config(self.port, self.log_dir), sort_keys=False))
        env = dict(os.environ)
        env.update({
            "EJABBERD_CONFIG_PATH": str(self.config_path),
            "EJABBERD_LOG_PATH": str(self.log_dir / "ejabberd.log"),
            "ERL_LIBS": ERL_LIBS,
            "ERL_MAX_PORTS": "32000",
            "ERL_MAX_ETS_TABLES": "1400",
            "ERL_CRASH_DUMP_BYTES": "0",
            "HOME": str(self.workdir),
        })
        # the options ejabberdctl's foreground mode passes (POLL=true, ERL_PROCESSES=250000)
        cmd = [ERL, "-sname", self.node, "-setcookie", COOKIE, "+K", "true", "+P", "250000", *self.vm_flags,
               "-mnesia", "dir", f'"{self.spool}"', "-s", "ejabberd", "-noinput"]
        self._out = open(self.log_dir / "stdout.log", "wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.spool, stdout=self._out, stderr=subprocess.STDOUT,
                                     preexec_fn=_pin(self.cpu))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ejabberd exited with {self.proc.returncode}; see {self.log_dir}")
            try:  # the c2s listener opens once every module has started
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"ejabberd did not listen on {self.port} within {timeout}s; see {self.log_dir}")

    def _pids(self) -> list[int]:
        return [self.pid, *_children(self.pid)]

    def cpu_s(self) -> float:
        """beam.smp (all threads: schedulers, dirty schedulers, async pool) + its children."""
        total = 0.0
        for pid in self._pids():
            try:
                total += proc_cpu_s(pid)
            except (FileNotFoundError, ProcessLookupError):
                pass
        return total

    def cpu_split_s(self) -> tuple[float, float]:
        return proc_cpu_split_s(self.pid)

    def ctx_switches(self) -> int:
        return proc_ctx_switches(self.pid)

    def rss_kib(self) -> int:
        return proc_rss_kib(self.pid)

    def metrics(self) -> dict[str, float]:
        return {}  # no group-commit histogram: ejabberd stores nothing in these loads

    def db_cpu_s(self) -> float:
        return 0.0

    def threads(self) -> dict[str, int]:
        """Thread names of the VM, counted (e.g. how many normal schedulers it runs)."""
        out: dict[str, int] = {}
        for task in os.listdir(f"/proc/{self.pid}/task"):
            try:
                name = Path(f"/proc/{self.pid}/task/{task}/comm").read_text().strip()
            except FileNotFoundError:
                continue
            key = name.split("_", 1)[1] if name[:1].isdigit() and "_" in name else name
            out[key] = out.get(key, 0) + 1
        return out

    def register(self, n_users: int, timeout: float = 300.0) -> float:
        """Register users u00000.. with the benchmark password; returns seconds taken."""
        t = time.perf_counter()
        expr = (
            f"N = '{self.node}', "
            # the c2s listener can open before the auth backend has created its table
            "ok = rpc:call(N, mnesia, wait_for_tables, [[passwd], 60000]), "
            "Reg = fun(I) -> U = list_to_binary(io_lib:format(\"u~5..0B\", [I])), "
            f"rpc:call(N, ejabberd_auth, try_register, [U, <<\"{DOMAIN}\">>, <<\"{PASSWORD}\">>]) end, "
            "Self = self(), "
            "Chunks = [lists:seq(S, min(S + 99, " f"{n_users - 1}" ")) || S <- lists:seq(0, " f"{n_users - 1}" ", 100)], "
            "[spawn(fun() -> Self ! {done, [Reg(I) || I <- C]} end) || C <- Chunks], "
            "R = lists:append([receive {done, X} -> X end || _ <- Chunks]), "
            "io:format(\"~p~n\", [lists:usort(R)]), halt()."
        )
        r = subprocess.run(
            [ERL, "-sname", f"reg{os.getpid()}@localhost", "-setcookie", COOKIE, "-noshell", "-eval", expr],
            capture_output=True, text=True, timeout=timeout, env={**os.environ, "HOME": str(self.workdir)},
        )
        out = r.stdout.strip()
        if r.returncode != 0 or out not in ("[ok]", "[{error,exists},ok]", "[{error,exists}]"):
            raise RuntimeError(f"registration failed: {out[-500:]} {r.stderr[-500:]}")
        assert user_id(0) == "u00000"  # the format above
        return time.perf_counter() - t

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the VM runs init:stop(): Mnesia closes cleanly
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()
        rc = self.proc.returncode
        self.data_files_kib = {p.name: p.stat().st_size // 1024 for p in sorted(self.spool.iterdir())
                               if p.is_file()} if self.spool.exists() else {}
        if self.template is not None:  # a load's copy; the template itself is kept
            shutil.rmtree(self.spool, ignore_errors=True)
        return rc

