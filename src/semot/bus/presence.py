"""Where presence lives: which sessions each user has open, on any node, the status they
chose, the status last pushed for them, and who follows whose presence.

One node keeps this in memory; several nodes keep it in Redis, so a user with a phone on
one node and a laptop on another is online until both are gone, a device limit counts
devices cluster-wide, and exactly one node pushes each change. A node that dies without
saying goodbye is noticed by the others (its heartbeat stops) and its users' sessions stop
counting; `on_lost` tells the service whose status may have changed.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class Seen:
    """A user's presence as stored: live devices and the chosen (manual) status."""

    devices: int
    manual: tuple[str, str] | None  # (status, text); None: never loaded since the registry started


@dataclass(slots=True, frozen=True)
class Settled:
    """A status change that this node won the right to push. `version` grows with every
    change of the user's status, so a client can drop a push that arrives late."""

    status: str
    text: str
    version: int


@dataclass(slots=True, frozen=True)
class NodeLoad:
    """One live node: the sessions and distinct users it holds, and its last heartbeat
    (ms since the epoch; a single node: now)."""

    node_id: str
    sessions: int
    users: int
    seen_ms: int


@dataclass(slots=True, frozen=True)
class ClusterCounts:
    """Who is online across the cluster, for the admin dashboard: distinct users with a
    live device, open sessions (connections), and the live nodes."""

    users: int
    sessions: int
    nodes: tuple[NodeLoad, ...]


LostHandler = Callable[[set[str]], None]


class PresenceRegistry(abc.ABC):
    @abc.abstractmethod
    async def start(self, on_lost: LostHandler) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def session_up(self, user_id: str, session_id: str, device_id: str, *, max_devices: int = 0) -> bool:
        """Record an open session, unless the user already has `max_devices` other
        devices online on any node (0: no limit): checked and written atomically.
        A session of the same device id replaces its predecessor, so it is not counted."""

    @abc.abstractmethod
    async def session_down(self, user_id: str, session_id: str) -> None:
        """Forget a session; if the store cannot be reached now, it is retried later."""

    @abc.abstractmethod
    async def devices(self, user_id: str) -> set[str]:
        """Device ids with an open session on any live node."""

    @abc.abstractmethod
    async def lookup(self, user_ids: Iterable[str]) -> dict[str, Seen]: ...

    @abc.abstractmethod
    async def set_manual(self, user_id: str, status: str, text: str, *, only_if_unset: bool = False) -> None:
        """Record the status a user chose (kept while they are offline too)."""

    @abc.abstractmethod
    async def settle(self, user_ids: Iterable[str]) -> dict[str, Settled]:
        """For each user, atomically: work out the status now, compare it with the last
        one pushed (cluster-wide) and, if it differs, record it as pushed. Returns only
        the users whose status changed: the caller pushes those, and nobody else will.
        Versions grow and start from the clock, so they keep growing across restarts."""

    @abc.abstractmethod
    async def subscribe(self, viewer: str, session_id: str, targets: set[str]) -> None:
        """Replace the set of users whose presence this session of `viewer` follows."""

    @abc.abstractmethod
    async def subscribers(self, target: str) -> set[str]:
        """Users with a session that follows `target`."""

    @abc.abstractmethod
    async def unsubscribe(self, viewer: str, session_id: str) -> None:
        """Forget what this session follows (it closed)."""

    @abc.abstractmethod
    async def counts(self) -> ClusterCounts:
        """Users online and sessions open on every live node, without reading any user's
        entry: what the admin dashboard shows (refreshed every few seconds)."""
