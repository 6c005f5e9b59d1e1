"""The admin user list on SQL: one page of users and the exact number of matches, within
the console's 200 ms at 100,000 users on SQLite and PostgreSQL (benchmarks/README.md,
issue 12, has the figures). Each shape of query takes the path whose work grows with
what is asked rather than with the table:

- Nothing but flags: walk users_created_at_id (or the username_key index) and stop after
  offset + limit entries; the total is a count under the same flags, at the same time.
- Departments (a filter, an administrator's scope): the total is counted from the
  memberships (distinct user ids of department_members, in the departments' key ranges;
  for departments that cover the whole organisation, from the user_id index alone),
  never by testing every user, which cost 0.6 s for the company's top department. Then
  the page either walks the users' order index testing each entry with one probe of
  department_members(user_id, department_id) (a big department: about
  (offset + limit) x users / members probes), or starts at the members and sorts them (a
  small one), whichever those counts say is cheaper. `disabled=false` / `admin=false`
  are counted as the members minus the few members that are disabled / admins.
- A search (`q`): a name's substring has no index to use, so the users table is read
  once for up to CAP matches and user_search for up to CAP pinyin matches, both at once
  on two connections; when both stay under the cap (a search meant to find someone),
  their union is every match, and one query over those ids orders them, giving the page
  and the total. A broader search walks the index in order (its matches are dense) and
  counts with a second scan, as before.

Counting memberships instead of users relies on what OrgStorage guarantees: a membership
is of an existing user (users are never deleted) in an existing department (one with
members cannot be deleted).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select, union

from semot.domain.org import like_escape
from semot.storage.sql import schema as s
from semot.storage.sql.database import IN_CHUNK
from semot.storage.sql.engine import Engines
from semot.storage.sql.schema_org import department_members as _m
from semot.storage.sql.schema_org import departments as _d
from semot.storage.sql.schema_org import user_search as _k
from semot.storage.user_admin import UserQuery

_u = s.users
CAP = 500  # matches of a search gathered by id (both lists: at most 2 x CAP ids in one IN)
_PINYIN_WORD = re.compile(r"[0-9a-z]+")  # what search keys' words are made of (domain/org.py)

# departments a user must belong to (one of each set); None in a set's place: any
# department at all (the set covers the whole organisation)
Groups = list[frozenset[str] | None]


def _groups(q: UserQuery) -> Groups | None:
    """The department sets of the query, the redundant one left out (a filter inside the
    administrator's scope implies the scope); None when a set is empty: nobody matches."""
    sets = [d for d in (q.departments, q.scope) if d is not None]
    if any(not d for d in sets):
        return None
    if len(sets) == 2 and (sets[0] <= sets[1] or sets[1] <= sets[0]):
        sets = [min(sets, key=len)]
    out: Groups = list(sets)
    return out


def _rare_flags(q: UserQuery) -> bool:
    """admin=true or disabled=true: few of many rows match, found by reading the table."""
    return q.admin is True or q.disabled is True


def _flags(q: UserQuery) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if q.disabled is not None:
        conds.append(_u.c.disabled == q.disabled)
    if q.admin is not None:
        conds.append(_u.c.is_admin == q.admin)
    return conds


class UserList:
    def __init__(self, engines: Engines, dialect: str) -> None:
        self._engines = engines
        self._sqlite = dialect == "sqlite"

    # --- building blocks
    def _member_test(self, depts: frozenset[str] | None) -> ColumnElement[bool]:
        """Whether the current users row belongs to one of `depts`: one probe of
        department_members(user_id, department_id). On SQLite the department is compared
        as `department_id || ''`, or the planner would probe once per department."""
        cond: list[ColumnElement[bool]] = [_m.c.user_id == _u.c.id]
        if depts is not None:
            col: Any = _m.c.department_id.concat("") if self._sqlite else _m.c.department_id
            cond.append(col.in_(sorted(depts)))
        return exists().where(*cond)

    @staticmethod
    def _members(depts: frozenset[str] | None) -> Select[Any]:
        q = select(_m.c.user_id)
        return q if depts is None else q.where(_m.c.department_id.in_(sorted(depts)))

    def _text(self, q: UserQuery) -> ColumnElement[bool]:
        """A substring of the username or the display name, case-insensitively."""
        assert q.text
        if self._sqlite:
            # LIKE ignores ASCII case already (as SQLite's lower() folds ASCII only): a
            # lower() call per row would triple the scan
            contains = f"%{like_escape(q.text)}%"
            return or_(_u.c.username_key.like(contains, escape="\\"), _u.c.display_name.like(contains, escape="\\"))
        # strpos is PostgreSQL's cheapest substring test (ILIKE costs twice as much);
        # names are lower-cased only when the text has letters that have a case
        name: Any = func.lower(_u.c.display_name) if q.text != q.text.upper() else _u.c.display_name
        return or_(func.strpos(_u.c.username_key, q.text) > 0, func.strpos(name, q.text) > 0)

    @staticmethod
    def _pinyin(q: UserQuery) -> ColumnElement[bool] | None:
        """The start of a pinyin word or initials; None when the compact text has a
        character no search key holds (Han characters, punctuation): nothing to read."""
        if not q.compact or not _PINYIN_WORD.fullmatch(q.compact):
            return None
        word = f"% {like_escape(q.compact)}%"
        return or_(_k.c.pinyin_full.like(word, escape="\\"), _k.c.pinyin_initials.like(word, escape="\\"))

    @staticmethod
    def _order(q: UserQuery, *, opaque: bool) -> tuple[Any, ...]:
        """ORDER BY for the page. `opaque` hides the sort key from the planner (`+ 0`,
        `|| ''`) where reading the matches and sorting them beats walking the index with
        a row lookup per entry (a few rows of many match)."""
        created: Any = _u.c.created_at + 0 if opaque else _u.c.created_at
        name: Any = _u.c.username_key.concat("") if opaque else _u.c.username_key
        return {
            "-created_at": (created.desc(), _u.c.id.desc()),
            "created_at": (created.asc(), _u.c.id.asc()),
            "username": (name.asc(), _u.c.id.asc()),
            "-username": (name.desc(), _u.c.id.desc()),
        }[q.sort]

    async def _ids(self, stmt: Select[Any]) -> list[str]:
        async with self._engines.read.connect() as conn:
            return [r[0] for r in await conn.execute(stmt)]

    async def _scalar(self, stmt: Select[Any]) -> Any:
        async with self._engines.read.connect() as conn:
            return (await conn.execute(stmt)).one()

    async def _covers_all(self, depts: frozenset[str]) -> bool:
        """Whether `depts` holds every department (a filter on the organisation's top
        department, an administrator of the whole tree)."""
        async with self._engines.read.connect() as conn:
            n = int((await conn.execute(select(func.count()).select_from(_d))).scalar_one())
            if len(depts) < n:
                return False
            ids = sorted(depts)
            found = 0
            for i in range(0, len(ids), IN_CHUNK):
                q = select(func.count()).select_from(_d).where(_d.c.id.in_(ids[i : i + IN_CHUNK]))
                found += int((await conn.execute(q)).scalar_one())
        return found == n

    # --- the list
    async def page(self, q: UserQuery) -> tuple[list[str], int]:
        """The ids of one page in order, and the number of all matches."""
        groups = _groups(q)
        if groups is None:
            return [], 0
        groups = [None if d is not None and await self._covers_all(d) else d for d in groups]
        if q.text:
            return await self._search(q, groups)
        if groups:
            return await self._in_departments(q, groups)
        return await self._plain(q, _flags(q), opaque=_rare_flags(q))

    async def _plain(
        self, q: UserQuery, where: Sequence[ColumnElement[bool]], *, opaque: bool, count: Select[Any] | None = None
    ) -> tuple[list[str], int]:
        """The page by the order (an index walk, or a scan and a sort when `opaque`) and
        the count (by default of the users `where` selects), at once on two connections."""
        page = select(_u.c.id).where(*where).order_by(*self._order(q, opaque=opaque)).offset(q.offset).limit(q.limit)
        if count is None:
            count = select(func.count()).select_from(_u).where(*where)
        ids, (total,) = await asyncio.gather(self._ids(page), self._scalar(count))
        return ids, int(total)

    async def _in_departments(self, q: UserQuery, groups: Groups) -> tuple[list[str], int]:
        flags = _flags(q)
        tests = [self._member_test(d) for d in groups]
        if _rare_flags(q):  # few flagged users, each probed for membership
            return await self._plain(q, [*flags, *tests], opaque=True)
        # the set of fewest departments drives; the other one is tested per member
        order = sorted(range(len(groups)), key=lambda i: (groups[i] is None, len(groups[i] or ())))
        first = groups[order[0]]
        rest = [tests[i] for i in order[1:]]
        members: Any = self._members(first).distinct().subquery()
        counted = select(func.count()).select_from(members)
        if rest:
            counted = select(func.count()).select_from(members.join(_u, _u.c.id == members.c.user_id)).where(*rest)
        users = select(func.count()).select_from(_u).scalar_subquery()
        if flags:
            # disabled=false / admin=false: the members less the (few) disabled / admins
            # among them, found by reading the users table, not by a lookup per member
            others = select(func.count()).select_from(_u).where(not_(and_(*flags)))
            both = await self._scalar(select(counted.scalar_subquery(), others.where(*tests).scalar_subquery(), users))
            total, n = int(both[0]) - int(both[1]), int(both[2])
        else:
            total, n = (int(x) for x in await self._scalar(select(counted.scalar_subquery(), users)))
        if q.offset >= total:
            return [], total
        base = select(_u.c.id).offset(q.offset).limit(q.limit)
        if (q.offset + q.limit) * n < 2 * total * total:
            # members are dense: walk the order's index, one membership probe per entry
            page = base.where(*flags, *tests).order_by(*self._order(q, opaque=False))
        else:
            # members are few: read them and sort them
            page = base.where(_u.c.id.in_(self._members(first)), *flags, *rest).order_by(*self._order(q, opaque=True))
        return await self._ids(page), total

    async def _search(self, q: UserQuery, groups: Groups) -> tuple[list[str], int]:
        where = [*_flags(q), *(self._member_test(d) for d in groups)]
        text = self._text(q)
        pinyin = self._pinyin(q)
        found = select(_u.c.id).where(text, *where).limit(CAP + 1)
        if pinyin is not None:
            named, spelled = await asyncio.gather(
                self._ids(found), self._ids(select(_k.c.user_id).where(pinyin).limit(CAP + 1))
            )
        else:
            named, spelled = await self._ids(found), []
        if len(named) <= CAP and len(spelled) <= CAP:
            ids = sorted(set(named) | set(spelled))
            if not ids:
                return [], 0
            # every match is among these: the page and the total from one query
            ordered = await self._ids(
                select(_u.c.id).where(_u.c.id.in_(ids), *where).order_by(*self._order(q, opaque=True))
            )
            return ordered[q.offset : q.offset + q.limit], len(ordered)
        # a broad search: its matches are dense, the page is found early in index order
        # (a pinyin match tested per entry); the count reads everything once more
        if pinyin is None:
            return await self._plain(q, [text, *where], opaque=_rare_flags(q))
        probe = exists().where(_k.c.user_id == _u.c.id, pinyin)
        matched = union(select(_u.c.id).where(text), select(_k.c.user_id).where(pinyin)).subquery()
        if where:
            count = select(func.count()).select_from(_u).where(_u.c.id.in_(select(matched.c[0])), *where)
        else:  # user_search rows are of existing users: no need to look them up
            count = select(func.count()).select_from(matched)
        return await self._plain(q, [or_(text, probe), *where], opaque=_rare_flags(q), count=count)
