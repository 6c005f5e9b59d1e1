"""The storage interface of message retention (docs/retention.md): the policy, legal
holds, the last sweep's outcome, and the sweep's batch delete.

One transaction per method, like every store (storage/base.py). The memory
implementation is storage/memory/retention.py, the SQL one storage/sql/retention_store.py.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from semot.domain.retention import LegalHold, RetentionPolicy, RetentionRun


@dataclass(frozen=True, slots=True)
class Expired:
    """A message the sweep deleted."""

    conv: str
    seq: int
    mid: str


class RetentionStorage(abc.ABC):
    @abc.abstractmethod
    async def get_policy(self) -> RetentionPolicy:
        """The stored policy; the default (keep everything) when none was ever set."""

    @abc.abstractmethod
    async def set_policy(self, policy: RetentionPolicy) -> None: ...

    @abc.abstractmethod
    async def holds(self) -> list[LegalHold]:
        """Every legal hold, newest first."""

    @abc.abstractmethod
    async def add_hold(self, hold: LegalHold) -> LegalHold:
        """Store it; an existing hold on the same kind and target is returned instead."""

    @abc.abstractmethod
    async def remove_hold(self, hold_id: str) -> LegalHold | None:
        """The removed hold, None when there was none."""

    @abc.abstractmethod
    async def last_run(self) -> RetentionRun: ...

    @abc.abstractmethod
    async def record_run(self, run: RetentionRun) -> None: ...

    @abc.abstractmethod
    async def delete_expired(self, conv_kind: str, before_ts: int, limit: int) -> list[Expired]:
        """In one transaction, delete up to `limit` messages of conversations of kind
        `conv_kind` ("d" or "g") sent before `before_ts`, oldest first, with what hangs on
        them (reactions, file references), never one under a legal hold: in a held
        conversation, in a conversation a held user is a member of, or sent by a held
        user. Conversations keep their max_seq. Returns what was deleted."""
