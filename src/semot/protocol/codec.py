"""JSON encoding and server-side WebSocket framing of pre-encoded payloads.

Fan-out encodes a message once and writes the very same bytes to every recipient, so
the frame (header + payload) is built here once instead of per connection. Server
frames are never masked (RFC 6455 §5.1) and Semot does not negotiate compression,
which is what makes one frame valid on every connection.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

_LEN16 = struct.Struct("!BBH").pack
_LEN64 = struct.Struct("!BBQ").pack
_OP_TEXT_FIN = 0x81


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def text_frame(payload: bytes) -> bytes:
    """One unmasked, final TEXT frame carrying `payload` (already UTF-8 JSON)."""
    n = len(payload)
    if n < 126:
        return bytes((_OP_TEXT_FIN, n)) + payload
    if n < 65536:
        return _LEN16(_OP_TEXT_FIN, 126, n) + payload
    return _LEN64(_OP_TEXT_FIN, 127, n) + payload


def encode_frame(obj: Any) -> bytes:
    return text_frame(orjson.dumps(obj))
