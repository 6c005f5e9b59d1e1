"""Presence of a single node, in memory: the node is the whole cluster."""

from __future__ import annotations

import time
from collections.abc import Iterable

from semot.bus.presence import ClusterCounts, LostHandler, NodeLoad, PresenceRegistry, Seen, Settled
from semot.domain.presence import aggregate


def next_version(previous: int) -> int:
    """Versions start from the clock (ms), so they keep growing across restarts."""
    return max(previous + 1, int(time.time() * 1000))


class LocalPresence(PresenceRegistry):
    def __init__(self, node_id: str = "local") -> None:
        self.node_id = node_id
        self._sessions: dict[str, dict[str, str]] = {}  # user -> session -> device
        self._manual: dict[str, tuple[str, str]] = {}
        self._pushed: dict[str, tuple[str, str, int]] = {}  # user -> (status, text, version)
        self._follows: dict[str, tuple[str, set[str]]] = {}  # session -> (viewer, targets)
        self._followers: dict[str, dict[str, str]] = {}  # target -> session -> viewer

    async def start(self, on_lost: LostHandler) -> None:
        pass  # a single node never loses a peer

    async def stop(self) -> None:
        pass

    async def session_up(self, user_id: str, session_id: str, device_id: str, *, max_devices: int = 0) -> bool:
        sessions = self._sessions.get(user_id, {})
        if max_devices and len(set(sessions.values()) - {device_id}) >= max_devices:
            return False
        self._sessions.setdefault(user_id, {})[session_id] = device_id
        return True

    async def session_down(self, user_id: str, session_id: str) -> None:
        sessions = self._sessions.get(user_id)
        if sessions is not None:
            sessions.pop(session_id, None)
            if not sessions:
                del self._sessions[user_id]

    async def devices(self, user_id: str) -> set[str]:
        return set(self._sessions.get(user_id, {}).values())

    def _seen(self, user_id: str) -> Seen:
        return Seen(len(set(self._sessions.get(user_id, {}).values())), self._manual.get(user_id))

    async def lookup(self, user_ids: Iterable[str]) -> dict[str, Seen]:
        return {u: self._seen(u) for u in user_ids}

    async def set_manual(self, user_id: str, status: str, text: str, *, only_if_unset: bool = False) -> None:
        if only_if_unset and user_id in self._manual:
            return
        self._manual[user_id] = (status, text)

    async def settle(self, user_ids: Iterable[str]) -> dict[str, Settled]:
        out: dict[str, Settled] = {}
        for user_id in user_ids:
            seen = self._seen(user_id)
            manual, text = seen.manual or ("online", "")
            status = aggregate(seen.devices, manual)
            text = text if status != "offline" else ""
            last_status, last_text, last_version = self._pushed.get(user_id, ("offline", "", 0))
            if (last_status, last_text) == (status, text):
                continue
            version = next_version(last_version)
            self._pushed[user_id] = (status, text, version)
            out[user_id] = Settled(status, text, version)
        return out

    async def subscribe(self, viewer: str, session_id: str, targets: set[str]) -> None:
        await self.unsubscribe(viewer, session_id)
        if targets:
            self._follows[session_id] = (viewer, set(targets))
            for target in targets:
                self._followers.setdefault(target, {})[session_id] = viewer

    async def subscribers(self, target: str) -> set[str]:
        return set(self._followers.get(target, {}).values())

    async def unsubscribe(self, viewer: str, session_id: str) -> None:
        _, targets = self._follows.pop(session_id, (viewer, set()))
        for target in targets:
            sessions = self._followers.get(target)
            if sessions is not None:
                sessions.pop(session_id, None)
                if not sessions:
                    del self._followers[target]

    async def counts(self) -> ClusterCounts:
        sessions = sum(map(len, self._sessions.values()))
        users = len(self._sessions)
        return ClusterCounts(users, sessions, (NodeLoad(self.node_id, sessions, users, int(time.time() * 1000)),))
