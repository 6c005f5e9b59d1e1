"""The event outbox (docs/integration.md, "Webhooks"): events written with the change.

A webhook event must not be lost when the process dies between the commit of a change
and the moment its deliveries are written. So the SQL stores write an `event_outbox`
row in the change's own transaction for the events in `TRANSACTIONAL`: the append paths
(SQLite, PostgreSQL, a group write's notices) for `message.sent` and the `group.*`
events (a group change always stores its `system` notice in its transaction: the notice
says what changed), `recall` for `message.recalled`, `add_friendship` for
`friend.added`. The webhook service later fans each row out to one delivery per hook
that wants it and deletes the row, in one transaction (`WebhookStorage.fan_out`): a
delivery's id is derived from the event's id and the hook's, so a row is turned into
deliveries exactly once.

Rows are written only for events some hook wants (`OutboxWants.events`, set by the
webhook service whenever the hooks change): without hooks, a send writes nothing more.

This module is the part every store shares: what an outbox row holds and how a stored
message, a recall or a friendship becomes one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from semot.domain.messages import SYSTEM, Message

TRANSACTIONAL: frozenset[str] = frozenset({
    "message.sent", "message.recalled", "group.created", "group.member_joined", "group.member_left",
    "group.dismissed", "friend.added",
})
"""Events the SQL stores put in the outbox inside the change's transaction."""

MESSAGE_EVENTS: frozenset[str] = frozenset(TRANSACTIONAL - {"message.recalled", "friend.added"})
"""Events an append writes (a message, or a group notice)."""

OUTBOX_COLUMNS = ("event_id", "event", "key", "data", "seq", "created_at")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One event as stored in the outbox. `data` is the JSON of the event's `data`;
    when `seq` is set it is the message's seq, added to `data` as `"seq"` at fan-out
    (the PostgreSQL appender learns the seq inside its statement)."""

    event_id: str
    event: str
    key: str  # deliveries with the same key are made in order (the conversation)
    data: str
    seq: int | None
    created_at: int

    def row(self) -> tuple[Any, ...]:
        return (self.event_id, self.event, self.key[:160], self.data, self.seq, self.created_at)

    def data_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.data)
        if self.seq is None:
            return data
        return {"conv": data.pop("conv", None), "seq": self.seq, **data}


class OutboxWants:
    """Which transactional events some hook wants (the webhook service sets it), and
    whom to tell after a commit that wrote outbox rows (`notify`, on the event loop)."""

    def __init__(self) -> None:
        self.events: frozenset[str] = frozenset()
        self.notify: Callable[[], None] | None = None

    def wants(self, event: str) -> bool:
        return event in self.events

    def written(self) -> None:
        if self.notify is not None:
            self.notify()


def new_event_id() -> str:
    return "ev_" + secrets.token_hex(12)


def delivery_id(event_id: str, webhook_id: str) -> str:
    """The delivery of one event to one hook: stable, so fanning out twice (it never
    commits twice, but the id says so) could only make the same delivery."""
    return "wd_" + hashlib.sha256(f"{event_id}\n{webhook_id}".encode()).hexdigest()[:24]


def _group_items(m: Message) -> list[tuple[str, dict[str, Any]]]:
    """A group's `system` notice (services/groups.py: the change's fields, its type
    prefixed `group_`) as the group.* events it means."""
    body = m.body
    base = {"group_id": m.conv[2:], "conv": m.conv, "by": body.get("by")}
    match body.get("type"):
        case "group_created":
            return [("group.created", {**base, "name": body.get("name")})]
        case "group_member_joined":
            return [("group.member_joined", {**base, "user_id": body.get("user"), "inviter": body.get("inviter")})]
        case "group_members_added":
            return [("group.member_joined", {**base, "user_id": u, "inviter": body.get("by")})
                    for u in body.get("users") or ()]
        case "group_member_left":
            return [("group.member_left", {**base, "user_id": body.get("user"), "reason": "left"})]
        case "group_member_removed":
            return [("group.member_left", {**base, "user_id": body.get("user"), "reason": "removed"})]
        case "group_dismissed":
            return [("group.dismissed", base)]
    return []


def message_items(messages: list[Message], wants: OutboxWants) -> list[OutboxItem]:
    """The outbox rows of newly stored messages, in order: `message.sent` for each
    message, the group.* events for a group's notices. `seq` is the message's seq as
    the caller numbered it (the PostgreSQL appender: 1..n within its conversation)."""
    out: list[OutboxItem] = []
    sent = wants.wants("message.sent")
    for m in messages:
        if m.kind == SYSTEM:
            if m.conv.startswith("g:"):
                for event, data in _group_items(m):
                    if wants.wants(event):
                        out.append(OutboxItem(new_event_id(), event, m.conv, orjson.dumps(data).decode(), None, m.ts))
            continue
        if sent:
            wire = m.to_wire()
            del wire["t"], wire["seq"]
            out.append(OutboxItem(new_event_id(), "message.sent", m.conv, orjson.dumps(wire).decode(), m.seq, m.ts))
    return out


def recall_item(conv: str, seq: int, by: str | None, role: str | None, now: int) -> OutboxItem:
    data: dict[str, Any] = {"conv": conv, "seq": seq, "by": by}
    if role is not None:
        data["role"] = role
    return OutboxItem(new_event_id(), "message.recalled", conv, orjson.dumps(data).decode(), None, now)


def friend_item(a: str, b: str, now: int) -> OutboxItem:
    lo, hi = sorted((a, b))
    return OutboxItem(new_event_id(), "friend.added", f"friends:{lo}:{hi}",
                      orjson.dumps({"users": [lo, hi]}).decode(), None, now)
