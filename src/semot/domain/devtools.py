"""Records of the developer tools: protocol log sessions, captured frames, client errors.

A protocol log session says "capture every WebSocket frame of this user until `until`";
each node that holds one of the user's connections captures its frames (services/
protocol_log.py) and writes them, redacted, as `CapturedFrame` rows any node can read.
A `ClientError` is an uncaught error a browser reported (services/client_errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LogSession:
    """Capture `user_id`'s frames until `until` (ms since the epoch)."""

    user_id: str
    until: int
    started_by: str
    started_at: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "until": self.until,
            "started_by": self.started_by,
            "started_at": self.started_at,
        }


@dataclass(frozen=True, slots=True)
class CapturedFrame:
    """One frame in (`in`, client to server) or out, as stored: `text` is redacted and
    cut to a bound (`truncated`); `size` is the whole payload's length in bytes."""

    user_id: str
    ts: int
    direction: str
    node: str
    device_id: str
    platform: str
    session_id: str
    size: int
    text: str
    truncated: bool
    id: int = 0  # given by the store; the cursor of GET /api/admin/v1/protocol-log

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": self.ts,
            "dir": self.direction,
            "node": self.node,
            "device_id": self.device_id,
            "platform": self.platform,
            "session_id": self.session_id,
            "size": self.size,
            "text": self.text,
            "truncated": self.truncated,
        }


@dataclass(frozen=True, slots=True)
class ClientError:
    """An uncaught error in the web client or the console, as its browser reported it."""

    ts: int
    user_id: str | None
    ip: str
    app: str
    version: str
    message: str
    stack: str
    url: str
    user_agent: str
    id: int = 0

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": self.ts,
            "user_id": self.user_id,
            "ip": self.ip,
            "app": self.app,
            "version": self.version,
            "message": self.message,
            "stack": self.stack,
            "url": self.url,
            "user_agent": self.user_agent,
        }


@dataclass(frozen=True, slots=True)
class ClientErrorFilter:
    """What GET /api/admin/v1/client-errors narrows the list to (None: any)."""

    app: str | None = None
    user_id: str | None = None
    q: str | None = None  # a part of the message, case-insensitive
    since: int | None = None  # ts >= since
    until: int | None = None  # ts < until
    user_ids: frozenset[str] | None = None  # only these users' reports (a scoped admin's), no anonymous ones
