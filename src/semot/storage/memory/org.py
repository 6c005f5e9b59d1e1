"""MemoryOrg: the organisation directory in memory (departments, members, people search)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from semot.domain import org as rules
from semot.domain.org import Department, DeptMember, DirectoryEntry, SearchKeys
from semot.errors import Conflict, NotFound
from semot.storage.memory.db import MemoryDb, clone
from semot.storage.org import OrgStorage


class MemoryOrg(OrgStorage):
    def __init__(self, db: MemoryDb) -> None:
        self._db = db
        self._primary: dict[str, str] = {}  # user -> department (dropped when they leave it)

    def _sibling_named(self, parent_id: str | None, name: str, exclude: str | None) -> bool:
        return any(
            d.parent_id == parent_id and d.name == name and d.id != exclude for d in self._db.departments.values()
        )

    def _sorted(self, depts: Iterable[Department]) -> list[Department]:
        return [clone(d) for d in sorted(depts, key=rules.dept_sort_key)]

    # --- departments
    async def create_department(self, dept: Department) -> None:
        if dept.parent_id is not None and dept.parent_id not in self._db.departments:
            raise NotFound(f"no such parent department {dept.parent_id!r}")
        if self._sibling_named(dept.parent_id, dept.name, None) or dept.id in self._db.departments:
            raise Conflict(f"a department named {dept.name!r} already exists there")
        self._db.departments[dept.id] = clone(dept)

    async def get_department(self, dept_id: str) -> Department | None:
        d = self._db.departments.get(dept_id)
        return clone(d) if d else None

    async def find_department(self, parent_id: str | None, name: str) -> Department | None:
        found = [d for d in self._db.departments.values() if d.parent_id == parent_id and d.name == name]
        return clone(found[0]) if found else None

    async def all_departments(self) -> list[Department]:
        return self._sorted(self._db.departments.values())

    async def child_departments(self, parent_id: str | None) -> list[Department]:
        return self._sorted(d for d in self._db.departments.values() if d.parent_id == parent_id)

    async def update_department(
        self, dept_id: str, *, name: str | None = None, sort_order: int | None = None, move: bool = False,
        parent_id: str | None = None,
    ) -> Department:
        current = self._db.departments.get(dept_id)
        if current is None:
            raise NotFound(f"no such department {dept_id!r}")
        new = clone(current)
        if move and parent_id != new.parent_id:
            rules.check_move(dept_id, parent_id, {d.id: d.parent_id for d in self._db.departments.values()})
            new.parent_id = parent_id
        if name is not None:
            new.name = name
        if (new.parent_id, new.name) != (current.parent_id, current.name) and self._sibling_named(
            new.parent_id, new.name, dept_id
        ):
            raise Conflict(f"a department named {new.name!r} already exists there")
        if sort_order is not None:
            new.sort_order = sort_order
        self._db.departments[dept_id] = new
        return clone(new)

    async def delete_department(self, dept_id: str) -> None:
        if dept_id not in self._db.departments:
            raise NotFound(f"no such department {dept_id!r}")
        children = sum(1 for d in self._db.departments.values() if d.parent_id == dept_id)
        members = len(self._db.dept_members.get(dept_id, {}))
        if children or members:
            raise Conflict(
                f"department is not empty ({children} sub-departments, {members} members): move or remove them first",
                sub_departments=children,
                members=members,
            )
        del self._db.departments[dept_id]
        self._db.dept_members.pop(dept_id, None)

    async def member_counts(self, dept_ids: Iterable[str] | None = None) -> dict[str, int]:
        wanted = None if dept_ids is None else set(dept_ids)
        return {d: len(m) for d, m in self._db.dept_members.items() if m and (wanted is None or d in wanted)}

    async def subtree_member_counts(self, dept_ids: Iterable[str]) -> dict[str, int]:
        kids: dict[str | None, list[str]] = {}
        for d in self._db.departments.values():
            kids.setdefault(d.parent_id, []).append(d.id)
        out: dict[str, int] = {}
        for root in dict.fromkeys(dept_ids):
            if root not in self._db.departments:
                continue
            people: set[str] = set()
            todo, seen = [root], set()
            while todo:  # iterative: a tree may be deeper than Python's recursion limit
                here = todo.pop()
                if here in seen:
                    continue
                seen.add(here)
                people.update(self._db.dept_members.get(here, {}))
                todo.extend(kids.get(here, []))
            if people:
                out[root] = len(people)
        return out

    async def child_counts(self, dept_ids: Iterable[str]) -> dict[str, int]:
        wanted = set(dept_ids)
        out: dict[str, int] = {}
        for d in self._db.departments.values():
            if d.parent_id in wanted:
                out[d.parent_id] = out.get(d.parent_id, 0) + 1
        return out

    # --- members
    async def put_member(
        self, dept_id: str, user_id: str, *, title: str | None, sort_order: int | None, keys: SearchKeys, now: int
    ) -> bool:
        if dept_id not in self._db.departments:
            raise NotFound(f"no such department {dept_id!r}")
        members = self._db.dept_members.setdefault(dept_id, {})
        existing = members.get(user_id)
        if existing is not None:
            if title is not None:
                existing.title = title
            if sort_order is not None:
                existing.sort_order = sort_order
        else:
            if sort_order is None:
                sort_order = max((m.sort_order + 1 for m in members.values()), default=0)
            members[user_id] = DeptMember(dept_id, user_id, title or "", sort_order, now)
        self._db.search_keys[user_id] = keys
        return existing is None

    async def put_members(self, rows: list[tuple[str, str, str | None, SearchKeys]], now: int) -> int:
        missing = {d for d, _, _, _ in rows if d not in self._db.departments}
        if missing:
            raise NotFound(f"no such department {sorted(missing)[0]!r}")
        new = 0
        for dept_id, user_id, title, keys in rows:
            new += await self.put_member(dept_id, user_id, title=title, sort_order=None, keys=keys, now=now)
        return new

    async def update_member(
        self, dept_id: str, user_id: str, *, title: str | None = None, sort_order: int | None = None
    ) -> bool:
        m = self._db.dept_members.get(dept_id, {}).get(user_id)
        if m is not None:
            m.title = m.title if title is None else title
            m.sort_order = m.sort_order if sort_order is None else sort_order
        return m is not None

    async def remove_member(self, dept_id: str, user_id: str) -> bool:
        removed = self._db.dept_members.get(dept_id, {}).pop(user_id, None) is not None
        if self._primary.get(user_id) == dept_id:
            del self._primary[user_id]
        if not self._in_any(user_id):
            self._db.search_keys.pop(user_id, None)
        return removed

    def _in_any(self, user_id: str) -> bool:
        return any(user_id in m for m in self._db.dept_members.values())

    async def department_members(self, dept_id: str, *, offset: int, limit: int) -> tuple[list[DirectoryEntry], int]:
        users = self._db.users
        entries = [
            DirectoryEntry(u, users[u].username, users[u].display_name, m.title, m.sort_order, dept_id)
            for u, m in self._db.dept_members.get(dept_id, {}).items()
            if u in users
        ]
        entries.sort(key=rules.member_sort_key)
        return entries[offset : offset + limit], len(entries)

    async def user_memberships(self, user_ids: Iterable[str]) -> dict[str, list[DeptMember]]:
        wanted = set(user_ids)
        out: dict[str, list[DeptMember]] = {}
        for members in self._db.dept_members.values():
            for u, m in members.items():
                if u in wanted:
                    out.setdefault(u, []).append(dataclasses.replace(m))
        return out

    async def in_directory(self, user_ids: Iterable[str]) -> set[str]:
        return {u for u in user_ids if self._in_any(u)}

    # --- primary departments
    async def primary_departments(self, user_ids: Iterable[str]) -> dict[str, str]:
        return {u: d for u in user_ids if (d := self._primary.get(u)) is not None}

    async def set_primary_department(self, user_id: str, dept_id: str | None) -> bool:
        if dept_id is None:
            self._primary.pop(user_id, None)
            return True
        if user_id not in self._db.dept_members.get(dept_id, {}):
            return False
        self._primary[user_id] = dept_id
        return True

    # --- people search
    async def upsert_search_keys(self, keys: SearchKeys, now: int) -> bool:
        if not self._in_any(keys.user_id):
            return False
        self._db.search_keys[keys.user_id] = keys
        return True

    async def search(self, text: str, compact: str, *, limit: int) -> list[DirectoryEntry]:
        def rank(k: SearchKeys) -> int | None:
            """As the SQL ranks: exact, prefix, whole pinyin spelling, anywhere; None: no match."""
            word = f" {compact}" if compact else None
            if not (
                text in k.name or text in k.username or (word is not None and (word in k.full or word in k.initials))
            ):
                return None
            if text in (k.username, k.name):
                return 0
            if k.name.startswith(text) or k.username.startswith(text):
                return 1
            if word is not None and (k.full.startswith(word) or k.initials.startswith(word)):
                return 2
            return 3

        found: list[tuple[int, str, str]] = []
        for uid, keys in self._db.search_keys.items():
            user = self._db.users.get(uid)
            r = rank(keys)
            if user is not None and not user.disabled and r is not None and self._in_any(uid):
                found.append((r, user.display_name, uid))
        found.sort()
        users = self._db.users
        return [DirectoryEntry(uid, users[uid].username, users[uid].display_name) for _, _, uid in found[:limit]]
