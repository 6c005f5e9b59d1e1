"""The message push (`{"t":"msg",...}`) and the events about messages: read, typing,
recall, burned, edit, reaction, and a reviewer's decision on a held message.

Cost: building a pydantic model and serialising it takes a few microseconds, so the
message push, sent thousands of times a second, is encoded from the stored message's
wire dict by orjson (`encode_message_wire`) and turned into a `MessageEvent` only when
someone looks at it (a local subscriber, or validation in tests). Both give the same
bytes (tested).
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, with_config
from typing_extensions import TypedDict

from semot.protocol.events.base import _Event, _Push

# --------------------------------------------------------------------------- messages


@with_config(extra="forbid")
class MessageOpts(TypedDict, total=False):
    burn_s: int


@with_config(extra="forbid")
class ReactionSummary(TypedDict):
    """One emoji on a message: how many reacted and who (the first 100, in order)."""

    emoji: str
    count: int
    users: list[str]


class MessageEvent(_Push):
    """`{"t":"msg",...}`: a message, as pushed and as returned by `history` (§2.3).

    `body` depends on `kind` and is validated on the way in (semot.domain.messages)."""

    t: Literal["msg"] = "msg"
    conv: str
    seq: int
    mid: str
    cid: str
    sender: str = Field(alias="from")
    kind: str
    body: dict[str, Any]
    ts: int
    opts: MessageOpts
    # edits and reactions (docs/protocol.md): present only on a message that has them
    edited_ts: int | None = None
    reactions: list[ReactionSummary] | None = None
    # who recalled a recalled message, and as what (docs/protocol.md, recall extension)
    recalled_by: str | None = None
    recalled_role: Literal["sender", "group_admin", "admin"] | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_changes(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out `edited_ts` / `reactions` when absent: the same bytes as the fast path."""
        out: dict[str, Any] = handler(self)
        for key in ("edited_ts", "reactions", "recalled_by", "recalled_role"):
            if out.get(key) is None:
                out.pop(key, None)
        return out


def encode_message_wire(wire: dict[str, Any]) -> bytes:
    """The fast path of a message push: the wire dict of a stored message, as JSON."""
    return orjson.dumps(wire)


# --------------------------------------------------------------------------- events about messages


class ReadEvent(_Event):
    """`user` read up to `seq` in `conv`."""

    evt: Literal["read"] = "read"
    conv: str
    seq: int
    user: str


class TypingEvent(_Event):
    """`user` is typing in a direct chat."""

    evt: Literal["typing"] = "typing"
    conv: str
    user: str


class RecallEvent(_Event):
    """Message `seq` of `conv` was recalled by `by`."""

    evt: Literal["recall"] = "recall"
    conv: str
    seq: int
    by: str
    # Semot extension: as what `by` recalled it (sender, group_admin, admin); docs/protocol.md
    role: Literal["sender", "group_admin", "admin"] | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_role(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if out.get("role") is None:
            out.pop("role", None)
        return out


class BurnedEvent(_Event):
    """Burn-after-reading message `seq` of `conv` was erased."""

    evt: Literal["burned"] = "burned"
    conv: str
    seq: int


class EditEvent(_Event):
    """Semot extension: message `seq` of `conv` now reads `body` (edited at `edited_ts`);
    `change_seq` is the conversation's change cursor after this change."""

    evt: Literal["edit"] = "edit"
    conv: str
    seq: int
    body: dict[str, Any]
    edited_ts: int
    by: str
    change_seq: int


class ReactionEvent(_Event):
    """Semot extension: `user` put (`on`) or took back `emoji` on message `seq` of
    `conv`; `reactions` is the message's whole summary after it."""

    evt: Literal["reaction"] = "reaction"
    conv: str
    seq: int
    emoji: str
    user: str
    on: bool
    reactions: list[ReactionSummary]
    change_seq: int


# --- pre-moderation (PROTOCOL.md §7, docs/moderation.md)


class ModerationEvent(_Event):
    """A reviewer decided on the user's held message `mid` (sent to the sender's devices).
    The contract's `rejected` carries `reason`; Semot adds `approved` (with the `seq` it
    was stored at) and `conv` on both."""

    evt: Literal["moderation"] = "moderation"
    mid: str
    action: Literal["approved", "rejected"]
    reason: str | None
    conv: str
    seq: int | None = Field(None, exclude_if=lambda v: v is None)
