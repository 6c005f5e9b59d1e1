"""SqlWebhooks: hooks, the event outbox and the deliveries in SQLite or PostgreSQL
(schema_webhooks.py). The stores write the outbox rows of `TRANSACTIONAL` events inside
their changes' transactions (storage/outbox.py); `fan_out` makes the deliveries."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import and_, delete, exists, func, or_, select, text, update
from sqlalchemy.orm import aliased

from semot.domain.webhooks import Delivery, NewDelivery, Tried, Webhook
from semot.storage.outbox import OUTBOX_COLUMNS, TRANSACTIONAL, OutboxItem, OutboxWants, delivery_id
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.schema_webhooks import event_outbox as _o
from semot.storage.sql.schema_webhooks import webhook_deliveries as _d
from semot.storage.sql.schema_webhooks import webhooks as _h
from semot.storage.sql.sqlite_appender import SqliteAppender
from semot.storage.webhooks import WebhookStorage

_COLS = (_d.c.delivery_id, _d.c.webhook_id, _d.c.event, _d.c.key, _d.c.body, _d.c.status, _d.c.tries, _d.c.next_at,
         _d.c.last_error, _d.c.last_status, _d.c.created_at, _d.c.updated_at)


def _hook(r: Any) -> Webhook:
    return Webhook(r.webhook_id, r.url, tuple(orjson.loads(r.events)), r.secret, r.timeout_ms, r.on_timeout,
                   r.created_at, r.created_by)


def _delivery(r: Any, url: str = "") -> Delivery:
    return Delivery(r.delivery_id, r.webhook_id, r.event, r.key, r.body, r.status, r.tries, r.next_at, r.last_error,
                    r.last_status, r.created_at, r.updated_at, url)


_OUTBOX_COLS = (_o.c.id, _o.c.event_id, _o.c.event, _o.c.key, _o.c.data, _o.c.seq, _o.c.created_at)
_DELIVERY_COLUMNS = ("delivery_id", "webhook_id", "event", "key", "body", "status", "tries", "next_at", "created_at",
                     "updated_at")
_SQLITE_ROWS = "SELECT id, event_id, event, key, data, seq, created_at FROM event_outbox ORDER BY id LIMIT ?"
_SQLITE_HOOKS = "SELECT webhook_id, events FROM webhooks ORDER BY created_at"
_SQLITE_DELIVERY = (
    f"INSERT INTO webhook_deliveries ({', '.join(_DELIVERY_COLUMNS)}) VALUES ({', '.join('?' * len(_DELIVERY_COLUMNS))})"
    " ON CONFLICT (delivery_id) DO NOTHING"
)
_SQLITE_TAKEN = "DELETE FROM event_outbox WHERE id = ?"


def make_deliveries(rows: list[tuple[Any, ...]], hooks: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    """Outbox rows (_OUTBOX_COLS order) -> pending deliveries (_DELIVERY_COLUMNS order),
    one per hook (webhook_id, events JSON) registered for the row's event, in row order."""
    by_event: dict[str, list[str]] = {}
    for webhook_id, events in hooks:
        for name in orjson.loads(events):
            by_event.setdefault(name, []).append(webhook_id)
    made: list[tuple[Any, ...]] = []
    for _, event_id, event, key, data, seq, created_at in rows:
        wanted = by_event.get(event)
        if not wanted:
            continue
        payload = OutboxItem(event_id, event, key, data, seq, created_at).data_dict()
        for webhook_id in wanted:
            did = delivery_id(event_id, webhook_id)
            body = orjson.dumps({"id": did, "event": event, "ts": created_at, "data": payload}).decode()
            made.append((did, webhook_id, event, key, body, "pending", 0, created_at, created_at, created_at))
    return made


def _fan_out_sqlite(con: sqlite3.Connection, limit: int) -> int:
    """SqlWebhooks.fan_out as one transaction on a plain sqlite3 connection (the appender's)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        rows = con.execute(_SQLITE_ROWS, (limit,)).fetchall()
        if rows:
            made = make_deliveries(rows, con.execute(_SQLITE_HOOKS).fetchall())
            con.executemany(_SQLITE_DELIVERY, made)
            con.executemany(_SQLITE_TAKEN, [(r[0],) for r in rows])
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return len(rows)


_SQLITE_COLS = ("delivery_id, webhook_id, event, key, body, status, tries, next_at, last_error, last_status, "
                "created_at, updated_at")
_SQLITE_FREE = "(claimed_until IS NULL OR claimed_until <= :now)"
_SQLITE_CANDIDATES = f"""
SELECT {', '.join('d.' + c for c in _SQLITE_COLS.split(', '))}, d.seq, h.url
FROM webhook_deliveries d JOIN webhooks h ON h.webhook_id = d.webhook_id
WHERE d.status = 'pending' AND d.next_at <= :now AND (d.claimed_until IS NULL OR d.claimed_until <= :now)
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.key = d.key
                  AND e.status = 'pending' AND e.seq < d.seq)
ORDER BY d.seq LIMIT :limit
"""
_SQLITE_TAKE = (f"UPDATE webhook_deliveries SET claimed_by = :node, claimed_until = :until "
                f"WHERE delivery_id = :id AND status = 'pending' AND {_SQLITE_FREE}")
_SQLITE_AFTER = (f"SELECT {_SQLITE_COLS}, seq FROM webhook_deliveries WHERE webhook_id = :hook AND key = :key "
                 f"AND status = 'pending' AND seq > :seq AND {_SQLITE_FREE} ORDER BY seq LIMIT :n")
_SQLITE_FINISH = (
    "UPDATE webhook_deliveries SET status = ?, tries = ?, next_at = ?, last_error = ?, last_status = ?, "
    "updated_at = ?, claimed_by = NULL, claimed_until = NULL "
    "WHERE delivery_id = ? AND claimed_by = ? AND status = 'pending'"
)


def _sqlite_delivery(r: tuple[Any, ...], url: str) -> Delivery:
    return Delivery(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], url)


def _claim_sqlite(
    con: sqlite3.Connection, node: str, now: int, lease_ms: int, limit: int, run: int
) -> list[list[Delivery]]:
    """SqlWebhooks.claim as one transaction on the appender's connection: the same
    statements as the SQLAlchemy path, without holding the file lock across the loop."""
    out: list[list[Delivery]] = []
    con.execute("BEGIN IMMEDIATE")
    try:
        for r in con.execute(_SQLITE_CANDIDATES, {"now": now, "limit": limit}).fetchall():
            took = con.execute(_SQLITE_TAKE, {"node": node, "until": now + lease_ms, "id": r[0], "now": now})
            if took.rowcount != 1:
                continue
            url, claimed = r[13], [_sqlite_delivery(r, r[13])]
            if run > 1:
                more = con.execute(_SQLITE_AFTER, {"hook": r[1], "key": r[3], "seq": r[12], "now": now,
                                                   "n": run - 1}).fetchall()
                for m in more:
                    con.execute(_SQLITE_TAKE, {"node": node, "until": now + lease_ms, "id": m[0], "now": now})
                claimed += [_sqlite_delivery(m, url) for m in more]
            out.append(claimed)
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return out


def _finish_sqlite(con: sqlite3.Connection, node: str, done: list[Tried]) -> set[str]:
    out: set[str] = set()
    con.execute("BEGIN IMMEDIATE")
    try:
        for t in done:
            result = con.execute(_SQLITE_FINISH, (t.status, t.tries, t.next_at, t.last_error, t.last_status, t.at,
                                                  t.delivery_id, node))
            if result.rowcount == 1:
                out.add(t.delivery_id)
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return out


# One fan-out at a time in a cluster (per schema): deliveries are numbered in the order
# of their events, so a key's deliveries keep its events' order.
_FAN_OUT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(current_schema()), 28)")


class SqlWebhooks(WebhookStorage):
    transactional = TRANSACTIONAL

    def __init__(
        self, db: SqlDatabase, outbox: OutboxWants | None = None, sqlite: SqliteAppender | None = None
    ) -> None:
        self._engines = db.engines
        self._dialect = db.dialect
        self._insert = db.insert
        self._outbox = outbox or OutboxWants()
        # SQLite: fan-outs, claims and finishes run on the message appender's connection and
        # thread, one hop each, so they take turns with the appends instead of holding the
        # file lock across event-loop turns (through aiosqlite) while a send waits for it
        self._sqlite = sqlite

    def want(self, events: frozenset[str], notify: Callable[[], None]) -> None:
        self._outbox.notify = notify
        self._outbox.events = events & TRANSACTIONAL

    async def put_events(self, items: list[OutboxItem]) -> None:
        if items:
            async with self._engines.write.begin() as conn:
                await conn.execute(_o.insert(), [dict(zip(OUTBOX_COLUMNS, i.row(), strict=True)) for i in items])

    async def fan_out(self, limit: int) -> int:
        async with self._engines.read.connect() as conn:  # the usual answer: nothing waits (no lock taken)
            if (await conn.execute(select(_o.c.id).limit(1))).first() is None:
                return 0
        if self._sqlite is not None:  # one hop on the appender's thread: no lock held across the loop
            return await self._sqlite.run(lambda con: _fan_out_sqlite(con, limit))
        async with self._engines.write.begin() as conn:
            if self._dialect == "postgresql":
                await conn.execute(_FAN_OUT_LOCK)
            rows = (await conn.execute(select(*_OUTBOX_COLS).order_by(_o.c.id).limit(limit))).all()
            if not rows:
                return 0
            hooks = (await conn.execute(select(_h.c.webhook_id, _h.c.events).order_by(_h.c.created_at))).all()
            made = make_deliveries([tuple(r) for r in rows], [tuple(h) for h in hooks])
            if made:
                await conn.execute(self._insert(_d).on_conflict_do_nothing(index_elements=["delivery_id"]),
                                   [dict(zip(_DELIVERY_COLUMNS, m, strict=True)) for m in made])
            await conn.execute(delete(_o).where(_o.c.id.in_([r.id for r in rows])))
        return len(rows)

    async def outbox_size(self) -> int:
        async with self._engines.read.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(_o))).scalar_one())

    async def add_hook(self, hook: Webhook) -> None:
        row = {
            "webhook_id": hook.webhook_id, "url": hook.url, "events": orjson.dumps(list(hook.events)).decode(),
            "secret": hook.secret, "timeout_ms": hook.timeout_ms, "on_timeout": hook.on_timeout,
            "created_at": hook.created_at, "created_by": hook.created_by,
        }
        async with self._engines.write.begin() as conn:
            await conn.execute(_h.insert().values(row))

    async def hooks(self) -> list[Webhook]:
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(select(_h).order_by(_h.c.created_at, _h.c.webhook_id))).all()
        return [_hook(r) for r in rows]

    async def delete_hook(self, webhook_id: str) -> Webhook | None:
        async with self._engines.write.begin() as conn:
            r = (await conn.execute(select(_h).where(_h.c.webhook_id == webhook_id))).first()
            if r is None:
                return None
            await conn.execute(delete(_d).where(_d.c.webhook_id == webhook_id))
            await conn.execute(delete(_h).where(_h.c.webhook_id == webhook_id))
        return _hook(r)

    async def enqueue(self, deliveries: list[NewDelivery]) -> None:
        if not deliveries:
            return
        rows = [
            {"delivery_id": n.delivery_id, "webhook_id": n.webhook_id, "event": n.event, "key": n.key, "body": n.body,
             "status": "pending", "tries": 0, "next_at": n.created_at, "last_error": None, "last_status": None,
             "created_at": n.created_at, "updated_at": n.created_at, "claimed_by": None, "claimed_until": None}
            for n in deliveries
        ]
        async with self._engines.write.begin() as conn:
            await conn.execute(_d.insert(), rows)

    async def claim(self, node: str, now: int, lease_ms: int, limit: int, run: int = 1) -> list[list[Delivery]]:
        if self._sqlite is not None:  # one hop on the appender's thread (see __init__)
            return await self._sqlite.run(lambda con: _claim_sqlite(con, node, now, lease_ms, limit, run))
        earlier = aliased(_d)
        free = or_(_d.c.claimed_until.is_(None), _d.c.claimed_until <= now)
        first = ~exists().where(
            earlier.c.webhook_id == _d.c.webhook_id, earlier.c.key == _d.c.key,
            earlier.c.status == "pending", earlier.c.seq < _d.c.seq,
        )
        candidates = (
            select(*_COLS, _d.c.seq, _h.c.url)
            .join(_h, _h.c.webhook_id == _d.c.webhook_id)
            .where(_d.c.status == "pending", _d.c.next_at <= now, free, first)
            .order_by(_d.c.seq)
            .limit(limit)
        )
        out: list[list[Delivery]] = []
        async with self._engines.write.begin() as conn:
            rows = (await conn.execute(candidates)).all()
            for r in rows:
                took = await conn.execute(
                    update(_d)
                    .where(and_(_d.c.delivery_id == r.delivery_id, _d.c.status == "pending", free))
                    .values(claimed_by=node, claimed_until=now + lease_ms)
                )
                if int(took.rowcount or 0) != 1:
                    continue  # another node took it meanwhile
                claimed = [_delivery(r, r.url)]
                if run > 1:
                    after = (
                        select(*_COLS).where(_d.c.webhook_id == r.webhook_id, _d.c.key == r.key,
                                             _d.c.status == "pending", _d.c.seq > r.seq, free)
                        .order_by(_d.c.seq).limit(run - 1)
                    )
                    more = (await conn.execute(after)).all()
                    if more:
                        await conn.execute(
                            update(_d).where(_d.c.delivery_id.in_([m.delivery_id for m in more]))
                            .values(claimed_by=node, claimed_until=now + lease_ms)
                        )
                        claimed += [_delivery(m, r.url) for m in more]
                out.append(claimed)
        return out

    async def release(self, delivery_ids: list[str], node: str) -> None:
        if not delivery_ids:
            return
        async with self._engines.write.begin() as conn:
            await conn.execute(
                update(_d).where(_d.c.delivery_id.in_(delivery_ids), _d.c.claimed_by == node)
                .values(claimed_by=None, claimed_until=None)
            )

    async def finish(self, node: str, done: list[Tried]) -> set[str]:
        if self._sqlite is not None:
            return await self._sqlite.run(lambda con: _finish_sqlite(con, node, done))
        out: set[str] = set()
        async with self._engines.write.begin() as conn:
            for t in done:
                result = await conn.execute(
                    update(_d)
                    .where(_d.c.delivery_id == t.delivery_id, _d.c.claimed_by == node, _d.c.status == "pending")
                    .values(status=t.status, tries=t.tries, next_at=t.next_at, last_error=t.last_error,
                            last_status=t.last_status, updated_at=t.at, claimed_by=None, claimed_until=None)
                )
                if int(result.rowcount or 0) == 1:
                    out.add(t.delivery_id)
        return out

    async def deliveries(
        self, *, webhook_id: str | None, status: str | None, event: str | None, offset: int, limit: int
    ) -> tuple[list[Delivery], int]:
        where = []
        if webhook_id is not None:
            where.append(_d.c.webhook_id == webhook_id)
        if status is not None:
            where.append(_d.c.status == status)
        if event is not None:
            where.append(_d.c.event == event)
        page = select(*_COLS).where(*where).order_by(_d.c.seq.desc()).offset(offset).limit(limit)
        count = select(func.count()).select_from(_d).where(*where)
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(page)).all()
            total = (await conn.execute(count)).scalar_one()
        return [_delivery(r) for r in rows], int(total)

    async def delivery(self, delivery_id: str) -> Delivery | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(*_COLS).where(_d.c.delivery_id == delivery_id))).first()
        return None if r is None else _delivery(r)

    async def replay(self, delivery_id: str, now: int) -> Delivery | None:
        async with self._engines.write.begin() as conn:
            await conn.execute(
                update(_d).where(_d.c.delivery_id == delivery_id)
                .values(status="pending", tries=0, next_at=now, updated_at=now, claimed_by=None, claimed_until=None)
            )
            r = (await conn.execute(select(*_COLS).where(_d.c.delivery_id == delivery_id))).first()
        return None if r is None else _delivery(r)

    async def purge(self, before: int, limit: int) -> int:
        old = (
            select(_d.c.seq).where(_d.c.status.in_(("delivered", "dead")), _d.c.updated_at < before).limit(limit)
        )
        async with self._engines.write.begin() as conn:
            result = await conn.execute(delete(_d).where(_d.c.seq.in_(old)))
        return int(result.rowcount or 0)
