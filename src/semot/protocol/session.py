"""Sans-I/O state of one client session: the auth handshake, rate limiting, liveness.

The gateway feeds it raw frames and the current time and carries out what it answers;
it never touches a socket, so every rule of §2.2 (auth first, 4401, 4429, heartbeat
deadlines) is unit-tested without a network, the way the `websockets` library keeps
its protocol core apart from I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import orjson

from semot.protocol import replies
from semot.protocol.frames import Auth, FrameError, Request, parse_request

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_LARGE = 1009
CLOSE_UNAUTHORIZED = 4401
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_REPLACED = 4409
CLOSE_TOO_MANY_REQUESTS = 4429


class State(enum.Enum):
    AWAITING_AUTH = 1
    AUTHENTICATING = 2
    OPEN = 3
    CLOSED = 4


@dataclass(slots=True, frozen=True)
class Dispatch:
    """A valid request for the services."""

    request: Request


@dataclass(slots=True, frozen=True)
class Reply:
    """Answer the client directly (an error the session itself detected)."""

    payload: bytes
    code: str = "bad_request"


@dataclass(slots=True, frozen=True)
class Close:
    """Close the connection, after sending `reply` if there is one."""

    code: int
    reason: str
    reply: bytes | None = None


Action = Dispatch | Reply | Close


class SessionProtocol:
    """Decides what each incoming frame means for this session."""

    __slots__ = (
        "_burst",
        "_close_after",
        "_close_after_s",
        "_flood_refused",
        "_flood_requests",
        "_flood_since",
        "_rate",
        "_refilled",
        "_tokens",
        "auth_deadline",
        "last_seen",
        "state",
    )

    def __init__(
        self,
        now: float,
        *,
        auth_timeout: float,
        rate_per_s: float,
        burst: int,
        close_after: int,
        close_after_s: float = 10.0,
    ) -> None:
        self.state = State.AWAITING_AUTH
        self.auth_deadline = now + auth_timeout
        self.last_seen = now
        self._rate = rate_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._refilled = now
        self._close_after = close_after
        self._close_after_s = close_after_s
        # The current flood: when its first request was refused, how many requests
        # (served or not) and how many refusals since. None: not flooding.
        self._flood_since: float | None = None
        self._flood_requests = 0
        self._flood_refused = 0

    # --- incoming data
    def receive(self, raw: bytes | str, now: float) -> Action:
        self.last_seen = now
        if self.state is State.CLOSED:
            return Close(CLOSE_NORMAL, "closed")
        if self.state is not State.OPEN:
            return self._receive_before_auth(raw)
        if self._flood_since is not None:
            self._flood_requests += 1
            if self._flood_requests <= self._rate * (now - self._flood_since):
                self._flood_since = None  # back within its rate on average: the flood is over
        if not self._take_token(now):
            return self._refuse(raw, now)
        try:
            request = parse_request(raw)
        except FrameError as exc:
            return Reply(replies.error(exc.rid, exc.code, exc.message, exc.details), exc.code)
        if isinstance(request, Auth):
            return Reply(replies.error(request.rid, "bad_request", "already authenticated"))
        return Dispatch(request)

    def _receive_before_auth(self, raw: bytes | str) -> Action:
        if self.state is State.AUTHENTICATING:
            self.state = State.CLOSED
            return Close(CLOSE_UNAUTHORIZED, "wait for the auth reply before sending")
        try:
            request = parse_request(raw)
        except FrameError as exc:
            self.state = State.CLOSED
            reply = replies.error(exc.rid, exc.code, exc.message, exc.details) if exc.rid is not None else None
            return Close(CLOSE_UNAUTHORIZED, "first frame must be a valid auth", reply)
        if not isinstance(request, Auth):
            self.state = State.CLOSED
            return Close(CLOSE_UNAUTHORIZED, "first frame must be auth")
        self.state = State.AUTHENTICATING
        return Dispatch(request)

    def auth_succeeded(self) -> None:
        self.state = State.OPEN

    def auth_failed(self, rid: object, message: str) -> Close:
        self.state = State.CLOSED
        return Close(CLOSE_UNAUTHORIZED, "unauthorized", replies.error(rid, "unauthorized", message))  # type: ignore[arg-type]

    # --- time
    def auth_expired(self, now: float) -> bool:
        return self.state in (State.AWAITING_AUTH, State.AUTHENTICATING) and now >= self.auth_deadline

    def is_dead(self, now: float, heartbeat_s: float) -> bool:
        """No frame of any kind (a pong counts) for two heartbeat intervals."""
        return now - self.last_seen > 2 * heartbeat_s

    def _refuse(self, raw: bytes | str, now: float) -> Reply | Close:
        """Answer `rate_limited`, or close with 4429 a connection that keeps flooding.

        A flood starts with the first refused request and lasts while the client keeps
        sending faster than `rate_per_s` on average since then. Refusals in a row would
        not do: every refilled token serves one request and would end the streak, so a
        client sending at twice the rate would never be closed."""
        if self._flood_since is None:
            self._flood_since = now
            self._flood_requests = 1
            self._flood_refused = 0
        self._flood_refused += 1
        if self._flood_refused >= self._close_after or now - self._flood_since >= self._close_after_s:
            self.state = State.CLOSED
            return Close(CLOSE_TOO_MANY_REQUESTS, "too many requests")
        return Reply(replies.error(_peek_rid(raw), "rate_limited", "slow down: too many requests"), "rate_limited")

    def _take_token(self, now: float) -> bool:
        elapsed = now - self._refilled
        if elapsed > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
            self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


def _peek_rid(raw: bytes | str) -> int | str | None:
    """The rid of a frame we will not parse fully (rate limited), best effort."""
    try:
        obj = orjson.loads(raw)
        rid = obj.get("rid") if isinstance(obj, dict) else None
        return rid if isinstance(rid, (int, str)) and not isinstance(rid, bool) else None
    except orjson.JSONDecodeError:
        return None
