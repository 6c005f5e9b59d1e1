"""Customer service: visitors, service sessions, routing (docs/customer-service.md).

A session is a group conversation `g:cs_<hex>` made for it: the visitor is a plain
member (they cannot invite, rename or leave it), the assigned agent is added when the
session is assigned and removed when it is transferred away, so messages, history,
sync, receipts and files are the chat's own, and an agent it reaches reads what came
before. Session state lives in `CustomerServiceStorage`; every racing change (two
agents accepting one visitor, a close racing a transfer) is a conditional update there,
so one racer wins, on one node or several. `evt cs` tells the agents concerned and the
visitor. Queues, agents, settings and statistics: services/customer_service_admin.py.

This module holds the sessions' life (start, routing, accept, transfer, close, reopen,
rating) and the agents' workbench. Jobs with other readers or another subject live
apart, and this class hands its public methods over to them so callers keep one
service: who the restricted users are and what they may reach
(services/customer_service_access.py, asked on every request), the widget's settings
cache (services/customer_service_settings.py, read by CORS and the widget page's CSP),
and the session's chat (services/customer_service_chat.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from semot.bus.base import Bus
from semot.bus.limits import Counters
from semot.bus.presence import PresenceRegistry
from semot.domain import customer_service as rules
from semot.domain.customer_service import Agent, Load, Session
from semot.domain.records import User
from semot.errors import Conflict, Forbidden, NotFound, RateLimited
from semot.ids import is_valid_id, now_ms
from semot.protocol import events as ev
from semot.services.accounts import AccountService
from semot.services.customer_service_access import CS_USER_KEY, RESTRICTED_FRAMES, VisitorAccess
from semot.services.customer_service_chat import SessionChat
from semot.services.customer_service_purge import VisitorPurge
from semot.services.customer_service_settings import CS_KEY, WidgetSettingsCache
from semot.services.events import EventPublisher
from semot.services.groups import GroupService
from semot.services.messaging import MessageService
from semot.storage.base import Storage

# the keys and frames app.py wires, kept importable from here
__all__ = ["CS_KEY", "CS_USER_KEY", "RESTRICTED_FRAMES", "CustomerService"]

log = logging.getLogger(__name__)


class CustomerService:
    def __init__(
        self, storage: Storage, accounts: AccountService, groups: GroupService, messages: MessageService,
        events: EventPublisher, bus: Bus, presence: PresenceRegistry, counters: Counters | None, *,
        visitor_ip_max: int, visitor_ip_window_s: float, drain_s: float = 5.0, idle_days: float = 0.0,
        purge_interval_s: float = 3600.0, start_max: int = 0, start_window_s: float = 3600.0,
    ) -> None:
        self.store = storage.customer_service
        self._users = storage.users
        self._events = events
        self._presence = presence
        self._counters = counters
        self._start_max = start_max  # new sessions + context cards per user per window (0: no limit)
        self._start_window_s = start_window_s
        self._unsubscribe: Callable[[], None] | None = None
        self._drain_s = drain_s
        self._sweeper: asyncio.Task[None] | None = None
        self.chat = SessionChat(self.store, groups, messages, bus)  # services/customer_service_chat.py
        # the widget's settings (services/customer_service_settings.py)
        self.widget_settings = WidgetSettingsCache(self.store)
        self.settings = self.widget_settings.settings
        self.listen = self.widget_settings.listen
        self.get_settings = self.widget_settings.get_settings
        self.allowed_origins = self.widget_settings.allowed_origins
        self.open_now = self.widget_settings.open_now
        # visitors' logins and what restricted users may reach (services/customer_service_access.py)
        self.access = VisitorAccess(storage, accounts, bus, counters, ip_max=visitor_ip_max,
                                    ip_window_s=visitor_ip_window_s)
        self.visitor = self.access.visitor
        self.is_visitor = self.access.is_visitor
        self.is_restricted = self.access.is_restricted
        self.set_customer = self.access.set_customer
        self.check_route = self.access.check_route
        self.visible_profiles = self.access.visible_profiles
        self.guard_direct = self.access.guard_direct
        # idle anonymous visitors forgotten (services/customer_service_purge.py)
        self.purge = VisitorPurge(self.store, accounts, storage.users, idle_days=idle_days,
                                  interval_s=purge_interval_s)

    async def start(self) -> None:
        await self.settings()
        self._unsubscribe = self._events.subscribe(self.chat.seen)
        if self._drain_s > 0:
            self._sweeper = asyncio.create_task(self._sweep(), name="semot-cs-drain")
        self.purge.start()

    async def _sweep(self) -> None:
        """Waiting sessions also go to agents who became available without telling this
        node (an agent who connected, a place freed on another node): every node looks
        every `drain_s`; the conditional assignment lets one node win each session."""
        while True:
            await asyncio.sleep(self._drain_s)
            try:
                await self.drain(q.queue_id for q in await self.store.queues())
            except Exception:
                log.exception("giving waiting customer-service sessions to agents failed")

    def invalidate(self, key: str) -> None:
        """A bus `Invalidate` (app.py): a customer's mark (`CS_USER_KEY`) or the settings (`CS_KEY`)."""
        self.access.invalidate(key)
        self.widget_settings.invalidate(key)

    def invalidate_all(self) -> None:
        """Missed invalidations (a Redis outage): drop the customer marks, reload the settings."""
        self.access.invalidate_all()
        self.widget_settings.invalidate(CS_KEY)

    async def stop(self) -> None:
        await self.purge.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.chat.stop()
        await self.widget_settings.stop()

    # --- reading
    async def loads(self, agents: list[Agent]) -> list[Load]:
        ids = [a.user_id for a in agents]
        seen = await self._presence.lookup(ids) if ids else {}
        counts = await self.store.active_counts(ids)
        return [Load(a, bool(seen.get(a.user_id) and seen[a.user_id].devices > 0), counts.get(a.user_id, 0))
                for a in agents]

    async def queue_agents(self, queue_id: str | None) -> list[Agent]:
        agents = await self.store.agents()
        return [a for a in agents if queue_id is None or queue_id in a.queues]

    async def wire(self, sessions: list[Session]) -> list[dict[str, Any]]:
        ids = list({s.visitor_id for s in sessions})
        users = {u.id: u for u in await self._users.users_by_ids(ids)} if ids else {}
        anonymous = await self.store.visitor_ids(ids) if ids else set()
        out = []
        for s in sessions:
            u = users.get(s.visitor_id)
            visitor = {"user_id": s.visitor_id, "display_name": u.display_name if u else s.visitor_id,
                       "signed_in": s.visitor_id not in anonymous}
            out.append(s.to_wire(visitor))
        return out

    async def _one(self, session: Session) -> dict[str, Any]:
        return (await self.wire([session]))[0]

    async def session(self, session_id: str) -> Session:
        s = await self.store.get_session(session_id) if is_valid_id(session_id) else None
        if s is None:
            raise NotFound(f"no session {session_id!r}")
        return s

    async def is_agent(self, user_id: str) -> bool:
        """Whether `user_id` is an agent (GET /api/v1/me `cs_agent`: the web client shows
        the workbench and calls the agent routes only then)."""
        return await self.store.get_agent(user_id) is not None

    async def agent(self, user_id: str) -> Agent:
        a = await self.store.get_agent(user_id)
        if a is None:
            raise Forbidden("you are not a customer-service agent")
        return a

    # --- events
    def _publish(self, users: Iterable[str], kind: str, wire: dict[str, Any] | None,
                 agent: dict[str, Any] | None = None) -> None:
        self._events.publish(set(users), ev.CsEvent(type=kind, session=wire, agent=agent))  # type: ignore[arg-type]

    async def _tell(self, kind: str, s: Session, *also: str | None) -> dict[str, Any]:
        """`evt cs` to the visitor, the session's agent, `also`, and (while nobody has it)
        the agents of its queue, whose waiting lists show it."""
        wire = await self._one(s)
        users = {s.visitor_id, *(u for u in (s.agent_id, *also) if u)}
        if s.state in ("waiting", "left_message") or kind == "assigned":
            users |= {a.user_id for a in await self.queue_agents(s.queue_id)} if s.queue_id else set()
        self._publish(users, kind, wire)
        return wire

    # --- sessions (visitors)
    async def start_session(
        self, user: User, *, queue_id: str | None, agent_id: str | None, context: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The visitor's open session (with a new context card when the context changed),
        or a new one, routed: an available agent -> active; everyone busy or full ->
        waiting; nobody online or closed now -> left_message."""
        if await self.is_visitor(user.id):
            await self.store.touch_visitor(user.id, now_ms())  # not idle: not forgotten
        current = await self.store.sessions(states=rules.OPEN_STATES, visitor_id=user.id, limit=1, newest_first=True)
        if current:
            s = current[0]
            if context is not None and context != s.context:
                await self._count_start(user.id)
                s = await self.store.update_session(s.session_id, {"context": context}) or s
                await self.chat.card(s, user.id, context)
            return await self._one(s)
        await self._count_start(user.id)
        picked: Agent | None = None
        if agent_id is not None:
            picked = await self.store.get_agent(agent_id) if is_valid_id(agent_id) else None
            if picked is None:
                raise NotFound(f"no agent {agent_id!r}")
            if picked.user_id == user.id:
                raise Conflict("you cannot start a session with yourself")
            queue_id = queue_id or (picked.queues[0] if picked.queues else None)
        queues = await self.store.queues()
        if queue_id is not None and all(q.queue_id != queue_id for q in queues):
            raise NotFound(f"no queue {queue_id!r}")
        if queue_id is None and picked is None:
            if not queues:
                raise Conflict("customer service has no queues yet")
            queue_id = queues[0].queue_id
        group_id = f"{rules.SESSION_GROUP_PREFIX}{secrets.token_hex(8)}"
        s = Session(f"css_{secrets.token_hex(8)}", f"g:{group_id}", user.id, queue_id,
                    picked.user_id if picked else None, "waiting", context, now_ms())
        await self.chat.make(group_id, user)
        if not await self.store.add_session(s):
            # the same visitor's other request (this node or another) made its session
            # first: that one is the session; this request's empty chat goes away
            await self.chat.dismiss(group_id)
            current = await self.store.sessions(states=rules.OPEN_STATES, visitor_id=user.id, limit=1,
                                                newest_first=True)
            if not current:
                raise Conflict("your session changed meanwhile; try again")
            return await self._one(current[0])
        if context is not None:
            await self.chat.card(s, user.id, context)
        return await self._route(s, ("waiting",), [picked] if picked else None)

    async def _count_start(self, user_id: str) -> None:
        """New sessions and context cards: `start_max` per user per `start_window_s`, or
        429 (a close-then-start loop would make a chat, and tell every agent of a queue,
        per call; a context change posts a card per call, past the WebSocket send limit)."""
        if self._counters is None or self._start_max <= 0:
            return
        hit = await self._counters.hit(f"cs:start:{user_id}", self._start_window_s)
        if hit.count > self._start_max:
            retry = max(1, int(hit.retry_after_s) + 1)
            raise RateLimited(f"too many customer-service sessions or context changes; retry in {retry} s",
                              retry_after=retry)

    async def _route(self, s: Session, states: tuple[str, ...], candidates: list[Agent] | None,
                     values: dict[str, Any] | None = None) -> dict[str, Any]:
        """Give `s` (while in `states`) to the least-busy available agent of
        `candidates` (default: its queue's), each assignment conditional on the agent's
        limit in the store: an agent filled meanwhile by another node is skipped for the
        next. Nobody: waiting (someone online, open now, no chosen agent) or a left
        message. `values` are set with the new state (a reopening clears the close)."""
        open_now = rules.open_now(await self.settings(), now_ms())
        chosen_one = candidates is not None
        if candidates is None:
            candidates = [a for a in await self.queue_agents(s.queue_id) if a.user_id != s.visitor_id]
        loads = await self.loads(candidates)
        tried: set[str] = set()
        while open_now:
            chosen = rules.pick_agent([x for x in loads if x.agent.user_id not in tried])
            if chosen is None:
                break
            done = await self._assign(s, chosen.user_id, states=states, values=values)
            if done is not None:
                return await self._tell("assigned", done)
            now = await self.session(s.session_id)
            if now.state not in states:  # another node routed it meanwhile (and told everyone)
                return await self._one(now)
            tried.add(chosen.user_id)  # full meanwhile
        state = "waiting" if open_now and rules.anyone_online(loads) and not chosen_one else "left_message"
        changed = await self.store.update_session(s.session_id, {**(values or {}), "state": state}, states=states)
        if changed is None:  # a node's sweep gave it to an agent meanwhile (and told everyone)
            return await self._one(await self.session(s.session_id))
        return await self._tell("waiting", changed)

    async def _assign(self, s: Session, agent_id: str, *, states: tuple[str, ...], capped: bool = True,
                      values: dict[str, Any] | None = None) -> Session | None:
        """Routing's assignments are `capped` by the agent's limit; an agent accepting a
        session themselves is not."""
        now = now_ms()
        done = await self.store.update_session(
            s.session_id, {**(values or {}), "agent_id": agent_id, "state": "active", "assigned_at": now},
            states=states, within_limit=agent_id if capped else None,
        )
        if done is not None:
            await self.chat.join(done, agent_id)
        return done

    async def reopen_on_send(self, user_id: str, conv: str) -> None:
        """Before a message into a session's chat is stored (MessageService.group_gate):
        the visitor writing into their closed session reopens it, as a help desk reopens
        a solved ticket its customer answers, so no message goes unanswered. It goes
        back to its last agent when they can take it (online, connected, under their
        limit), else it is routed in its queue like a new session (another agent,
        waiting, or a left message); the close and its rating are cleared (the visitor
        rates again at the next close). Refused while the visitor has another open
        session: they continue there."""
        if not conv.startswith("g:" + rules.SESSION_GROUP_PREFIX):
            return
        s = await self.store.session_by_conv(conv)
        if s is None or s.state != "closed" or s.visitor_id != user_id:
            return
        if await self.store.sessions(states=rules.OPEN_STATES, visitor_id=user_id, limit=1):
            raise Conflict("this conversation is closed: continue in your open customer-service session")
        cleared: dict[str, Any] = {"closed_at": None, "closed_by": None, "rating": None, "comment": None}
        last = await self.store.get_agent(s.agent_id) if s.agent_id else None
        done: Session | None = None
        if last is not None and rules.open_now(await self.settings(), now_ms()) \
                and (await self.loads([last]))[0].available:
            done = await self._assign(s, last.user_id, states=("closed",), values=cleared)
            if done is not None:
                await self._tell("assigned", done)
                return
        wire = await self._route(s, ("closed",), None, {**cleared, "agent_id": None})
        if wire["state"] == "closed":  # another open session appeared meanwhile
            raise Conflict("this conversation is closed: continue in your open customer-service session")
        if s.agent_id is not None and wire["agent_id"] != s.agent_id:
            await self.chat.part(s, s.agent_id)  # the new agent has it: the last one leaves its chat

    async def mine(self, user_id: str) -> list[dict[str, Any]]:
        return await self.wire(await self.store.sessions(visitor_id=user_id, limit=50, newest_first=True))

    async def rate(self, user_id: str, session_id: str, score: int, comment: str) -> dict[str, Any]:
        s = await self.session(session_id)
        if s.visitor_id != user_id:
            raise Forbidden("only the session's visitor rates it")
        if s.state != "closed":
            raise Conflict("a session is rated once it is closed")
        done = await self.store.update_session(session_id, {"rating": score, "comment": comment}, states=("closed",),
                                               unset="rating")
        if done is None:
            raise Conflict("this session was rated already")
        return await self._one(done)

    # --- sessions (agents)
    async def accept(self, user_id: str, session_id: str) -> dict[str, Any]:
        me = await self.agent(user_id)
        s = await self.session(session_id)
        if s.state not in ("waiting", "left_message"):
            raise Conflict(f"this session is {s.state}")
        if not (s.agent_id == me.user_id or (s.agent_id is None and (s.queue_id is None or s.queue_id in me.queues))):
            raise Forbidden("this session is for another queue or agent")
        done = await self._assign(s, me.user_id, states=("waiting", "left_message"), capped=False)
        if done is None:
            raise Conflict("another agent took this session")
        return await self._tell("assigned", done)

    async def transfer(self, user_id: str, session_id: str, *, to_agent: str | None, to_queue: str | None) -> dict[str, Any]:
        """To `to_agent` (the session filed under `to_queue` when given), or to the best
        available agent of `to_queue` (default: the session's queue), else it waits there."""
        s = await self.session(session_id)
        if s.agent_id != user_id or s.state != "active":
            raise Forbidden("only the session's agent transfers it, while it is active")
        if to_queue is not None and all(q.queue_id != to_queue for q in await self.store.queues()):
            raise NotFound(f"no queue {to_queue!r}")
        queue_id = to_queue or s.queue_id
        if to_agent is not None:
            target = await self.store.get_agent(to_agent) if is_valid_id(to_agent) else None
            if target is None:
                raise NotFound(f"no agent {to_agent!r}")
            if target.user_id in (user_id, s.visitor_id):
                raise Conflict("the session is theirs already" if target.user_id == user_id else "not to the visitor")
            chosen: Agent | None = target
        else:
            if queue_id is None:
                raise Conflict("this session has no queue: name an agent or a queue")
            loads = await self.loads([a for a in await self.queue_agents(queue_id) if a.user_id != s.visitor_id])
            chosen = rules.pick_agent(loads, exclude=user_id)
        now = now_ms()
        values: dict[str, Any] = (
            {"agent_id": chosen.user_id, "assigned_at": now, "queue_id": queue_id, "state": "active"} if chosen
            else {"agent_id": None, "queue_id": queue_id, "state": "waiting"}
        )
        picked = chosen is not None and to_agent is None  # routing's pick: within the agent's limit
        done = await self.store.update_session(session_id, values, states=("active",),
                                               within_limit=chosen.user_id if picked and chosen else None)
        if done is None and picked:  # the agent filled meanwhile (another node): it waits in the queue
            chosen, values = None, {"agent_id": None, "queue_id": queue_id, "state": "waiting"}
            done = await self.store.update_session(session_id, values, states=("active",))
        if done is None:
            raise Conflict("this session changed meanwhile")
        if chosen is not None:
            await self.chat.join(done, chosen.user_id)
        await self.chat.part(done, user_id)
        wire = await self._tell("transferred", done, user_id)
        me = await self.store.get_agent(user_id)
        if me is not None:
            await self.drain(me.queues)  # the place it freed
        return wire

    async def close(self, user_id: str, session_id: str) -> dict[str, Any]:
        s = await self.session(session_id)
        states: tuple[str, ...] = rules.OPEN_STATES
        unset: str | None = None
        if user_id not in (s.visitor_id, s.agent_id):
            me = await self.agent(user_id)  # an agent of its queue may close a waiting session or left message
            if s.agent_id is not None or (s.queue_id is not None and s.queue_id not in me.queues):
                raise Forbidden("not your session")
            # ... only while still nobody's (read above: another node may assign it meanwhile)
            states, unset = ("waiting", "left_message"), "agent_id"
        done = await self.store.update_session(
            session_id, {"state": "closed", "closed_at": now_ms(), "closed_by": user_id}, states=states, unset=unset
        )
        if done is None:
            raise Conflict("this session is closed already" if unset is None else "this session changed meanwhile")
        # nobody had it: the agents of its queue drop it from their lists
        queue = [a.user_id for a in await self.queue_agents(s.queue_id)] if s.agent_id is None and s.queue_id else []
        wire = await self._tell("closed", done, *queue)
        if s.agent_id is not None and s.state == "active":
            agent = await self.store.get_agent(s.agent_id)
            if agent is not None:
                await self.drain(agent.queues)
        return wire

    async def set_state(self, user_id: str, state: str) -> dict[str, Any]:
        me = await self.agent(user_id)
        await self.store.set_agent_state(user_id, state)
        self._publish([user_id], "agent_state", None, {"user_id": user_id, "state": state})
        if state == "online":
            await self.drain(me.queues)
        return await self.me(user_id)

    async def drain(self, queue_ids: Iterable[str | None]) -> int:
        """Give waiting sessions of these queues (oldest first) to agents who can take
        them; left messages wait for an agent to accept them."""
        queues = [q for q in dict.fromkeys(queue_ids) if q]
        if not queues:
            return 0
        given = 0
        everyone = await self.store.agents()
        for queue_id in queues:  # each queue's own oldest: one queue's backlog never hides another's
            agents = [a for a in everyone if queue_id in a.queues]
            if not agents:
                continue
            for s in await self.store.sessions(states=("waiting",), queue_ids=[queue_id], limit=100):
                chosen = rules.pick_agent(await self.loads([a for a in agents if a.user_id != s.visitor_id]))
                if chosen is None:
                    break  # nobody of this queue can take more now
                done = await self._assign(s, chosen.user_id, states=("waiting",))  # None: taken, or the agent filled
                if done is not None:
                    given += 1
                    await self._tell("assigned", done)
        return given

    async def me(self, user_id: str) -> dict[str, Any]:
        me = await self.agent(user_id)
        load = (await self.loads([me]))[0]
        return {"state": me.state, "connected": load.connected, "queues": list(me.queues), "field": me.field,
                "max_concurrent": me.max_concurrent, "active_count": load.active}

    async def workbench(self, user_id: str) -> dict[str, Any]:
        me = await self.agent(user_id)
        pending = ("waiting", "left_message")
        # two queries, each filtered in the store: my queues' unassigned ones, and those asking for me
        of_queues = await self.store.sessions(states=pending, queue_ids=me.queues, limit=200) if me.queues else []
        for_me = await self.store.sessions(states=pending, agent_id=user_id, limit=200)
        mine = [*for_me, *(s for s in of_queues if s.agent_id is None)]  # disjoint
        mine.sort(key=lambda s: (s.created_at, s.session_id))
        active = await self.store.sessions(states=("active",), agent_id=user_id, limit=200)
        recent = await self.store.sessions(states=("closed",), agent_id=user_id, limit=50, newest_first=True)
        return {
            "me": await self.me(user_id),
            "waiting": await self.wire([s for s in mine if s.state == "waiting"]),
            "left_messages": await self.wire([s for s in mine if s.state == "left_message"]),
            "active": await self.wire(active),
            "recent": await self.wire(recent),
        }

    async def visitor_sessions(self, user_id: str, visitor_id: str) -> list[dict[str, Any]]:
        await self.agent(user_id)
        return await self.wire(await self.store.sessions(visitor_id=visitor_id, limit=100, newest_first=True))
