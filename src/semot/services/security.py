"""Password hashing (argon2id) and signed, expiring access tokens (JWT, HS256).

Hashing is deliberately slow (~20 ms of one core each), so it must never run on the
event loop that carries everyone's messages, nor be an amplifier: a flood of logins
gets a fixed number of hashing threads (`PasswordHasherPool`), a bounded queue in
front of them, and `unavailable` beyond it, instead of every CPU and an ever-growing
backlog. (argon2-cffi releases the GIL while hashing, so the threads really run in
parallel with the event loop.)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from semot.errors import Unauthorized, Unavailable

# OWASP's argon2id recommendation (m=19 MiB, t=2, p=1): strong, ~20 ms per hash.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("semot-timing-equaliser")

T = TypeVar("T")


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


def _verify_sync(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists, so timing reveals no usernames."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def default_hash_workers() -> int:
    """Half the CPUs, at least one: the other half stays for the event loop and the database."""
    return max(1, (os.cpu_count() or 2) // 2)


class PasswordHasherPool:
    """Argon2 on a few dedicated threads, with a bounded number of callers waiting."""

    def __init__(self, workers: int = 0, max_waiting: int = 64) -> None:
        self.workers = workers or default_hash_workers()
        self._max_in = self.workers + max_waiting
        self._in = 0
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="semot-argon2")

    @property
    def busy(self) -> int:
        """Hashes running or waiting."""
        return self._in

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        if self._in >= self._max_in:
            raise Unavailable("too many sign-ins at once; retry in a moment", retry_after=1)
        self._in += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self._in -= 1

    async def hash(self, password: str) -> str:
        return await self._run(_hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await self._run(_verify_sync, stored_hash, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are stored hashed: a leaked table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True, frozen=True)
class AccessClaims:
    user_id: str
    issued_at: int
    expires_at: int
    login_id: str  # `sid`: the login (refresh-token family) the token was issued to


class TokenSigner:
    def __init__(self, secret: str, ttl_s: int, issuer: str = "semot") -> None:
        self._secret = secret
        self._ttl = ttl_s
        self._issuer = issuer

    @property
    def ttl_s(self) -> int:
        return self._ttl

    def issue(self, user_id: str, login_id: str, ttl_s: int | None = None) -> str:
        """An access token of one login: ending the login (logout) refuses the token."""
        now = int(time.time())
        claims = {
            "sub": user_id,
            "sid": login_id,
            "iat": now,
            "exp": now + (ttl_s or self._ttl),
            "iss": self._issuer,
            "typ": "access",
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=self._issuer,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("access token expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid access token") from None
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
            raise Unauthorized("invalid access token")
        sid = claims.get("sid")
        if not isinstance(sid, str) or not sid:
            # issued before logins were tracked: it could not be revoked, so it is not taken
            raise Unauthorized("access token of an older server version: refresh it")
        return AccessClaims(claims["sub"], int(claims["iat"]), int(claims["exp"]), sid)
