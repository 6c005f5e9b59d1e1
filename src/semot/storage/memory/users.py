"""MemoryUsers and MemoryTokens: accounts and refresh tokens in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable

from semot.domain.records import RefreshToken, User
from semot.domain.users import username_key
from semot.errors import Conflict
from semot.storage.base import TokenStorage, UserStorage
from semot.storage.memory.db import MemoryDb, clone

_TOKEN_KEEP_MS = 86_400_000  # expired tokens older than this are dropped, as on SQL


class MemoryUsers(UserStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db

    async def create_user(self, user: User) -> None:
        key = username_key(user.username)
        if user.id in self._db.users or any(
            u.username == user.username or username_key(u.username) == key for u in self._db.users.values()
        ):
            raise Conflict("that username is already taken")
        self._db.users[user.id] = clone(user)

    async def get_user(self, user_id: str) -> User | None:
        u = self._db.users.get(user_id)
        return clone(u) if u else None

    async def get_user_by_username(self, username: str) -> User | None:
        key = username_key(username)
        found = [u for u in self._db.users.values() if u.username == username or username_key(u.username) == key]
        found.sort(key=lambda u: u.username != username)  # the exact spelling first
        return clone(found[0]) if found else None

    async def existing_user_ids(self, user_ids: Iterable[str]) -> set[str]:
        return {u for u in user_ids if u in self._db.users}

    async def users_by_ids(self, user_ids: Iterable[str]) -> list[User]:
        return [clone(self._db.users[u]) for u in dict.fromkeys(user_ids) if u in self._db.users]

    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool:
        u = self._db.users.get(user_id)
        if u is not None:
            u.disabled = disabled
        return u is not None

    async def set_user_admin(self, user_id: str, is_admin: bool) -> bool:
        u = self._db.users.get(user_id)
        if u is not None:
            u.is_admin = is_admin
        return u is not None

    async def set_user_profile(self, user_id: str, *, display_name: str, avatar_file_id: str | None) -> bool:
        u = self._db.users.get(user_id)
        if u is not None:
            u.display_name, u.avatar_file_id = display_name, avatar_file_id
        return u is not None

    async def set_password_hash(self, user_id: str, password_hash: str) -> bool:
        u = self._db.users.get(user_id)
        if u is not None:
            u.password_hash = password_hash
        return u is not None

    # --- bulk import
    async def users_by_usernames(self, usernames: Iterable[str]) -> list[User]:
        names = set(usernames)
        keys = {username_key(n) for n in names}
        return [clone(u) for u in self._db.users.values() if u.username in names or username_key(u.username) in keys]

    async def create_users(self, users: list[User]) -> list[str]:
        taken = {name for u in self._db.users.values() for name in (u.username, username_key(u.username))}
        inserted: list[str] = []
        for user in users:
            key = username_key(user.username)
            if user.id in self._db.users or key in taken or user.username in taken:
                continue
            self._db.users[user.id] = clone(user)
            taken.update((key, user.username))
            inserted.append(user.id)
        return inserted


class MemoryTokens(TokenStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._tokens = db.tokens

    def _revoke(self, *, family: str | None = None, user_id: str | None = None) -> None:
        for t in self._tokens.values():
            if (family is not None and t.family == family) or (user_id is not None and t.user_id == user_id):
                t.revoked = True

    async def add_refresh_token(self, token: RefreshToken) -> None:
        if token.token_hash in self._tokens:
            raise Conflict("refresh token already stored")
        self._tokens[token.token_hash] = dataclasses.replace(token, used_at=None, revoked=False)

    async def consume_refresh_token(self, token_hash: str, now: int) -> RefreshToken | None:
        t = self._tokens.get(token_hash)
        if t is None:
            return None
        before = clone(t)
        if t.used_at is not None:
            self._revoke(family=t.family)
        else:
            t.used_at = now
        for h in [h for h, x in self._tokens.items() if x.user_id == t.user_id and x.expires_at < now - _TOKEN_KEEP_MS]:
            del self._tokens[h]
        return before

    async def revoke_user_tokens(self, user_id: str) -> None:
        self._revoke(user_id=user_id)

    async def revoke_token_family(self, token_hash: str, user_id: str) -> str | None:
        t = self._tokens.get(token_hash)
        if t is None:
            return None
        if t.user_id == user_id:
            self._revoke(family=t.family)
        return t.user_id

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        t = self._tokens.get(token_hash)
        return clone(t) if t else None

    async def revoke_login(self, family: str) -> None:
        self._revoke(family=family)

    async def revoke_other_logins(self, user_id: str, keep: str) -> list[str]:
        families = {t.family for t in self._tokens.values() if t.user_id == user_id and t.family != keep}
        alive = [f for f in sorted(families) if await self.login_alive(user_id, f)]
        for f in families:
            self._revoke(family=f)
        return alive

    async def logins_alive(self, logins: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        return {(u, f) for u, f in set(logins) if await self.login_alive(u, f)}

    async def login_alive(self, user_id: str, family: str) -> bool:
        mine = [t for t in self._tokens.values() if t.family == family and t.user_id == user_id]
        return bool(mine) and not any(t.revoked for t in mine)
