"""MemoryDevTools: the developer tools' records in plain lists and dicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from semot.domain.devtools import CapturedFrame, ClientError, ClientErrorFilter, LogSession
from semot.storage.devtools import DevToolsStorage


class MemoryDevTools(DevToolsStorage):
    def __init__(self) -> None:
        self._sessions: dict[str, LogSession] = {}
        self._frames: list[CapturedFrame] = []
        self._errors: list[ClientError] = []
        self._frame_id = 0
        self._error_id = 0

    async def set_log_session(self, session: LogSession) -> None:
        self._sessions[session.user_id] = session

    async def end_log_session(self, user_id: str) -> LogSession | None:
        return self._sessions.pop(user_id, None)

    async def log_sessions(self, now: int) -> list[LogSession]:
        for uid in [u for u, s in self._sessions.items() if s.until <= now]:
            del self._sessions[uid]
        return sorted(self._sessions.values(), key=lambda s: (s.until, s.user_id))

    async def add_frames(self, frames: Sequence[CapturedFrame]) -> None:
        for f in frames:
            self._frame_id += 1
            self._frames.append(dataclasses.replace(f, id=self._frame_id))

    async def frames(self, user_id: str, *, after: int, limit: int) -> list[CapturedFrame]:
        return [f for f in self._frames if f.user_id == user_id and f.id > after][:limit]

    async def prune_frames(self, *, before_ts: int, keep: int) -> int:
        before = len(self._frames)
        top = self._frames[-1].id if self._frames else 0
        self._frames = [f for f in self._frames if f.ts >= before_ts and f.id > top - keep]
        return before - len(self._frames)

    async def add_client_error(self, report: ClientError) -> int:
        self._error_id += 1
        self._errors.append(dataclasses.replace(report, id=self._error_id))
        return self._error_id

    async def client_errors(
        self, where: ClientErrorFilter, *, offset: int, limit: int
    ) -> tuple[list[ClientError], int]:
        q = where.q.lower() if where.q else None
        found = [
            e
            for e in reversed(self._errors)
            if (where.app is None or e.app == where.app)
            and (where.user_id is None or e.user_id == where.user_id)
            and (where.user_ids is None or e.user_id in where.user_ids)
            and (q is None or q in e.message.lower())
            and (where.since is None or e.ts >= where.since)
            and (where.until is None or e.ts < where.until)
        ]
        return found[offset : offset + limit], len(found)

    async def prune_client_errors(self, *, keep: int) -> int:
        before = len(self._errors)
        top = self._errors[-1].id if self._errors else 0
        self._errors = [e for e in self._errors if e.id > top - keep]
        return before - len(self._errors)
