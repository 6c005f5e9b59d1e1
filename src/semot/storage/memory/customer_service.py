"""CustomerServiceStorage in memory (unit tests; the same contract as SQL)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from semot.domain.customer_service import FORGOTTEN, Agent, Queue, Session, Visitor
from semot.storage.customer_service import CustomerServiceStorage


class MemoryCustomerService(CustomerServiceStorage):
    def __init__(self) -> None:
        self._queues: dict[str, Queue] = {}
        self._agents: dict[str, Agent] = {}
        self._settings: dict[str, Any] | None = None
        self._visitors: dict[str, Visitor] = {}
        self._sessions: dict[str, Session] = {}
        self._customers: set[str] = set()

    async def queues(self) -> list[Queue]:
        return sorted(self._queues.values(), key=lambda q: (q.position, q.name, q.queue_id))

    async def put_queue(self, queue: Queue) -> None:
        self._queues[queue.queue_id] = queue

    async def delete_queue(self, queue_id: str) -> bool:
        return self._queues.pop(queue_id, None) is not None

    async def agents(self) -> list[Agent]:
        return sorted(self._agents.values(), key=lambda a: (a.created_at, a.user_id))

    async def get_agent(self, user_id: str) -> Agent | None:
        return self._agents.get(user_id)

    async def put_agent(self, agent: Agent) -> None:
        self._agents[agent.user_id] = agent

    async def delete_agent(self, user_id: str) -> bool:
        return self._agents.pop(user_id, None) is not None

    async def set_agent_state(self, user_id: str, state: str) -> bool:
        a = self._agents.get(user_id)
        if a is None:
            return False
        self._agents[user_id] = replace(a, state=state)
        return True

    async def settings(self) -> dict[str, Any] | None:
        return dict(self._settings) if self._settings is not None else None

    async def put_settings(self, settings: dict[str, Any]) -> None:
        self._settings = dict(settings)

    async def add_visitor(self, visitor: Visitor) -> None:
        self._visitors[visitor.user_id] = replace(visitor, last_seen_at=visitor.last_seen_at or visitor.created_at)

    async def visitor_by_key(self, key_hash: str) -> Visitor | None:
        return next((v for v in self._visitors.values() if v.key_hash == key_hash), None)

    async def visitor_ids(self, user_ids: Iterable[str]) -> set[str]:
        return {u for u in user_ids if u in self._visitors}

    def _open_elsewhere(self, session: Session) -> bool:
        return session.state != "closed" and any(
            s.visitor_id == session.visitor_id and s.state != "closed" and s.session_id != session.session_id
            for s in self._sessions.values()
        )

    async def touch_visitor(self, user_id: str, now: int) -> None:
        v = self._visitors.get(user_id)
        if v is not None and v.last_seen_at != FORGOTTEN:
            self._visitors[user_id] = replace(v, last_seen_at=now)

    def _idle(self, v: Visitor, before: int) -> bool:
        return 0 <= v.last_seen_at < before and not any(
            s.visitor_id == v.user_id and s.state != "closed" for s in self._sessions.values())

    async def idle_visitors(self, before: int, limit: int) -> list[str]:
        idle = sorted((v for v in self._visitors.values() if self._idle(v, before)), key=lambda v: v.last_seen_at)
        return [v.user_id for v in idle[:limit]]

    async def forget_visitor(self, user_id: str, before: int) -> bool:
        v = self._visitors.get(user_id)
        if v is None or not self._idle(v, before):
            return False
        self._visitors[user_id] = replace(v, key_hash=f"forgotten:{user_id}", last_seen_at=FORGOTTEN)
        return True

    async def set_customer(self, user_id: str, customer: bool, now: int) -> bool:
        if customer == (user_id in self._customers):
            return False
        (self._customers.add if customer else self._customers.discard)(user_id)
        return True

    async def customer_ids(self, user_ids: Iterable[str]) -> set[str]:
        return {u for u in user_ids if u in self._customers}

    async def add_session(self, session: Session) -> bool:
        if self._open_elsewhere(session):
            return False
        self._sessions[session.session_id] = session
        return True

    async def get_session(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    async def session_by_conv(self, conv: str) -> Session | None:
        return next((s for s in self._sessions.values() if s.conv == conv), None)

    async def sessions(
        self, *, states: Iterable[str] | None = None, visitor_id: str | None = None, agent_id: str | None = None,
        queue_ids: Iterable[str] | None = None, since: int | None = None, until: int | None = None,
        limit: int = 200, newest_first: bool = False,
    ) -> list[Session]:
        st = set(states) if states is not None else None
        qs = set(queue_ids) if queue_ids is not None else None
        found = [
            s for s in self._sessions.values()
            if (st is None or s.state in st) and (visitor_id is None or s.visitor_id == visitor_id)
            and (agent_id is None or s.agent_id == agent_id) and (qs is None or s.queue_id in qs)
            and (since is None or s.created_at >= since) and (until is None or s.created_at < until)
        ]
        found.sort(key=lambda s: (s.created_at, s.session_id), reverse=newest_first)
        return found[:limit]

    async def active_counts(self, agent_ids: Iterable[str]) -> dict[str, int]:
        wanted = set(agent_ids)
        out: dict[str, int] = {}
        for s in self._sessions.values():
            if s.state == "active" and s.agent_id in wanted:
                out[s.agent_id] = out.get(s.agent_id, 0) + 1
        return out

    async def update_session(
        self, session_id: str, values: dict[str, Any], *, states: Iterable[str] | None = None,
        unset: str | None = None, within_limit: str | None = None,
    ) -> Session | None:
        s = self._sessions.get(session_id)
        if s is None or (states is not None and s.state not in set(states)):
            return None
        if unset is not None and getattr(s, unset) is not None:
            return None
        if within_limit is not None:
            agent = self._agents.get(within_limit)
            active = (await self.active_counts([within_limit])).get(within_limit, 0)
            if agent is None or active >= agent.max_concurrent:
                return None
        after = replace(s, **values)
        if self._open_elsewhere(after):
            return None
        self._sessions[session_id] = after
        return after
