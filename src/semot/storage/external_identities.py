"""Sign-in identities from outside Semot linked to its users (docs/sso.md).

An OpenID Connect provider names a person by `(issuer, sub)`: the subject is stable at
that provider, unlike the username it also sends, so a user is found by the link once
made. A user has at most one identity per provider, and an identity one user: linking
either twice is refused (`link` answers False), never silently moved. The link also
remembers which departments the provider's claim put the user in (`departments`), so a
later sign-in takes the user out of exactly those it no longer lists, never out of one an
administrator chose.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

MAX_PROVIDER = 255
MAX_SUBJECT = 255
MAX_DEPARTMENTS = 20  # department ids a claim may give (services/oidc_login.py reads no more paths)


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    provider: str  # the OIDC issuer
    subject: str  # its `sub`
    user_id: str
    created_at: int
    last_login_at: int | None = None
    departments: tuple[str, ...] = ()  # the department ids the claim gave (and no administrator did)


class ExternalIdentityStorage(ABC):
    @abstractmethod
    async def get_identity(self, provider: str, subject: str) -> ExternalIdentity | None: ...

    @abstractmethod
    async def user_identities(self, user_id: str) -> list[ExternalIdentity]: ...

    @abstractmethod
    async def link_identity(self, identity: ExternalIdentity) -> bool:
        """Store the link; False (nothing written) when the subject or the user already
        has one with this provider."""

    @abstractmethod
    async def touch_identity(self, provider: str, subject: str, now: int) -> None:
        """Remember the identity's last sign-in."""

    @abstractmethod
    async def set_departments(self, provider: str, subject: str, departments: tuple[str, ...]) -> None:
        """Remember the departments the identity's claim gave (at most MAX_DEPARTMENTS)."""

    @abstractmethod
    async def unlink_identity(self, provider: str, subject: str) -> bool: ...
