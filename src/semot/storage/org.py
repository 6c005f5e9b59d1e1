"""OrgStorage: the organisation directory's storage interface, one method per transaction.

Kept apart from `Storage` so the directory can grow without touching the chat core;
the SQL implementation shares the main storage's connection pools.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable

from semot.domain.org import Department, DeptMember, DirectoryEntry, SearchKeys


class OrgStorage(abc.ABC):
    # --- departments
    @abc.abstractmethod
    async def create_department(self, dept: Department) -> None:
        """NotFound if the parent is missing; Conflict if a sibling has the same name."""

    @abc.abstractmethod
    async def get_department(self, dept_id: str) -> Department | None: ...

    @abc.abstractmethod
    async def find_department(self, parent_id: str | None, name: str) -> Department | None:
        """The child of `parent_id` (None: top level) with this name."""

    @abc.abstractmethod
    async def all_departments(self) -> list[Department]: ...

    @abc.abstractmethod
    async def child_departments(self, parent_id: str | None) -> list[Department]:
        """Ordered by sort order, then name."""

    @abc.abstractmethod
    async def update_department(
        self, dept_id: str, *, name: str | None = None, sort_order: int | None = None, move: bool = False,
        parent_id: str | None = None,
    ) -> Department:
        """Rename, reorder and/or move (when `move`), refusing cycles and sibling name
        clashes inside the transaction. NotFound, BadRequest (cycle), Conflict (name)."""

    @abc.abstractmethod
    async def delete_department(self, dept_id: str) -> None:
        """NotFound if missing; Conflict while it has sub-departments or members."""

    @abc.abstractmethod
    async def member_counts(self, dept_ids: Iterable[str] | None = None) -> dict[str, int]:
        """Direct members per department (all departments when None)."""

    @abc.abstractmethod
    async def child_counts(self, dept_ids: Iterable[str]) -> dict[str, int]: ...

    @abc.abstractmethod
    async def subtree_member_counts(self, dept_ids: Iterable[str]) -> dict[str, int]:
        """Distinct people in each department and all its sub-departments, however deep:
        what a directory shows next to a department name (someone in two departments of
        the subtree counts once). Departments with nobody are left out."""

    # --- members
    @abc.abstractmethod
    async def put_member(
        self, dept_id: str, user_id: str, *, title: str | None, sort_order: int | None, keys: SearchKeys, now: int
    ) -> bool:
        """Add or update a membership and the person's search keys in one transaction.

        For a new member a None title is "" and a None order puts them last; for an
        existing one None keeps what is stored. True when the membership is new.
        NotFound if the department is missing."""

    @abc.abstractmethod
    async def put_members(self, rows: list[tuple[str, str, str | None, SearchKeys]], now: int) -> int:
        """Many `put_member`s (department id, user id, title, search keys) in one
        transaction, for the bulk user import: a new member goes last in the department,
        an existing one gets the title unless it is None. Returns how many memberships
        are new. NotFound (nothing written) if a department is missing."""

    @abc.abstractmethod
    async def update_member(
        self, dept_id: str, user_id: str, *, title: str | None = None, sort_order: int | None = None
    ) -> bool: ...

    @abc.abstractmethod
    async def remove_member(self, dept_id: str, user_id: str) -> bool:
        """Also drops the person's search keys when this was their last department."""

    @abc.abstractmethod
    async def department_members(self, dept_id: str, *, offset: int, limit: int) -> tuple[list[DirectoryEntry], int]:
        """One page, ordered by sort order, display name, user id; and the total."""

    @abc.abstractmethod
    async def user_memberships(self, user_ids: Iterable[str]) -> dict[str, list[DeptMember]]: ...

    @abc.abstractmethod
    async def in_directory(self, user_ids: Iterable[str]) -> set[str]:
        """Which of these users belong to at least one department."""

    # --- primary departments (migration 0017)
    @abc.abstractmethod
    async def primary_departments(self, user_ids: Iterable[str]) -> dict[str, str]:
        """user id -> the department marked as their primary one (users without one are left out)."""

    @abc.abstractmethod
    async def set_primary_department(self, user_id: str, dept_id: str | None) -> bool:
        """Mark `dept_id` as the user's primary department (None: none), unmarking any
        other in the same transaction; False, and nothing changed, when the user is not
        a member of `dept_id`. Leaving the department drops the mark with the membership."""

    # --- people search
    @abc.abstractmethod
    async def upsert_search_keys(self, keys: SearchKeys, now: int) -> bool:
        """Refresh a person's keys; False (and nothing written) if they are not in the directory."""

    @abc.abstractmethod
    async def search(self, text: str, compact: str, *, limit: int) -> list[DirectoryEntry]:
        """Directory people whose name or username contains `text`, or whose pinyin
        spelling or initials start a word with `compact`; best matches first."""
