"""MemoryClientConfig: the client configuration document in memory."""

from __future__ import annotations

import copy
from typing import Any

from semot.storage.client_config import ClientConfigStorage, StoredClientConfig


class MemoryClientConfig(ClientConfigStorage):
    def __init__(self) -> None:
        self._stored: StoredClientConfig | None = None

    async def get_client_config(self) -> StoredClientConfig | None:
        return copy.deepcopy(self._stored)

    async def client_config_version(self) -> int:
        return self._stored.version if self._stored else 0

    async def put_client_config(
        self, doc: dict[str, Any], *, expected_version: int | None, updated_by: str | None, now: int
    ) -> StoredClientConfig | None:
        current = self._stored.version if self._stored else 0
        if expected_version is not None and current != expected_version:
            return None
        self._stored = StoredClientConfig(copy.deepcopy(doc), current + 1, now, updated_by)
        return copy.deepcopy(self._stored)
