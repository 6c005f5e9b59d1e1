"""Builders for the server's frames: replies to requests and pushes (§2.1, §2.4)."""

from __future__ import annotations

from typing import Any

from semot.errors import SemotError
from semot.protocol.codec import encode_frame

Rid = int | str | None


def ok(rid: Rid, data: dict[str, Any] | None = None) -> bytes:
    return encode_frame({"t": "res", "rid": rid, "ok": True, "data": data if data is not None else {}})


def error(rid: Rid, code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    err: dict[str, Any] = {"code": code, "message": message}
    if details:
        err["details"] = details
    return encode_frame({"t": "res", "rid": rid, "ok": False, "error": err})


def from_exception(rid: Rid, exc: SemotError) -> bytes:
    return encode_frame({"t": "res", "rid": rid, "ok": False, "error": exc.to_wire()})


def event(name: str, **fields: Any) -> dict[str, Any]:
    return {"t": "evt", "evt": name, **fields}
