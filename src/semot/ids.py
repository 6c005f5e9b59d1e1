"""Identifier rules and generators shared by every layer."""

from __future__ import annotations

import re
import secrets
import time

ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
ID_PATTERN = ID_RE.pattern

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def is_valid_id(value: object) -> bool:
    # fullmatch: with match, `$` also matches before a final "\n" ("alice\n" would pass)
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _base36(n: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(_ALPHABET[r])
    return "".join(reversed(out)) or "0"


def new_mid() -> str:
    """Message id: time-ordered prefix (sorts by creation) plus 64 random bits."""
    return f"m_{_base36(time.time_ns() // 1000)}{secrets.token_hex(8)}"


def new_session_id() -> str:
    return f"s_{secrets.token_urlsafe(12)}"


def new_group_id() -> str:
    return f"grp_{_base36(time.time_ns() // 1000)}{secrets.token_hex(4)}"


def new_token() -> str:
    return secrets.token_urlsafe(32)
