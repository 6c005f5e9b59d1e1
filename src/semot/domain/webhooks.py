"""Webhooks (PROTOCOL.md §4, docs/integration.md): what a registered hook is, what a
delivery of its outbox is, and the events an integrator may subscribe to.

A delivery's `id` is made once, when the event is put in the outbox, and is the same on
every try (the receiver de-duplicates by it). Its `body` is the exact JSON posted: the
signature covers those bytes, so a retry and a replay post byte-identical requests.
"""

from __future__ import annotations

from dataclasses import dataclass

BEFORE_SEND = "message.before_send"

EVENTS: tuple[str, ...] = (
    "user.login",
    "user.logout",
    "user.online",
    "user.offline",
    "message.sent",
    "message.recalled",
    "message.read",
    "file.uploaded",
    "group.created",
    "group.member_joined",
    "group.member_left",
    "group.dismissed",
    "friend.added",
)
"""The events delivered from the outbox (asynchronously, at least once)."""

HOOK_EVENTS: tuple[str, ...] = (*EVENTS, BEFORE_SEND)
"""Everything a hook may register for: the events, and the synchronous before-send hook."""

STATUSES = ("pending", "delivered", "dead")
ON_TIMEOUT = ("allow", "block")
DEFAULT_TIMEOUT_MS = 2000
MAX_TIMEOUT_MS = 30_000
MIN_TIMEOUT_MS = 50
MAX_URL = 2000
MAX_HOOKS = 100
MAX_ERROR = 300


@dataclass(frozen=True, slots=True)
class Webhook:
    webhook_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    timeout_ms: int
    on_timeout: str  # "allow" | "block": what a before-send timeout (or failure) does
    created_at: int
    created_by: str | None

    def to_wire(self) -> dict[str, object]:
        """As the admin API lists it: never the secret (shown once, at registration)."""
        return {
            "webhook_id": self.webhook_id, "url": self.url, "events": list(self.events),
            "timeout_ms": self.timeout_ms, "on_timeout": self.on_timeout,
            "created_at": self.created_at, "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """An event for one hook, as it goes into the outbox."""

    delivery_id: str
    webhook_id: str
    event: str
    key: str  # deliveries of one hook with the same key are made in order (the conversation)
    body: str  # the JSON posted: {"id","event","ts","data"}
    created_at: int


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    webhook_id: str
    event: str
    key: str
    body: str
    status: str  # pending | delivered | dead
    tries: int
    next_at: int  # ms: not tried before this
    last_error: str | None
    last_status: int | None  # the HTTP status of the last try (None: no answer)
    created_at: int
    updated_at: int
    url: str = ""  # the hook's URL (filled when a delivery is claimed for sending)

    def to_wire(self) -> dict[str, object]:
        return {
            "id": self.delivery_id, "webhook_id": self.webhook_id, "event": self.event, "key": self.key,
            "status": self.status, "tries": self.tries, "next_at": self.next_at, "last_error": self.last_error,
            "last_status": self.last_status, "created_at": self.created_at, "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Tried:
    """How one try of a delivery ended, as the dispatcher records it."""

    delivery_id: str
    status: str  # pending (a retry is due at next_at) | delivered | dead
    tries: int
    next_at: int
    last_error: str | None
    last_status: int | None
    at: int
