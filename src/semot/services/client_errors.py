"""Client error reports: uncaught errors of the web client and the console, with their
stack traces and versions, so administrators see what breaks in users' browsers.

Anyone may report, signed in or not (the login page fails too, before any token
exists); a report without a valid token is filed as anonymous. What keeps this from
being a free write into the database: sizes are bounded by the API's model, reports are
limited per user and per address in fixed windows (anonymous ones tighter), and the
table keeps only the newest `keep` reports. The counters are per node: behind N nodes
a client could get N times the limit, which bounds a flood all the same.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from semot.domain.devtools import ClientError, ClientErrorFilter
from semot.errors import RateLimited
from semot.ids import now_ms
from semot.storage.devtools import DevToolsStorage

APPS = ("web", "admin")


@dataclass(frozen=True, slots=True)
class ClientErrorLimits:
    per_user: int = 20  # reports per user per window
    per_ip: int = 60  # reports per address per window, signed in or not
    anonymous_per_ip: int = 10  # reports without a user per address per window
    window_s: float = 60.0
    keep: int = 50_000  # reports kept; older ones are pruned
    prune_every: int = 200  # reports between prunes


class Windows:
    """Fixed-window counters in memory. `hit` counts one against every key at once, or
    against none when any is at its limit (a refused report uses up nothing). Keys
    expire with their window; the map is swept when it grows, so a flood of addresses
    cannot grow it without bound for longer than one window."""

    __slots__ = ("_counts", "_window_s")

    def __init__(self, window_s: float) -> None:
        self._window_s = window_s
        self._counts: dict[str, tuple[float, int]] = {}

    def hit(self, checks: list[tuple[str, int]]) -> float:
        """(key, limit) pairs: 0 if every key is within its limit (each counted once),
        else the seconds until the window of a key at its limit ends (nothing counted)."""
        now = time.monotonic()
        current = []
        for key, limit in checks:
            end, n = self._counts.get(key, (0.0, 0))
            if now >= end:
                end, n = now + self._window_s, 0
            if n >= limit:
                return end - now
            current.append((key, end, n))
        for key, end, n in current:
            self._counts[key] = (end, n + 1)
        if len(self._counts) > 50_000:
            self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
        return 0.0


class ClientErrorService:
    def __init__(self, store: DevToolsStorage, limits: ClientErrorLimits | None = None) -> None:
        self._store = store
        self.limits = limits or ClientErrorLimits()
        self._windows = Windows(self.limits.window_s)
        self._since_prune = 0

    def _check(self, user_id: str | None, ip: str) -> None:
        lim = self.limits
        checks = [(f"ip:{ip}", lim.per_ip)]
        checks.append((f"u:{user_id}", lim.per_user) if user_id else (f"anon:{ip}", lim.anonymous_per_ip))
        wait = self._windows.hit(checks)
        if wait:
            retry = max(1, math.ceil(wait))
            raise RateLimited(f"too many error reports; retry in {retry} s", retry_after=retry)

    async def report(
        self,
        *,
        user_id: str | None,
        ip: str,
        app: str,
        version: str,
        message: str,
        stack: str,
        url: str,
        user_agent: str,
    ) -> int:
        """File one report (the API bounded its fields); its id. RateLimited beyond the limits."""
        self._check(user_id, ip)
        report = ClientError(now_ms(), user_id, ip, app, version, message, stack, url, user_agent)
        report_id = await self._store.add_client_error(report)
        self._since_prune += 1
        if self._since_prune >= self.limits.prune_every:
            self._since_prune = 0
            await self._store.prune_client_errors(keep=self.limits.keep)
        return report_id

    async def list(self, where: ClientErrorFilter, *, offset: int, limit: int) -> tuple[list[ClientError], int]:
        return await self._store.client_errors(where, offset=offset, limit=limit)
