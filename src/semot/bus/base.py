"""The bus carries pushes and control commands to whichever node holds the connections.

Services publish to users, never to connections (through the EventPublisher): on one
node the local bus hands the event straight to the hub; in a cluster a Redis bus carries
the same envelopes to every node, and each node's hub delivers to the connections it
holds. A push travels as its event's JSON, not as a WebSocket frame: framing is the
gateway's business (the hub frames each event once, for all its connections).
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True, frozen=True)
class Delivery:
    """One event (its JSON, encoded once) for every connected device of `user_ids`,
    except the session `exclude_session` (the device that caused it). `everyone`: for
    every connection of every node instead (a broadcast such as `evt config`), so no node
    has to know who is connected elsewhere."""

    user_ids: Collection[str]
    payload: bytes
    exclude_session: str | None = None
    everyone: bool = False


@dataclass(slots=True, frozen=True)
class Disconnect:
    """Close a user's connections (all, or one device's) with a close code."""

    user_id: str
    code: int
    reason: str
    device_id: str | None = None
    except_session: str | None = None


@dataclass(slots=True, frozen=True)
class Invalidate:
    """Something cached per node changed (a group's members, a user's contacts):
    drop the copies on every node. `key` is `g:<group>` or `u:<user>` (and others: see
    app.py). `ALL_CACHES` comes only from the node's own bus: it may have missed
    invalidations (its Redis subscription broke), so it drops every cached copy."""

    key: str


ALL_CACHES = "*"


Envelope = Delivery | Disconnect | Invalidate


class Receiver(Protocol):
    def deliver(self, delivery: Delivery) -> int: ...

    def disconnect(self, command: Disconnect) -> int: ...

    def invalidate(self, command: Invalidate) -> None: ...


def dispatch(receiver: Receiver, envelope: Envelope) -> None:
    """Hand an envelope to the receiver method for its kind."""
    if isinstance(envelope, Delivery):
        receiver.deliver(envelope)
    elif isinstance(envelope, Disconnect):
        receiver.disconnect(envelope)
    else:
        receiver.invalidate(envelope)


class Bus(abc.ABC):
    @abc.abstractmethod
    async def start(self, receiver: Receiver) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    def publish(self, envelope: Envelope) -> None:
        """Fire and forget: pushes are best effort, sync + history are the truth."""
