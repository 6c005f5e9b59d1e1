"""Accounts: registration, login, refresh-token rotation, logout, disabling.

A login is a refresh-token family: every access token names it (`sid`), so ending the
login (logout, a replayed refresh token, disabling the account) refuses its access
tokens too, on every node within seconds (see LoginCache), and closes its sockets.
Failed logins and registrations are counted before any password is hashed (AbuseGuard),
and hashing runs on a bounded pool of threads (PasswordHasherPool).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from semot.bus.base import Bus, Disconnect, Invalidate
from semot.domain.records import RefreshToken, User
from semot.domain.users import username_key
from semot.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    Unavailable,
)
from semot.ids import is_valid_id, new_token, now_ms
from semot.services.abuse import AbuseGuard, AbuseLimits
from semot.services.login_log import LoginAttempt
from semot.services.logins import LoginCache
from semot.services.security import PasswordHasherPool, TokenSigner, hash_refresh_token
from semot.services.sensitive_words import SensitiveWords
from semot.storage import login_logs
from semot.storage.base import Storage

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008
CLOSE_REPLACED = 4409
CLOSE_UNAUTHORIZED = 4401
MIN_PASSWORD = 8
MAX_PASSWORD = 256
LOGIN_KEY = "l:"  # bus Invalidate key `l:<user>:<login id>`, or `l:<user>:*` for all of them
ALL_LOGINS = "*"


@dataclass(slots=True, frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "user_id": self.user_id,
            "token_type": "Bearer",
        }


class DirectoryLogin(Protocol):
    """Where passwords of directory-managed users are checked (services/ldap_accounts.py)."""

    async def claims(self, user: User | None) -> bool:
        """True: the directory, not the local password, decides this login (`user`: the
        account of the typed username, None if there is none)."""

    async def verify(self, username: str, password: str, user: User | None) -> User | None:
        """The account (created or updated) when the directory accepts the password, else None."""


# asked after a login's password was found right, before tokens are issued; raises to
# refuse it (services/oidc_login.py LoginMethods.gate: password sign-in switched off)
LoginGate = Callable[[User, LoginAttempt], Awaitable[None]]


def check_username(username: str) -> None:
    if not (2 <= len(username) <= 32) or not is_valid_id(username):
        raise BadRequest("username: 2-32 characters from A-Z a-z 0-9 _ . -")


def check_password(password: str) -> None:
    if not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise BadRequest(f"password: {MIN_PASSWORD}-{MAX_PASSWORD} characters")


class AccountService:
    def __init__(
        self,
        storage: Storage,
        bus: Bus,
        signer: TokenSigner,
        *,
        refresh_ttl_s: int,
        self_registration: bool,
        abuse: AbuseGuard | None = None,
        hasher: PasswordHasherPool | None = None,
        login_check_s: float = 5.0,
    ) -> None:
        self._users = storage.users
        self._tokens = storage.tokens
        self._bus = bus
        self._signer = signer
        self._refresh_ttl_ms = refresh_ttl_s * 1000
        self.self_registration = self_registration  # the client configuration may change it (client_settings.py)
        # called with every account create_user made (the client configuration's default friend groups)
        self.created_hooks: list[Callable[[User], Awaitable[None]]] = []
        self.abuse = abuse or AbuseGuard(None, AbuseLimits(enabled=False))
        self.hasher = hasher or PasswordHasherPool()
        self.logins = LoginCache(storage.tokens.login_alive, ttl_s=login_check_s)
        # set by the composition root: where every login attempt is recorded (services/login_log.py)
        self.login_log: Callable[[LoginAttempt], None] | None = None
        # set by the composition root: told of every logout, (user_id, login_id) (webhooks' user.logout)
        self.on_logout: Callable[[str, str], None] | None = None
        self.sensitive: SensitiveWords | None = None  # a registration's display name screened (sensitive_words.py)
        self.directory: DirectoryLogin | None = None  # LDAP, when on (app.py; the login attempt's method "ldap")

    async def start(self) -> None:
        await self.abuse.start()

    async def stop(self) -> None:
        await self.abuse.stop()
        self.hasher.close()

    # --- accounts
    async def create_user(
        self, username: str, password: str, display_name: str | None = None, *, is_admin: bool = False
    ) -> User:
        check_username(username)
        check_password(password)
        if await self._users.get_user_by_username(username) is not None:
            raise Conflict("that username is already taken")  # before the costly hash (the store checks again)
        user = User(
            id=username,
            username=username,
            display_name=(display_name or username).strip()[:128] or username,
            password_hash=await self.hasher.hash(password),
            is_admin=is_admin,
            created_at=now_ms(),
        )
        await self._users.create_user(user)
        for hook in self.created_hooks:
            await hook(user)
        return user

    async def register(self, username: str, password: str, display_name: str | None, *, ip: str = "") -> User:
        if not self.self_registration:
            raise Forbidden("self-registration is switched off on this server")
        check_username(username)
        check_password(password)
        await self.abuse.before_register(ip)
        name = (display_name or "").strip()[:128]
        if name and self.sensitive is not None:  # sensitive words: 400 blocked, or starred
            display_name = self.sensitive.screen_text(name, user_id=username, target="display_name", ip=ip)
        return await self.create_user(username, password, display_name)

    async def login(self, username: str, password: str, *, ip: str = "", attempt: LoginAttempt | None = None,
                    gate: LoginGate | None = None) -> TokenPair:
        """Refused before any hashing while the username or the address is locked out.
        Every outcome goes to the login log (`attempt`: the client, filled in by the edge;
        the outcome is filled in here), whatever the reply says to the client. `gate`
        may still refuse a login whose password was right (the login-method switch)."""
        attempt = attempt or LoginAttempt(username, ip=ip)
        try:
            return await self._login(username, password, ip, attempt, gate)
        finally:
            if self.login_log is not None:
                self.login_log(attempt)

    async def _login(self, username: str, password: str, ip: str, attempt: LoginAttempt,
                     gate: LoginGate | None) -> TokenPair:
        attempt.reason = login_logs.RATE_LIMITED
        ticket = await self.abuse.before_login(username_key(username), ip)
        attempt.reason = login_logs.ERROR
        user = await self._users.get_user_by_username(username)
        attempt.user_id = user.id if user else None
        try:
            if self.directory is not None and await self.directory.claims(user):
                attempt.method = "ldap"
                found = await self.directory.verify(username, password, user)
                if found is None:  # a refusal costs a hash, as a local one does: no missing hash in its timing
                    await self.hasher.verify(None, password)
                ok, user = found is not None, found or user
                attempt.user_id = user.id if user else None
            else:
                ok = await self.hasher.verify(user.password_hash if user else None, password)
        except Unavailable:
            attempt.reason = login_logs.UNAVAILABLE
            await self.abuse.cancel(ticket)  # not a guess: nothing was checked
            raise
        if not ok or user is None:
            attempt.reason = login_logs.UNKNOWN_USER if user is None else login_logs.WRONG_PASSWORD
            log.info("failed login for %r from %s", username, ip or "?")
            raise Unauthorized("wrong username or password")
        await self.abuse.login_succeeded(ticket)
        if user.disabled:
            attempt.reason = login_logs.DISABLED
            raise Forbidden("this account is disabled")
        if gate is not None:  # only after the password: a refusal tells nothing to whoever does not know it
            await gate(user, attempt)
        pair = await self._issue(user.id, family=new_token()[:32])
        attempt.ok, attempt.reason = True, ""
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = now_ms()
        old = await self._tokens.consume_refresh_token(hash_refresh_token(refresh_token), now)
        if old is None or old.revoked or old.used_at is not None or old.expires_at <= now:
            if old is not None and old.used_at is not None:
                self._ended(old.user_id, old.family)  # a replay revoked the whole login
            raise Unauthorized("refresh token is invalid, expired or already used")
        if not await self._tokens.login_alive(old.user_id, old.family):
            # issued by a refresh that raced the login's revocation: it ends with it
            await self._tokens.revoke_login(old.family)
            raise Unauthorized("refresh token is invalid, expired or already used")
        user = await self._users.get_user(old.user_id)
        if user is None or user.disabled:
            raise Unauthorized("this account is disabled")
        return await self._issue(user.id, family=old.family)

    async def login_as(self, user_id: str, attempt: LoginAttempt | None = None) -> TokenPair:
        """A new login for `user_id` without a password: made by a trusted party (the
        server API's tokens, an SSO ticket; api/server_api*.py). `attempt`, when given,
        goes to the login log with the outcome."""
        try:
            user = await self._users.get_user(user_id)
            if attempt is not None:
                attempt.user_id = user.id if user else None
            if user is None:
                raise NotFound(f"no user {user_id!r}")
            if user.disabled:
                if attempt is not None:
                    attempt.reason = login_logs.DISABLED
                raise Forbidden("this account is disabled")
            pair = await self._issue(user.id, family=new_token()[:32])
            if attempt is not None:
                attempt.ok, attempt.reason = True, ""
            return pair
        finally:
            if attempt is not None and self.login_log is not None:
                self.login_log(attempt)

    async def _issue(self, user_id: str, family: str) -> TokenPair:
        refresh = new_token()
        await self._tokens.add_refresh_token(
            RefreshToken(hash_refresh_token(refresh), user_id, family, now_ms() + self._refresh_ttl_ms)
        )
        return TokenPair(self._signer.issue(user_id, family), refresh, self._signer.ttl_s, user_id)

    async def change_password(self, user: User, login_id: str, old: str, new: str, *, ip: str = "") -> None:
        """The old password is checked as a login is (a wrong one counts as a failed login
        towards the lockout, and is refused with 403, not 401: the caller's token is fine).
        Then every other login of the user ends (refresh tokens, access tokens, sockets);
        `login_id`, the caller's own, goes on."""
        check_password(new)
        ticket = await self.abuse.before_login(username_key(user.username), ip)
        try:
            ok = await self.hasher.verify(user.password_hash, old)
        except Unavailable:
            await self.abuse.cancel(ticket)
            raise
        if not ok:
            log.info("wrong current password in a password change by %r from %s", user.id, ip or "?")
            raise Forbidden("the current password is wrong")
        await self.abuse.login_succeeded(ticket)
        if not await self._users.set_password_hash(user.id, await self.hasher.hash(new)):
            raise NotFound(f"no user {user.id!r}")
        for family in await self._tokens.revoke_other_logins(user.id, login_id):
            self._ended(user.id, family)

    # --- access tokens
    async def authenticate(self, access_token: str) -> User:
        """The user behind a bearer token, who must still exist and be enabled."""
        return (await self.authenticate_login(access_token))[0]

    async def authenticate_login(self, access_token: str) -> tuple[User, str]:
        """The user behind a bearer token and the login it belongs to, which must not
        have ended (logout, disabling)."""
        claims = self._signer.verify(access_token)
        user = await self._users.get_user(claims.user_id)
        if user is None:
            raise Unauthorized("unknown user")
        if user.disabled:
            raise Unauthorized("this account is disabled")
        if not await self.logins.alive(user.id, claims.login_id):
            raise Unauthorized("this login has ended (signed out): sign in again")
        return user, claims.login_id

    async def ended_logins(self, logins: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (user, login) pairs have ended: the safety net for a node that
        missed the bus message of a logout (a Redis outage), run over its open sockets."""
        wanted = set(logins)
        ended = wanted - await self._tokens.logins_alive(wanted)
        for _, login_id in ended:
            self.logins.revoked(login_id)
        return ended

    def login_of(self, access_token: str) -> str:
        """The login (`sid`) an access token belongs to."""
        return self._signer.verify(access_token).login_id

    # --- ending logins
    async def logout(self, user_id: str, login_id: str, refresh_token: str | None) -> None:
        """End one login: the one `refresh_token` belongs to, else the caller's own.
        Its refresh tokens stop working, its access tokens are refused, its sockets close."""
        family = login_id
        if refresh_token:
            token = await self._tokens.get_refresh_token(hash_refresh_token(refresh_token))
            if token is not None:
                if token.user_id != user_id:
                    raise Forbidden("that refresh token belongs to another user")
                family = token.family
        await self._tokens.revoke_login(family)
        self._ended(user_id, family)
        if self.on_logout is not None:
            self.on_logout(user_id, family)

    def _ended(self, user_id: str, login_id: str) -> None:
        self.logins.revoked(login_id)
        self._bus.publish(Invalidate(f"{LOGIN_KEY}{user_id}:{login_id}"))

    def login_invalidated(self, key: str) -> tuple[str, str] | None:
        """A bus `l:` key from any node: drop what this node cached. Returns (user, login
        id) whose sockets must close, or None when the whole user was invalidated."""
        user_id, _, login_id = key[len(LOGIN_KEY) :].partition(":")
        if login_id == ALL_LOGINS or not login_id:
            self.logins.forget_user(user_id)
            return None
        self.logins.revoked(login_id)
        return user_id, login_id

    # --- profiles and administration
    async def profiles(self, user_ids: list[str]) -> list[dict[str, Any]]:
        """Public profiles (id, username, display name) of existing users."""
        ids = [u for u in dict.fromkeys(user_ids) if is_valid_id(u)]
        found = {u.id: u for u in await self._users.users_by_ids(ids)}
        return [found[u].public() for u in ids if u in found]

    async def get(self, user_id: str) -> User:
        user = await self._users.get_user(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        return user

    async def set_disabled(self, user_id: str, disabled: bool) -> User:
        """Disabling ends every login for good: enabling again revives no old token."""
        if not await self._users.set_user_disabled(user_id, disabled):
            raise NotFound(f"no user {user_id!r}")
        if disabled:
            await self._tokens.revoke_user_tokens(user_id)
            self.logins.forget_user(user_id)
            self._bus.publish(Invalidate(f"{LOGIN_KEY}{user_id}:{ALL_LOGINS}"))
            self._bus.publish(Disconnect(user_id, CLOSE_POLICY, "account disabled"))
        return await self.get(user_id)

    def device_connected(self, user_id: str, device_id: str, session_id: str) -> None:
        """A device id lives once: an older connection of it, on any node, is replaced."""
        self._bus.publish(Disconnect(user_id, CLOSE_REPLACED, "replaced by a new connection", device_id, session_id))

    async def set_admin(self, user_id: str, is_admin: bool) -> None:
        if not await self._users.set_user_admin(user_id, is_admin):
            raise NotFound(f"no user {user_id!r}")
