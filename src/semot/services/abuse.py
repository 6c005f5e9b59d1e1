"""The abuse policy: how many failed logins and registrations an account and an IP get.

Counters are taken *before* any password is hashed, and atomically (a hit is an
increment that returns the new count), so a burst of 50 parallel guesses gets exactly
the allowed number through to argon2 and the rest are refused at once, answering
`rate_limited` with the seconds until the window ends. A login attempt counts against
the username (case-folded, whether or not such an account exists, so a lock reveals
nothing) and against the client IP; a successful login takes its hits back (the
account's counter is reset), so only failures count.

Locks are per username, not per (username, IP): an attacker with many addresses still
meets the account limit. The price is that a flood can keep a victim's account locked;
the window bounds that, and the per-IP limit bounds who can do it from one address.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from semot.bus.limits import Counters
from semot.errors import RateLimited

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class AbuseLimits:
    enabled: bool = True
    login_account_max: int = 5
    login_account_window_s: int = 900
    login_ip_max: int = 50
    login_ip_window_s: int = 900
    register_ip_max: int = 10
    register_ip_window_s: int = 3600


@dataclass(slots=True, frozen=True)
class LoginTicket:
    """What a login attempt counted, to be taken back if it succeeds."""

    account_key: str
    ip_key: str
    counted: bool


def _refuse(what: str, retry_after_s: float) -> RateLimited:
    retry = max(1, math.ceil(retry_after_s))
    return RateLimited(f"too many {what}; retry in {retry} s", retry_after=retry)


class AbuseGuard:
    def __init__(self, counters: Counters | None, limits: AbuseLimits) -> None:
        if counters is None and limits.enabled:
            raise ValueError("abuse limits need counters")
        self._counters = counters
        self.limits = limits

    @property
    def _c(self) -> Counters:
        assert self._counters is not None
        return self._counters

    @property
    def enabled(self) -> bool:
        return self.limits.enabled

    async def start(self) -> None:
        if self.enabled:
            await self._c.start()

    async def stop(self) -> None:
        if self.enabled:
            await self._c.stop()

    async def before_login(self, username_key: str, ip: str) -> LoginTicket:
        """Count one attempt; raise RateLimited (nothing hashed) over either limit."""
        account, addr = f"login:u:{username_key}", f"login:ip:{ip}"
        if not self.enabled:
            return LoginTicket(account, addr, counted=False)
        lim = self.limits
        by_ip = await self._c.hit(addr, lim.login_ip_window_s)
        if by_ip.count > lim.login_ip_max:
            if by_ip.count == lim.login_ip_max + 1:
                log.warning("failed logins from %s: locked for %.0f s", ip, by_ip.retry_after_s)
            raise _refuse("failed logins from this address", by_ip.retry_after_s)
        by_account = await self._c.hit(account, lim.login_account_window_s)
        if by_account.count > lim.login_account_max:
            await self._c.undo(addr)  # no password was tried: not a guess from this address
            if by_account.count == lim.login_account_max + 1:
                log.warning("failed logins of %r (latest from %s): locked for %.0f s", username_key, ip, by_account.retry_after_s)
            raise _refuse("failed logins for this account", by_account.retry_after_s)
        return LoginTicket(account, addr, counted=True)

    async def login_succeeded(self, ticket: LoginTicket) -> None:
        """Only failures count: the account starts afresh, the address gets its hit back."""
        if ticket.counted:
            await self._c.reset(ticket.account_key)
            await self._c.undo(ticket.ip_key)

    async def cancel(self, ticket: LoginTicket) -> None:
        """The attempt never checked a password (the server was too busy): take it back."""
        if ticket.counted:
            await self._c.undo(ticket.account_key)
            await self._c.undo(ticket.ip_key)

    async def before_register(self, ip: str) -> None:
        """Count one registration attempt from `ip`; raise RateLimited over the limit."""
        if not self.enabled:
            return
        hit = await self._c.hit(f"register:ip:{ip}", self.limits.register_ip_window_s)
        if hit.count > self.limits.register_ip_max:
            if hit.count == self.limits.register_ip_max + 1:
                log.warning("registrations from %s: limited for %.0f s", ip, hit.retry_after_s)
            raise _refuse("registrations from this address", hit.retry_after_s)
