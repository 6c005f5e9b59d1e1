"""The storage interface of per-conversation settings (domain/conv_settings.py).

Kept apart from MessageStorage: the settings are the member's, written on their
`conv_members` row, and read on `sync` (with each conversation) and for the list of
settings a device that syncs with known seqs would otherwise not see.
"""

from __future__ import annotations

import abc

from semot.domain.conv_settings import ConvSettings


class ConvSettingsStorage(abc.ABC):
    @abc.abstractmethod
    async def set_conv_settings(
        self, conv: str, user_id: str, *, pinned: bool | None, dnd: bool | None, hidden: bool | None, now: int
    ) -> ConvSettings | None:
        """Change what is given (None: leave as is), in one transaction; None when
        `user_id` is not a member of `conv`.

        pinned=True keeps an existing pin's time (re-pinning does not move it); hidden=True
        records the conversation's max_seq now, hidden=False forgets it."""

    @abc.abstractmethod
    async def conv_settings(self, user_id: str) -> list[ConvSettings]:
        """Every conversation of `user_id` whose settings are not the default (pinned, do
        not disturb, or hidden now), in no particular order."""
