"""SqlContacts: the ContactsStorage interface on SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from sqlalchemy import and_, delete, literal_column, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError

from semot.domain.records import BlockEntry, ContactTag, Friend, FriendRequest
from semot.errors import Conflict
from semot.storage.contacts import ContactsStorage
from semot.storage.outbox import OutboxWants, friend_item
from semot.storage.sql import schema as s
from semot.storage.sql.database import IN_CHUNK, SqlDatabase
from semot.storage.sql.outbox_store import write_outbox


def _request(r: Any) -> FriendRequest:
    return FriendRequest(r.id, r.from_user, r.to_user, r.message, r.status, r.created_at, r.handled_at)


def _padded(ids: list[str]) -> list[str]:
    """`ids` grown to a power of two by repeating the last: an `IN (...)` then has one of
    ten lengths, so the driver's prepared-statement cache (SQLite: 128 per connection)
    holds ten texts, not one per batch size. Repeats change no result."""
    size = 1 << max(0, len(ids) - 1).bit_length()
    return ids + ids[-1:] * (size - len(ids))


class SqlContacts(ContactsStorage):
    def __init__(self, db: SqlDatabase, outbox: OutboxWants | None = None) -> None:
        self._engines = db.engines
        self._insert = db.insert  # for ON CONFLICT DO NOTHING
        self.outbox = outbox or OutboxWants()  # webhook events written with the change (storage/outbox.py)

    async def user_settings(self, user_id: str) -> dict[str, Any]:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(s.users.c.settings).where(s.users.c.id == user_id))).first()
        return orjson.loads(r.settings) if r else {}

    async def set_user_settings(self, user_id: str, settings: dict[str, Any]) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(
                update(s.users).where(s.users.c.id == user_id).values(settings=orjson.dumps(settings).decode())
            )

    def _friends_query(self, user_id: str) -> Any:
        f, u = s.friends, s.users
        return (
            select(f.c.friend_id, f.c.remark, f.c.created_at, u.c.display_name)
            .join(u, u.c.id == f.c.friend_id)
            .where(f.c.user_id == user_id)
        )

    async def friends(self, user_id: str) -> list[Friend]:
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(self._friends_query(user_id).order_by(s.friends.c.friend_id))
            return [Friend(r.friend_id, r.display_name, r.remark, r.created_at) for r in rows]

    async def friend(self, user_id: str, friend_id: str) -> Friend | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(self._friends_query(user_id).where(s.friends.c.friend_id == friend_id))).first()
        return Friend(r.friend_id, r.display_name, r.remark, r.created_at) if r else None

    async def friend_ids(self, user_id: str) -> set[str]:
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(select(s.friends.c.friend_id).where(s.friends.c.user_id == user_id))
            return {r.friend_id for r in rows}

    async def add_friendship(self, a: str, b: str, now: int) -> None:
        fr = s.friend_requests
        async with self._engines.write.begin() as conn:
            made = await conn.execute(
                self._insert(s.friends)
                .values([{"user_id": a, "friend_id": b, "remark": "", "created_at": now},
                         {"user_id": b, "friend_id": a, "remark": "", "created_at": now}])
                .on_conflict_do_nothing()
            )
            await conn.execute(
                update(fr)
                .where(
                    and_(
                        fr.c.status == "pending",
                        or_(and_(fr.c.from_user == a, fr.c.to_user == b), and_(fr.c.from_user == b, fr.c.to_user == a)),
                    )
                )
                .values(status="accepted", handled_at=now)
            )
            wants_event = self.outbox.wants("friend.added") and made.rowcount > 0
            if wants_event:  # the webhook event, same transaction (storage/outbox.py)
                await write_outbox(conn, [friend_item(a, b, now)])
        if wants_event:
            self.outbox.written()

    async def remove_friendship(self, a: str, b: str) -> bool:
        f, tm, t = s.friends, s.contact_tag_members, s.contact_tags
        async with self._engines.write.begin() as conn:
            res = await conn.execute(
                delete(f).where(or_(and_(f.c.user_id == a, f.c.friend_id == b), and_(f.c.user_id == b, f.c.friend_id == a)))
            )
            for owner, other in ((a, b), (b, a)):
                owned = select(t.c.id).where(t.c.user_id == owner).scalar_subquery()
                await conn.execute(delete(tm).where(and_(tm.c.friend_id == other, tm.c.tag_id.in_(owned))))
        return res.rowcount > 0

    async def set_remark(self, user_id: str, friend_id: str, remark: str) -> bool:
        f = s.friends
        async with self._engines.write.begin() as conn:
            res = await conn.execute(
                update(f).where(and_(f.c.user_id == user_id, f.c.friend_id == friend_id)).values(remark=remark)
            )
        return res.rowcount > 0

    async def add_friend_request(self, request: FriendRequest) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(s.friend_requests.insert().values(**asdict(request)))  # fields = columns

    async def friend_request(self, request_id: str) -> FriendRequest | None:
        fr = s.friend_requests
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(fr).where(fr.c.id == request_id))).first()
        return _request(r) if r else None

    async def pending_request(self, from_user: str, to_user: str) -> FriendRequest | None:
        fr = s.friend_requests
        q = select(fr).where(and_(fr.c.from_user == from_user, fr.c.to_user == to_user, fr.c.status == "pending"))
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(q)).first()
        return _request(r) if r else None

    async def pending_requests(self, user_id: str) -> tuple[list[FriendRequest], list[FriendRequest]]:
        fr = s.friend_requests
        async with self._engines.read.connect() as conn:
            incoming = await conn.execute(
                select(fr).where(and_(fr.c.to_user == user_id, fr.c.status == "pending")).order_by(fr.c.created_at, fr.c.id)
            )
            inc = [_request(r) for r in incoming]
            outgoing = await conn.execute(
                select(fr).where(and_(fr.c.from_user == user_id, fr.c.status == "pending")).order_by(fr.c.created_at, fr.c.id)
            )
            return inc, [_request(r) for r in outgoing]

    async def settle_friend_request(self, request_id: str, status: str, now: int) -> bool:
        fr = s.friend_requests
        async with self._engines.write.begin() as conn:
            res = await conn.execute(
                update(fr).where(and_(fr.c.id == request_id, fr.c.status == "pending")).values(status=status, handled_at=now)
            )
        return res.rowcount > 0

    async def tags(self, user_id: str) -> list[ContactTag]:
        t, tm = s.contact_tags, s.contact_tag_members
        async with self._engines.read.connect() as conn:
            tags = {r.id: ContactTag(r.id, r.name, r.created_at) for r in await conn.execute(select(t).where(t.c.user_id == user_id))}
            if tags:
                rows = await conn.execute(select(tm.c.tag_id, tm.c.friend_id).where(tm.c.tag_id.in_(list(tags))))
                for r in rows:
                    tags[r.tag_id].members.append(r.friend_id)
        return sorted(tags.values(), key=lambda x: (x.name, x.id))

    async def create_tag(self, user_id: str, tag: ContactTag) -> None:
        try:
            async with self._engines.write.begin() as conn:
                await conn.execute(s.contact_tags.insert().values(id=tag.id, user_id=user_id, name=tag.name, created_at=tag.created_at))
                if tag.members:
                    await conn.execute(
                        s.contact_tag_members.insert(), [{"tag_id": tag.id, "friend_id": m} for m in dict.fromkeys(tag.members)]
                    )
        except IntegrityError:
            raise Conflict(f"you already have a tag named {tag.name!r}") from None

    async def update_tag(self, user_id: str, tag_id: str, *, name: str | None, members: list[str] | None) -> bool:
        t, tm = s.contact_tags, s.contact_tag_members
        try:
            async with self._engines.write.begin() as conn:
                mine = (await conn.execute(select(t.c.id).where(and_(t.c.id == tag_id, t.c.user_id == user_id)))).first()
                if mine is None:
                    return False
                if name is not None:
                    await conn.execute(update(t).where(t.c.id == tag_id).values(name=name))
                if members is not None:
                    await conn.execute(delete(tm).where(tm.c.tag_id == tag_id))
                    if members:
                        await conn.execute(tm.insert(), [{"tag_id": tag_id, "friend_id": m} for m in dict.fromkeys(members)])
        except IntegrityError:
            raise Conflict(f"you already have a tag named {name!r}") from None
        return True

    async def delete_tag(self, user_id: str, tag_id: str) -> bool:
        t, tm = s.contact_tags, s.contact_tag_members
        async with self._engines.write.begin() as conn:
            res = await conn.execute(delete(t).where(and_(t.c.id == tag_id, t.c.user_id == user_id)))
            if res.rowcount:
                await conn.execute(delete(tm).where(tm.c.tag_id == tag_id))
        return res.rowcount > 0

    async def block(self, user_id: str, target: str, now: int) -> bool:
        async with self._engines.write.begin() as conn:
            res = await conn.execute(
                self._insert(s.blocks).values(user_id=user_id, blocked_id=target, created_at=now).on_conflict_do_nothing()
            )
        return res.rowcount > 0

    async def unblock(self, user_id: str, target: str) -> bool:
        b = s.blocks
        async with self._engines.write.begin() as conn:
            res = await conn.execute(delete(b).where(and_(b.c.user_id == user_id, b.c.blocked_id == target)))
        return res.rowcount > 0

    async def blockers(self, user_id: str, among: list[str]) -> set[str]:
        b = s.blocks
        out: set[str] = set()
        async with self._engines.read.connect() as conn:
            for i in range(0, len(among), 500):  # bounded IN lists
                chunk = among[i : i + 500]
                q = select(b.c.user_id).where(and_(b.c.blocked_id == user_id, b.c.user_id.in_(chunk)))
                out.update(r.user_id for r in await conn.execute(q))
        return out

    async def contact_sets(self, user_ids: list[str], *, friends: bool = True) -> dict[str, tuple[set[str], set[str]]]:
        """Friends and blocks of many users in one statement per chunk (a presence flush
        asked two queries per user before)."""
        f, b = s.friends, s.blocks
        out: dict[str, tuple[set[str], set[str]]] = {u: (set(), set()) for u in user_ids}
        ids = list(out)
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), IN_CHUNK):
                chunk = _padded(ids[i : i + IN_CHUNK])
                blocks = select(literal_column("1").label("k"), b.c.user_id.label("owner"), b.c.blocked_id.label("other"))
                q: Any = blocks.where(b.c.user_id.in_(chunk))
                if friends:  # the labels of a UNION's first SELECT name its columns
                    q = union_all(
                        select(literal_column("0").label("k"), f.c.user_id.label("owner"), f.c.friend_id.label("other"))
                        .where(f.c.user_id.in_(chunk)),
                        q,
                    )
                for r in await conn.execute(q):
                    out[r.owner][r.k].add(r.other)
        return out

    async def user_settings_many(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        u = s.users
        out: dict[str, dict[str, Any]] = {uid: {} for uid in user_ids}
        ids = list(out)
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), IN_CHUNK):
                chunk = _padded(ids[i : i + IN_CHUNK])
                rows = await conn.execute(select(u.c.id, u.c.settings).where(u.c.id.in_(chunk)))
                for r in rows:
                    out[r.id] = orjson.loads(r.settings)
        return out

    async def blacklist(self, user_id: str) -> list[BlockEntry]:
        b = s.blocks
        async with self._engines.read.connect() as conn:
            rows = await conn.execute(select(b.c.blocked_id, b.c.created_at).where(b.c.user_id == user_id).order_by(b.c.blocked_id))
            return [BlockEntry(r.blocked_id, r.created_at) for r in rows]
