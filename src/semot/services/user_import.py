"""Bulk user import (PROTOCOL §7 `POST /api/admin/v1/users/import`, `semot users import`).

A parsed file (services/user_import_rows.py) is planned first, all of it, before any
write: which rows create a user and which change an existing one (matched by username,
any letter case), and which the caller may not apply (administrator rights need
`admins.write`, new departments `org.write`, an admin limited to departments may only
touch users and departments inside them). Then it is applied in batches of `BATCH`
rows: passwords hashed in low-priority worker processes (services/bulk_hashing.py), new
users inserted with one statement per batch, memberships written, existing users
updated through the same services the admin API uses (so a disabled user is signed out
everywhere, a new display name reaches friends). Good rows are imported even when
others fail; every row gets an outcome with its line for the report.

Rows without a password create accounts that cannot sign in with a password until
their owner sets one (a one-time set-password link, `links=True`) or signs in through
SSO (services/password_links.py: `unusable_password_hash`, the same as the admin API's).
A password given for an existing user replaces theirs and ends every login of theirs.

One import runs at a time per node (`_lock`): a second one waits its turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from semot.domain import org as org_rules
from semot.domain.org import Department
from semot.domain.records import User
from semot.domain.sensitive import BLOCKED, BlockedText
from semot.domain.users import username_key
from semot.errors import BadRequest, Forbidden, SemotError
from semot.ids import now_ms
from semot.services.accounts import AccountService
from semot.services.admin_access import AdminGrant
from semot.services.bulk_hashing import BulkHasher
from semot.services.import_jobs import ImportJobs, ImportReport, Outcome, Result
from semot.services.org import OrgService
from semot.services.password_links import PasswordLinks, unusable_password_hash
from semot.services.profiles import ProfileService
from semot.services.user_import_rows import ParsedFile, UserRow
from semot.storage.base import Storage

log = logging.getLogger(__name__)

BATCH = 200  # rows per step: one INSERT, one progress update, the loop breathes between
PREVIEW_ROWS = 50


class Access(Protocol):
    """What the import asks the admin access service (services/admin_access.py)."""

    async def check_user_scope(self, grant: AdminGrant, user_id: str) -> None: ...

    async def ensure_not_last_super(self, user_id: str) -> None: ...


@dataclass(slots=True)
class _Plan:
    row: UserRow
    existing: User | None = None
    changes: list[str] = field(default_factory=list)  # what an update changes, for the report
    dept_id: str | None = None  # resolved (existing department) or None until created


class _Tree:
    """The department tree as it was when the import started, plus what it created."""

    def __init__(self, depts: list[Department]) -> None:
        self.by_name = {(d.parent_id, d.name): d.id for d in depts}
        self.parent = {d.id: d.parent_id for d in depts}

    def resolve(self, path: list[str]) -> tuple[str | None, int]:
        """(the deepest existing department on the path, how many names were found)."""
        parent: str | None = None
        for i, name in enumerate(path):
            found = self.by_name.get((parent, name))
            if found is None:
                return parent, i
            parent = found
        return parent, len(path)

    def within(self, dept_id: str | None, allowed: frozenset[str]) -> bool:
        if dept_id is None:
            return False
        return dept_id in allowed or any(a in allowed for a in org_rules.ancestors(dept_id, self.parent))


class UserImportService:
    def __init__(
        self,
        storage: Storage,
        accounts: AccountService,
        org: OrgService | None = None,
        profiles: ProfileService | None = None,
        *,
        hash_workers: int = 0,
    ) -> None:
        self._storage = storage
        self._users = storage.users
        self._accounts = accounts
        self._links = PasswordLinks(storage, accounts)  # set-password links, password resets
        self._org = org
        self._profiles = profiles
        self.hash_workers = hash_workers
        self._lock = asyncio.Lock()
        self.jobs = ImportJobs()  # the console's background imports (services/import_jobs.py)
        # what each new account gets, as a registered one does, batch by batch (app.py wires
        # the client configuration's default friend groups: ClientSettings.seed_friend_groups)
        self.seed_new_users: Callable[[list[str]], Awaitable[None]] | None = None

    async def stop(self) -> None:
        await self.jobs.close()

    # --- the whole import
    async def run(
        self,
        parsed: ParsedFile,
        *,
        grant: AdminGrant | None = None,
        access: Access | None = None,
        links: bool = False,
        created_by: str = "cli",
        dry_run: bool = False,
        report: ImportReport | None = None,
        preview_rows: int = PREVIEW_ROWS,
    ) -> ImportReport:
        """Import (or with `dry_run`, only check) the rows; `grant` None is the operator
        (the CLI), allowed everything; `access` checks department scopes and protects the
        last super administrator. `links`: a one-time set-password link for each new user
        without a password (made by `created_by`). `report` is filled as the rows go."""
        report = report or ImportReport()
        report.total, report.dry_run = parsed.total, dry_run
        async with self._lock:
            for e in parsed.errors:
                report.add(Outcome(e.line, e.username, "error", e.message))
            report.done = len({e.line for e in parsed.errors})
            plans = await self._plan(parsed.rows, grant, access, report, dry_run=dry_run)
            if dry_run:
                self._dry_run(parsed, plans, report, preview_rows)
            else:
                await self._apply(plans, created_by if links else None, access, report)
            report.finished = True
        return report

    # --- planning: nothing written
    async def _plan(
        self, rows: list[UserRow], grant: AdminGrant | None, access: Access | None, report: ImportReport,
        *, dry_run: bool = False,
    ) -> list[_Plan]:
        found = await self._users.users_by_usernames(r.username for r in rows)
        by_key: dict[str, User] = {}
        for u in sorted(found, key=lambda u: u.username):
            by_key.setdefault(username_key(u.username), u)
        exact = {u.username: u for u in found}
        with_depts = any(r.department for r in rows)
        tree = await self._tree() if with_depts else _Tree([])
        memberships = await self._memberships([u.id for u in found] if with_depts else [])
        plans: list[_Plan] = []
        for row in rows:
            plan = _Plan(row, exact.get(row.username) or by_key.get(row.key))
            try:
                await self._check(plan, tree, memberships, grant, access)
                self._screen_name(plan, dry_run)
            except SemotError as exc:
                report.add(Outcome(row.line, row.username, "error", exc.message))
                report.done += 1
                continue
            plans.append(plan)
        return plans

    def _screen_name(self, plan: _Plan, dry_run: bool) -> None:
        """A new or changed display name through the sensitive words: a block word makes
        the row an error (400 `blocked`'s message); replace stars it. A dry run only
        looks (nothing recorded); the import records every hit once, here."""
        row, user = plan.row, plan.existing
        sensitive = self._profiles.sensitive if self._profiles is not None else None
        if sensitive is None or not row.display_name or (user is not None and row.display_name == user.display_name):
            return
        if dry_run:
            if sensitive.check(row.display_name).action == BLOCKED:
                raise BlockedText("display name: contains a blocked word")
            return
        row.display_name = sensitive.screen_text(row.display_name, user_id=row.username, target="display_name")
        if user is not None and row.display_name == user.display_name and "display_name" in plan.changes:
            plan.changes.remove("display_name")  # starred into what it was

    async def _tree(self) -> _Tree:
        if self._org is None:
            return _Tree([])
        return _Tree(await self._storage.org.all_departments())

    async def _memberships(self, user_ids: list[str]) -> dict[tuple[str, str], str]:
        """(user, department) -> title, for the users the file names."""
        if not user_ids or self._org is None:
            return {}
        got = await self._storage.org.user_memberships(user_ids)
        return {(uid, m.department_id): m.title for uid, ms in got.items() for m in ms}

    async def _check(
        self,
        plan: _Plan,
        tree: _Tree,
        memberships: dict[tuple[str, str], str],
        grant: AdminGrant | None,
        access: Access | None,
    ) -> None:
        row, user = plan.row, plan.existing
        if row.department is not None:
            if self._org is None:
                raise BadRequest("department: the organisation directory is not available")
            deepest, known = tree.resolve(row.department)
            if known < len(row.department):
                if grant is not None and not grant.allows("org.write"):
                    missing = org_rules.PATH_SEP.join(row.department[: known + 1])
                    raise Forbidden(f"department {missing!r} does not exist (creating departments needs org.write)")
            else:
                plan.dept_id = deepest
            if grant is not None and grant.departments is not None and not tree.within(deepest, grant.departments):
                raise Forbidden("department: outside the departments you administer")
        if user is None:
            if grant is not None and grant.departments is not None and row.department is None:
                raise Forbidden("department: you may only create users inside the departments you administer")
            if row.is_admin and grant is not None and not grant.allows("admins.write"):
                raise Forbidden("is_admin: making administrators needs admins.write")
            return
        if grant is not None and access is not None:
            await access.check_user_scope(grant, user.id)
        if row.display_name is not None and row.display_name != user.display_name:
            plan.changes.append("display_name")
        if row.password is not None:
            plan.changes.append("password")
        if row.is_admin is not None and row.is_admin != user.is_admin:
            if grant is not None and not grant.allows("admins.write"):
                raise Forbidden("is_admin: changing administrator rights needs admins.write")
            plan.changes.append("is_admin")
        if row.disabled is not None and row.disabled != user.disabled:
            plan.changes.append("disabled")
        if row.department is not None:
            title = memberships.get((user.id, plan.dept_id or ""))
            if plan.dept_id is None or title is None:
                plan.changes.append("department")
            elif row.title is not None and row.title != title:
                plan.changes.append("title")

    def _dry_run(self, parsed: ParsedFile, plans: list[_Plan], report: ImportReport, preview_rows: int) -> None:
        action = {
            p.row.line: ("create" if p.existing is None else "update" if p.changes else "unchanged") for p in plans
        }
        for p in plans:
            result: Result = "created" if p.existing is None else "updated" if p.changes else "unchanged"
            report.add(
                Outcome(p.row.line, p.row.username, result, ", ".join(p.changes), p.existing.id if p.existing else None)
            )
        report.done = report.total
        errors = {e.line: e for e in report.errors}
        rows = sorted(
            [*((r.line, r) for r in parsed.rows), *((line, None) for line in errors if line not in action)],
            key=lambda x: x[0],
        )
        preview = []
        for line, row in rows[:preview_rows]:
            error = errors.get(line)
            item: dict[str, Any] = (
                row.preview() if row is not None else {"line": line, "username": error and error.username}
            )
            item["action"] = action.get(line, "error")
            item["error"] = error.message if error else None
            preview.append(item)
        report.preview = preview

    # --- applying, batch by batch
    async def _apply(
        self, plans: list[_Plan], links_by: str | None, access: Access | None, report: ImportReport
    ) -> None:
        hasher = BulkHasher(self.hash_workers)
        depts: dict[tuple[str, ...], str] = {}
        try:
            for i in range(0, len(plans), BATCH):
                batch = plans[i : i + BATCH]
                passwords = [p.row.password for p in batch if p.row.password is not None]
                hashes = iter(await hasher.hash_many(passwords))
                hashed = {p.row.line: next(hashes) for p in batch if p.row.password is not None}
                await self._create([p for p in batch if p.existing is None], hashed, depts, links_by, report)
                for p in batch:
                    if p.existing is not None:
                        await self._update(p, hashed.get(p.row.line), depts, access, report)
                report.done += len(batch)
                await asyncio.sleep(0)
        finally:
            await hasher.close()

    async def _create(
        self,
        plans: list[_Plan],
        hashed: dict[int, str],
        depts: dict[tuple[str, ...], str],
        links_by: str | None,
        report: ImportReport,
    ) -> None:
        if not plans:
            return
        now = now_ms()
        users = [
            User(
                id=p.row.username,
                username=p.row.username,
                display_name=p.row.display_name or p.row.username,
                password_hash=hashed.get(p.row.line) or unusable_password_hash(),
                is_admin=bool(p.row.is_admin),
                disabled=bool(p.row.disabled),
                created_at=now,
            )
            for p in plans
        ]
        inserted = set(await self._users.create_users(users))
        made = [(p, u) for p, u in zip(plans, users, strict=True) if u.id in inserted]
        for p, u in zip(plans, users, strict=True):
            if u.id not in inserted:
                report.add(Outcome(p.row.line, p.row.username, "error", "that username is already taken"))
        problem = await self._add_members([(p, u) for p, u in made if p.row.department is not None], depts)
        if self.seed_new_users is not None and made:
            await self.seed_new_users([u.id for _, u in made])
        for p, user in made:
            out = Outcome(p.row.line, p.row.username, "created", user_id=user.id)
            if problem and p.row.department is not None:
                out.message = f"created, but department: {problem}"
            if links_by is not None and p.row.password is None:
                out.link = (await self._links.make(user.id, created_by=links_by)).path
            report.add(out)

    async def _add_members(self, made: list[tuple[_Plan, User]], depts: dict[tuple[str, ...], str]) -> str | None:
        """The new users' memberships, one transaction for the batch; the problem, if any."""
        if not made or self._org is None:
            return None
        try:
            ids = [p.dept_id or await self._ensure_path(p.row.department or [], depts) for p, _ in made]
        except SemotError as exc:
            return exc.message
        # pinyin for search: ~0.3 ms a name, so off the event loop (the GIL still switches every 5 ms)
        keys = await asyncio.to_thread(
            lambda: [org_rules.search_keys(u.id, u.username, u.display_name) for _, u in made]
        )
        rows = [(d, u.id, p.row.title, k) for d, (p, u), k in zip(ids, made, keys, strict=True)]
        try:
            await self._storage.org.put_members(rows, now_ms())
        except SemotError as exc:
            return exc.message
        return None

    async def _put_member(self, user: User, plan: _Plan, depts: dict[tuple[str, ...], str]) -> None:
        assert plan.row.department is not None and self._org is not None
        dept_id = plan.dept_id or await self._ensure_path(plan.row.department, depts)
        keys = org_rules.search_keys(user.id, user.username, user.display_name)
        await self._storage.org.put_member(
            dept_id, user.id, title=plan.row.title, sort_order=None, keys=keys, now=now_ms()
        )

    async def _ensure_path(self, path: list[str], depts: dict[tuple[str, ...], str]) -> str:
        """The department at `path`, creating the missing ones (once per import)."""
        assert self._org is not None
        parent: str | None = None
        for i in range(len(path)):
            key = tuple(path[: i + 1])
            found = depts.get(key)
            if found is None:
                existing = await self._storage.org.find_department(parent, path[i])
                found = existing.id if existing else (await self._org.create_department(path[i], parent)).id
                depts[key] = found
            parent = found
        assert parent is not None
        return parent

    async def _update(
        self,
        plan: _Plan,
        password_hash: str | None,
        depts: dict[tuple[str, ...], str],
        access: Access | None,
        report: ImportReport,
    ) -> None:
        row, user = plan.row, plan.existing
        assert user is not None
        if not plan.changes:
            report.add(Outcome(row.line, row.username, "unchanged", user_id=user.id))
            return
        try:
            taken_away = (row.disabled and "disabled" in plan.changes) or (
                row.is_admin is False and "is_admin" in plan.changes
            )
            if taken_away and access is not None:
                await access.ensure_not_last_super(user.id)
            if "display_name" in plan.changes and row.display_name is not None:
                await self._rename(user, row.display_name)
            if password_hash is not None:
                await self._set_password(user.id, password_hash)
            if "is_admin" in plan.changes and row.is_admin is not None:
                await self._accounts.set_admin(user.id, row.is_admin)
            if "disabled" in plan.changes and row.disabled is not None:
                await self._accounts.set_disabled(user.id, row.disabled)
            if "department" in plan.changes or "title" in plan.changes:
                await self._put_member(user, plan, depts)
        except SemotError as exc:
            report.add(Outcome(row.line, row.username, "error", exc.message, user.id))
            return
        report.add(Outcome(row.line, row.username, "updated", ", ".join(plan.changes), user.id))

    async def _rename(self, user: User, name: str) -> None:
        if self._profiles is not None:
            # stores it and tells friends (evt profile); screened while planning
            await self._profiles.update_me(user, display_name=name, screened=True)
        else:
            await self._users.set_user_profile(user.id, display_name=name, avatar_file_id=user.avatar_file_id)
        user.display_name = name
        if self._org is not None:
            await self._org.reindex_user(user.id)

    async def _set_password(self, user_id: str, password_hash: str) -> None:
        """As an administrator's reset: every login of the user and their unused links end."""
        await self._links.set_hash(user_id, password_hash)
