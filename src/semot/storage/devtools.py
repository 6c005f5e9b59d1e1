"""The storage interface of the developer tools (domain/devtools.py).

Both tables are bounded by the service that writes them (it prunes them): they hold
debugging data, never anything a user needs back. Captured frames are read with a
cursor (their id, ascending), so a console polls for "what came after".
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from semot.domain.devtools import CapturedFrame, ClientError, ClientErrorFilter, LogSession


class DevToolsStorage(abc.ABC):
    # --- protocol log sessions: one row per watched user
    @abc.abstractmethod
    async def set_log_session(self, session: LogSession) -> None:
        """Start or replace the user's session (its `until` moves, earlier or later)."""

    @abc.abstractmethod
    async def end_log_session(self, user_id: str) -> LogSession | None:
        """Remove the user's session; the one removed (None: there was none)."""

    @abc.abstractmethod
    async def log_sessions(self, now: int) -> list[LogSession]:
        """The sessions still running at `now` (until > now), soonest end first; ended
        ones are deleted on the way."""

    # --- captured frames
    @abc.abstractmethod
    async def add_frames(self, frames: Sequence[CapturedFrame]) -> None:
        """Store frames in one transaction; each gets an id above every id before it."""

    @abc.abstractmethod
    async def frames(self, user_id: str, *, after: int, limit: int) -> list[CapturedFrame]:
        """`user_id`'s frames with id > after, ascending, at most `limit`."""

    @abc.abstractmethod
    async def prune_frames(self, *, before_ts: int, keep: int) -> int:
        """Delete frames older than `before_ts` and all but about the newest `keep`;
        how many went."""

    # --- client error reports
    @abc.abstractmethod
    async def add_client_error(self, report: ClientError) -> int:
        """Store a report; its id."""

    @abc.abstractmethod
    async def client_errors(
        self, where: ClientErrorFilter, *, offset: int, limit: int
    ) -> tuple[list[ClientError], int]:
        """Reports matching `where`, newest first, one page; and how many match."""

    @abc.abstractmethod
    async def prune_client_errors(self, *, keep: int) -> int:
        """Delete all but about the newest `keep` reports; how many went."""
