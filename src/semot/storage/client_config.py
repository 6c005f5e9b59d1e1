"""The storage interface of the client configuration (终端配置, services/client_settings.py).

One small document per server, kept whole as JSON: it is read once per node and cached
(a change reaches the other nodes through the bus), written a few times a year, and its
fields follow the wire models (protocol/client_config.py), so columns would only have
to follow every new switch. `version` grows by one with every write and lets an editor
refuse to overwrite a change it has not seen (optimistic concurrency).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StoredClientConfig:
    doc: dict[str, Any]
    version: int
    updated_at: int
    updated_by: str | None


class ClientConfigStorage(abc.ABC):
    @abc.abstractmethod
    async def get_client_config(self) -> StoredClientConfig | None:
        """The stored configuration, or None while no administrator has saved one."""

    @abc.abstractmethod
    async def client_config_version(self) -> int:
        """Just the version (0: none stored): the cheap check of a node's periodic re-read."""

    @abc.abstractmethod
    async def put_client_config(
        self, doc: dict[str, Any], *, expected_version: int | None, updated_by: str | None, now: int
    ) -> StoredClientConfig | None:
        """Store `doc` as the next version, in one transaction. With `expected_version`
        (0: nothing stored yet) only if the stored version is still that one; None (and
        nothing written) when it is not. Concurrent writers are serialised: each gets a
        version of its own."""
