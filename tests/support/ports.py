"""Free TCP ports for test servers that no other test worker can take meanwhile.

`bind(("127.0.0.1", 0))` hands out a port from the kernel's ephemeral range, and the
kernel hands the same range out again to the next `bind(0)` or outgoing connection of
any process: a test that picks a port, lets it go and binds it later (a server
restarted on its port, a webhook receiver started after the hook was registered)
could find it taken by a parallel worker. Ports here come from below the ephemeral
range (32768-60999 on Linux), from a slice of their own per pytest-xdist worker, in
turn: nothing else hands them out, so only our own earlier use can make one busy, and
that is checked by binding it.
"""

from __future__ import annotations

import os
import socket
import threading

_LOW, _HIGH = 10_000, 25_000  # below the ephemeral range and RabbitMQ's 25672
_lock = threading.Lock()
_next: int | None = None


def _slice() -> tuple[int, int]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    width = (_HIGH - _LOW) // count
    low = _LOW + (index % count) * width
    return low, low + width


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """The next port of this worker's slice that nothing holds (TIME_WAIT included)."""
    global _next
    low, high = _slice()
    with _lock:
        if _next is None or not low <= _next < high:
            _next = low + (os.getpid() * 7919) % (high - low)  # runs one after another start apart
        for _ in range(high - low):
            port, _next = _next, low + (_next + 1 - low) % (high - low)
            if _bindable(port):
                return port
    raise RuntimeError(f"no free port left in {low}-{high}")
