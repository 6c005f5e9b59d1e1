"""The `cs` event (docs/customer-service.md): a customer-service session or an agent's
state changed; sent to the agents concerned and to the session's visitor."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from semot.protocol.events.base import _Event


class CsEvent(_Event):
    """A customer-service session changed (`session`, as the workbench lists it), or an
    agent's state (`agent`: `{"user_id","state"}`, `session` null). Sent to the agents
    concerned and to the session's visitor."""

    evt: Literal["cs"] = "cs"
    type: Literal["assigned", "waiting", "transferred", "closed", "agent_state"]
    session: dict[str, Any] | None
    agent: dict[str, Any] | None = Field(None, exclude_if=lambda v: v is None)
