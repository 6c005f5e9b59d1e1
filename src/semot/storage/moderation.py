"""The storage interface of pre-moderation: the queue of held messages and the timeout
setting (domain/moderation.py). Memory, SQLite and PostgreSQL implement it alike
(tests/compliance/test_moderation_store.py).

`decide` is the one place a held message changes state: a conditional update from
`pending`, so two reviewers (or a reviewer and the timeout sweep) racing on the same
message cannot both win; only the winner stores or rejects it.
"""

from __future__ import annotations

import abc

from semot.domain.moderation import HeldMessage, ModerationSettings


class ModerationStorage(abc.ABC):
    @abc.abstractmethod
    async def hold(self, item: HeldMessage) -> HeldMessage:
        """Queue `item`; when `(sender, cid)` is queued already, nothing changes and the
        queued one is returned (a resend, or two sends of one cid racing)."""

    @abc.abstractmethod
    async def held_by_cid(self, sender: str, cid: str) -> HeldMessage | None: ...

    @abc.abstractmethod
    async def held(self, mid: str) -> HeldMessage | None: ...

    @abc.abstractmethod
    async def held_many(self, mids: list[str]) -> list[HeldMessage]: ...

    @abc.abstractmethod
    async def list_held(
        self, *, status: str | None, conv: str | None, sender: str | None, offset: int, limit: int
    ) -> tuple[list[HeldMessage], int]:
        """A page and the total: pending oldest first (the order to review them in),
        otherwise the most recently sent first."""

    @abc.abstractmethod
    async def mine(self, sender: str, *, since: int, limit: int) -> list[HeldMessage]:
        """The sender's pending messages, and those rejected at or after `since`, oldest first."""

    @abc.abstractmethod
    async def decide(self, mid: str, status: str, *, reason: str | None, reviewer: str, at: int) -> bool:
        """`pending` -> `status`, only if still pending; True when this call made the change."""

    @abc.abstractmethod
    async def undo_decision(self, mid: str) -> None:
        """Back to `pending` (an approval whose store failed)."""

    @abc.abstractmethod
    async def set_seq(self, mid: str, seq: int) -> None: ...

    @abc.abstractmethod
    async def overdue(self, before_ts: int, limit: int) -> list[str]:
        """The mids of pending messages held before `before_ts`, oldest first."""

    @abc.abstractmethod
    async def moderation_settings(self) -> ModerationSettings: ...

    @abc.abstractmethod
    async def put_moderation_settings(self, settings: ModerationSettings) -> None: ...
