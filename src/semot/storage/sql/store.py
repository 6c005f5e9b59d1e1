"""SqlStorage: the Storage interface on SQLAlchemy Core (async), SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, case, func, or_, select, text, update
from sqlalchemy.sql.schema import Column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from semot.domain.groups import findable, name_key
from semot.domain.messages import BURNED, RECALLED, SYSTEM, Message
from semot.domain.records import (
    AppendResult,
    ConvState,
    Group,
    GroupRequest,
    GroupState,
    Member,
    NewMessage,
    ReadResult,
    RefreshToken,
    User,
)
from semot.errors import BadRequest, Conflict, NotFound
from semot.storage.base import Storage
from semot.storage.sql import schema as s
from semot.storage.sql.batch import ROW_COLUMNS, BatchPlan
from semot.storage.sql.contacts_store import SqlContacts
from semot.storage.sql.engine import Engines
from semot.storage.sql.sqlite_appender import SqliteAppender
from semot.storage.sql.migrate import upgrade_to_head

_IN_CHUNK = 500
_MIGRATION_LOCK = 7365676  # pg advisory lock id serialising migrations across nodes


def _pairs(first: Column[Any], second: Column[Any], pairs: list[tuple[Any, Any]]) -> ColumnElement[bool]:
    """`(a, b) IN pairs` written so both databases use the (a, b) index.

    SQLite plans a row-value `IN (VALUES ...)` as a full table scan; an OR of
    `a = ? AND b IN (...)` groups becomes one index search per group."""
    grouped: dict[Any, list[Any]] = {}
    for a, b in pairs:
        grouped.setdefault(a, []).append(b)
    return or_(*(and_(first == a, second.in_(bs)) for a, bs in grouped.items()))


def _row_to_message(r: Any) -> Message:
    return Message(
        conv=r.conv,
        seq=r.seq,
        mid=r.mid,
        cid=r.cid,
        sender=r.sender,
        kind=r.kind,
        body=orjson.loads(r.body),
        ts=r.ts,
        opts=orjson.loads(r.opts),
    )


def _row_to_group(r: Any) -> Group:
    return Group(
        r.id, r.name, r.owner_id, r.created_at, orjson.loads(r.settings), r.kind, r.announcement, r.dismissed_at
    )


def _row_to_request(r: Any) -> GroupRequest:
    return GroupRequest(
        r.id, r.group_id, r.user_id, r.inviter, r.message, r.status, r.created_at, r.handled_by, r.handled_at
    )


def _row_to_user(r: Any) -> User:
    return User(
        id=r.id,
        username=r.username,
        display_name=r.display_name,
        password_hash=r.password_hash,
        is_admin=bool(r.is_admin),
        disabled=bool(r.disabled),
        created_at=r.created_at,
    )


_MSG_COLS = (
    s.messages.c.conv,
    s.messages.c.seq,
    s.messages.c.mid,
    s.messages.c.cid,
    s.messages.c.sender,
    s.messages.c.kind,
    s.messages.c.body,
    s.messages.c.ts,
    s.messages.c.opts,
)


class SqlStorage(SqlContacts, Storage):
    def __init__(self, engines: Engines, *, schema: str | None = None) -> None:
        self._engines = engines
        self._schema = schema
        self._dialect = engines.write.dialect.name
        self._insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        self._known_convs: set[str] = set()
        self._appender = (
            SqliteAppender(engines.sqlite_path, engines.sqlite_synchronous) if engines.sqlite_path else None
        )

    @property
    def engines(self) -> Engines:
        """For sibling SQL stores of other domains (they share the connection pools)."""
        return self._engines

    # --- lifecycle
    async def migrate(self) -> None:
        async with self._engines.write.begin() as conn:
            if self._dialect == "postgresql":
                # Nodes starting together must not race on DDL: one migrates, the rest wait.
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                if self._schema:
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"'))
            await conn.run_sync(upgrade_to_head)

    async def close(self) -> None:
        if self._appender is not None:
            await self._appender.close()
        await self._engines.dispose()

    async def ping(self) -> None:
        async with self._engines.read.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # --- users
    async def create_user(self, user: User) -> None:
        try:
            async with self._engines.write.begin() as conn:
                await conn.execute(
                    s.users.insert().values(
                        id=user.id,
                        username=user.username,
                        display_name=user.display_name,
                        password_hash=user.password_hash,
                        is_admin=user.is_admin,
                        disabled=user.disabled,
                        created_at=user.created_at,
                    )
                )
        except IntegrityError:
            raise Conflict("that username is already taken") from None

    async def get_user(self, user_id: str) -> User | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(s.users).where(s.users.c.id == user_id))).first()
        return _row_to_user(r) if r else None

    async def get_user_by_username(self, username: str) -> User | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(s.users).where(s.users.c.username == username))).first()
        return _row_to_user(r) if r else None

    async def existing_user_ids(self, user_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(user_ids))
        found: set[str] = set()
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), _IN_CHUNK):
                chunk = ids[i : i + _IN_CHUNK]
                rows = await conn.execute(select(s.users.c.id).where(s.users.c.id.in_(chunk)))
                found.update(r.id for r in rows)
        return found

    async def users_by_ids(self, user_ids: Iterable[str]) -> list[User]:
        ids = list(dict.fromkeys(user_ids))
        out: list[User] = []
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), _IN_CHUNK):
                rows = await conn.execute(select(s.users).where(s.users.c.id.in_(ids[i : i + _IN_CHUNK])))
                out.extend(_row_to_user(r) for r in rows)
        return out

    async def _update_user(self, user_id: str, **values: Any) -> bool:
        async with self._engines.write.begin() as conn:
            res = await conn.execute(update(s.users).where(s.users.c.id == user_id).values(**values))
        return res.rowcount > 0

    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool:
        return await self._update_user(user_id, disabled=disabled)

    async def set_user_admin(self, user_id: str, is_admin: bool) -> bool:
        return await self._update_user(user_id, is_admin=is_admin)

    # --- refresh tokens
    async def add_refresh_token(self, token: RefreshToken) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(
                s.refresh_tokens.insert().values(
                    token_hash=token.token_hash,
                    user_id=token.user_id,
                    family=token.family,
                    expires_at=token.expires_at,
                    used_at=None,
                    revoked=False,
                )
            )

    async def consume_refresh_token(self, token_hash: str, now: int) -> RefreshToken | None:
        t = s.refresh_tokens
        async with self._engines.write.begin() as conn:
            r = (await conn.execute(select(t).where(t.c.token_hash == token_hash).with_for_update())).first()
            if r is None:
                return None
            before = RefreshToken(r.token_hash, r.user_id, r.family, r.expires_at, r.used_at, bool(r.revoked))
            if r.used_at is not None:
                await conn.execute(update(t).where(t.c.family == r.family).values(revoked=True))
            else:
                await conn.execute(update(t).where(t.c.token_hash == token_hash).values(used_at=now))
            # Old rows are dead weight: drop this user's long-expired tokens while here.
            await conn.execute(t.delete().where(and_(t.c.user_id == r.user_id, t.c.expires_at < now - 86_400_000)))
        return before

    async def revoke_token_family(self, token_hash: str, user_id: str) -> str | None:
        t = s.refresh_tokens
        async with self._engines.write.begin() as conn:
            r = (await conn.execute(select(t.c.user_id, t.c.family).where(t.c.token_hash == token_hash))).first()
            if r is None or r.user_id != user_id:
                return None if r is None else str(r.user_id)
            await conn.execute(update(t).where(t.c.family == r.family).values(revoked=True))
        return str(r.user_id)

    async def revoke_user_tokens(self, user_id: str) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(update(s.refresh_tokens).where(s.refresh_tokens.c.user_id == user_id).values(revoked=True))

    # --- messages
    async def append_messages(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        if self._appender is not None:
            return await self._appender.append(batch)
        try:
            async with self._engines.write.begin() as conn:
                results, created_convs = await self._append(conn, batch)
            self._known_convs.update(created_convs)  # only once committed
            return results
        except IntegrityError:
            if len(batch) == 1:
                raise
        # A concurrent writer (another node) raced us on a cid: isolate each message.
        out: list[AppendResult | Exception] = []
        for item in batch:
            try:
                async with self._engines.write.begin() as conn:
                    results, created_convs = await self._append(conn, [item])
                self._known_convs.update(created_convs)
                out.extend(results)
            except IntegrityError as exc:
                out.append(exc)
        return out

    async def _append(
        self, conn: AsyncConnection, batch: list[NewMessage]
    ) -> tuple[list[AppendResult | Exception], set[str]]:
        m = s.messages
        plan = BatchPlan(batch)
        keys = plan.keys()
        existing: dict[tuple[str, str], Message] = {}
        for i in range(0, len(keys), _IN_CHUNK):
            rows = await conn.execute(select(*_MSG_COLS).where(_pairs(m.c.sender, m.c.cid, keys[i : i + _IN_CHUNK])))
            for r in rows:
                existing[(r.sender, r.cid)] = _row_to_message(r)
        plan.take_existing(existing)
        new_direct = plan.new_direct_chats(self._known_convs)
        if new_direct:
            now = batch[0].ts
            await conn.execute(
                self._insert(s.conversations)
                .values([{"id": c, "kind": "d", "max_seq": 0, "last_ts": 0, "created_at": now} for c in new_direct])
                .on_conflict_do_nothing()
            )
            await conn.execute(
                self._insert(s.conv_members)
                .values(
                    [
                        {"conv": c, "user_id": u, "role": "member", "read_seq": 0, "joined_at": now}
                        for c, users in new_direct.items()
                        for u in users
                    ]
                )
                .on_conflict_do_nothing()
            )
        rows = plan.number(await self._bump_seqs(conn, plan.seq_needs()))
        if rows:
            await conn.execute(m.insert(), [dict(zip(ROW_COLUMNS, r, strict=True)) for r in rows])
        return plan.finish(), set(new_direct)

    async def _bump_seqs(self, conn: AsyncConnection, counts: dict[str, tuple[int, int]]) -> dict[str, int]:
        """Reserve `n` seqs in each conversation; returns the new max_seq of each.

        The row lock this takes is what makes seq gap-free across nodes on PostgreSQL;
        rows are locked in id order first so two nodes never deadlock on a pair."""
        if not counts:
            return {}
        c = s.conversations
        ids = sorted(counts)
        tops: dict[str, int] = {}
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i : i + _IN_CHUNK]
            if self._dialect == "postgresql":
                await conn.execute(select(c.c.id).where(c.c.id.in_(chunk)).order_by(c.c.id).with_for_update())
            stmt = (
                update(c)
                .where(c.c.id.in_(chunk))
                .values(
                    max_seq=c.c.max_seq + case({k: counts[k][0] for k in chunk}, value=c.c.id, else_=0),
                    last_ts=case({k: counts[k][1] for k in chunk}, value=c.c.id, else_=c.c.last_ts),
                )
                .returning(c.c.id, c.c.max_seq)
            )
            for r in await conn.execute(stmt):
                tops[r.id] = r.max_seq
        return tops

    async def get_message(self, conv: str, seq: int) -> Message | None:
        async with self._engines.read.connect() as conn:
            r = (
                await conn.execute(select(*_MSG_COLS).where(and_(s.messages.c.conv == conv, s.messages.c.seq == seq)))
            ).first()
        return _row_to_message(r) if r else None

    async def history(
        self, conv: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        m = s.messages
        q = select(*_MSG_COLS).where(m.c.conv == conv)
        if after is not None:
            q = q.where(m.c.seq > after).order_by(m.c.seq.asc())
        else:
            if before is not None:
                q = q.where(m.c.seq < before)
            q = q.order_by(m.c.seq.desc())
        async with self._engines.read.connect() as conn:
            rows = (await conn.execute(q.limit(limit + 1))).all()
        more = len(rows) > limit
        rows = rows[:limit]
        msgs = [_row_to_message(r) for r in rows]
        if after is None:
            msgs.reverse()
        return msgs, more

    async def sync(self, user_id: str, known: dict[str, int]) -> list[ConvState]:
        c, cm, m = s.conversations, s.conv_members, s.messages
        async with self._engines.read.connect() as conn:
            rows = (
                await conn.execute(
                    select(c.c.id, c.c.max_seq, cm.c.read_seq)
                    .join(cm, cm.c.conv == c.c.id)
                    .where(cm.c.user_id == user_id)
                )
            ).all()
            moved = [r for r in rows if r.max_seq > known.get(r.id, -1)]
            if not moved:
                return []
            unread_rows = await conn.execute(
                select(m.c.conv, func.count())
                .join(cm, and_(cm.c.conv == m.c.conv, cm.c.user_id == user_id))
                .where(and_(m.c.seq > cm.c.read_seq, m.c.sender != user_id, m.c.kind.not_in((SYSTEM, RECALLED))))
                .group_by(m.c.conv)
            )
            unread = {r[0]: r[1] for r in unread_rows}
            lasts: dict[str, Message] = {}
            keys = [(r.id, r.max_seq) for r in moved if r.max_seq > 0]
            for i in range(0, len(keys), _IN_CHUNK):
                q = select(*_MSG_COLS).where(_pairs(m.c.conv, m.c.seq, keys[i : i + _IN_CHUNK]))
                for r in await conn.execute(q):
                    lasts[r.conv] = _row_to_message(r)
            # direct chats: the other party's read position, for "read" marks on a new device
            direct = [r.id for r in moved if r.id.startswith("d:")]
            peer_read: dict[str, int] = {}
            for i in range(0, len(direct), _IN_CHUNK):
                q = select(cm.c.conv, cm.c.read_seq).where(
                    and_(cm.c.conv.in_(direct[i : i + _IN_CHUNK]), cm.c.user_id != user_id)
                )
                for r in await conn.execute(q):
                    peer_read[r.conv] = r.read_seq
        return [
            ConvState(r.id, r.max_seq, r.read_seq, unread.get(r.id, 0), lasts.get(r.id), peer_read.get(r.id))
            for r in moved
        ]

    async def set_read(self, conv: str, user_id: str, seq: int, now: int) -> ReadResult:
        cm, m = s.conv_members, s.messages
        async with self._engines.write.begin() as conn:
            r = (
                await conn.execute(
                    select(cm.c.read_seq).where(and_(cm.c.conv == conv, cm.c.user_id == user_id)).with_for_update()
                )
            ).first()
            if r is None:
                raise NotFound("not a member of that conversation")
            previous = r.read_seq
            if seq <= previous:
                return ReadResult(previous, previous, [])
            await conn.execute(
                update(cm).where(and_(cm.c.conv == conv, cm.c.user_id == user_id)).values(read_seq=seq)
            )
            burn_rows = (
                await conn.execute(
                    update(m)
                    .where(
                        and_(
                            m.c.conv == conv,
                            m.c.seq > previous,
                            m.c.seq <= seq,
                            m.c.burn_s.is_not(None),
                            m.c.burn_at.is_(None),
                            m.c.sender != user_id,
                        )
                    )
                    .values(burn_at=now + m.c.burn_s * 1000)
                    .returning(m.c.seq, m.c.burn_at)
                )
            ).all()
        return ReadResult(previous, seq, [(b.seq, b.burn_at) for b in burn_rows])

    async def recall(self, conv: str, seq: int) -> None:
        m = s.messages
        async with self._engines.write.begin() as conn:
            await conn.execute(
                update(m)
                .where(and_(m.c.conv == conv, m.c.seq == seq))
                .values(kind=RECALLED, body="{}", burn_at=None, burn_s=None)
            )

    async def claim_due_burns(self, now: int, limit: int) -> list[tuple[str, int]]:
        m = s.messages
        due_q = select(m.c.conv, m.c.seq).where(and_(m.c.burn_at.is_not(None), m.c.burn_at <= now)).limit(limit)
        # Look first on a reader: the sweep runs every second and must not take the
        # write lock (and stall the message appender) when nothing is due.
        async with self._engines.read.connect() as conn:
            due = (await conn.execute(due_q)).all()
        if not due:
            return []
        async with self._engines.write.begin() as conn:
            keys = [(d.conv, d.seq) for d in due]
            res = await conn.execute(
                update(m)
                .where(and_(_pairs(m.c.conv, m.c.seq, keys), m.c.burn_at.is_not(None)))
                .values(kind=BURNED, body="{}", burn_at=None)
                .returning(m.c.conv, m.c.seq)
            )
            return [(r.conv, r.seq) for r in res]

    async def conversation_max_seq(self, conv: str) -> int | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(s.conversations.c.max_seq).where(s.conversations.c.id == conv))).first()
        return r.max_seq if r else None

    # --- membership
    async def conv_members(self, conv: str) -> list[str]:
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(select(s.conv_members.c.user_id).where(s.conv_members.c.conv == conv))
            return [r.user_id for r in rows]

    async def is_member(self, conv: str, user_id: str) -> bool:
        cm = s.conv_members
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(cm.c.role).where(and_(cm.c.conv == conv, cm.c.user_id == user_id)))).first()
        return r is not None

    # --- groups
    async def create_group(self, group: Group, members: list[str], now: int) -> None:
        conv = f"g:{group.id}"
        async with self._engines.write.begin() as conn:
            await conn.execute(
                s.groups.insert().values(
                    id=group.id,
                    name=group.name,
                    owner_id=group.owner_id,
                    created_at=group.created_at,
                    settings=orjson.dumps(group.settings).decode(),
                    kind=group.kind,
                    announcement=group.announcement,
                    name_key=name_key(group.name),
                    listed=findable(group.kind, group.settings, by_id=False),
                )
            )
            await conn.execute(
                s.conversations.insert().values(id=conv, kind="g", max_seq=0, last_ts=now, created_at=now)
            )
            rows = [
                {"conv": conv, "user_id": u, "role": "owner" if u == group.owner_id else "member", "read_seq": 0, "joined_at": now}
                for u in dict.fromkeys([group.owner_id, *members])
            ]
            for i in range(0, len(rows), _IN_CHUNK):
                await conn.execute(s.conv_members.insert(), rows[i : i + _IN_CHUNK])
        self._known_convs.add(conv)
        if self._appender is not None:
            self._appender.note_conv(conv)

    async def get_group(self, group_id: str) -> Group | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(s.groups).where(s.groups.c.id == group_id))).first()
        return _row_to_group(r) if r else None

    async def group_state(self, group_id: str) -> GroupState | None:
        cm = s.conv_members
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(s.groups).where(s.groups.c.id == group_id))).first()
            if r is None:
                return None
            rows = await conn.execute(
                select(cm.c.user_id, cm.c.role, cm.c.joined_at, cm.c.muted_until).where(cm.c.conv == f"g:{group_id}")
            )
            members = {m.user_id: Member(m.user_id, m.role, m.joined_at, m.muted_until) for m in rows}
        return GroupState(_row_to_group(r), members)

    async def user_groups(self, user_id: str) -> list[tuple[Group, str]]:
        g, cm = s.groups, s.conv_members
        async with self._engines.read.connect() as conn:
            roles = {
                r.conv[2:]: r.role
                for r in await conn.execute(
                    select(cm.c.conv, cm.c.role).where(and_(cm.c.user_id == user_id, cm.c.conv.startswith("g:")))
                )
            }
            ids = list(roles)
            out: list[tuple[Group, str]] = []
            for i in range(0, len(ids), _IN_CHUNK):
                for r in await conn.execute(select(g).where(g.c.id.in_(ids[i : i + _IN_CHUNK]))):
                    out.append((_row_to_group(r), roles[r.id]))
        out.sort(key=lambda gr: gr[0].created_at)
        return out

    async def search_groups(self, name_part: str, *, limit: int) -> list[tuple[Group, int]]:
        g, cm = s.groups, s.conv_members
        key = name_key(name_part).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = (
            select(g)
            .where(and_(g.c.listed.is_(True), g.c.name_key.like(f"%{key}%", escape="\\")))
            .order_by(g.c.created_at.desc(), g.c.id)
            .limit(limit)
        )
        async with self._engines.read.connect() as conn:
            found = [_row_to_group(r) for r in await conn.execute(q)]
            if not found:
                return []
            # counted for the page only
            convs = [f"g:{x.id}" for x in found]
            counts = {
                r.conv: r.n
                for r in await conn.execute(
                    select(cm.c.conv, func.count().label("n")).where(cm.c.conv.in_(convs)).group_by(cm.c.conv)
                )
            }
        return [(x, counts.get(f"g:{x.id}", 0)) for x in found]

    async def group_members(self, group_id: str, *, after: str | None, limit: int) -> list[Member]:
        cm = s.conv_members
        q = select(cm.c.user_id, cm.c.role, cm.c.joined_at, cm.c.muted_until).where(cm.c.conv == f"g:{group_id}")
        if after is not None:
            q = q.where(cm.c.user_id > after)
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(q.order_by(cm.c.user_id).limit(limit))
            return [Member(r.user_id, r.role, r.joined_at, r.muted_until) for r in rows]

    async def update_group(self, group_id: str, **values: Any) -> None:
        g = s.groups
        async with self._engines.write.begin() as conn:
            if "name" in values:
                values["name_key"] = name_key(values["name"])
            if "settings" in values or "dismissed_at" in values:
                # whether search lists it follows from the type, the settings and dismissal
                row = (
                    await conn.execute(select(g.c.kind, g.c.settings, g.c.dismissed_at).where(g.c.id == group_id))
                ).one_or_none()
                if row is not None:
                    settings = values.get("settings", orjson.loads(row.settings))
                    dismissed = values.get("dismissed_at", row.dismissed_at)
                    values["listed"] = dismissed is None and findable(row.kind, settings, by_id=False)
            if "settings" in values:
                values["settings"] = orjson.dumps(values["settings"]).decode()
            await conn.execute(update(g).where(g.c.id == group_id).values(**values))

    async def add_members(self, group_id: str, user_ids: list[str], now: int, *, limit: int) -> list[str]:
        cm = s.conv_members
        conv = f"g:{group_id}"
        async with self._engines.write.begin() as conn:
            if self._dialect == "postgresql":  # concurrent invitations must not pass the limit
                await conn.execute(select(s.groups.c.id).where(s.groups.c.id == group_id).with_for_update())
            present = set()
            for i in range(0, len(user_ids), _IN_CHUNK):
                rows = await conn.execute(
                    select(cm.c.user_id).where(and_(cm.c.conv == conv, cm.c.user_id.in_(user_ids[i : i + _IN_CHUNK])))
                )
                present.update(r.user_id for r in rows)
            new = [u for u in dict.fromkeys(user_ids) if u not in present]
            count = (await conn.execute(select(func.count()).where(cm.c.conv == conv))).scalar_one()
            if count + len(new) > limit:
                raise BadRequest(f"a group has at most {limit} members ({count} now)")
            rows_in = [{"conv": conv, "user_id": u, "role": "member", "read_seq": 0, "joined_at": now} for u in new]
            for i in range(0, len(rows_in), _IN_CHUNK):
                await conn.execute(cm.insert(), rows_in[i : i + _IN_CHUNK])
        return new

    async def remove_member(self, group_id: str, user_id: str) -> bool:
        cm = s.conv_members
        async with self._engines.write.begin() as conn:
            res = await conn.execute(cm.delete().where(and_(cm.c.conv == f"g:{group_id}", cm.c.user_id == user_id)))
        return res.rowcount > 0

    async def set_member(self, group_id: str, user_id: str, **values: Any) -> bool:
        cm = s.conv_members
        async with self._engines.write.begin() as conn:
            res = await conn.execute(
                update(cm).where(and_(cm.c.conv == f"g:{group_id}", cm.c.user_id == user_id)).values(**values)
            )
        return res.rowcount > 0

    async def transfer_ownership(self, group_id: str, old_owner: str, new_owner: str) -> None:
        cm = s.conv_members
        conv = f"g:{group_id}"
        async with self._engines.write.begin() as conn:
            await conn.execute(update(s.groups).where(s.groups.c.id == group_id).values(owner_id=new_owner))
            await conn.execute(update(cm).where(and_(cm.c.conv == conv, cm.c.user_id == old_owner)).values(role="admin"))
            res = await conn.execute(
                update(cm).where(and_(cm.c.conv == conv, cm.c.user_id == new_owner)).values(role="owner", muted_until=None)
            )
            if res.rowcount == 0:
                raise BadRequest("the new owner must be a member of the group")

    async def add_group_request(self, request: GroupRequest) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(s.group_requests.insert().values(**asdict(request)))  # fields = columns

    async def get_group_request(self, request_id: str) -> GroupRequest | None:
        gr = s.group_requests
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(gr).where(gr.c.id == request_id))).first()
        return _row_to_request(r) if r else None

    async def group_requests(self, group_id: str, status: str = "pending") -> list[GroupRequest]:
        gr = s.group_requests
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(
                select(gr).where(and_(gr.c.group_id == group_id, gr.c.status == status)).order_by(gr.c.created_at)
            )
            return [_row_to_request(r) for r in rows]

    async def close_group_request(self, request_id: str, status: str, by: str, now: int) -> bool:
        gr = s.group_requests
        async with self._engines.write.begin() as conn:
            res = await conn.execute(
                update(gr)
                .where(and_(gr.c.id == request_id, gr.c.status == "pending"))
                .values(status=status, handled_by=by, handled_at=now)
            )
        return res.rowcount > 0

    async def count_messages(self) -> int:
        async with self._engines.read.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(s.messages))).scalar_one())


