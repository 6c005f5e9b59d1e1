"""Pre-moderation (PROTOCOL.md §7, docs/moderation.md): the review gate on group sends,
the reviewers' decisions, the timeout sweep and the sender's own view of the queue.

The gate (`check`, the `ReviewGate` of services/send_hooks.py) runs inside
MessageService.prepare after validation and the sensitive-word screen, so what is held
is exactly what would have been stored. A held message is queued with a fresh `mid`;
`(sender, cid)` finds it again on a resend:

- pending: `pending_review` again with the same `mid` (nothing queued twice);
- approved: the send goes on with the held `mid`, and the message store's `(sender,
  cid)` dedupe answers with the stored seq;
- rejected: `blocked` (permanent: the SDK never retries it) with `details` `{"mid",
  "reason", "rejected": true}`.

A decision is one conditional update from `pending` (storage/moderation.py), so two
reviewers, or a reviewer and the sweep, never both act on one message: the loser gets
`conflict`. An approval submits the held message to the normal writer (next seq, the
usual fan-out to every member, its `mid` kept) and tells the sender's devices with `evt
moderation` `approved` (an extension, with `conv` and `seq`); a rejection pushes the
contract's `evt moderation` `rejected` with the reason. If storing an approved message
fails, the decision is undone (the message is pending again) and the error raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from semot.domain.groups import effective_settings
from semot.domain.moderation import (
    ACTIONS,
    MAX_BULK,
    MAX_REASON,
    MAX_TIMEOUT_S,
    STATUSES,
    SYSTEM_REVIEWER,
    TIMEOUT_ACTIONS,
    TIMEOUT_REASON,
    HeldMessage,
    ModerationSettings,
    is_held,
)
from semot.domain.records import GroupState, NewMessage
from semot.errors import BadRequest, Blocked, Conflict, NotFound, PendingReview
from semot.ids import now_ms
from semot.protocol.events import ModerationEvent
from semot.services.events import EventPublisher
from semot.services.messaging import MessageService
from semot.storage.base import Storage

log = logging.getLogger(__name__)

SWEEP_BATCH = 200
MINE_LIMIT = 500


SENDER_LEFT_REASON = "the sender is no longer a member of the group"


class ModerationService:
    def __init__(
        self,
        storage: Storage,
        messages: MessageService,
        events: EventPublisher,
        *,
        sweep_s: float = 30.0,
        rejected_days: int = 7,
    ) -> None:
        self._storage = storage
        self._store = storage.moderation
        self._messages = messages
        self._events = events
        self._sweep_s = sweep_s
        self._rejected_ms = rejected_days * 86_400_000
        self._sweeper: asyncio.Task[None] | None = None

    # --- lifecycle (the timeout sweep)
    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="semot-moderation-sweep")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("the moderation timeout sweep failed")

    async def sweep(self, now: int | None = None) -> int:
        """Decide the messages left unreviewed longer than the timeout; returns how many
        this node decided (another node's sweep may win some: the update is conditional)."""
        settings = await self._store.moderation_settings()
        if settings.timeout_s <= 0:
            return 0
        status = ACTIONS[settings.timeout_action]
        done = 0
        now = now or now_ms()
        for mid in await self._store.overdue(now - settings.timeout_s * 1000, SWEEP_BATCH):
            try:
                await self._decide(mid, status, reason=TIMEOUT_REASON, reviewer=SYSTEM_REVIEWER)
                done += 1
            except (Conflict, NotFound):
                continue
        return done

    # --- the gate (services/send_hooks.ReviewGate)
    async def check(self, item: NewMessage, role: str | None, state: GroupState) -> None:
        if not is_held(role, effective_settings(state.group.kind, state.group.settings)):
            return
        held = await self._store.held_by_cid(item.sender, item.cid)
        if held is None:
            held = await self._store.hold(
                HeldMessage(
                    mid=item.mid, cid=item.cid, sender=item.sender, conv=item.conv, kind=item.kind,
                    body=item.body, opts=item.opts, ts=item.ts, ip=item.ip,
                )
            )
        if held.status == "pending":
            raise PendingReview("held for review", mid=held.mid)
        if held.status == "rejected":
            why = f": {held.reason}" if held.reason else ""
            raise Blocked(f"rejected by a reviewer{why}", mid=held.mid, reason=held.reason, rejected=True)
        item.mid = held.mid  # approved: stored (or about to be) under the held mid; the store dedupes the cid

    # --- reviewers
    async def queue(
        self, *, status: str | None, conv: str | None, sender: str | None, offset: int, limit: int
    ) -> dict[str, Any]:
        if status is not None and status not in STATUSES:
            raise BadRequest(f"status: one of {', '.join(STATUSES)}")
        items, total = await self._store.list_held(status=status, conv=conv, sender=sender, offset=offset, limit=limit)
        await self._name(items)
        return {"items": [i.to_wire() for i in items], "total": total, "offset": offset}

    async def _name(self, items: list[HeldMessage]) -> None:
        """Sender and group names for the console (a few lookups per page)."""
        users = {u.id: u for u in await self._storage.users.users_by_ids({i.sender for i in items} | {
            i.reviewer for i in items if i.reviewer and i.reviewer != SYSTEM_REVIEWER})}
        groups: dict[str, str | None] = {}
        for conv in {i.conv for i in items}:
            g = await self._storage.groups.get_group(conv[2:]) if conv.startswith("g:") else None
            groups[conv] = g.name if g else None
        for i in items:
            sender = users.get(i.sender)
            reviewer = users.get(i.reviewer) if i.reviewer else None
            i.extras = {
                "group_id": i.conv[2:] if i.conv.startswith("g:") else None,
                "group_name": groups.get(i.conv),
                "sender_name": sender.display_name if sender else None,
                "sender_username": sender.username if sender else None,
                "reviewer_name": reviewer.display_name if reviewer else None,
            }

    async def get(self, mid: str) -> HeldMessage:
        held = await self._store.held(mid)
        if held is None:
            raise NotFound(f"no held message {mid!r}")
        return held

    async def decide(self, reviewer: str, mid: str, action: str, reason: str | None) -> HeldMessage:
        """One reviewer's decision; `conflict` when it was decided already (by anyone)."""
        status = ACTIONS.get(action)
        if status is None:
            raise BadRequest("action: approve or reject")
        return await self._decide(mid, status, reason=_reason(reason), reviewer=reviewer)

    async def decide_many(
        self, reviewer: str, mids: Iterable[str], action: str, reason: str | None
    ) -> tuple[list[HeldMessage], list[dict[str, Any]]]:
        """Bulk: each mid on its own (one failing does not stop the rest); returns the
        decided messages and the skipped ones with why (`not_found`, `conflict`)."""
        status = ACTIONS.get(action)
        if status is None:
            raise BadRequest("action: approve or reject")
        wanted = list(dict.fromkeys(mids))
        if not 1 <= len(wanted) <= MAX_BULK:
            raise BadRequest(f"mids: 1 to {MAX_BULK}")
        why = _reason(reason)
        done: list[HeldMessage] = []
        skipped: list[dict[str, Any]] = []
        for mid in wanted:
            try:
                done.append(await self._decide(mid, status, reason=why, reviewer=reviewer))
            except (Conflict, NotFound) as exc:
                skipped.append({"mid": mid, "code": exc.code, "message": exc.message})
        return done, skipped

    async def _decide(self, mid: str, status: str, *, reason: str | None, reviewer: str) -> HeldMessage:
        held = await self.get(mid)
        if held.status != "pending":
            raise Conflict(f"already {held.status}")
        now = now_ms()
        if status == "approved" and not await self._storage.messages.is_member(held.conv, held.sender):
            # the sender left (or was removed) while it waited: nobody may post for them now
            status, reason = "rejected", SENDER_LEFT_REASON
        if not await self._store.decide(mid, status, reason=reason, reviewer=reviewer, at=now):
            raise Conflict("already decided by another reviewer")
        held = replace(held, status=status, reason=reason, reviewer=reviewer, reviewed_at=now)
        if status == "approved":
            item = NewMessage(held.conv, held.sender, held.cid, held.kind, held.body, held.opts, now, held.mid, ip=held.ip)
            try:
                stored = (await self._messages.submit(item, None)).message
            except Exception:
                await self._store.undo_decision(mid)
                raise
            held.seq = stored.seq
            await self._store.set_seq(mid, stored.seq)
            evt = ModerationEvent(mid=mid, action="approved", reason=reason, conv=held.conv, seq=stored.seq)
        else:
            evt = ModerationEvent(mid=mid, action="rejected", reason=reason, conv=held.conv, seq=None)
        self._events.publish((held.sender,), evt)
        return held

    # --- the timeout setting
    async def settings(self) -> ModerationSettings:
        return await self._store.moderation_settings()

    async def set_settings(self, admin: str, *, timeout_s: int, timeout_action: str) -> ModerationSettings:
        if not 0 <= timeout_s <= MAX_TIMEOUT_S:
            raise BadRequest(f"timeout_s: 0 (off) to {MAX_TIMEOUT_S}")
        if timeout_action not in TIMEOUT_ACTIONS:
            raise BadRequest("timeout_action: approve or reject")
        new = ModerationSettings(timeout_s, timeout_action, now_ms(), admin)
        await self._store.put_moderation_settings(new)
        return new

    # --- the sender's own view
    async def mine(self, user_id: str) -> list[HeldMessage]:
        """The user's messages under review, and those rejected in the last days (so a
        reloaded client shows them again)."""
        return await self._store.mine(user_id, since=now_ms() - self._rejected_ms, limit=MINE_LIMIT)


def _reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise BadRequest(f"reason: at most {MAX_REASON} characters")
    return reason or None
