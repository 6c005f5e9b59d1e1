"""MemoryUserAdmin: the admin user list, set-password links and device records in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from semot.domain.records import User
from semot.storage.memory.db import MemoryDb, clone
from semot.storage.user_admin import (
    DeviceRecord,
    DeviceSeen,
    LoginRecord,
    PasswordLink,
    UserAdminStorage,
    UserQuery,
)


class MemoryUserAdmin(UserAdminStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db
        self._links: dict[str, PasswordLink] = {}
        self._devices: dict[tuple[str, str], DeviceRecord] = {}

    def _in_any(self, user_id: str, departments: frozenset[str]) -> bool:
        return any(user_id in self._db.dept_members.get(d, {}) for d in departments)

    def _matches(self, u: User, q: UserQuery) -> bool:
        if q.text:
            hit = q.text in u.username.lower() or q.text in u.display_name.lower()
            keys = self._db.search_keys.get(u.id)
            if not hit and q.compact and keys is not None:
                word = " " + q.compact
                hit = word in keys.full or word in keys.initials
            if not hit:
                return False
        if q.disabled is not None and u.disabled != q.disabled:
            return False
        if q.admin is not None and u.is_admin != q.admin:
            return False
        return all(depts is None or self._in_any(u.id, depts) for depts in (q.departments, q.scope))

    async def list_users(self, query: UserQuery) -> tuple[list[User], int]:
        found = [u for u in self._db.users.values() if self._matches(u, query)]
        if query.sort.endswith("created_at"):
            found.sort(key=lambda u: (u.created_at, u.id), reverse=query.sort.startswith("-"))
        else:
            found.sort(key=lambda u: (u.username.lower(), u.id), reverse=query.sort.startswith("-"))
        return [clone(u) for u in found[query.offset : query.offset + query.limit]], len(found)

    async def users_in_departments(self, user_ids: Iterable[str], departments: Iterable[str]) -> set[str]:
        depts = frozenset(departments)
        return {u for u in user_ids if self._in_any(u, depts)}

    async def last_seen(self, user_ids: Iterable[str]) -> dict[str, int]:
        wanted = set(user_ids)
        out: dict[str, int] = {}
        for d in self._devices.values():
            if d.user_id in wanted:
                out[d.user_id] = max(out.get(d.user_id, 0), d.last_seen)
        return out

    # --- set-password links
    async def add_password_link(self, link: PasswordLink) -> None:
        for h in [h for h, x in self._links.items() if x.user_id == link.user_id and x.used_at is None]:
            del self._links[h]
        self._links[link.token_hash] = link

    async def peek_password_link(self, token_hash: str, now: int) -> PasswordLink | None:
        link = self._links.get(token_hash)
        return link if link is not None and link.used_at is None and link.expires_at > now else None

    async def use_password_link(self, token_hash: str, now: int) -> PasswordLink | None:
        link = await self.peek_password_link(token_hash, now)
        if link is None:
            return None
        used = dataclasses.replace(link, used_at=now)
        self._links[token_hash] = used
        return used

    async def drop_password_links(self, user_id: str) -> int:
        gone = [h for h, x in self._links.items() if x.user_id == user_id and x.used_at is None]
        for h in gone:
            del self._links[h]
        return len(gone)

    # --- devices and logins
    async def record_devices(self, seen: list[DeviceSeen]) -> None:
        for d in seen:
            key = (d.login_id, d.device_id)
            old = self._devices.get(key)
            if old is not None and old.last_seen > d.seen_at:
                continue
            first = old.first_seen if old is not None else d.seen_at
            self._devices[key] = DeviceRecord(d.user_id, d.login_id, d.device_id, d.platform, d.ip, first, d.seen_at)

    async def user_devices(self, user_id: str) -> list[DeviceRecord]:
        mine = [d for d in self._devices.values() if d.user_id == user_id]
        return sorted(mine, key=lambda d: -d.last_seen)[:500]

    async def prune_devices(self, before: int) -> int:
        gone = [k for k, d in self._devices.items() if d.last_seen < before]
        for k in gone:
            del self._devices[k]
        return len(gone)

    async def user_logins(self, user_id: str) -> list[LoginRecord]:
        families: dict[str, list[tuple[int, bool]]] = {}
        for t in self._db.tokens.values():
            if t.user_id == user_id:
                families.setdefault(t.family, []).append((t.expires_at, t.revoked))
        out = [
            LoginRecord(f, user_id, min(e for e, _ in v), max(e for e, _ in v), not any(r for _, r in v))
            for f, v in families.items()
        ]
        out.sort(key=lambda x: (-x.last_expires, x.login_id))
        return out
