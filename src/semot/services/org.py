"""The organisation directory: the department tree, who is in which department with
which title, browsing and people search (name, username, pinyin, initials).

Admins change it (admin API, `semot import-org`); every logged-in user reads it. Search
keys are computed when a person is put in a department; `reindex_user` refreshes them
after a display-name change.
"""

from __future__ import annotations

import secrets
from typing import Any

from semot.domain import org as rules
from semot.domain.org import Department, DirectoryEntry, ImportRow, ImportSummary
from semot.errors import BadRequest, Conflict, NotFound, SemotError
from semot.ids import is_valid_id, now_ms
from semot.storage.base import Storage
from semot.storage.org import OrgStorage

MAX_PAGE = 200
MAX_SEARCH = 100
MAX_OFFSET = 2**53 - 1  # far below the 2^63 - 1 that SQL's OFFSET takes


def new_department_id() -> str:
    return f"dep_{secrets.token_hex(8)}"


def _entry(e: DirectoryEntry) -> dict[str, Any]:
    return {
        "user_id": e.user_id,
        "username": e.username,
        "display_name": e.display_name,
        "title": e.title,
        "sort_order": e.sort_order,
    }


def _dept_out(d: Department) -> dict[str, Any]:
    return {"department_id": d.id, "parent_id": d.parent_id, "name": d.name, "sort_order": d.sort_order, "created_at": d.created_at}


def _with_totals(nodes: list[dict[str, Any]], totals: dict[str, int]) -> list[dict[str, Any]]:
    """Add `total_count` (everyone in the subtree, each once) next to `member_count`
    (only the people directly in it): a directory shows the former beside a department's
    name, so a department whose people all sit in sub-departments does not read as empty."""
    for n in nodes:
        n["total_count"] = totals.get(n["department_id"], 0)
    return nodes


class OrgService:
    def __init__(self, storage: Storage, org: OrgStorage) -> None:
        self._users = storage.users
        self._org = org

    # --- helpers
    async def _department(self, dept_id: str) -> Department:
        if not is_valid_id(dept_id):
            raise BadRequest(f"invalid department id {dept_id!r}")
        dept = await self._org.get_department(dept_id)
        if dept is None:
            raise NotFound(f"no such department {dept_id!r}")
        return dept

    async def _parent(self, parent_id: str | None) -> str | None:
        if parent_id is None:
            return None
        if not is_valid_id(parent_id):
            raise BadRequest(f"invalid parent id {parent_id!r}")
        if await self._org.get_department(parent_id) is None:
            raise NotFound(f"no such parent department {parent_id!r}")
        return parent_id

    async def _keys(self, user_id: str) -> rules.SearchKeys:
        if not is_valid_id(user_id):
            raise BadRequest(f"invalid user id {user_id!r}")
        user = await self._users.get_user(user_id)
        if user is None:
            raise NotFound(f"no such user {user_id!r}")
        return rules.search_keys(user.id, user.username, user.display_name)

    async def describe(self, dept_id: str) -> dict[str, Any]:
        """A department with its path from the root (for breadcrumbs) and its counts."""
        dept = await self._department(dept_id)
        everything = {d.id: d for d in await self._org.all_departments()}
        path = rules.path_of(dept.id, everything)
        members = (await self._org.member_counts([dept.id])).get(dept.id, 0)
        children = (await self._org.child_counts([dept.id])).get(dept.id, 0)
        total = (await self._org.subtree_member_counts([dept.id])).get(dept.id, 0)
        return {
            **_dept_out(dept),
            "path": [{"department_id": p.id, "name": p.name} for p in path],
            "member_count": members,
            "total_count": total,
            "child_count": children,
        }

    # --- the tree (admins)
    async def create_department(self, name: str, parent_id: str | None = None, sort_order: int | None = None) -> Department:
        name = rules.clean_name(name)
        rules.check_order(sort_order)
        parent_id = await self._parent(parent_id)
        if sort_order is None:
            siblings = await self._org.child_departments(parent_id)
            sort_order = max((d.sort_order for d in siblings), default=-1) + 1
        dept = Department(new_department_id(), parent_id, name, sort_order, now_ms())
        await self._org.create_department(dept)
        return dept

    async def update_department(
        self,
        dept_id: str,
        *,
        name: str | None = None,
        sort_order: int | None = None,
        move: bool = False,
        parent_id: str | None = None,
    ) -> Department:
        """Rename, reorder, or move (`move=True`; parent None: to the top level)."""
        await self._department(dept_id)
        if name is not None:
            name = rules.clean_name(name)
        rules.check_order(sort_order)
        if move and parent_id is not None:
            if parent_id == dept_id:
                raise Conflict("a department cannot be its own parent")
            await self._parent(parent_id)
        return await self._org.update_department(dept_id, name=name, sort_order=sort_order, move=move, parent_id=parent_id)

    async def delete_department(self, dept_id: str) -> None:
        """Only empty departments go: members and sub-departments are never dropped silently."""
        await self._department(dept_id)
        await self._org.delete_department(dept_id)

    # --- members (admins)
    async def add_member(
        self, dept_id: str, user_id: str, title: str | None = None, sort_order: int | None = None
    ) -> bool:
        """Put a user in a department, or update their title/order there; True if new."""
        await self._department(dept_id)
        keys = await self._keys(user_id)
        title = rules.clean_title(title) if title is not None else None
        rules.check_order(sort_order)
        return await self._org.put_member(dept_id, user_id, title=title, sort_order=sort_order, keys=keys, now=now_ms())

    async def update_member(
        self, dept_id: str, user_id: str, *, title: str | None = None, sort_order: int | None = None
    ) -> None:
        await self._department(dept_id)
        title = rules.clean_title(title) if title is not None else None
        rules.check_order(sort_order)
        if not await self._org.update_member(dept_id, user_id, title=title, sort_order=sort_order):
            raise NotFound(f"{user_id!r} is not in this department")

    async def remove_member(self, dept_id: str, user_id: str) -> None:
        await self._department(dept_id)
        if not await self._org.remove_member(dept_id, user_id):
            raise NotFound(f"{user_id!r} is not in this department")

    async def reindex_user(self, user_id: str) -> bool:
        """Recompute a person's search keys (after their display name changed)."""
        keys = await self._keys(user_id)
        return await self._org.upsert_search_keys(keys, now_ms())

    # --- reading (every user)
    async def tree(self) -> list[dict[str, Any]]:
        """Every department, flat in tree order with parent ids and depths (any depth:
        nothing is nested, see rules.flat_tree)."""
        depts = await self._org.all_departments()
        nodes = rules.flat_tree(depts, await self._org.member_counts())
        return _with_totals(nodes, await self._org.subtree_member_counts(d.id for d in depts))

    async def level(self, parent_id: str | None) -> dict[str, Any]:
        """One level: the children of `parent_id` (None: the top level) with their counts,
        for clients that load a big tree lazily, one expanded department at a time."""
        parent = await self.describe(parent_id) if parent_id is not None else None
        depth = len(parent["path"]) if parent is not None else 0
        children = await self._org.child_departments(parent_id)
        ids = [d.id for d in children]
        members = await self._org.member_counts(ids) if ids else {}
        subs = await self._org.child_counts(ids) if ids else {}
        nodes = [rules.node(d, members.get(d.id, 0), subs.get(d.id, 0), depth) for d in children]
        totals = await self._org.subtree_member_counts(ids) if ids else {}
        return {"parent": parent, "departments": _with_totals(nodes, totals)}

    async def members(self, dept_id: str, *, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit: 1-{MAX_PAGE}")
        if not 0 <= offset <= MAX_OFFSET:
            raise BadRequest(f"offset: 0 to {MAX_OFFSET}")
        await self._department(dept_id)
        page, total = await self._org.department_members(dept_id, offset=offset, limit=limit)
        return {
            "department_id": dept_id,
            "members": [_entry(e) for e in page],
            "total": total,
            "offset": offset,
            "more": offset + len(page) < total,
        }

    async def search(self, q: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """People in the directory by name, username, pinyin or initials; best first,
        each with their departments and titles."""
        if not 1 <= limit <= MAX_SEARCH:
            raise BadRequest(f"limit: 1-{MAX_SEARCH}")
        text, compact = rules.clean_query(q)
        found = await self._org.search(text, compact, limit=limit)
        if not found:
            return []
        memberships = await self._org.user_memberships(e.user_id for e in found)
        names = {d.id: d.name for d in await self._org.all_departments()}
        out = []
        for e in found:
            depts = sorted(memberships.get(e.user_id, []), key=lambda m: (names.get(m.department_id, ""), m.department_id))
            out.append(
                {
                    "user_id": e.user_id,
                    "username": e.username,
                    "display_name": e.display_name,
                    "departments": [
                        {"department_id": m.department_id, "name": names.get(m.department_id, ""), "title": m.title}
                        for m in depts
                    ],
                }
            )
        return out

    async def in_directory(self, user_id: str) -> bool:
        return user_id in await self._org.in_directory([user_id])

    async def are_colleagues(self, a: str, b: str) -> bool:
        """Both users are in the directory (any departments): the "colleagues may
        message each other" policy rests on this."""
        if a == b:
            return await self.in_directory(a)
        return len(await self._org.in_directory([a, b])) == 2

    # --- bulk import (semot import-org)
    async def ensure_path(self, names: list[str], summary: ImportSummary) -> str:
        """The id of the department at this path, creating the missing ones on the way."""
        parent: str | None = None
        for name in names:
            found = await self._org.find_department(parent, name)
            if found is None:
                found = await self.create_department(name, parent)
                summary.departments_created += 1
            parent = found.id
        assert parent is not None
        return parent

    async def import_rows(self, rows: list[ImportRow]) -> ImportSummary:
        """Create departments along each row's path and put the named user in the last
        one; an unknown username skips its row, not the import."""
        summary = ImportSummary()
        for row in rows:
            try:
                dept_id = await self.ensure_path(row.path, summary)
                if not row.username:
                    continue  # a row may just create a department
                user = await self._users.get_user_by_username(row.username)
                if user is None:
                    raise NotFound(f"no such user {row.username!r}")
                created = await self.add_member(dept_id, user.id, row.title, row.sort_order)
                if created:
                    summary.members_added += 1
                else:
                    summary.members_updated += 1
            except SemotError as exc:
                summary.skipped.append(f"line {row.line}: {exc.message}")
        return summary
