"""MemoryLoginLogs: the login log in a list, for unit tests (same contract as SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from semot.storage.login_logs import LoginLogEntry, LoginLogQuery, LoginLogStorage, newest_first


class MemoryLoginLogs(LoginLogStorage):
    def __init__(self) -> None:
        self._rows: list[LoginLogEntry] = []
        self._next_id = 1

    async def add_login_logs(self, entries: Sequence[LoginLogEntry]) -> None:
        for e in entries:
            self._rows.append(replace(e, id=self._next_id))
            self._next_id += 1

    def _matching(self, query: LoginLogQuery) -> list[LoginLogEntry]:
        return sorted((e for e in self._rows if query.matches(e)), key=newest_first, reverse=True)

    async def login_logs(self, query: LoginLogQuery, *, offset: int, limit: int) -> tuple[list[LoginLogEntry], int]:
        found = self._matching(query)
        return found[offset : offset + limit], len(found)

    async def login_logs_before(
        self, query: LoginLogQuery, *, before: tuple[int, int] | None, limit: int
    ) -> list[LoginLogEntry]:
        found = self._matching(query)
        if before is not None:
            found = [e for e in found if newest_first(e) < before]
        return found[:limit]

    async def purge_login_logs(self, before_ts: int) -> int:
        kept = [e for e in self._rows if e.ts >= before_ts]
        gone = len(self._rows) - len(kept)
        self._rows = kept
        return gone
