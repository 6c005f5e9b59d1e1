"""Presence: one status per user, aggregated over the user's devices (pure rules)."""

from __future__ import annotations

from typing import Literal

from semot.errors import BadRequest

Status = Literal["online", "offline", "busy", "away"]
MANUAL = ("online", "busy", "away")
MAX_STATUS_TEXT = 100


def aggregate(devices: int, manual: str) -> str:
    """Offline without a device; otherwise what the user chose (online by default)."""
    if devices <= 0:
        return "offline"
    return manual if manual in MANUAL else "online"


def check_manual(status: str, text: str | None) -> None:
    if status not in MANUAL:
        raise BadRequest(f"status: one of {', '.join(MANUAL)}")
    if text is not None and len(text) > MAX_STATUS_TEXT:
        raise BadRequest(f"text: at most {MAX_STATUS_TEXT} characters")
