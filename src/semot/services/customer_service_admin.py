"""Customer service administration (docs/customer-service.md): queues, agents, the
widget's settings and what the widget shows, statistics."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from semot.bus.base import Bus, Invalidate
from semot.domain import customer_service as rules
from semot.domain.customer_service import Agent, Queue, WidgetSettings
from semot.errors import BadRequest, Conflict, NotFound
from semot.ids import is_valid_id, now_ms
from semot.services.customer_service import CS_KEY, CustomerService
from semot.storage.base import Storage

DAY_MS = 86_400_000


class CustomerServiceAdmin:
    def __init__(self, storage: Storage, service: CustomerService, bus: Bus) -> None:
        self._store = storage.customer_service
        self._users = storage.users
        self._service = service
        self._bus = bus

    # --- settings (kept by the service, which routes by the opening hours)
    async def settings(self) -> WidgetSettings:
        return await self._service.settings()

    async def put_settings(self, values: dict[str, Any]) -> WidgetSettings:
        rules.check_timezone(values["timezone"])
        await self._store.put_settings(values)
        self._service.invalidate(CS_KEY)
        self._bus.publish(Invalidate(CS_KEY))
        return await self.settings()

    # --- what the widget shows
    async def widget(self) -> dict[str, Any]:
        s = await self.settings()
        queues = await self._store.queues()
        agents = await self._store.agents()
        loads = {x.agent.user_id: x for x in await self._service.loads(agents)}
        users = {u.id: u for u in await self._users.users_by_ids([a.user_id for a in agents])} if agents else {}
        open_now = rules.open_now(s, now_ms())

        def agent_wire(a: Agent) -> dict[str, Any]:
            u = users.get(a.user_id)
            load = loads[a.user_id]
            state = "busy" if load.state == "online" and not load.available else load.state
            return {"user_id": a.user_id, "display_name": u.display_name if u else a.user_id,
                    "avatar_url": f"/api/v1/users/{a.user_id}/avatar" if u and u.avatar_file_id else None,
                    "field": a.field, "state": state if open_now else "offline"}

        return {
            "title": s.title, "greeting": s.greeting, "color": s.color, "position": s.position,
            "offline_message": s.offline_message,
            "open_now": open_now and any(x.state == "online" for x in loads.values()),
            "queues": [
                {"queue_id": q.queue_id, "name": q.name, "description": q.description,
                 "agents": [agent_wire(a) for a in agents if q.queue_id in a.queues and a.user_id in users]}
                for q in queues
            ],
        }

    # --- queues
    async def queues(self) -> list[dict[str, Any]]:
        agents = await self._store.agents()
        return [{**q.to_wire(), "agents": sum(1 for a in agents if q.queue_id in a.queues)}
                for q in await self._store.queues()]

    async def _queue(self, queue_id: str) -> Queue:
        found = next((q for q in await self._store.queues() if q.queue_id == queue_id), None)
        if found is None:
            raise NotFound(f"no queue {queue_id!r}")
        return found

    async def create_queue(self, name: str, description: str, position: int) -> Queue:
        existing = await self._store.queues()
        if len(existing) >= rules.MAX_QUEUES:
            raise Conflict(f"at most {rules.MAX_QUEUES} queues")
        if any(q.name == name for q in existing):
            raise Conflict(f"a queue named {name!r} exists already")
        q = Queue(f"q_{secrets.token_hex(6)}", name, description, position, now_ms())
        await self._store.put_queue(q)
        return q

    async def update_queue(self, queue_id: str, values: dict[str, Any]) -> tuple[Queue, Queue]:
        before = await self._queue(queue_id)
        if "name" in values and any(q.name == values["name"] and q.queue_id != queue_id
                                    for q in await self._store.queues()):
            raise Conflict(f"a queue named {values['name']!r} exists already")
        after = replace(before, **values)
        await self._store.put_queue(after)
        return before, after

    async def delete_queue(self, queue_id: str) -> Queue:
        q = await self._queue(queue_id)
        if await self._store.sessions(states=rules.OPEN_STATES, queue_ids=[queue_id], limit=1):
            raise Conflict("this queue has open sessions; close or transfer them first")
        await self._store.delete_queue(queue_id)
        for a in await self._store.agents():  # nobody stays in a queue that is gone
            if queue_id in a.queues:
                await self._store.put_agent(replace(a, queues=tuple(x for x in a.queues if x != queue_id)))
        return q

    # --- agents
    async def agents(self) -> list[dict[str, Any]]:
        agents = await self._store.agents()
        users = {u.id: u for u in await self._users.users_by_ids([a.user_id for a in agents])} if agents else {}
        loads = {x.agent.user_id: x for x in await self._service.loads(agents)}
        return [
            {**a.to_wire(), "display_name": users[a.user_id].display_name if a.user_id in users else a.user_id,
             "connected": loads[a.user_id].connected, "active_count": loads[a.user_id].active}
            for a in agents
        ]

    async def _check_queues(self, queue_ids: list[str]) -> tuple[str, ...]:
        known = {q.queue_id for q in await self._store.queues()}
        unknown = [q for q in queue_ids if q not in known]
        if unknown:
            raise NotFound(f"no such queues: {unknown[:10]}")
        return tuple(dict.fromkeys(queue_ids))

    async def put_agent(self, user_id: str, queues: list[str], field: str, max_concurrent: int) -> tuple[Agent | None, Agent]:
        """Make `user_id` an agent, or change one; returns (before, after)."""
        if not is_valid_id(user_id) or not await self._users.existing_user_ids([user_id]):
            raise NotFound(f"no user {user_id!r}")
        if await self._service.is_visitor(user_id):
            raise BadRequest("a visitor cannot be an agent")
        before = await self._store.get_agent(user_id)
        after = Agent(user_id, await self._check_queues(queues), field, max_concurrent,
                      before.state if before else "offline", before.created_at if before else now_ms())
        await self._store.put_agent(after)
        if after.state == "online":
            await self._service.drain(after.queues)
        return before, after

    async def delete_agent(self, user_id: str) -> Agent:
        a = await self._store.get_agent(user_id) if is_valid_id(user_id) else None
        if a is None:
            raise NotFound(f"no agent {user_id!r}")
        if await self._store.sessions(states=("active",), agent_id=user_id, limit=1):
            raise Conflict("this agent has active sessions; they must close or transfer them first")
        await self._store.delete_agent(user_id)
        return a

    # --- statistics
    async def stats(self, since: int | None, until: int | None) -> dict[str, Any]:
        """Sessions started in [since, until) (default: the last 7 days; an empty period
        counts nothing), in total, per queue and per agent (the agent who had it last)."""
        until = until if until is not None else now_ms() + 1
        since = since if since is not None else max(0, until - 7 * DAY_MS)
        sessions = await self._store.sessions(since=since, until=until, limit=100_000)
        queues = {q.queue_id: q.name for q in await self._store.queues()}
        agent_ids = sorted({s.agent_id for s in sessions if s.agent_id})
        users = {u.id: u.display_name for u in await self._users.users_by_ids(agent_ids)} if agent_ids else {}
        by_queue = [
            {"queue_id": qid, "name": queues.get(qid or "", ""), **rules.summarize([s for s in sessions if s.queue_id == qid])}
            for qid in sorted({s.queue_id for s in sessions if s.queue_id})
        ]
        by_agent = [
            {"user_id": aid, "display_name": users.get(aid, aid), **rules.summarize([s for s in sessions if s.agent_id == aid])}
            for aid in agent_ids
        ]
        return {"since": since, "until": until, "total": rules.summarize(sessions), "queues": by_queue,
                "agents": by_agent}
