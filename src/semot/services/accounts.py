"""Accounts: registration, login, refresh-token rotation, disabling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from semot.bus.base import Bus, Disconnect
from semot.domain.records import RefreshToken, User
from semot.errors import BadRequest, Forbidden, NotFound, Unauthorized
from semot.ids import is_valid_id, new_token, now_ms
from semot.services.security import TokenSigner, hash_password, hash_refresh_token, verify_password
from semot.storage.base import Storage

CLOSE_POLICY = 1008
CLOSE_REPLACED = 4409
MIN_PASSWORD = 8
MAX_PASSWORD = 256


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
    ) -> None:
        self._storage = storage
        self._bus = bus
        self._signer = signer
        self._refresh_ttl_ms = refresh_ttl_s * 1000
        self.self_registration = self_registration

    async def create_user(
        self, username: str, password: str, display_name: str | None = None, *, is_admin: bool = False
    ) -> User:
        check_username(username)
        check_password(password)
        user = User(
            id=username,
            username=username,
            display_name=(display_name or username).strip()[:128] or username,
            password_hash=await hash_password(password),
            is_admin=is_admin,
            created_at=now_ms(),
        )
        await self._storage.create_user(user)
        return user

    async def register(self, username: str, password: str, display_name: str | None) -> User:
        if not self.self_registration:
            raise Forbidden("self-registration is switched off on this server")
        return await self.create_user(username, password, display_name)

    async def login(self, username: str, password: str) -> TokenPair:
        user = await self._storage.get_user_by_username(username)
        if not await verify_password(user.password_hash if user else None, password) or user is None:
            raise Unauthorized("wrong username or password")
        if user.disabled:
            raise Forbidden("this account is disabled")
        return await self._issue(user.id, family=new_token()[:32])

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = now_ms()
        old = await self._storage.consume_refresh_token(hash_refresh_token(refresh_token), now)
        if old is None or old.revoked or old.used_at is not None or old.expires_at <= now:
            raise Unauthorized("refresh token is invalid, expired or already used")
        user = await self._storage.get_user(old.user_id)
        if user is None or user.disabled:
            raise Unauthorized("this account is disabled")
        return await self._issue(user.id, family=old.family)

    async def _issue(self, user_id: str, family: str) -> TokenPair:
        refresh = new_token()
        await self._storage.add_refresh_token(
            RefreshToken(hash_refresh_token(refresh), user_id, family, now_ms() + self._refresh_ttl_ms)
        )
        return TokenPair(self._signer.issue(user_id), refresh, self._signer.ttl_s, user_id)

    async def authenticate(self, access_token: str) -> User:
        """The user behind a bearer token, who must still exist and be enabled."""
        claims = self._signer.verify(access_token)
        user = await self._storage.get_user(claims.user_id)
        if user is None:
            raise Unauthorized("unknown user")
        if user.disabled:
            raise Unauthorized("this account is disabled")
        return user

    async def logout(self, user_id: str, refresh_token: str) -> None:
        """End one login: its refresh token (and any rotated from it) stops working."""
        owner = await self._storage.revoke_token_family(hash_refresh_token(refresh_token), user_id)
        if owner is not None and owner != user_id:
            raise Forbidden("that refresh token belongs to another user")

    async def profiles(self, user_ids: list[str]) -> list[dict[str, Any]]:
        """Public profiles (id, username, display name) of existing users."""
        ids = [u for u in dict.fromkeys(user_ids) if is_valid_id(u)]
        found = {u.id: u for u in await self._storage.users_by_ids(ids)}
        return [found[u].public() for u in ids if u in found]

    async def get(self, user_id: str) -> User:
        user = await self._storage.get_user(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        return user

    async def set_disabled(self, user_id: str, disabled: bool) -> User:
        if not await self._storage.set_user_disabled(user_id, disabled):
            raise NotFound(f"no user {user_id!r}")
        if disabled:
            await self._storage.revoke_user_tokens(user_id)
            self._bus.publish(Disconnect(user_id, CLOSE_POLICY, "account disabled"))
        return await self.get(user_id)

    def device_connected(self, user_id: str, device_id: str, session_id: str) -> None:
        """A device id lives once: an older connection of it, on any node, is replaced."""
        self._bus.publish(Disconnect(user_id, CLOSE_REPLACED, "replaced by a new connection", device_id, session_id))

    async def set_admin(self, user_id: str, is_admin: bool) -> None:
        if not await self._storage.set_user_admin(user_id, is_admin):
            raise NotFound(f"no user {user_id!r}")
