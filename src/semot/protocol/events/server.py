"""Events from the server itself rather than from another user: the client
configuration changed, an integrator's notification, a node's resync request."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from semot.protocol.client_config import PublicClientConfig
from semot.protocol.events.base import _Event


class ConfigEvent(_Event):
    """The client configuration changed (contract: fetch it again). Semot adds the new
    configuration itself (`config`, as GET /api/v1/client-config answers) and its
    `version`, so every connected client need not fetch it at the same moment."""

    evt: Literal["config"] = "config"
    version: int | None = Field(None, exclude_if=lambda v: v is None)
    config: PublicClientConfig | None = Field(None, exclude_if=lambda v: v is None)


class NotifyEvent(_Event):
    """A notification pushed by an integrator (contract; not sent yet)."""

    evt: Literal["notify"] = "notify"
    data: dict[str, Any]


class ResyncEvent(_Event):
    """Extension (docs/protocol.md, "Catching up after a cluster hiccup"): this node may
    have missed pushes published on other nodes (its Redis subscription broke, or a node
    had to drop pushes it could not publish). Clients run their `sync` catch-up, each
    after a random wait of up to `spread_ms` so that a whole node does not ask at once."""

    evt: Literal["resync"] = "resync"
    spread_ms: int
