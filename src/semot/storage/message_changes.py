"""Edits and reactions: what a message storage adds for them (docs/protocol.md,
"Edits and reactions"; the design in docs/architecture.md).

Both change a stored message in place and never add one: the conversation's `seq` and
everyone's unread counts stay as they are. Each change bumps the conversation's own
counter, `change_seq`, in the transaction that makes it, and stamps the message with
it; a device that was offline asks `sync` for conversations whose `change_seq` moved
past its cursor, then `changes` for the messages changed since, in their current state.

The rules a client hears about (sender, window, kind) are checked by the service first,
for clear errors; the stores check them again in the writing statement, so a recall
racing an edit or a reaction can never be undone by it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

from semot.domain.messages import BURNED, RECALLED, SYSTEM, Message

NOT_REACTABLE = frozenset({RECALLED, BURNED, SYSTEM})
MAX_USERS_LISTED = 100  # users named per emoji in a summary; `count` is always the full count


def summarise(rows: Iterable[tuple[str, str, int]]) -> list[dict[str, Any]]:
    """(emoji, user, ts) rows of one message -> its summary: one entry per emoji,
    ordered by when the emoji was first used, users in the order they reacted."""
    by_emoji: dict[str, list[tuple[int, str]]] = {}
    for emoji, user, ts in rows:
        by_emoji.setdefault(emoji, []).append((ts, user))
    out = []
    for emoji, users in sorted(by_emoji.items(), key=lambda kv: (min(kv[1])[0], kv[0])):
        users.sort()
        out.append({"emoji": emoji, "count": len(users), "users": [u for _, u in users[:MAX_USERS_LISTED]]})
    return out


class MessageChangeStorage(abc.ABC):
    """Storage of edits and reactions (both SQL databases and memory)."""

    @abc.abstractmethod
    async def edit_text(self, conv: str, seq: int, *, sender: str, text: str, now: int, sent_after: int) -> Message | None:
        """Replace the text of `sender`'s text message `seq` (sent at or after
        `sent_after`), stamping `edited_ts=now` and the next change_seq. None when the
        message no longer qualifies (recalled, burned or out of the window meanwhile)."""

    @abc.abstractmethod
    async def set_reaction(
        self, conv: str, seq: int, *, user: str, emoji: str, on: bool, now: int, max_emoji: int
    ) -> Message | None:
        """Toggle `user`'s `emoji` on message `seq`; returns the message as it now is
        (with its new change_seq), or None when nothing changed (already on / off).
        Raises Forbidden when the message cannot carry reactions (recalled, burned,
        system) or already has `max_emoji` other emoji, NotFound when there is none."""

    @abc.abstractmethod
    async def changed_messages(self, conv: str, after: int, limit: int) -> tuple[list[Message], int, bool]:
        """Messages whose change_seq is above `after`, in change order, as they are
        now; the conversation's change_seq; whether more changed messages follow."""
