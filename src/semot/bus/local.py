"""In-process bus for a single node: publishing is a direct call into the hub."""

from __future__ import annotations

from semot.bus.base import Bus, Delivery, Envelope, Receiver


class LocalBus(Bus):
    def __init__(self) -> None:
        self._receiver: Receiver | None = None

    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def stop(self) -> None:
        self._receiver = None

    def publish(self, envelope: Envelope) -> None:
        r = self._receiver
        if r is None:
            return
        if isinstance(envelope, Delivery):
            r.deliver(envelope)
        else:
            r.disconnect(envelope)
