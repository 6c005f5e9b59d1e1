"""SqlUsers and SqlTokens: accounts and their refresh tokens (logins), on SQL."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from semot.domain.records import RefreshToken, User
from semot.domain.users import username_key
from semot.errors import Conflict
from semot.storage.base import TokenStorage, UserStorage
from semot.storage.sql import schema as s
from semot.storage.sql.database import IN_CHUNK, SqlDatabase


def _row_to_user(r: Any) -> User:
    return User(
        id=r.id,
        username=r.username,
        display_name=r.display_name,
        password_hash=r.password_hash,
        is_admin=bool(r.is_admin),
        disabled=bool(r.disabled),
        created_at=r.created_at,
        avatar_file_id=r.avatar_file_id,
    )


def _row_to_token(r: Any) -> RefreshToken:
    return RefreshToken(r.token_hash, r.user_id, r.family, r.expires_at, r.used_at, bool(r.revoked))


class SqlUsers(UserStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines
        self._insert = db.insert  # the dialect's INSERT (ON CONFLICT DO NOTHING)

    async def create_user(self, user: User) -> None:
        try:
            async with self._engines.write.begin() as conn:
                await conn.execute(
                    s.users.insert().values(
                        id=user.id,
                        username=user.username,
                        username_key=username_key(user.username),
                        display_name=user.display_name,
                        password_hash=user.password_hash,
                        is_admin=user.is_admin,
                        disabled=user.disabled,
                        created_at=user.created_at,
                        avatar_file_id=user.avatar_file_id,
                    )
                )
        except IntegrityError:
            raise Conflict("that username is already taken") from None

    async def get_user(self, user_id: str) -> User | None:
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(s.users).where(s.users.c.id == user_id))).first()
        return _row_to_user(r) if r else None

    async def get_user_by_username(self, username: str) -> User | None:
        u = s.users.c
        exact = case((u.username == username, 0), else_=1)
        query = select(s.users).where(or_(u.username_key == username_key(username), u.username == username))
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(query.order_by(exact).limit(1))).first()
        return _row_to_user(r) if r else None

    async def existing_user_ids(self, user_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(user_ids))
        found: set[str] = set()
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), IN_CHUNK):
                chunk = ids[i : i + IN_CHUNK]
                rows = await conn.execute(select(s.users.c.id).where(s.users.c.id.in_(chunk)))
                found.update(r.id for r in rows)
        return found

    async def users_by_ids(self, user_ids: Iterable[str]) -> list[User]:
        ids = list(dict.fromkeys(user_ids))
        out: list[User] = []
        async with self._engines.read.connect() as conn:
            for i in range(0, len(ids), IN_CHUNK):
                rows = await conn.execute(select(s.users).where(s.users.c.id.in_(ids[i : i + IN_CHUNK])))
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

    async def set_user_profile(self, user_id: str, *, display_name: str, avatar_file_id: str | None) -> bool:
        return await self._update_user(user_id, display_name=display_name, avatar_file_id=avatar_file_id)

    async def set_password_hash(self, user_id: str, password_hash: str) -> bool:
        return await self._update_user(user_id, password_hash=password_hash)

    # --- bulk import
    async def users_by_usernames(self, usernames: Iterable[str]) -> list[User]:
        names = list(dict.fromkeys(usernames))
        u = s.users.c
        out: dict[str, User] = {}
        async with self._engines.read.connect() as conn:
            for i in range(0, len(names), IN_CHUNK):
                chunk = names[i : i + IN_CHUNK]
                keys = list({username_key(n) for n in chunk})
                query = select(s.users).where(or_(u.username_key.in_(keys), u.username.in_(chunk)))
                out.update((r.id, _row_to_user(r)) for r in await conn.execute(query))
        return list(out.values())

    async def create_users(self, users: list[User]) -> list[str]:
        if not users:
            return []
        rows = [
            {
                "id": x.id,
                "username": x.username,
                "username_key": username_key(x.username),
                "display_name": x.display_name,
                "password_hash": x.password_hash,
                "is_admin": x.is_admin,
                "disabled": x.disabled,
                "created_at": x.created_at,
                "avatar_file_id": x.avatar_file_id,
            }
            for x in users
        ]
        inserted: list[str] = []
        # ON CONFLICT DO NOTHING: a name taken meanwhile skips its row, not the batch
        stmt = self._insert(s.users).on_conflict_do_nothing().returning(s.users.c.id)
        async with self._engines.write.begin() as conn:
            for i in range(0, len(rows), IN_CHUNK):
                result = await conn.execute(stmt, rows[i : i + IN_CHUNK])
                inserted.extend(result.scalars().all())
        return inserted


class SqlTokens(TokenStorage):
    def __init__(self, db: SqlDatabase) -> None:
        self._engines = db.engines

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
            before = _row_to_token(r)
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

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        t = s.refresh_tokens
        async with self._engines.read.connect() as conn:
            r = (await conn.execute(select(t).where(t.c.token_hash == token_hash))).first()
        return _row_to_token(r) if r else None

    async def revoke_login(self, family: str) -> None:
        async with self._engines.write.begin() as conn:
            await conn.execute(update(s.refresh_tokens).where(s.refresh_tokens.c.family == family).values(revoked=True))

    async def revoke_other_logins(self, user_id: str, keep: str) -> list[str]:
        t = s.refresh_tokens
        others = and_(t.c.user_id == user_id, t.c.family != keep)
        async with self._engines.write.begin() as conn:
            alive = select(t.c.family).where(others).group_by(t.c.family).having(func.count(case((t.c.revoked, 1))) == 0)
            families = [r.family for r in await conn.execute(alive)]
            await conn.execute(update(t).where(others, t.c.revoked.is_(False)).values(revoked=True))
        return families

    async def logins_alive(self, logins: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        t = s.refresh_tokens
        wanted = set(logins)
        families = sorted({family for _, family in wanted})
        alive: set[tuple[str, str]] = set()
        async with self._engines.read.connect() as conn:
            for i in range(0, len(families), IN_CHUNK):
                query = (
                    select(t.c.user_id, t.c.family, func.count(case((t.c.revoked, 1))))
                    .where(t.c.family.in_(families[i : i + IN_CHUNK]))
                    .group_by(t.c.user_id, t.c.family)
                )
                for user_id, family, revoked in await conn.execute(query):
                    if not revoked and (user_id, family) in wanted:
                        alive.add((user_id, family))
        return alive

    async def login_alive(self, user_id: str, family: str) -> bool:
        t = s.refresh_tokens
        query = select(func.count(), func.count(case((t.c.revoked, 1)))).where(
            and_(t.c.family == family, t.c.user_id == user_id)
        )
        async with self._engines.read.connect() as conn:
            tokens, revoked = (await conn.execute(query)).one()
        return bool(tokens) and not revoked
