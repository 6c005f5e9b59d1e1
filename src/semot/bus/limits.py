"""Where abuse counters live: failed logins and registrations per key, in fixed windows.

One node counts in memory; several nodes count in Redis, so an attacker spreading
guesses over the nodes behind a load balancer meets the same limit. A counter is
created by its first hit and expires `window_s` later (it is not extended by later
hits): `n` hits within one window, then a clean slate.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class Hit:
    """A counter after an increment: its value and the seconds until it expires."""

    count: int
    retry_after_s: float


class Counters(abc.ABC):
    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def hit(self, key: str, window_s: float) -> Hit:
        """Add one to `key` atomically (starting a window of `window_s` if it had none)."""

    @abc.abstractmethod
    async def undo(self, key: str) -> None:
        """Take one hit back (never below zero; the window keeps its end)."""

    @abc.abstractmethod
    async def reset(self, key: str) -> None:
        """Forget the counter."""
