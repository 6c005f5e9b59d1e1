"""Message retention (docs/retention.md): the policy, legal holds and a sweep's outcome.

Off by default: a policy keeps messages of direct chats and of groups for a number of
days each (None: forever). A legal hold exempts a user (every conversation they are a
member of, and every message they sent anywhere) or one conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

from semot.errors import BadRequest

DAY_MS = 86_400_000
MAX_DAYS = 36_500  # a hundred years
HOLD_KINDS = ("user", "conv")
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    direct_days: int | None = None  # None: keep forever
    group_days: int | None = None
    updated_at: int | None = None
    updated_by: str | None = None

    @property
    def enabled(self) -> bool:
        return self.direct_days is not None or self.group_days is not None

    def cutoff(self, conv_kind: str, now: int) -> int | None:
        """Messages of this conversation type ("d" or "g") sent before this time go."""
        days = self.direct_days if conv_kind == "d" else self.group_days
        return None if days is None else now - days * DAY_MS


@dataclass(frozen=True, slots=True)
class LegalHold:
    id: str
    kind: str  # "user" or "conv"
    target: str  # a user_id or a conv
    reason: str
    created_at: int
    created_by: str | None


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """What the last sweep did (its start, its end, how many messages it deleted)."""

    started_at: int | None = None
    finished_at: int | None = None
    deleted: int = 0
    error: str | None = None


def clean_days(value: int | None, name: str) -> int | None:
    """0 and None both mean "keep forever"."""
    if value is None or value == 0:
        return None
    if not 1 <= value <= MAX_DAYS:
        raise BadRequest(f"{name}: 0 (keep forever) or 1 to {MAX_DAYS} days")
    return value
