"""SqlCustomerService: customer service in SQLite or PostgreSQL (schema_customer_service.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from semot.domain.customer_service import FORGOTTEN, OPEN_STATES, Agent, Queue, Session, Visitor
from semot.storage.customer_service import CustomerServiceStorage
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.schema_customer_service import cs_agents as _a
from semot.storage.sql.schema_customer_service import cs_customers as _c
from semot.storage.sql.schema_customer_service import cs_queues as _q
from semot.storage.sql.schema_customer_service import cs_sessions as _s
from semot.storage.sql.schema_customer_service import cs_settings as _set
from semot.storage.sql.schema_customer_service import cs_visitors as _v

_SETTINGS_ID = "widget"


def _queue(r: Any) -> Queue:
    return Queue(r.queue_id, r.name, r.description, r.position, r.created_at)


def _agent(r: Any) -> Agent:
    return Agent(r.user_id, tuple(orjson.loads(r.queues)), r.field, r.max_concurrent, r.state, r.created_at)


def _session(r: Any) -> Session:
    return Session(
        r.session_id, r.conv, r.visitor_id, r.queue_id, r.agent_id, r.state,
        orjson.loads(r.context) if r.context is not None else None, r.created_at, r.assigned_at,
        r.first_response_at, r.closed_at, r.closed_by, r.rating, r.comment,
    )


def _session_row(s: Session) -> dict[str, Any]:
    return {
        "session_id": s.session_id, "conv": s.conv, "visitor_id": s.visitor_id, "queue_id": s.queue_id,
        "agent_id": s.agent_id, "state": s.state,
        "context": orjson.dumps(s.context).decode() if s.context is not None else None,
        "created_at": s.created_at, "assigned_at": s.assigned_at, "first_response_at": s.first_response_at,
        "closed_at": s.closed_at, "closed_by": s.closed_by, "rating": s.rating, "comment": s.comment,
    }


class SqlCustomerService(CustomerServiceStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert

    async def _upsert(self, table: Any, key: str, row: dict[str, Any]) -> None:
        stmt = self._insert(table).values(row)
        stmt = stmt.on_conflict_do_update(index_elements=[key], set_={k: v for k, v in row.items() if k != key})
        async with self._engines.write.begin() as conn:
            await conn.execute(stmt)

    # --- queues
    async def queues(self) -> list[Queue]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_q).order_by(_q.c.position, _q.c.name, _q.c.queue_id))).all()
        return [_queue(r) for r in rows]

    async def put_queue(self, queue: Queue) -> None:
        await self._upsert(_q, "queue_id", {
            "queue_id": queue.queue_id, "name": queue.name, "description": queue.description,
            "position": queue.position, "created_at": queue.created_at,
        })

    async def delete_queue(self, queue_id: str) -> bool:
        async with self._engines.write.begin() as conn:
            return bool((await conn.execute(delete(_q).where(_q.c.queue_id == queue_id))).rowcount)

    # --- agents
    async def agents(self) -> list[Agent]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_a).order_by(_a.c.created_at, _a.c.user_id))).all()
        return [_agent(r) for r in rows]

    async def get_agent(self, user_id: str) -> Agent | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_a).where(_a.c.user_id == user_id))).first()
        return _agent(r) if r is not None else None

    async def put_agent(self, agent: Agent) -> None:
        await self._upsert(_a, "user_id", {
            "user_id": agent.user_id, "queues": orjson.dumps(list(agent.queues)).decode(), "field": agent.field,
            "max_concurrent": agent.max_concurrent, "state": agent.state, "created_at": agent.created_at,
        })

    async def delete_agent(self, user_id: str) -> bool:
        async with self._engines.write.begin() as conn:
            return bool((await conn.execute(delete(_a).where(_a.c.user_id == user_id))).rowcount)

    async def set_agent_state(self, user_id: str, state: str) -> bool:
        async with self._engines.write.begin() as conn:
            res = await conn.execute(update(_a).where(_a.c.user_id == user_id).values(state=state))
        return bool(res.rowcount)

    # --- settings
    async def settings(self) -> dict[str, Any] | None:
        async with self._engines.read.connect() as conn:
            raw = await conn.scalar(select(_set.c.value).where(_set.c.id == _SETTINGS_ID))
        return orjson.loads(raw) if raw is not None else None

    async def put_settings(self, settings: dict[str, Any]) -> None:
        await self._upsert(_set, "id", {"id": _SETTINGS_ID, "value": orjson.dumps(settings).decode()})

    # --- visitors
    async def add_visitor(self, visitor: Visitor) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(_v.insert().values(
                user_id=visitor.user_id, key_hash=visitor.key_hash, created_at=visitor.created_at,
                last_seen_at=visitor.last_seen_at or visitor.created_at,
            ))

    async def visitor_by_key(self, key_hash: str) -> Visitor | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_v).where(_v.c.key_hash == key_hash))).first()
        return Visitor(r.user_id, r.key_hash, r.created_at, r.last_seen_at) if r is not None else None

    async def visitor_ids(self, user_ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return set()
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(select(_v.c.user_id).where(_v.c.user_id.in_(wanted)))
            return {r.user_id for r in rows}

    async def touch_visitor(self, user_id: str, now: int) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(update(_v).where(_v.c.user_id == user_id, _v.c.last_seen_at != FORGOTTEN)
                               .values(last_seen_at=now))

    def _idle(self, before: int) -> Any:
        open_session = exists().where(_s.c.visitor_id == _v.c.user_id, _s.c.state.in_(OPEN_STATES))
        return (_v.c.last_seen_at >= 0) & (_v.c.last_seen_at < before) & ~open_session

    async def idle_visitors(self, before: int, limit: int) -> list[str]:
        q = select(_v.c.user_id).where(self._idle(before)).order_by(_v.c.last_seen_at, _v.c.user_id).limit(limit)
        async with self._engines.read.connect() as conn:
            return [r.user_id for r in await conn.execute(q)]

    async def forget_visitor(self, user_id: str, before: int) -> bool:
        q = (update(_v).where(_v.c.user_id == user_id, self._idle(before))
             .values(key_hash=f"forgotten:{user_id}", last_seen_at=FORGOTTEN))
        async with self._engines.write.begin() as conn:
            return bool((await conn.execute(q)).rowcount)

    # --- customers
    async def set_customer(self, user_id: str, customer: bool, now: int) -> bool:
        async with self._engines.write.begin() as conn:
            if not customer:
                return bool((await conn.execute(delete(_c).where(_c.c.user_id == user_id))).rowcount)
            stmt = self._insert(_c).values(user_id=user_id, created_at=now).on_conflict_do_nothing()
            return bool((await conn.execute(stmt)).rowcount)

    async def customer_ids(self, user_ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return set()
        async with self._engines.read.connect() as conn:
            return {r.user_id for r in await conn.execute(select(_c.c.user_id).where(_c.c.user_id.in_(wanted)))}

    # --- sessions
    async def add_session(self, session: Session) -> bool:
        try:  # uq_cs_sessions_open_visitor: one open session per visitor
            async with self._engines.write.begin() as conn:
                await conn.execute(_s.insert().values(_session_row(session)))
        except IntegrityError:
            return False
        return True

    async def get_session(self, session_id: str) -> Session | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_s).where(_s.c.session_id == session_id))).first()
        return _session(r) if r is not None else None

    async def session_by_conv(self, conv: str) -> Session | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_s).where(_s.c.conv == conv))).first()
        return _session(r) if r is not None else None

    async def sessions(
        self, *, states: Iterable[str] | None = None, visitor_id: str | None = None, agent_id: str | None = None,
        queue_ids: Iterable[str] | None = None, since: int | None = None, until: int | None = None,
        limit: int = 200, newest_first: bool = False,
    ) -> list[Session]:
        q = select(_s)
        if states is not None:
            q = q.where(_s.c.state.in_(list(states)))
        if visitor_id is not None:
            q = q.where(_s.c.visitor_id == visitor_id)
        if agent_id is not None:
            q = q.where(_s.c.agent_id == agent_id)
        if queue_ids is not None:
            q = q.where(_s.c.queue_id.in_(list(queue_ids)))
        if since is not None:
            q = q.where(_s.c.created_at >= since)
        if until is not None:
            q = q.where(_s.c.created_at < until)
        order = (_s.c.created_at.desc(), _s.c.session_id.desc()) if newest_first else (_s.c.created_at, _s.c.session_id)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q.order_by(*order).limit(limit))).all()
        return [_session(r) for r in rows]

    async def active_counts(self, agent_ids: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(agent_ids))
        if not wanted:
            return {}
        q = (select(_s.c.agent_id, func.count()).where(_s.c.state == "active", _s.c.agent_id.in_(wanted))
             .group_by(_s.c.agent_id))
        async with self._engines.read.connect() as conn:
            return {r[0]: int(r[1]) for r in await conn.execute(q)}

    async def update_session(
        self, session_id: str, values: dict[str, Any], *, states: Iterable[str] | None = None,
        unset: str | None = None, within_limit: str | None = None,
    ) -> Session | None:
        row = _session_row_values(values)
        q = update(_s).where(_s.c.session_id == session_id)
        if states is not None:
            q = q.where(_s.c.state.in_(list(states)))
        if unset is not None:
            q = q.where(_s.c[unset].is_(None))
        if within_limit is not None:
            # the count runs after the agent's row is locked (below): read-committed
            # PostgreSQL sees every assignment committed before, so no two nodes fill one place
            active = (select(func.count()).select_from(_s)
                      .where(_s.c.agent_id == within_limit, _s.c.state == "active").scalar_subquery())
            limit = select(_a.c.max_concurrent).where(_a.c.user_id == within_limit).scalar_subquery()
            q = q.where(active < limit)
        try:
            async with self._engines.write.begin() as conn:
                if within_limit is not None:  # FOR UPDATE on PostgreSQL; SQLite's one writer serialises already
                    await conn.execute(select(_a.c.user_id).where(_a.c.user_id == within_limit).with_for_update())
                if not (await conn.execute(q.values(row))).rowcount:
                    return None
                r = (await conn.execute(select(_s).where(_s.c.session_id == session_id))).first()
        except IntegrityError:  # uq_cs_sessions_open_visitor: the visitor has another open session
            return None
        return _session(r) if r is not None else None


def _session_row_values(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "context" in out:
        out["context"] = orjson.dumps(out["context"]).decode() if out["context"] is not None else None
    return out
