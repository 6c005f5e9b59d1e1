"""Per-conversation settings of a user (pinned, do not disturb, hidden), synced to all
of their devices.

The device that changes a setting gets the result in its reply; the user's other
connected devices get `evt conv_settings`; a device that connects later reads them from
`sync` (docs/protocol.md, "Conversation settings").

A conversation the user is no longer in (a group they left or were removed from) has no
member row to keep settings on. Hiding it is still accepted, so that "remove from the
list" works for it on every device: nothing is stored (sync never returns it: a device
that connects later does not list it), and the devices connected now are told with
`hidden: true, hidden_seq: null`, which means "not yours any more: drop it". Pinning or
muting it is refused. A dismissed group keeps its members, so it is hidden like any
other conversation and stays hidden (nobody can post in it any more).
"""

from __future__ import annotations

from typing import Any

from semot.domain.conv_settings import ConvSettings
from semot.domain.conversations import parse_conv
from semot.errors import BadRequest, Forbidden, NotFound
from semot.ids import now_ms
from semot.protocol.events import ConvSettingsEvent
from semot.services.events import EventPublisher
from semot.storage.conv_settings import ConvSettingsStorage


class ConvSettingsService:
    def __init__(self, store: ConvSettingsStorage, events: EventPublisher) -> None:
        self._store = store
        self._events = events

    async def set(
        self,
        user_id: str,
        session_id: str | None,
        conv: str,
        *,
        pinned: bool | None = None,
        dnd: bool | None = None,
        hidden: bool | None = None,
    ) -> dict[str, Any]:
        """Change what is given (None: leave it); returns the settings as on the wire."""
        ref = parse_conv(conv)
        if ref.kind == "d" and user_id not in ref.users:
            raise Forbidden("you are not a member of this conversation")
        found = await self._store.set_conv_settings(conv, user_id, pinned=pinned, dnd=dnd, hidden=hidden, now=now_ms())
        if found is None:
            if hidden is not True or pinned or dnd:
                if hidden is True:
                    raise BadRequest("a conversation you are not in can only be removed from the list")
                raise NotFound("you are not a member of this conversation")
            return self._publish(user_id, session_id, {"conv": conv, **REMOVED})
        if pinned is None and dnd is None and hidden is None:
            return found.to_wire()  # a read: nothing changed, nobody to tell
        return self._publish(user_id, session_id, found.to_wire())

    async def non_default(self, user_id: str) -> list[ConvSettings]:
        return await self._store.conv_settings(user_id)

    def _publish(self, user_id: str, session_id: str | None, wire: dict[str, Any]) -> dict[str, Any]:
        self._events.publish([user_id], ConvSettingsEvent(**wire), exclude_session=session_id)
        return wire


REMOVED: dict[str, Any] = {"pinned_at": None, "dnd": False, "hidden": True, "hidden_seq": None}
"""The settings of a conversation the user is not in, removed from their list."""
