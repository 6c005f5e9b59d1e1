"""Events that happen on the server but are pushed to no device: only the publisher's
local subscribers (webhooks, services/webhooks.py) see them (`EventPublisher.announce`).

Typed like the pushes of protocol/events.py, frozen and strict.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict


class _Internal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserLoggedIn(_Internal):
    """A successful password login (a new login: token family `login_id`)."""

    kind: Literal["user.login"] = "user.login"
    user_id: str
    ip: str
    device: str
    platform: str
    method: str


class UserLoggedOut(_Internal):
    """A login ended by its user (logout)."""

    kind: Literal["user.logout"] = "user.logout"
    user_id: str
    login_id: str


InternalEvent: TypeAlias = UserLoggedIn | UserLoggedOut
