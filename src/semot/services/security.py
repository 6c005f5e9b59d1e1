"""Password hashing (argon2id) and signed, expiring access tokens (JWT, HS256).

Hashing is deliberately slow, so it runs in a worker thread and never stalls the event
loop that carries everyone's messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from semot.errors import Unauthorized

# OWASP's argon2id recommendation (m=19 MiB, t=2, p=1): strong, ~20 ms per hash.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("semot-timing-equaliser")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists, so timing reveals no usernames."""

    def check() -> bool:
        try:
            return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are stored hashed: a leaked table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True, frozen=True)
class AccessClaims:
    user_id: str
    issued_at: int
    expires_at: int


class TokenSigner:
    def __init__(self, secret: str, ttl_s: int, issuer: str = "semot") -> None:
        self._secret = secret
        self._ttl = ttl_s
        self._issuer = issuer

    @property
    def ttl_s(self) -> int:
        return self._ttl

    def issue(self, user_id: str, ttl_s: int | None = None) -> str:
        now = int(time.time())
        claims = {"sub": user_id, "iat": now, "exp": now + (ttl_s or self._ttl), "iss": self._issuer, "typ": "access"}
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
        return AccessClaims(claims["sub"], int(claims["iat"]), int(claims["exp"]))
