"""The one way services tell users' devices that something happened.

A service builds a typed event (semot.protocol.events) and publishes it to users, never
to connections: the publisher encodes it to JSON once, hands it to the bus (which
carries events, not WebSocket frames: each node's hub frames it once and writes the
same bytes to every connection it holds), then shows it to the local subscribers.

Subscribers (`subscribe`) see every event published on this node, typed, once: the
place where webhooks, the server API and the admin console's live views will listen.
An event published on another node is seen there, not here, so each event reaches the
subscribers of exactly one node in a cluster. A subscriber is called synchronously on
the publishing path: it must only queue work, never wait; an exception it raises is
logged and does not stop the push.

`validate=True` (SEMOT_VALIDATE_EVENTS, on in the test servers) parses every payload
back with the strict model (`parse_push`) before it is sent, and refuses what does not
fit: a test that drives the server then fails on any push that breaks the contract.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from pydantic import ValidationError

from semot.bus.base import Bus, Delivery
from semot.domain.messages import Message
from semot.protocol.events import EventModel, MessageEvent, PushModel, encode_message_wire, parse_push
from semot.protocol.internal_events import InternalEvent

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class Published:
    """What a subscriber is shown: the event, to whom it went, and the session (the
    device that caused it) it skipped, if any."""

    event: PushModel | InternalEvent  # an InternalEvent went to no device (`announce`)
    users: Collection[str]
    exclude_session: str | None
    everyone: bool = False  # a broadcast to every connection (`users` is empty then)


Subscriber = Callable[[Published], None]


class InvalidEvent(Exception):
    """An event that does not fit its model (only raised when validation is on)."""


class EventPublisher:
    def __init__(self, bus: Bus, *, validate: bool = False) -> None:
        self._bus = bus
        self._validate = validate
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback` with every event published on this node; returns the unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def publish(self, users: Collection[str], event: EventModel, *, exclude_session: str | None = None) -> None:
        """Push `event` to every connected device of `users` (but `exclude_session`)."""
        payload = event.to_json()
        if self._validate:
            self._check(payload)
        self._bus.publish(Delivery(users, payload, exclude_session))
        if self._subscribers:
            self._notify(Published(event, users, exclude_session))

    def broadcast(self, event: EventModel) -> None:
        """Push `event` to every connected device of every user, on every node (rare
        server-wide news such as `evt config`; each node's hub walks its own connections)."""
        payload = event.to_json()
        if self._validate:
            self._check(payload)
        self._bus.publish(Delivery((), payload, None, everyone=True))
        if self._subscribers:
            self._notify(Published(event, (), None, everyone=True))

    def announce(self, event: InternalEvent) -> None:
        """Show the local subscribers a server-side event that no device is sent
        (protocol/internal_events.py: logins, logouts), e.g. for webhooks."""
        if self._subscribers:
            self._notify(Published(event, (), None))

    def publish_message(self, users: Collection[str], message: Message, *, exclude_session: str | None = None) -> None:
        """The hot path: a stored message, encoded straight from its wire dict. Its
        `MessageEvent` is built only when a subscriber will look at it."""
        wire = message.to_wire()
        payload = encode_message_wire(wire)
        if self._validate:
            self._check(payload)
        self._bus.publish(Delivery(users, payload, exclude_session))
        if self._subscribers:
            self._notify(Published(MessageEvent.model_validate(wire), users, exclude_session))

    def _notify(self, published: Published) -> None:
        for callback in list(self._subscribers):
            try:
                callback(published)
            except Exception:
                log.exception("event subscriber %r failed", callback)

    @staticmethod
    def _check(payload: bytes) -> None:
        try:
            parse_push(payload)
        except ValidationError as exc:
            log.error("event failed its schema: %s\n%s", payload[:1000].decode(errors="replace"), exc)
            raise InvalidEvent(str(exc)) from None
