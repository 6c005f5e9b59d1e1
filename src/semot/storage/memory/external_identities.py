"""External sign-in identities in memory (storage/external_identities.py)."""

from __future__ import annotations

import dataclasses

from semot.storage.external_identities import ExternalIdentity, ExternalIdentityStorage


class MemoryExternalIdentities(ExternalIdentityStorage):
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], ExternalIdentity] = {}

    async def get_identity(self, provider: str, subject: str) -> ExternalIdentity | None:
        return self._rows.get((provider, subject))

    async def user_identities(self, user_id: str) -> list[ExternalIdentity]:
        return sorted((r for r in self._rows.values() if r.user_id == user_id), key=lambda r: r.provider)

    async def link_identity(self, identity: ExternalIdentity) -> bool:
        taken = (identity.provider, identity.subject) in self._rows or any(
            r.provider == identity.provider and r.user_id == identity.user_id for r in self._rows.values()
        )
        if taken:
            return False
        self._rows[(identity.provider, identity.subject)] = identity
        return True

    async def touch_identity(self, provider: str, subject: str, now: int) -> None:
        row = self._rows.get((provider, subject))
        if row is not None:
            self._rows[(provider, subject)] = dataclasses.replace(row, last_login_at=now)

    async def set_departments(self, provider: str, subject: str, departments: tuple[str, ...]) -> None:
        row = self._rows.get((provider, subject))
        if row is not None:
            self._rows[(provider, subject)] = dataclasses.replace(row, departments=tuple(departments))

    async def unlink_identity(self, provider: str, subject: str) -> bool:
        return self._rows.pop((provider, subject), None) is not None
