"""A customer-service session's chat: the group conversation `g:cs_<hex>` made for it
(docs/customer-service.md).

Apart from the sessions' state (services/customer_service.py) because this is the one
part that speaks to the chat itself: making the group with the visitor as a plain
member, the agent joining and leaving it as the session is assigned and transferred,
the context card posted into it, and the agent's first answer seen in it (the session's
first-response time). Messages, history, sync, receipts and files are the chat's own.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from semot.bus.base import Bus, Invalidate
from semot.domain import customer_service as rules
from semot.domain.customer_service import Session
from semot.domain.records import AddMembers, CreateGroup, Group, RemoveMember, SetMember, UpdateGroup, User
from semot.ids import now_ms
from semot.protocol import events as ev
from semot.services.events import Published
from semot.services.groups import GroupService
from semot.services.messaging import MessageService
from semot.storage.customer_service import CustomerServiceStorage

log = logging.getLogger(__name__)

# the session's group: nobody manages it but the service (every member is a plain member)
GROUP_SETTINGS = {"invite": "admin", "join": "closed", "member_leave": False, "mute_all": False,
                  "searchable": False, "review": False}
CONTEXT_CARD = "cs_context"  # the `custom` message type of a context card: data = the context


class SessionChat:
    def __init__(self, store: CustomerServiceStorage, groups: GroupService, messages: MessageService,
                 bus: Bus) -> None:
        self._store = store
        self._groups = groups
        self._messages = messages
        self._bus = bus
        self._tasks: set[asyncio.Task[None]] = set()

    async def make(self, group_id: str, visitor: User) -> None:
        now = now_ms()
        name = visitor.display_name[:128] or visitor.id
        group = Group(group_id, name, visitor.id, now, dict(GROUP_SETTINGS), "temporary")
        await self._groups.operate(group_id, CreateGroup(group, [], now), lambda o: [])
        # the visitor is a plain member: nobody but the service changes who is in it
        await self._groups.operate(group_id, SetMember(group_id, visitor.id, {"role": "member"}), lambda o: [])
        self._bus.publish(Invalidate(f"g:{group_id}"))

    async def dismiss(self, group_id: str) -> None:
        """A chat made for a session that did not come to be (the visitor's other request won)."""
        await self._groups.operate(group_id, UpdateGroup(group_id, {"dismissed_at": now_ms()}), lambda o: [])

    async def join(self, s: Session, agent_id: str) -> None:
        await self._groups.operate(
            s.group_id, AddMembers(s.group_id, [agent_id], now_ms(), 1_000_000),
            # the agent takes the session: "小美 joined", not "you invited you"
            lambda o: [ev.MemberJoined(by=agent_id, user=agent_id)] if o.added else [],
        )

    async def part(self, s: Session, agent_id: str) -> None:
        await self._groups.operate(
            s.group_id, RemoveMember(s.group_id, agent_id),
            lambda o: [ev.MemberLeft(by=agent_id, user=agent_id)] if o.changed else [], also=(agent_id,),
        )

    async def card(self, s: Session, sender: str, context: dict[str, Any]) -> None:
        await self._messages.send(
            sender, None, cid=f"cs.{s.session_id}.{secrets.token_hex(6)}", to=s.conv, kind="custom",
            body={"type": CONTEXT_CARD, "data": context}, opts=None,
        )

    # --- first response (EventPublisher.subscribe: every message published on this node)
    def seen(self, published: Published) -> None:
        event = published.event
        if isinstance(event, ev.MessageEvent) and event.conv.startswith("g:" + rules.SESSION_GROUP_PREFIX) \
                and event.kind != "system":
            task = asyncio.get_running_loop().create_task(self._answered(event.conv, event.sender, event.ts))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answered(self, conv: str, sender: str, ts: int) -> None:
        """The session's first answer by its agent: its first-response time."""
        try:
            s = await self._store.session_by_conv(conv)
            if s is not None and s.agent_id == sender and s.first_response_at is None:
                await self._store.update_session(s.session_id, {"first_response_at": ts}, unset="first_response_at")
        except Exception:
            log.exception("recording a first response in %s failed", conv)

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
