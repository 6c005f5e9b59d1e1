"""Builders for the server's replies to requests (§2.1). Pushes are typed models in
semot.protocol.events, framed by the gateway's hub."""

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
