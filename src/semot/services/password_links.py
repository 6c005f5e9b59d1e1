"""One-time set-password links, and accounts that have no password yet.

An administrator (or the bulk import) makes a link for a user; the user opens it in the
web client (`/#/set-password?token=...`), chooses a password and is signed in. The
token is 256 random bits shown once; only its SHA-256 is stored, with an expiry, and it
works once (the store marks it used with a conditional update, so two tabs racing
cannot both use it). A new link replaces the user's unused one; setting the password
in any way ends the user's other links and every login.

An account created without a password gets `unusable_password_hash()`: a well-formed
argon2id hash of nothing anyone knows, so a sign-in attempt costs the same time as for
any account (no timing tells which accounts have no password) and never succeeds;
`has_password` recognises it by its fixed salt.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from semot.domain.records import User
from semot.errors import BadRequest, Forbidden, NotFound
from semot.ids import now_ms
from semot.services.accounts import AccountService, check_password
from semot.storage.base import Storage, TokenStorage
from semot.storage.user_admin import PasswordLink

DEFAULT_LINK_TTL_S = 7 * 86400
MAX_LINK_TTL_S = 30 * 86400
MIN_LINK_TTL_S = 600
LINK_PATH = "/#/set-password?token="
MAX_TOKEN = 128

_NO_PASSWORD_SALT = base64.b64encode(b"semot:nopassword").decode().rstrip("=")
_NO_PASSWORD_PREFIX = f"$argon2id$v=19$m=19456,t=2,p=1${_NO_PASSWORD_SALT}$"


def unusable_password_hash() -> str:
    """A password hash no password matches (its digest is random, not computed): the
    account signs in only after a set-password link or an administrator gives it one."""
    return _NO_PASSWORD_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def has_password(user: User) -> bool:
    return not user.password_hash.startswith(_NO_PASSWORD_PREFIX)


def hash_link_token(token: str) -> str:
    return hashlib.sha256(b"semot-password-link\x00" + token.encode()).hexdigest()


def _check_token(token: str) -> str:
    if not token or len(token) > MAX_TOKEN:
        raise NotFound("this link is invalid, expired or already used")
    return hash_link_token(token)


@dataclass(frozen=True, slots=True)
class MadeLink:
    token: str
    user_id: str
    expires_at: int

    @property
    def path(self) -> str:
        """Where the web client opens it, relative to the server's address."""
        return LINK_PATH + self.token

    def to_wire(self) -> dict[str, Any]:
        return {"token": self.token, "path": self.path, "user_id": self.user_id, "expires_at": self.expires_at}


async def end_all_logins(tokens: TokenStorage, accounts: AccountService, user_id: str) -> int:
    """End every login of the user as a logout would, one by one, so each login's
    sockets close on every node (the bus names the login); returns how many."""
    families = await tokens.revoke_other_logins(user_id, "")
    for family in families:
        await accounts.logout(user_id, family, None)
    return len(families)


class PasswordLinks:
    def __init__(self, storage: Storage, accounts: AccountService) -> None:
        self._users = storage.users
        self._tokens = storage.tokens
        self._store = storage.user_admin
        self._accounts = accounts

    async def make(self, user_id: str, *, created_by: str, ttl_s: int = DEFAULT_LINK_TTL_S) -> MadeLink:
        """A fresh link for `user_id` (any earlier unused one stops working)."""
        if not MIN_LINK_TTL_S <= ttl_s <= MAX_LINK_TTL_S:
            raise BadRequest(f"ttl: {MIN_LINK_TTL_S}-{MAX_LINK_TTL_S} seconds")
        if await self._users.get_user(user_id) is None:
            raise NotFound(f"no user {user_id!r}")
        token = secrets.token_urlsafe(32)
        now = now_ms()
        link = PasswordLink(hash_link_token(token), user_id, created_by, now, now + ttl_s * 1000)
        await self._store.add_password_link(link)
        return MadeLink(token, user_id, link.expires_at)

    async def check(self, token: str) -> tuple[User, PasswordLink]:
        """Whose link this is, if it still works (NotFound otherwise, never saying why)."""
        link = await self._store.peek_password_link(_check_token(token), now_ms())
        user = await self._users.get_user(link.user_id) if link is not None else None
        if link is None or user is None:
            raise NotFound("this link is invalid, expired or already used")
        if user.disabled:
            raise Forbidden("this account is disabled")
        return user, link

    async def use(self, token: str, password: str) -> User:
        """Set the password through the link: it is used up, every login of the user and
        their other links end. The password is hashed before the link is taken, so a
        failure there (a busy server) leaves the link usable."""
        check_password(password)
        user, _ = await self.check(token)
        password_hash = await self._accounts.hasher.hash(password)
        if await self._store.use_password_link(_check_token(token), now_ms()) is None:
            raise NotFound("this link is invalid, expired or already used")  # used meanwhile
        await self.set_hash(user.id, password_hash)
        return user

    async def set_hash(self, user_id: str, password_hash: str) -> None:
        """Store a new password hash and end everything the old password opened: every
        login (tokens refused, sockets closed on every node) and unused links."""
        if not await self._users.set_password_hash(user_id, password_hash):
            raise NotFound(f"no user {user_id!r}")
        await self._store.drop_password_links(user_id)
        await end_all_logins(self._tokens, self._accounts, user_id)
