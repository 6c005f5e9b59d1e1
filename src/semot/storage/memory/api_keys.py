"""The server API's keys, call log and SSO tickets in memory (storage/api_keys.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from semot.storage.api_keys import ApiCall, ApiCallQuery, ApiKey, ApiKeyStorage


class MemoryApiKeys(ApiKeyStorage):
    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._calls: list[ApiCall] = []
        self._next = 1
        self._tickets: dict[str, tuple[str, int]] = {}

    async def add_api_key(self, key: ApiKey) -> None:
        self._keys[key.id] = key

    async def api_keys(self) -> list[ApiKey]:
        return sorted(self._keys.values(), key=lambda k: (k.created_at, k.id), reverse=True)

    async def api_key(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    async def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        return next((k for k in self._keys.values() if k.key_hash == key_hash), None)

    async def update_api_key(self, key_id: str, **values: Any) -> ApiKey | None:
        key = self._keys.get(key_id)
        if key is None:
            return None
        self._keys[key_id] = key = dataclasses.replace(key, **values)
        return key

    async def add_api_calls(self, calls: Sequence[ApiCall]) -> None:
        for c in calls:
            self._calls.append(dataclasses.replace(c, id=self._next))
            self._next += 1

    async def api_calls(self, query: ApiCallQuery, *, offset: int, limit: int) -> tuple[list[ApiCall], int]:
        found = sorted((c for c in self._calls if query.matches(c)), key=lambda c: (c.ts, c.id), reverse=True)
        return found[offset : offset + limit], len(found)

    async def purge_api_calls(self, before_ts: int) -> int:
        kept = [c for c in self._calls if c.ts >= before_ts]
        gone = len(self._calls) - len(kept)
        self._calls = kept
        return gone

    async def add_sso_ticket(self, ticket_hash: str, user_id: str, expires_at: int) -> None:
        self._tickets[ticket_hash] = (user_id, expires_at)

    async def take_sso_ticket(self, ticket_hash: str, now: int) -> str | None:
        for h, (_, exp) in list(self._tickets.items()):
            if exp <= now:
                del self._tickets[h]
        found = self._tickets.pop(ticket_hash, None)
        return found[0] if found else None
