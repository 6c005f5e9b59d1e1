"""A member's own view of one conversation: pinned, do-not-disturb, hidden.

The values live on the member's `conv_members` row (migration 0009), so they follow the
user to every device: `sync` returns them with each conversation and `evt conv_settings`
tells the user's other connected devices when they change (docs/protocol.md).

Hiding stores the conversation's max_seq at that moment (`hidden_seq`) rather than a
flag: the conversation is hidden only while no message came after it, so it comes back
by itself on the next message, on every device, without anyone clearing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def is_hidden(hidden_seq: int | None, max_seq: int) -> bool:
    """Hidden while no message came after the one it was hidden at."""
    return hidden_seq is not None and hidden_seq >= max_seq


@dataclass(slots=True, frozen=True)
class ConvSettings:
    conv: str
    max_seq: int
    pinned_at: int | None = None  # ms since the epoch; None: not pinned
    dnd: bool = False
    hidden_seq: int | None = None

    @property
    def hidden(self) -> bool:
        return is_hidden(self.hidden_seq, self.max_seq)

    @property
    def is_default(self) -> bool:
        """Nothing to tell a device: not pinned, not muted, not hidden now."""
        return self.pinned_at is None and not self.dnd and not self.hidden

    def to_wire(self) -> dict[str, Any]:
        return {
            "conv": self.conv,
            "pinned_at": self.pinned_at,
            "dnd": self.dnd,
            "hidden": self.hidden,
            "hidden_seq": self.hidden_seq,
        }


def wire_fields(pinned_at: int | None, dnd: bool, hidden_seq: int | None, max_seq: int) -> dict[str, Any]:
    """The settings fields a `sync` entry carries (the same names as the event's)."""
    return {"pinned_at": pinned_at, "dnd": dnd, "hidden": is_hidden(hidden_seq, max_seq), "hidden_seq": hidden_seq}
