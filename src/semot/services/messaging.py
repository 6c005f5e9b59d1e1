"""Messages: send, sync, history, read, typing, recall and burn-after-reading."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from semot.domain.conversations import ConvRef, parse_conv, resolve_target
from semot.domain.groups import check_mention_all, check_send
from semot.domain.messages import (
    MAX_CUSTOM_BYTES,
    MAX_CUSTOM_DEPTH,
    MEDIA_KINDS,
    ROLE_ADMIN,
    ROLE_SENDER,
    Message,
    RecallRole,
    check_admin_recall,
    recall_role,
    validate_body,
    validate_opts,
)
from semot.domain.records import AppendResult, ConvState, GroupState, NewMessage
from semot.errors import BadRequest, Forbidden, NotFound
from semot.ids import new_mid, now_ms
from semot.metrics import Metrics
from semot.protocol.events import BurnedEvent, ReadEvent, RecallEvent, TypingEvent
from semot.services.attachments import Attachments
from semot.services.events import EventPublisher
from semot.services.features import FeatureGate
from semot.services.membership import MembershipCache
from semot.services.message_changes import MessageChanges
from semot.services.quotes import fill_reply, forget_recalled
from semot.services.send_hooks import BeforeSendHook, ContentScreen, ReviewGate
from semot.services.writer import GroupCommitWriter
from semot.storage.base import Storage

log = logging.getLogger(__name__)


class MessageService:
    def __init__(
        self,
        storage: Storage,
        events: EventPublisher,
        membership: MembershipCache,
        metrics: Metrics,
        *,
        recall_window_s: int,
        max_burn_s: int,
        max_text_chars: int,
        batch_max: int,
        max_custom_depth: int = MAX_CUSTOM_DEPTH,
        max_custom_bytes: int = MAX_CUSTOM_BYTES,
        read_receipts_max_group: int = 500,
        edit_window_s: int = 86400,
        max_reactions: int = 20,
    ) -> None:
        self._store = storage.messages
        self._events = events
        self._members = membership
        self._metrics = metrics
        self._recall_window_s = recall_window_s
        self._max_burn_s = max_burn_s
        self._max_text_chars = max_text_chars
        self._custom_limits = {"max_custom_depth": max_custom_depth, "max_custom_bytes": max_custom_bytes}
        self._receipts_max = read_receipts_max_group
        self._writer = GroupCommitWriter(storage.messages, self._fan_out, metrics, batch_max=batch_max)
        self._burner: asyncio.Task[None] | None = None
        self._loading: set[asyncio.Task[None]] = set()  # fan-outs waiting for a group's members
        # Set by the composition root: the contacts rules (blacklist, friendship policy).
        self.direct_check: Callable[[str, str], Awaitable[None]] | None = None
        # Set by the composition root: counts stored messages for the dashboard (services/stats.py).
        self.count_stored: Callable[[int], None] | None = None
        # Set by the composition root (compliance): the sensitive-word screen, which may
        # rewrite a body or refuse it, and the pre-moderation gate, which may hold a group
        # send for a reviewer (services/send_hooks.py says when each runs).
        self.content_screen: ContentScreen | None = None
        self.review_gate: ReviewGate | None = None
        self.before_send: BeforeSendHook | None = None  # the integrator's message.before_send webhook
        # Set by the composition root: customer service, where a visitor's message into a
        # closed service session reopens it (services/customer_service.py `reopen_on_send`).
        self.group_gate: Callable[[str, str], Awaitable[None]] | None = None
        self.features = FeatureGate()  # the client configuration's switches (services/client_settings.py)
        # File messages: what a sender may attach, and the signed URLs added on the way
        # out (the composition root gives it the file service's URL signer).
        self.attachments = Attachments(storage.files)
        # Edits and reactions (services/message_changes.py): the gateway's edit/react/changes.
        self.changes = MessageChanges(
            storage.messages, events, membership, self.attachments, lambda: self.direct_check,
            edit_window_s=edit_window_s, max_text_chars=max_text_chars, max_emoji=max_reactions,
        )

    # --- lifecycle
    def start(self) -> None:
        self._writer.start()
        self._burner = asyncio.create_task(self._burn_loop(), name="semot-burner")

    async def stop(self) -> None:
        await self._writer.stop()
        if self._burner is not None:
            self._burner.cancel()
            await asyncio.gather(self._burner, return_exceptions=True)

    # --- helpers
    async def _member_ref(self, user_id: str, conv: str) -> tuple[ConvRef, frozenset[str]]:
        ref = parse_conv(conv)
        members = await self._members.members(ref)
        if user_id not in members:
            raise Forbidden("you are not a member of this conversation")
        return ref, members

    # --- send
    async def prepare(
        self,
        user_id: str,
        *,
        cid: str,
        to: str,
        kind: str,
        body: dict[str, Any],
        opts: dict[str, Any] | None,
        ts: int | None = None,
        ip: str | None = None,
    ) -> NewMessage:
        """Everything that can reject a message, before it is queued for storage."""
        ref = resolve_target(to, user_id)
        clean_body = validate_body(kind, body, max_text_chars=self._max_text_chars, **self._custom_limits)
        clean_opts = validate_opts(opts, max_burn_s=self._max_burn_s)
        self.features.check_send(kind, clean_opts)
        now = ts or now_ms()
        state: GroupState | None = None
        role: str | None = None
        if ref.kind == "d":
            peer = ref.peer_of(user_id)
            if not await self._members.user_exists(peer):
                raise NotFound(f"no user {peer!r}")
            if self.direct_check is not None:
                await self.direct_check(user_id, peer)
        else:
            state = await self._members.state(ref.group_id)
            if state.group.dismissed_at is not None:
                raise Forbidden("this group has been dismissed")
            member = state.members.get(user_id)
            role = member.role if member else None
            check_send(role, member.muted_until if member else None, state.group.settings, now)
            if kind == "text" and clean_body.get("mention_all"):
                check_mention_all(role)
        if kind == "card" and not await self._members.user_exists(clean_body["user_id"]):
            raise NotFound(f"no user {clean_body['user_id']!r}")
        if kind in MEDIA_KINDS:  # last: only a message allowed in the conversation looks at files
            clean_body = await self.attachments.resolve(user_id, kind, clean_body) | (
                {"reply_to": clean_body["reply_to"]} if "reply_to" in clean_body else {}
            )
        if "reply_to" in clean_body:  # a quote: its excerpt from the stored original (services/quotes.py)
            clean_body = await fill_reply(self._store, ref.conv, clean_body)
        item = NewMessage(
            conv=ref.conv,
            sender=user_id,
            cid=cid,
            kind=kind,
            body=clean_body,
            opts=clean_opts,
            ts=now,
            mid=new_mid(),
            direct_users=ref.users if ref.kind == "d" else None,
            ip=ip,
        )
        if self.content_screen is not None:
            item = await self.content_screen.screen_message(item)
        if self.before_send is not None:
            item = await self.before_send.before_send(item)
        if state is not None and self.review_gate is not None:
            await self.review_gate.check(item, role, state)
        if state is not None and self.group_gate is not None:  # last: only a message about to be stored
            await self.group_gate(user_id, ref.conv)
        return item

    def submit(self, item: NewMessage, session_id: str | None) -> asyncio.Future[AppendResult]:
        item.origin_session = session_id  # its own echo is skipped at fan-out
        return self._writer.submit(item)

    async def send(self, user_id: str, session_id: str | None = None, **fields: Any) -> AppendResult:
        return await self.submit(await self.prepare(user_id, **fields), session_id)

    async def store_system(self, conv: str, sender: str, cid: str, body: dict[str, Any]) -> AppendResult:
        """A server-authored `system` message (group created, member joined, ...)."""
        item = NewMessage(conv, sender, cid, "system", body, {}, now_ms(), new_mid())
        return await self.submit(item, None)

    def announce(self, notices: list[AppendResult]) -> None:
        """Push `system` notices that a group write stored in its own transaction."""
        created = [r for r in notices if r.created]
        self._metrics.messages_stored.inc(len(created))
        if self.count_stored is not None:
            self.count_stored(len(created))
        for res in created:
            self._publish(res.message, None)

    def _fan_out(self, stored: list[tuple[NewMessage, AppendResult]]) -> None:
        """Called by the writer right after commit, in seq order."""
        if self.count_stored is not None:
            self.count_stored(len(stored))
        for item, res in stored:
            self._publish(res.message, item.origin_session)

    def _publish(self, msg: Message, exclude: str | None) -> None:
        msg = self.attachments.decorate(msg)  # signed once per event, for every recipient
        recipients: Collection[str] | None
        if msg.conv.startswith("d:"):
            recipients = msg.conv[2:].split(":")
        else:
            recipients = self._members.cached(msg.conv)
            if recipients is None:
                task = asyncio.get_running_loop().create_task(self._fan_out_uncached(msg, exclude))
                self._loading.add(task)  # held: the loop keeps only a weak reference
                task.add_done_callback(self._loading.discard)
                return
        self._events.publish_message(recipients, msg, exclude_session=exclude)

    async def _fan_out_uncached(self, msg: Message, exclude: str | None) -> None:
        try:
            members = await self._members.members(parse_conv(msg.conv))
        except NotFound:
            return
        self._events.publish_message(members, msg, exclude_session=exclude)

    # --- reading
    async def history(
        self, user_id: str, conv: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        if after is not None and before is not None:
            raise BadRequest("give one of after / before, not both")
        if not 1 <= limit <= 200:
            raise BadRequest("limit: 1 to 200")
        await self._member_ref(user_id, conv)
        msgs, more = await self._store.history(conv, after=after, before=before, limit=limit)
        return self.attachments.decorate_all(msgs), more

    async def sync(
        self, user_id: str, known: dict[str, int], changes: dict[str, int] | None = None
    ) -> list[ConvState]:
        return self.attachments.decorate_states(await self._store.sync(user_id, known, changes))

    async def read(self, user_id: str, session_id: str | None, conv: str, seq: int) -> None:
        ref, members = await self._member_ref(user_id, conv)
        max_seq = await self._store.conversation_max_seq(conv)
        if max_seq is None:
            if seq == 0:
                return
            raise NotFound("no messages in this conversation yet")
        if seq > max_seq:
            raise BadRequest(f"seq {seq} is beyond the last message ({max_seq})")
        result = await self._store.set_read(conv, user_id, seq, now_ms())
        if result.current == result.previous:
            return
        evt = ReadEvent(conv=conv, seq=seq, user=user_id)
        if ref.kind == "d" or len(members) <= self._receipts_max:
            self._events.publish(members, evt, exclude_session=session_id)
        else:
            self._events.publish((user_id,), evt, exclude_session=session_id)

    async def read_positions(self, user_id: str, conv: str) -> dict[str, int]:
        """Every member's read position, for the "N unread" line under a sender's own group
        messages. Only members ask, and only of conversations whose `evt read` is fanned out
        to everyone (direct chats, groups within read_receipts_max_group): beyond that the
        server keeps read marks private, so the map would be a snapshot nobody could keep
        current."""
        reads, _ = await self.read_marks(user_id, conv)
        return reads

    async def read_marks(self, user_id: str, conv: str) -> tuple[dict[str, int], dict[str, int]]:
        """read_positions plus when each member joined (ms): a member who joined after a
        message was sent is not among those who have not read it."""
        ref, members = await self._member_ref(user_id, conv)
        if ref.kind != "d" and len(members) > self._receipts_max:
            raise Forbidden(f"read receipts are off for groups of more than {self._receipts_max} members")
        marks = await self._store.read_marks(conv)
        live = {u: m for u, m in marks.items() if u in members}
        return {u: m[0] for u, m in live.items()}, {u: m[1] for u, m in live.items()}

    async def typing(self, user_id: str, conv: str) -> None:
        ref = parse_conv(conv)
        if ref.kind != "d":
            raise BadRequest("typing notifications are for direct chats only")
        if user_id not in ref.users:
            raise Forbidden("you are not a member of this conversation")
        peer = ref.peer_of(user_id)
        if self.direct_check is not None:
            await self.direct_check(user_id, peer)  # who may not send (blocked) may not type either
        self._events.publish((peer,), TypingEvent(conv=conv, user=user_id))

    async def recall(self, user_id: str, session_id: str | None, conv: str, seq: int) -> None:
        """The sender within the window; in a group also its owner and admins (domain
        recall_role says whose messages, at any time)."""
        self.features.require("recall")
        ref, members = await self._member_ref(user_id, conv)
        msg = await self._store.get_message(conv, seq)
        if msg is None:
            raise NotFound(f"no message {seq} in {conv}")
        my_role = sender_role = None
        if ref.kind == "g":
            state = await self._members.state(ref.group_id)
            mine, theirs = state.members.get(user_id), state.members.get(msg.sender)
            my_role, sender_role = (mine.role if mine else None), (theirs.role if theirs else None)
        role = recall_role(msg, user_id, now_ms(), self._recall_window_s, my_role=my_role, sender_role=sender_role)
        if role is None:
            return  # already recalled
        await self._recalled(msg, members, user_id, role, session_id)

    async def admin_recall(self, admin_id: str, conv: str, seq: int) -> bool:
        """An administrator's recall (api/admin_recall_api.py): any chat message, at any
        time; False when it was recalled already. NotFound for an unknown message."""
        members = await self._members.members(parse_conv(conv))
        msg = await self._store.get_message(conv, seq)
        if msg is None:
            raise NotFound(f"no message {seq} in {conv}")
        if not check_admin_recall(msg):
            return False
        await self._recalled(msg, members, admin_id, ROLE_ADMIN, None)
        return True

    async def _recalled(
        self, msg: Message, members: Collection[str], by: str, role: RecallRole, session_id: str | None
    ) -> None:
        conv, seq = msg.conv, msg.seq
        await self._store.recall(conv, seq, by, role)
        # its quotes go too: replies since it was sent (a manager may recall an old one)
        window = max(self._recall_window_s, (now_ms() - msg.ts) // 1000 + 1)
        await forget_recalled(self._store, msg, window)
        evt = RecallEvent(conv=conv, seq=seq, by=by, role=None if role == ROLE_SENDER else role)  # the contract's shape
        self._events.publish(members, evt, exclude_session=session_id)
        # The event reaches who is online; a notice with a seq of its own makes `sync`
        # report the conversation, so devices that were offline learn of the recall too.
        notice = {"type": "recalled", "seq": seq, "by": by} | ({} if role == ROLE_SENDER else {"role": role})
        await self.store_system(conv, by, f"sys.recall.{msg.mid}", notice)

    # --- burn after reading
    async def burn_due(self) -> int:
        burned = await self._store.claim_due_burns(now_ms(), 500)
        for conv, seq in burned:
            try:
                members = await self._members.members(parse_conv(conv))
            except NotFound:
                continue
            self._events.publish(members, BurnedEvent(conv=conv, seq=seq))
        return len(burned)

    async def _burn_loop(self) -> None:
        while True:
            try:
                while await self.burn_due() == 500:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("burn-after-reading sweep failed")
            await asyncio.sleep(1.0)
