"""SqlGroups: groups, their members and join requests, on SQL.

A write and its `system` notices share one transaction: the notices are numbered by
the message store's own append code on the write's connection, so they take their seqs
under the same conversation row lock as every other message (gap-free, across nodes).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from sqlalchemy import BigInteger, and_, func, literal, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from semot.domain.groups import findable, name_key
from semot.domain.records import (
    AddMembers,
    CreateGroup,
    Group,
    GroupRequest,
    GroupState,
    GroupWrite,
    Member,
    NoticesFor,
    RemoveMember,
    SetMember,
    TransferOwnership,
    UpdateGroup,
    WriteOutcome,
)
from semot.errors import BadRequest
from semot.ids import now_ms
from semot.storage.base import GroupStorage
from semot.storage.sql import schema as s
from semot.storage.sql import schema_files as fs
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.message_store import SqlMessages

_g = s.groups
_cm = s.conv_members
_gr = s.group_requests


def _row_to_group(r: Any) -> Group:
    return Group(
        r.id, r.name, r.owner_id, r.created_at, orjson.loads(r.settings), r.kind, r.announcement, r.dismissed_at,
        r.avatar_file_id,
    )


def _row_to_request(r: Any) -> GroupRequest:
    return GroupRequest(
        r.id, r.group_id, r.user_id, r.inviter, r.message, r.status, r.created_at, r.handled_by, r.handled_at
    )


def _member_cols() -> tuple[Any, ...]:
    return (_cm.c.user_id, _cm.c.role, _cm.c.joined_at, _cm.c.muted_until)


class SqlGroups(GroupStorage):
    def __init__(self, db: SqlDatabase, messages: SqlMessages) -> None:
        self._engines = db.engines
        self._dialect = db.dialect
        self._messages = messages
        self._insert = db.insert

    # --- writes
    async def write(self, change: GroupWrite, notices: NoticesFor | None = None) -> WriteOutcome:
        async with self._engines.write.begin() as conn:
            outcome = await self._apply(conn, change)
            batch = notices(outcome) if notices is not None else []
            if batch:
                outcome.notices = await self._messages.append_in(conn, batch)  # with their webhook events
        if batch:
            self._messages.outbox.written()
        return outcome

    async def _apply(self, conn: AsyncConnection, change: GroupWrite) -> WriteOutcome:
        match change:
            case CreateGroup():
                await self._create(conn, change)
                return WriteOutcome(True, added=list(dict.fromkeys(change.members)))
            case AddMembers():
                added = await self._add_members(conn, change)
                return WriteOutcome(bool(added), added=added)
            case RemoveMember(group_id, user_id):
                res = await conn.execute(
                    _cm.delete().where(and_(_cm.c.conv == f"g:{group_id}", _cm.c.user_id == user_id))
                )
                if res.rowcount > 0:
                    await self._depart(conn, f"g:{group_id}", now_ms(), user_id)
                return WriteOutcome(res.rowcount > 0)
            case SetMember(group_id, user_id, values):
                res = await conn.execute(
                    update(_cm).where(and_(_cm.c.conv == f"g:{group_id}", _cm.c.user_id == user_id)).values(**values)
                )
                return WriteOutcome(res.rowcount > 0)
            case UpdateGroup(group_id, values):
                changed = await self._update(conn, group_id, dict(values))
                if changed and values.get("dismissed_at") is not None:
                    await self._depart(conn, f"g:{group_id}", values["dismissed_at"])
                return WriteOutcome(changed)
            case TransferOwnership(group_id, old_owner, new_owner):
                await self._transfer(conn, group_id, old_owner, new_owner)
                return WriteOutcome(True)
        raise TypeError(f"not a group write: {change!r}")  # pragma: no cover

    async def _depart(self, conn: AsyncConnection, conv: str, left_at: int, user_id: str | None = None) -> None:
        """Remember when `user_id` (None: every member, the group being dismissed) left
        `conv`: the files of messages sent before then stay readable to them."""
        d = fs.conv_departures
        if user_id is not None:
            stmt = self._insert(d).values(conv=conv, user_id=user_id, left_at=left_at)
        else:
            rows = select(_cm.c.conv, _cm.c.user_id, literal(left_at, BigInteger)).where(_cm.c.conv == conv)
            stmt = self._insert(d).from_select(["conv", "user_id", "left_at"], rows)
        upsert = stmt.on_conflict_do_update(index_elements=["conv", "user_id"], set_={"left_at": stmt.excluded.left_at})
        await conn.execute(upsert)

    async def _create(self, conn: AsyncConnection, change: CreateGroup) -> None:
        group, now = change.group, change.now
        conv = f"g:{group.id}"
        await conn.execute(
            _g.insert().values(
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
        await conn.execute(s.conversations.insert().values(id=conv, kind="g", max_seq=0, last_ts=now, created_at=now))
        rows = [
            {"conv": conv, "user_id": u, "role": "owner" if u == group.owner_id else "member", "read_seq": 0, "joined_at": now}
            for u in dict.fromkeys([group.owner_id, *change.members])
        ]
        for i in range(0, len(rows), IN_CHUNK):
            await conn.execute(_cm.insert(), rows[i : i + IN_CHUNK])

    async def _add_members(self, conn: AsyncConnection, change: AddMembers) -> list[str]:
        group_id, user_ids = change.group_id, change.user_ids
        conv = f"g:{group_id}"
        if self._dialect == "postgresql":  # concurrent invitations must not pass the limit
            await conn.execute(select(_g.c.id).where(_g.c.id == group_id).with_for_update())
        present: set[str] = set()
        for i in range(0, len(user_ids), IN_CHUNK):
            rows = await conn.execute(
                select(_cm.c.user_id).where(and_(_cm.c.conv == conv, _cm.c.user_id.in_(user_ids[i : i + IN_CHUNK])))
            )
            present.update(r.user_id for r in rows)
        new = [u for u in dict.fromkeys(user_ids) if u not in present]
        count = (await conn.execute(select(func.count()).where(_cm.c.conv == conv))).scalar_one()
        if count + len(new) > change.limit:
            raise BadRequest(f"a group has at most {change.limit} members ({count} now)")
        rows_in = [{"conv": conv, "user_id": u, "role": "member", "read_seq": 0, "joined_at": change.now} for u in new]
        for i in range(0, len(rows_in), IN_CHUNK):
            await conn.execute(_cm.insert(), rows_in[i : i + IN_CHUNK])
        return new

    @staticmethod
    async def _update(conn: AsyncConnection, group_id: str, values: dict[str, Any]) -> bool:
        if "name" in values:
            values["name_key"] = name_key(values["name"])
        if "settings" in values or "dismissed_at" in values:
            # whether search lists it follows from the type, the settings and dismissal
            row = (
                await conn.execute(select(_g.c.kind, _g.c.settings, _g.c.dismissed_at).where(_g.c.id == group_id))
            ).one_or_none()
            if row is not None:
                settings = values.get("settings", orjson.loads(row.settings))
                dismissed = values.get("dismissed_at", row.dismissed_at)
                values["listed"] = dismissed is None and findable(row.kind, settings, by_id=False)
        if "settings" in values:
            values["settings"] = orjson.dumps(values["settings"]).decode()
        res = await conn.execute(update(_g).where(_g.c.id == group_id).values(**values))
        return res.rowcount > 0

    @staticmethod
    async def _transfer(conn: AsyncConnection, group_id: str, old_owner: str, new_owner: str) -> None:
        conv = f"g:{group_id}"
        await conn.execute(update(_g).where(_g.c.id == group_id).values(owner_id=new_owner))
        await conn.execute(update(_cm).where(and_(_cm.c.conv == conv, _cm.c.user_id == old_owner)).values(role="admin"))
        res = await conn.execute(
            update(_cm).where(and_(_cm.c.conv == conv, _cm.c.user_id == new_owner)).values(role="owner", muted_until=None)
        )
        if res.rowcount == 0:
            raise BadRequest("the new owner must be a member of the group")

    # --- reads
    async def get_group(self, group_id: str) -> Group | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_g).where(_g.c.id == group_id))).first()
        return _row_to_group(r) if r else None

    async def group_state(self, group_id: str) -> GroupState | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_g).where(_g.c.id == group_id))).first()
            if r is None:
                return None
            rows = await conn.execute(select(*_member_cols()).where(_cm.c.conv == f"g:{group_id}"))
            members = {m.user_id: Member(m.user_id, m.role, m.joined_at, m.muted_until) for m in rows}
        return GroupState(_row_to_group(r), members)

    async def user_groups(self, user_id: str) -> list[tuple[Group, str]]:
        async with self._engines.read.connect() as conn:
            roles = {
                r.conv[2:]: r.role
                for r in await conn.execute(
                    select(_cm.c.conv, _cm.c.role).where(and_(_cm.c.user_id == user_id, _cm.c.conv.startswith("g:")))
                )
            }
            ids = list(roles)
            out: list[tuple[Group, str]] = []
            for i in range(0, len(ids), IN_CHUNK):
                for r in await conn.execute(select(_g).where(_g.c.id.in_(ids[i : i + IN_CHUNK]))):
                    out.append((_row_to_group(r), roles[r.id]))
        out.sort(key=lambda gr: gr[0].created_at)
        return out

    async def search_groups(self, name_part: str, *, limit: int) -> list[tuple[Group, int]]:
        key = name_key(name_part).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = (
            select(_g)
            .where(and_(_g.c.listed.is_(True), _g.c.name_key.like(f"%{key}%", escape="\\")))
            .order_by(_g.c.created_at.desc(), _g.c.id)
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
                    select(_cm.c.conv, func.count().label("n")).where(_cm.c.conv.in_(convs)).group_by(_cm.c.conv)
                )
            }
        return [(x, counts.get(f"g:{x.id}", 0)) for x in found]

    async def admin_groups(
        self, *, query: str | None, kind: str | None, dismissed: bool | None, offset: int, limit: int
    ) -> tuple[list[tuple[Group, int]], int]:
        conds: list[Any] = []
        if query:
            exact = await self._admin_exact(query, kind, dismissed)
            if exact is not None:
                return (exact if offset == 0 else []), 1
            key = name_key(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conds.append(_g.c.name_key.like(f"%{key}%", escape="\\"))
        if kind is not None:
            conds.append(_g.c.kind == kind)
        if dismissed is not None:
            conds.append(_g.c.dismissed_at.is_not(None) if dismissed else _g.c.dismissed_at.is_(None))
        where = and_(true(), *conds)
        page = select(_g).where(where).order_by(_g.c.created_at.desc(), _g.c.id).offset(offset).limit(limit)
        async with self._engines.read.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(_g).where(where))).scalar_one()
            found = [_row_to_group(r) for r in await conn.execute(page)] if total > offset else []
            convs = [f"g:{x.id}" for x in found]
            counted = select(_cm.c.conv, func.count().label("n")).where(_cm.c.conv.in_(convs)).group_by(_cm.c.conv)
            counts = {r.conv: r.n for r in await conn.execute(counted)} if convs else {}
        return [(x, counts.get(f"g:{x.id}", 0)) for x in found], int(total)

    async def _admin_exact(
        self, group_id: str, kind: str | None, dismissed: bool | None
    ) -> list[tuple[Group, int]] | None:
        """The group with this exact id, if it passes the filters (one primary-key read)."""
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_g).where(_g.c.id == group_id))).first()
            if r is None:
                return None
            g = _row_to_group(r)
            if (kind is not None and g.kind != kind) or (dismissed is not None and (g.dismissed_at is not None) != dismissed):
                return None
            n = (await conn.execute(select(func.count()).where(_cm.c.conv == f"g:{group_id}"))).scalar_one()
        return [(g, int(n))]

    async def group_members(self, group_id: str, *, after: str | None, limit: int) -> list[Member]:
        q = select(*_member_cols()).where(_cm.c.conv == f"g:{group_id}")
        if after is not None:
            q = q.where(_cm.c.user_id > after)
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(q.order_by(_cm.c.user_id).limit(limit))
            return [Member(r.user_id, r.role, r.joined_at, r.muted_until) for r in rows]

    # --- join requests
    async def add_group_request(self, request: GroupRequest) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(_gr.insert().values(**asdict(request)))  # fields = columns

    async def get_group_request(self, request_id: str) -> GroupRequest | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(_gr).where(_gr.c.id == request_id))).first()
        return _row_to_request(r) if r else None

    async def group_requests(self, group_id: str, status: str = "pending") -> list[GroupRequest]:
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(
                select(_gr).where(and_(_gr.c.group_id == group_id, _gr.c.status == status)).order_by(_gr.c.created_at)
            )
            return [_row_to_request(r) for r in rows]

    async def close_group_request(self, request_id: str, status: str, by: str, now: int) -> bool:
        async with self._engines.write.begin() as conn:
            res = await conn.execute(
                update(_gr)
                .where(and_(_gr.c.id == request_id, _gr.c.status == "pending"))
                .values(status=status, handled_by=by, handled_at=now)
            )
        return res.rowcount > 0
