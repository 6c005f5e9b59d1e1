"""Identifier rules and generators shared by every layer."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time

ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
ID_PATTERN = ID_RE.pattern

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def is_valid_id(value: object) -> bool:
    # fullmatch: with match, `$` also matches before a final "\n" ("alice\n" would pass)
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# two base-36 digits per step: half the divisions of a digit-by-digit loop (on every send)
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]


def _base36(n: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 1296)
        out.append(_PAIRS[r])
    return "".join(reversed(out)).lstrip("0") or "0"


class _RandomPool:
    """Random bytes from the OS (the same CSPRNG as `secrets`), fetched 4 KiB at a time.

    A message id needs 8 random bytes; one getrandom() call each was 5 % of the server's
    CPU at 1,000 messages/s. A forked child starts with an empty pool: it must never hand
    out the bytes its parent also hands out."""

    _SIZE = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()  # a rare caller off the event loop must not reuse bytes
        self._buf = b""
        self._pos = 0

    def reset(self) -> None:
        # a new lock too: a fork while another thread held the old one leaves it locked forever
        self._lock = threading.Lock()
        self._buf, self._pos = b"", 0

    def hex(self, n: int) -> str:
        with self._lock:
            pos = self._pos
            if pos + n > len(self._buf):
                self._buf, pos = os.urandom(self._SIZE), 0
            self._pos = pos + n
            return self._buf[pos : pos + n].hex()


_pool = _RandomPool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.reset)


def new_mid() -> str:
    """Message id: time-ordered prefix (sorts by creation) plus 64 random bits."""
    return f"m_{_base36(time.time_ns() // 1000)}{_pool.hex(8)}"


def new_session_id() -> str:
    return f"s_{secrets.token_urlsafe(12)}"


def new_group_id() -> str:
    return f"grp_{_base36(time.time_ns() // 1000)}{secrets.token_hex(4)}"


def new_token() -> str:
    return secrets.token_urlsafe(32)
