"""Pre-moderation (PROTOCOL.md §7, docs/moderation.md): the held message, its states and
the rules of the review gate, as pure data and functions.

A group with the `review` setting on holds every send of a plain member (not the owner,
not a group admin) until a reviewer decides. A held message keeps the `mid` it was given
when it was held; approval stores it with the next seq under that `mid`; rejection never
stores it. `(sender, cid)` names a held message as it names a stored one, so a resend is
answered from the queue: pending again, the stored seq, or "rejected".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from semot.domain.groups import is_manager

Status = Literal["pending", "approved", "rejected"]
STATUSES: tuple[str, ...] = ("pending", "approved", "rejected")
ACTIONS: dict[str, Status] = {"approve": "approved", "reject": "rejected"}
TIMEOUT_ACTIONS: tuple[str, ...] = ("approve", "reject")
MAX_REASON = 500
MAX_BULK = 200
MAX_TIMEOUT_S = 30 * 86400  # a month
SYSTEM_REVIEWER = "system"  # the reviewer recorded when the timeout decided
TIMEOUT_REASON = "timeout"  # the reason recorded when the timeout decided (the console translates it)


def is_held(role: str | None, settings: dict[str, Any]) -> bool:
    """Whether a send by a member of this `role` waits for a reviewer."""
    return bool(settings.get("review")) and not is_manager(role)


@dataclass(slots=True)
class HeldMessage:
    """One message in the moderation queue (table `moderation_queue`)."""

    mid: str
    cid: str
    sender: str
    conv: str
    kind: str
    body: dict[str, Any]
    opts: dict[str, Any]
    ts: int  # when it was sent (held)
    ip: str | None = None
    status: str = "pending"
    reason: str | None = None
    reviewer: str | None = None  # the administrator's user_id, or "system" for the timeout
    reviewed_at: int | None = None
    seq: int | None = None  # after approval: its seq in the conversation
    extras: dict[str, Any] = field(default_factory=dict, compare=False)  # names added for the console

    def to_wire(self) -> dict[str, Any]:
        return {
            "mid": self.mid,
            "cid": self.cid,
            "conv": self.conv,
            "from": self.sender,
            "kind": self.kind,
            "body": self.body,
            "opts": self.opts,
            "ts": self.ts,
            "ip": self.ip,
            "status": self.status,
            "reason": self.reason,
            "reviewer": self.reviewer,
            "reviewed_at": self.reviewed_at,
            "seq": self.seq,
            **self.extras,
        }


@dataclass(slots=True, frozen=True)
class ModerationSettings:
    """What happens to a message nobody reviewed for `timeout_s` seconds (0: nothing,
    it waits for ever): `timeout_action` approve or reject."""

    timeout_s: int = 0
    timeout_action: str = "reject"
    updated_at: int | None = None
    updated_by: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "timeout_s": self.timeout_s,
            "timeout_action": self.timeout_action,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }
