"""Messages: send, sync, history, read, typing, recall and burn-after-reading."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from semot.bus.base import Bus, Delivery
from semot.domain.conversations import ConvRef, parse_conv, resolve_target
from semot.domain.groups import check_mention_all, check_send
from semot.domain.messages import Message, check_recall, validate_body, validate_opts
from semot.domain.records import AppendResult, ConvState, NewMessage
from semot.errors import BadRequest, Forbidden, NotFound
from semot.ids import new_mid, now_ms
from semot.metrics import Metrics
from semot.protocol.codec import encode_frame
from semot.protocol.replies import event
from semot.services.membership import MembershipCache
from semot.services.writer import GroupCommitWriter
from semot.storage.base import Storage

log = logging.getLogger(__name__)



class MessageService:
    def __init__(
        self,
        storage: Storage,
        bus: Bus,
        membership: MembershipCache,
        metrics: Metrics,
        *,
        recall_window_s: int,
        max_burn_s: int,
        max_text_chars: int,
        batch_max: int,
        read_receipts_max_group: int = 500,
    ) -> None:
        self._storage = storage
        self._bus = bus
        self._members = membership
        self._metrics = metrics
        self._recall_window_s = recall_window_s
        self._max_burn_s = max_burn_s
        self._max_text_chars = max_text_chars
        self._receipts_max = read_receipts_max_group
        self._writer = GroupCommitWriter(storage, self._fan_out, metrics, batch_max=batch_max)
        self._origin: dict[str, str | None] = {}  # mid -> sending session, until fan-out
        self._burner: asyncio.Task[None] | None = None
        self._loading: set[asyncio.Task[None]] = set()  # fan-outs waiting for a group's members
        # Set by the composition root: the contacts rules (blacklist, friendship policy).
        self.direct_check: Callable[[str, str], Awaitable[None]] | None = None

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
    def push(self, user_ids: Any, obj: dict[str, Any], exclude_session: str | None = None) -> None:
        self._bus.publish(Delivery(tuple(user_ids), encode_frame(obj), exclude_session))

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
    ) -> NewMessage:
        """Everything that can reject a message, before it is queued for storage."""
        ref = resolve_target(to, user_id)
        clean_body = validate_body(kind, body, max_text_chars=self._max_text_chars)
        clean_opts = validate_opts(opts, max_burn_s=self._max_burn_s)
        now = ts or now_ms()
        if ref.kind == "d":
            peer = ref.peer_of(user_id)
            if not await self._members.user_exists(peer):
                raise NotFound(f"no user {peer!r}")
            if self.direct_check is not None:
                await self.direct_check(user_id, peer)
        else:
            state = await self._members.state(ref.group_id)  # type: ignore[arg-type]
            if state.group.dismissed_at is not None:
                raise Forbidden("this group has been dismissed")
            member = state.members.get(user_id)
            role = member.role if member else None
            check_send(role, member.muted_until if member else None, state.group.settings, now)
            if kind == "text" and clean_body.get("mention_all"):
                check_mention_all(role)
        if kind == "card" and not await self._members.user_exists(clean_body["user_id"]):
            raise NotFound(f"no user {clean_body['user_id']!r}")
        return NewMessage(
            conv=ref.conv,
            sender=user_id,
            cid=cid,
            kind=kind,
            body=clean_body,
            opts=clean_opts,
            ts=now,
            mid=new_mid(),
            direct_users=ref.users,
        )

    def submit(self, item: NewMessage, session_id: str | None) -> asyncio.Future[AppendResult]:
        self._origin[item.mid] = session_id
        fut = self._writer.submit(item)
        if fut.done():
            self._origin.pop(item.mid, None)
        return fut

    async def send(self, user_id: str, session_id: str | None = None, **fields: Any) -> AppendResult:
        return await self.submit(await self.prepare(user_id, **fields), session_id)

    async def store_system(self, conv: str, sender: str, cid: str, body: dict[str, Any]) -> AppendResult:
        """A server-authored `system` message (group created, member joined, ...)."""
        item = NewMessage(conv, sender, cid, "system", body, {}, now_ms(), new_mid())
        return await self.submit(item, None)

    def _fan_out(self, stored: list[AppendResult]) -> None:
        """Called by the writer right after commit, in seq order."""
        for res in stored:
            msg = res.message
            exclude = self._origin.pop(msg.mid, None)
            if msg.conv.startswith("d:"):
                recipients: Any = msg.conv[2:].split(":")
            else:
                recipients = self._members.cached(msg.conv)
                if recipients is None:
                    task = asyncio.get_running_loop().create_task(self._fan_out_uncached(msg, exclude))
                    self._loading.add(task)  # held: the loop keeps only a weak reference
                    task.add_done_callback(self._loading.discard)
                    continue
            self._bus.publish(Delivery(recipients, encode_frame(msg.to_wire()), exclude))

    async def _fan_out_uncached(self, msg: Message, exclude: str | None) -> None:
        try:
            members = await self._members.members(parse_conv(msg.conv))
        except NotFound:
            return
        self._bus.publish(Delivery(members, encode_frame(msg.to_wire()), exclude))

    # --- reading
    async def history(
        self, user_id: str, conv: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        if after is not None and before is not None:
            raise BadRequest("give one of after / before, not both")
        if not 1 <= limit <= 200:
            raise BadRequest("limit: 1 to 200")
        await self._member_ref(user_id, conv)
        return await self._storage.history(conv, after=after, before=before, limit=limit)

    async def sync(self, user_id: str, known: dict[str, int]) -> list[ConvState]:
        return await self._storage.sync(user_id, known)

    async def read(self, user_id: str, session_id: str | None, conv: str, seq: int) -> None:
        ref, members = await self._member_ref(user_id, conv)
        max_seq = await self._storage.conversation_max_seq(conv)
        if max_seq is None:
            if seq == 0:
                return
            raise NotFound("no messages in this conversation yet")
        if seq > max_seq:
            raise BadRequest(f"seq {seq} is beyond the last message ({max_seq})")
        result = await self._storage.set_read(conv, user_id, seq, now_ms())
        if result.current == result.previous:
            return
        evt = event("read", conv=conv, seq=seq, user=user_id)
        if ref.kind == "d" or len(members) <= self._receipts_max:
            self.push(members, evt, exclude_session=session_id)
        else:
            self.push((user_id,), evt, exclude_session=session_id)

    async def typing(self, user_id: str, conv: str) -> None:
        ref = parse_conv(conv)
        if ref.kind != "d":
            raise BadRequest("typing notifications are for direct chats only")
        if user_id not in ref.users:  # type: ignore[operator]
            raise Forbidden("you are not a member of this conversation")
        self.push((ref.peer_of(user_id),), event("typing", conv=conv, user=user_id))

    async def recall(self, user_id: str, session_id: str | None, conv: str, seq: int) -> None:
        _, members = await self._member_ref(user_id, conv)
        msg = await self._storage.get_message(conv, seq)
        if msg is None:
            raise NotFound(f"no message {seq} in {conv}")
        if not check_recall(msg, user_id, now_ms(), self._recall_window_s):
            return  # already recalled
        await self._storage.recall(conv, seq)
        self.push(members, event("recall", conv=conv, seq=seq, by=user_id), exclude_session=session_id)
        # The event reaches who is online; a notice with a seq of its own makes `sync`
        # report the conversation, so devices that were offline learn of the recall too.
        await self.store_system(conv, user_id, f"sys.recall.{msg.mid}", {"type": "recalled", "seq": seq, "by": user_id})

    # --- burn after reading
    async def burn_due(self) -> int:
        burned = await self._storage.claim_due_burns(now_ms(), 500)
        for conv, seq in burned:
            try:
                members = await self._members.members(parse_conv(conv))
            except NotFound:
                continue
            self.push(members, event("burned", conv=conv, seq=seq))
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
