"""Presence of a single node, in memory: the node is the whole cluster."""

from __future__ import annotations

from collections.abc import Iterable

from semot.bus.presence import LostHandler, PresenceRegistry, Seen, Settled
from semot.domain.presence import aggregate


class LocalPresence(PresenceRegistry):
    def __init__(self) -> None:
        self._sessions: dict[str, dict[str, str]] = {}  # user -> session -> device
        self._manual: dict[str, tuple[str, str]] = {}
        self._pushed: dict[str, tuple[str, str]] = {}
        self._versions: dict[str, int] = {}
        self._follows: dict[str, set[str]] = {}  # viewer -> targets
        self._followers: dict[str, set[str]] = {}  # target -> viewers

    async def start(self, on_lost: LostHandler) -> None:
        pass  # a single node never loses a peer

    async def stop(self) -> None:
        pass

    async def session_up(self, user_id: str, session_id: str, device_id: str) -> None:
        self._sessions.setdefault(user_id, {})[session_id] = device_id

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
            now = (status, text if status != "offline" else "")
            if self._pushed.get(user_id, ("offline", "")) == now:
                continue
            if status == "offline":
                self._pushed.pop(user_id, None)
            else:
                self._pushed[user_id] = now
            version = self._versions.get(user_id, 0) + 1
            self._versions[user_id] = version
            out[user_id] = Settled(now[0], now[1], version)
        return out

    async def subscribe(self, viewer: str, targets: set[str]) -> None:
        await self.drop_viewer(viewer)
        if targets:
            self._follows[viewer] = set(targets)
            for target in targets:
                self._followers.setdefault(target, set()).add(viewer)

    async def subscribers(self, target: str) -> set[str]:
        return set(self._followers.get(target, ()))

    async def drop_viewer(self, viewer: str) -> None:
        for target in self._follows.pop(viewer, ()):
            viewers = self._followers.get(target)
            if viewers is not None:
                viewers.discard(viewer)
                if not viewers:
                    del self._followers[target]
