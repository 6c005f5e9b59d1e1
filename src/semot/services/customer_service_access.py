"""Customer service's restricted users: anonymous visitors' logins, and what visitors and
customers may reach (docs/customer-service.md).

Apart from the sessions (services/customer_service.py) because every authenticated HTTP
request (api/http.py), WebSocket frame (gateway/handler.py) and direct message
(MessageService.direct_check) asks these questions: they need only who is a visitor or
a customer, cached per node, never the sessions' routing. CustomerService keeps its
public methods and hands them over to this.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable

from semot.bus.base import Bus, Invalidate
from semot.bus.limits import Counters
from semot.domain.conversations import direct_conv
from semot.domain.customer_service import Visitor
from semot.domain.records import User
from semot.errors import Forbidden, RateLimited
from semot.ids import now_ms
from semot.services.accounts import AccountService, TokenPair
from semot.services.password_links import unusable_password_hash
from semot.storage.base import Storage

CS_USER_KEY = "cs:restricted:"  # Invalidate key + user id: a user was marked or unmarked a customer
# the HTTP routes (templates) a restricted user (an anonymous visitor, a customer) may
# call: its sessions, its own account and settings, files of its chats, its
# conversations' history; not the organisation directory, profiles, groups, contacts,
# places, apps or other users (an allowlist: a new route is closed to them by default)
VISITOR_ROUTES = ("/api/v1/cs/", "/api/v1/auth/", "/api/v1/files/", "/api/v1/conversations/", "/api/v1/me/")
VISITOR_EXACT = frozenset({"/api/v1/me", "/api/v1/messages/search"})
# ... and read (GET) only: their own groups (their sessions' chats), contacts, held
# messages and presence, and the profiles of the people they talk to (`visible_profiles`)
VISITOR_READ = frozenset({"/api/v1/groups", "/api/v1/contacts", "/api/v1/moderation/mine", "/api/v1/users",
                          "/api/v1/presence"})  # presence: their own only (api/presence_api.py)
# the WebSocket requests they may make (gateway/handler.py): all scoped to their own
# conversations and account; not presence_sub (whose presence they could follow), nor
# any request type added later
RESTRICTED_FRAMES = frozenset({"send", "ping", "sync", "history", "read", "typing", "recall", "edit", "react",
                               "changes", "conv_set", "search", "presence"})


def key_hash(visitor_key: str) -> str:
    return hashlib.sha256(visitor_key.encode()).hexdigest()


class VisitorAccess:
    def __init__(self, storage: Storage, accounts: AccountService, bus: Bus, counters: Counters | None, *,
                 ip_max: int, ip_window_s: float) -> None:
        self.store = storage.customer_service
        self._users = storage.users
        self._conv_max_seq = storage.messages.conversation_max_seq
        self._accounts = accounts
        self._bus = bus
        self._counters = counters
        self._ip_max = ip_max
        self._ip_window_s = ip_window_s
        self._visitors: dict[str, bool] = {}  # user id -> anonymous visitor? (never changes for an id)
        self._restricted: dict[str, bool] = {}  # user id -> visitor or customer? (dropped on CS_USER_KEY)
        self._epoch = 0  # counts drops: a lookup that raced one is not cached

    def invalidate(self, key: str) -> None:
        if key.startswith(CS_USER_KEY):
            self._epoch += 1
            self._restricted.pop(key[len(CS_USER_KEY):], None)

    def invalidate_all(self) -> None:
        """Missed invalidations (a Redis outage, app/bus_receiver.py): forget every mark."""
        self._epoch += 1
        self._restricted.clear()

    async def visitor(self, visitor_key: str | None, name: str | None, ip: str) -> tuple[TokenPair, str]:
        """A login for the visitor holding `visitor_key`, or for a new visitor (counted
        per address: `visitor_ip_max` per `visitor_ip_window_s`). Returns the key to keep."""
        if visitor_key:
            found = await self.store.visitor_by_key(key_hash(visitor_key))
            if found is not None:
                await self.store.touch_visitor(found.user_id, now_ms())
                return await self._accounts.login_as(found.user_id), visitor_key
        if self._counters is not None and self._ip_max > 0:
            hit = await self._counters.hit(f"cs:visitor:{ip}", self._ip_window_s)
            if hit.count > self._ip_max:
                retry = max(1, int(hit.retry_after_s) + 1)
                raise RateLimited(f"too many new visitors from this address; retry in {retry} s", retry_after=retry)
        key = secrets.token_urlsafe(32)
        user_id = f"v.{secrets.token_hex(10)}"
        now = now_ms()
        display = (name or "").strip()[:64]
        if display and self._accounts.sensitive is not None:  # as a registration's name: blocked, or starred
            display = self._accounts.sensitive.screen_text(display, user_id=user_id, target="display_name", ip=ip)
        display = display or f"访客 {user_id[-4:]}"
        await self._users.create_user(User(user_id, user_id, display, unusable_password_hash(), created_at=now))
        await self.store.add_visitor(Visitor(user_id, key_hash(key), now))
        self._visitors[user_id] = True
        return await self._accounts.login_as(user_id), key

    async def is_visitor(self, user_id: str) -> bool:
        known = self._visitors.get(user_id)
        if known is None:
            known = bool(await self.store.visitor_ids([user_id]))
            if len(self._visitors) > 100_000:
                self._visitors.clear()
            self._visitors[user_id] = known
        return known

    async def is_restricted(self, user_id: str) -> bool:
        """An anonymous visitor or a customer (a site's user the integrator marked
        `external`): customer service only (cached per node; a change of the mark drops
        the entry on every node through the bus)."""
        known = self._restricted.get(user_id)
        if known is None:
            epoch = self._epoch
            known = await self.is_visitor(user_id) or bool(await self.store.customer_ids([user_id]))
            if self._epoch != epoch:  # the mark changed while we read: answer, but do not keep it
                return known
            if len(self._restricted) > 100_000:
                self._restricted.clear()
            self._restricted[user_id] = known
        return known

    async def set_customer(self, user_id: str, customer: bool) -> bool:
        """Mark or unmark a customer (the server API's user upsert, `external`); True when it changed."""
        changed = await self.store.set_customer(user_id, customer, now_ms())
        self._epoch += 1
        self._restricted.pop(user_id, None)
        if changed:
            self._bus.publish(Invalidate(CS_USER_KEY + user_id))
        return changed

    async def check_route(self, user_id: str, path: str, method: str = "GET") -> None:
        """Refuse a restricted user a route outside `VISITOR_ROUTES` (api/http.py asks
        for every authenticated request; a cached lookup)."""
        if path in VISITOR_EXACT or path.startswith(VISITOR_ROUTES) or (method == "GET" and path in VISITOR_READ):
            return
        if await self.is_restricted(user_id):
            raise Forbidden("customers and visitors may use customer service only")

    async def visible_profiles(self, user_id: str, ids: list[str]) -> list[str]:
        """The profiles `user_id` may read (GET /api/v1/users): all for an ordinary user; for
        a restricted one only their own, their sessions' agents and the peers of direct
        chats that exist (someone opened them), never the organisation's other people."""
        if not await self.is_restricted(user_id):
            return ids
        agents = {s.agent_id for s in await self.store.sessions(visitor_id=user_id, limit=200, newest_first=True)}
        return [u for u in ids if u == user_id or u in agents
                or await self._conv_max_seq(direct_conv(user_id, u)) is not None]

    def guard_direct(self, check: Callable[[str, str], Awaitable[None]]) -> Callable[[str, str], Awaitable[None]]:
        """The direct-message check: no direct chat with an anonymous visitor (they talk
        to agents in their service sessions only); a customer writes only in a direct
        chat someone else opened (the shop's account sending an order notice: they may
        answer it), never opens one with the organisation's people."""

        async def direct_check(sender: str, peer: str) -> None:
            if await self.is_visitor(sender) or await self.is_visitor(peer):
                raise Forbidden("visitors chat in customer-service sessions only")
            if await self.is_restricted(sender) and await self._conv_max_seq(direct_conv(sender, peer)) is None:
                raise Forbidden("customers chat in customer-service sessions only")
            await check(sender, peer)

        return direct_check
