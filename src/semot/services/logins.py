"""Which logins are still valid, as seen by this node: a short cache over the store.

Every access token names its login (`sid`, the refresh-token family). Ending a login
(logout, a replayed refresh token, disabling the account) is written to the store and
announced on the bus; each node then drops its cached answer and closes the login's
sockets. A node that missed the announcement asks the store again once its cached
"still valid" is `ttl_s` old, so a revoked token is refused everywhere within seconds.
"Revoked" is final and is remembered (bounded) without asking again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

MAX_ENTRIES = 100_000


class LoginCache:
    def __init__(self, is_alive: Callable[[str, str], Awaitable[bool]], *, ttl_s: float) -> None:
        self._is_alive = is_alive
        self._ttl = ttl_s
        self._alive: OrderedDict[str, tuple[str, float]] = OrderedDict()  # sid -> (user, checked until)
        self._revoked: OrderedDict[str, None] = OrderedDict()

    async def alive(self, user_id: str, login_id: str) -> bool:
        now = time.monotonic()
        hit = self._alive.get(login_id)
        if hit is not None and hit[1] > now and hit[0] == user_id:
            return True
        if login_id in self._revoked:
            return False
        ok = await self._is_alive(user_id, login_id)
        if ok:
            self._alive[login_id] = (user_id, now + self._ttl)
            self._alive.move_to_end(login_id)
            while len(self._alive) > MAX_ENTRIES:
                self._alive.popitem(last=False)
        else:
            self.revoked(login_id)
        return ok

    def is_revoked(self, login_id: str) -> bool:
        """Known revoked on this node (no store access: safe between two awaits)."""
        return login_id in self._revoked

    def revoked(self, login_id: str) -> None:
        self._alive.pop(login_id, None)
        self._revoked[login_id] = None
        self._revoked.move_to_end(login_id)
        while len(self._revoked) > MAX_ENTRIES:
            self._revoked.popitem(last=False)

    def forget_user(self, user_id: str) -> None:
        """Every login of a user may have ended (account disabled): ask the store again."""
        for sid in [s for s, (u, _) in self._alive.items() if u == user_id]:
            del self._alive[sid]
