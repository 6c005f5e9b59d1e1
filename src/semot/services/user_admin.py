"""User administration: the admin console's list of users, creating and changing them,
passwords (set by an administrator or through a one-time link), devices, bulk actions.

What an administrator may touch is decided at the edge (api/admin_api.py asks
services/admin_access.py for the caller's permissions and department scope); this
service takes the scope as a set of departments (None: everybody) and applies it to
lists and department moves. Changes reuse the services that own them, so they have
their usual effects: disabling closes the user's sockets on every node (accounts),
a new display name is pushed to friends and co-members and re-indexed for directory
search (profiles, org), a new password ends every login (password_links).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from semot.domain import org as org_rules
from semot.domain.records import User
from semot.errors import BadRequest, Conflict, NotFound
from semot.ids import is_valid_id, now_ms
from semot.services.accounts import AccountService, check_password, check_username
from semot.services.device_records import DeviceRecorder
from semot.services.org import OrgService
from semot.services.password_links import (
    DEFAULT_LINK_TTL_S,
    MadeLink,
    PasswordLinks,
    has_password,
    unusable_password_hash,
)
from semot.services.profiles import MAX_DISPLAY_NAME, ProfileService
from semot.storage.base import Storage
from semot.storage.user_admin import UserQuery, UserSort

MAX_PAGE = 200
MAX_OFFSET = 2**53 - 1
MAX_BULK = 500
SORTS: tuple[UserSort, ...] = ("-created_at", "created_at", "username", "-username")


def clean_display_name(name: str | None, default: str) -> str:
    name = (name or "").strip()
    if len(name) > MAX_DISPLAY_NAME:
        raise BadRequest(f"display_name: at most {MAX_DISPLAY_NAME} characters")
    return name or default


def audit_view(user: User) -> dict[str, Any]:
    """What the audit log records of a user before and after a change (no secrets)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "disabled": user.disabled,
        "is_admin": user.is_admin,
    }


class UserAdmin:
    def __init__(
        self,
        storage: Storage,
        accounts: AccountService,
        recorder: DeviceRecorder,
        *,
        org: OrgService | None = None,
        profiles: ProfileService | None = None,
    ) -> None:
        self._storage = storage
        self._users = storage.users
        self._store = storage.user_admin
        self._accounts = accounts
        self._org = org
        self._profiles = profiles
        self.devices = recorder
        self.links = PasswordLinks(storage, accounts)
        self.avatar_url: Callable[[User], str | None] = (
            profiles.urls.user if profiles is not None else (lambda _user: None)
        )
        # what an account made here gets, as a registered one does (app.py wires the client
        # configuration's default friend groups: ClientSettings.seed_friend_groups)
        self.seed_new_users: Callable[[list[str]], Awaitable[None]] | None = None

    # --- for other services (the bulk import)
    async def make_password_link(
        self, user_id: str, *, created_by: str = "system", ttl_s: int = DEFAULT_LINK_TTL_S
    ) -> MadeLink:
        """A one-time link with which `user_id` sets their password (web client path
        `MadeLink.path`, to put after the server's address)."""
        return await self.links.make(user_id, created_by=created_by, ttl_s=ttl_s)

    # --- departments
    async def subtree(self, dept_id: str) -> frozenset[str]:
        """The department and every department below it (NotFound if it does not exist)."""
        if not is_valid_id(dept_id):
            raise BadRequest(f"invalid department id {dept_id!r}")
        parents = {d.id: d.parent_id for d in await self._storage.org.all_departments()}
        if dept_id not in parents:
            raise NotFound(f"no such department {dept_id!r}")
        kids: dict[str | None, list[str]] = {}
        for d, p in parents.items():
            kids.setdefault(p, []).append(d)
        out: set[str] = set()
        stack = [dept_id]
        while stack:
            d = stack.pop()
            if d not in out:
                out.add(d)
                stack.extend(kids.get(d, ()))
        return frozenset(out)

    # --- reading
    async def list_users(
        self,
        *,
        q: str | None = None,
        disabled: bool | None = None,
        admin: bool | None = None,
        department_id: str | None = None,
        scope: frozenset[str] | None = None,
        sort: str = "-created_at",
        offset: int = 0,
        limit: int = 50,
    ) -> dict[str, Any]:
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit: 1-{MAX_PAGE}")
        if not 0 <= offset <= MAX_OFFSET:
            raise BadRequest(f"offset: 0 to {MAX_OFFSET}")
        order = next((s for s in SORTS if s == sort), None)
        if order is None:
            raise BadRequest(f"sort: one of {', '.join(SORTS)}")
        text = compact = None
        if q is not None and q.strip():
            text, compact = org_rules.clean_query(q)
        depts = await self.subtree(department_id) if department_id else None
        query = UserQuery(text, compact or None, disabled, admin, depts, scope, order, offset, limit)
        users, total = await self._store.list_users(query)
        return {"users": await self.wire(users), "total": total, "offset": offset, "limit": limit}

    async def get(self, user_id: str) -> User:
        if not is_valid_id(user_id):
            raise NotFound(f"no user {user_id!r}")
        return await self._accounts.get(user_id)

    async def describe(self, user_id: str) -> dict[str, Any]:
        return (await self.wire([await self.get(user_id)]))[0]

    async def wire(self, users: list[User]) -> list[dict[str, Any]]:
        """Users as the admin API shows them: the account, online now, last seen, and
        their departments with titles (four queries for a whole page)."""
        ids = [u.id for u in users]
        online = await self.devices.online(ids) if ids else {}
        seen = await self._store.last_seen(ids) if ids else {}
        org = self._storage.org
        memberships = await org.user_memberships(ids) if ids else {}
        names = {d.id: d.name for d in await org.all_departments()} if memberships else {}
        cs = self._storage.customer_service  # customers and anonymous visitors: limited to customer service
        external = (await cs.customer_ids(ids) | await cs.visitor_ids(ids)) if ids else set()
        out = []
        for u in users:
            depts = sorted(memberships.get(u.id, []), key=lambda m: (names.get(m.department_id, ""), m.department_id))
            out.append(
                {
                    "user_id": u.id,
                    "username": u.username,
                    "display_name": u.display_name,
                    "disabled": u.disabled,
                    "is_admin": u.is_admin,
                    "created_at": u.created_at,
                    "online": online.get(u.id, False),
                    "has_password": has_password(u),
                    "last_seen": seen.get(u.id),
                    "avatar_url": self.avatar_url(u),
                    "external": u.id in external,
                    "departments": [
                        {"department_id": m.department_id, "name": names.get(m.department_id, ""), "title": m.title}
                        for m in depts
                    ],
                }
            )
        return out

    # --- changing
    async def create(
        self,
        username: str,
        password: str | None,
        display_name: str | None = None,
        *,
        department_id: str | None = None,
        title: str | None = None,
    ) -> User:
        """A new account (its id is its username, as with registration). Without a
        password it cannot sign in until a set-password link or an administrator gives
        it one. With a department it is put there (with `title`)."""
        check_username(username)
        if password is not None:
            check_password(password)
        name = clean_display_name(display_name, username)
        if self._profiles is not None and display_name:
            name = self._profiles.screen_name(username, name)  # sensitive words: 400 blocked
        if department_id is not None:
            await self.subtree(department_id)  # exists, before anything is written
        if await self._users.get_user_by_username(username) is not None:
            raise Conflict("that username is already taken")  # before the costly hash
        password_hash = await self._accounts.hasher.hash(password) if password is not None else unusable_password_hash()
        user = User(id=username, username=username, display_name=name, password_hash=password_hash, created_at=now_ms())
        await self._users.create_user(user)
        if department_id is not None and self._org is not None:
            await self._org.add_member(department_id, user.id, title)
        if self.seed_new_users is not None:
            await self.seed_new_users([user.id])
        return user

    async def set_display_name(self, user: User, display_name: str) -> User:
        name = display_name.strip()
        if not 1 <= len(name) <= MAX_DISPLAY_NAME:
            raise BadRequest(f"display_name: 1-{MAX_DISPLAY_NAME} characters, not all blank")
        if name == user.display_name:
            return user
        if self._profiles is not None:
            user = await self._profiles.update_me(user, display_name=name)  # pushes evt profile
        elif not await self._users.set_user_profile(user.id, display_name=name, avatar_file_id=user.avatar_file_id):
            raise NotFound(f"no user {user.id!r}")
        if self._org is not None:
            await self._org.reindex_user(user.id)  # directory search finds the new name
        return await self.get(user.id)

    async def set_password(self, user_id: str, password: str) -> None:
        """An administrator sets the password: every login of the user ends."""
        check_password(password)
        await self.get(user_id)
        await self.links.set_hash(user_id, await self._accounts.hasher.hash(password))

    async def set_disabled(self, user_id: str, disabled: bool) -> User:
        """Disabling ends every login and closes every socket, on every node."""
        return await self._accounts.set_disabled(user_id, disabled)

    async def set_admin(self, user_id: str, is_admin: bool) -> User:
        await self._accounts.set_admin(user_id, is_admin)
        return await self.get(user_id)

    async def move_to_department(
        self, user_id: str, department_id: str, *, scope: frozenset[str] | None, title: str | None = None
    ) -> list[str]:
        """Put the user in `department_id` and take them out of their other departments
        (those inside `scope` only: an administrator limited to departments leaves the
        rest alone). Returns the departments they were in before."""
        if self._org is None:
            raise BadRequest("the organisation directory is not available")
        await self.subtree(department_id)
        before = [m.department_id for m in (await self._storage.org.user_memberships([user_id])).get(user_id, [])]
        await self._org.add_member(department_id, user_id, title)
        for dept in before:
            if dept != department_id and (scope is None or dept in scope):
                await self._org.remove_member(dept, user_id)
        return before

    async def kick(self, user_id: str, login_id: str) -> None:
        """End one login of the user: its tokens stop working and its sockets close on
        every node (as a logout of that login would)."""
        if not is_valid_id(login_id) or not await self._storage.tokens.login_alive(user_id, login_id):
            raise NotFound(f"{user_id!r} has no live login {login_id!r}")
        await self._accounts.logout(user_id, login_id, None)
