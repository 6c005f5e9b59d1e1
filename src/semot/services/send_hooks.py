"""The two compliance checks a send passes through, as the message service sees them.

`MessageService.prepare` validates a message, then hands it to the content screen
(sensitive words: it may return the message with words starred out, or raise
`Blocked`), then to the integrator's before-send hook (same contract), then, for group sends, to the review gate (pre-moderation: it may hold the
message for a reviewer and raise `PendingReview` carrying its `mid`). Both run before
the message is queued for its seq, so nothing refused or held is ever stored in the
conversation. The implementations live in their own services; the composition root
sets them on the message service.
"""

from __future__ import annotations

from typing import Protocol

from semot.domain.records import GroupState, NewMessage


class ContentScreen(Protocol):
    async def screen_message(self, item: NewMessage) -> NewMessage:
        """The message to store (the same or with words replaced); raises `Blocked`."""


class BeforeSendHook(Protocol):
    async def before_send(self, item: NewMessage) -> NewMessage:
        """The integrator's synchronous `message.before_send` webhook (PROTOCOL.md §4):
        the message to store (the same, or with the body the hook replaced); raises
        `Blocked` when the hook blocks it (or times out under `on_timeout: block`)."""


class ReviewGate(Protocol):
    async def check(self, item: NewMessage, role: str | None, state: GroupState) -> None:
        """Returns when the message may be stored now; raises `PendingReview` when held.
        `role` is the sender's role in the group (None when not a member)."""
