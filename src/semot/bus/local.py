"""In-process bus for a single node: publishing is a direct call into the hub."""

from __future__ import annotations

from semot.bus.base import Bus, Envelope, Receiver, dispatch


class LocalBus(Bus):
    def __init__(self) -> None:
        self._receiver: Receiver | None = None

    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def stop(self) -> None:
        self._receiver = None

    def publish(self, envelope: Envelope) -> None:
        if self._receiver is not None:
            dispatch(self._receiver, envelope)
