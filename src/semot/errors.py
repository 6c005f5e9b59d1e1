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
    """A group send held for a reviewer (PROTOCOL.md §7): the `error` object carries the
    held message's `mid` at its top level, beside `code` and `message`."""

    code = "pending_review"
    http_status = 202

    def __init__(self, message: str = "", *, mid: str, **details: Any) -> None:
        super().__init__(message or "held for review", **details)
        self.mid = mid

    def to_wire(self) -> dict[str, Any]:
        return super().to_wire() | {"mid": self.mid}


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


# --- outages of a shared backend (Redis): a 503 the client retries, never a 500

_OUTAGE_TYPES: list[type[BaseException]] = []


def register_outage_errors(*types: type[BaseException]) -> None:
    """A backend (bus/redis.py for Redis) names the exceptions its driver raises when the
    server cannot be reached, without the edges importing that driver."""
    _OUTAGE_TYPES.extend(t for t in types if t not in _OUTAGE_TYPES)


def as_outage(exc: BaseException) -> Unavailable | None:
    """`unavailable` (retry in a second) for a registered backend outage, else None: a
    request that met Redis down or a dead pooled connection right after it came back."""
    if _OUTAGE_TYPES and isinstance(exc, tuple(_OUTAGE_TYPES)):
        return Unavailable("a shared service of the cluster is briefly unreachable; retry", retry_after=1)
    return None
