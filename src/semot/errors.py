"""One exception hierarchy for every edge.

Each error carries the wire code of PROTOCOL.md §2.1 and the HTTP status the HTTP API
answers with, so the WebSocket gateway and the HTTP routes report the same failure
the same way and no handler invents its own codes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SemotError(Exception):
    """A failure the client caused or must be told about; never a traceback."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details

    def to_wire(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return err


class BadRequest(SemotError):
    code = "bad_request"
    http_status = 400


class Unauthorized(SemotError):
    code = "unauthorized"
    http_status = 401


class Forbidden(SemotError):
    code = "forbidden"
    http_status = 403


class NotFound(SemotError):
    code = "not_found"
    http_status = 404


class Conflict(SemotError):
    code = "conflict"
    http_status = 409


class TooLarge(SemotError):
    code = "too_large"
    http_status = 413


class RateLimited(SemotError):
    code = "rate_limited"
    http_status = 429


class Muted(SemotError):
    code = "muted"
    http_status = 403


class Blocked(SemotError):
    code = "blocked"
    http_status = 403


class PendingReview(SemotError):
    code = "pending_review"
    http_status = 202


class Unavailable(SemotError):
    code = "unavailable"
    http_status = 503


class Internal(SemotError):
    code = "internal"
    http_status = 500


class StorageDataError(Exception):
    """Storage refused the data of a write, not because the database is down.

    Raised by storage (translated from driver exceptions) so services can tell a poison
    message, which fails the same way on every retry, from an outage, which a retry may
    cure, without importing any database driver. It is never sent to a client as is.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
