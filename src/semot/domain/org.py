"""The organisation directory's rules (pure): department names, tree shape, ordering,
people-search keys (pinyin) and the import file format.

A department tree is any depth: nothing here recurses, and the wire form of a tree is a
flat list in tree order with parent ids (`flat_tree`), so no JSON nesting limit applies.
A move must never put a department under itself or one of its descendants. People are found by display name, username, full pinyin and
pinyin initials, so 张伟 is found by "张伟", "zhangwei", "zhang", "wei" and "zw".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from semot.errors import BadRequest, Conflict

MAX_NAME = 128
MAX_TITLE = 128
MAX_QUERY = 64
MAX_ORDER = 1_000_000_000
PATH_SEP = "/"
ROOT = "root"  # the `?parent=` value naming the top level


@dataclass(slots=True)
class Department:
    id: str
    parent_id: str | None
    name: str
    sort_order: int
    created_at: int


@dataclass(slots=True)
class DeptMember:
    department_id: str
    user_id: str
    title: str
    sort_order: int
    joined_at: int


@dataclass(slots=True)
class DirectoryEntry:
    """A person as the directory shows them in one department (or in search results)."""

    user_id: str
    username: str
    display_name: str
    title: str = ""
    sort_order: int = 0
    department_id: str | None = None


@dataclass(slots=True, frozen=True)
class SearchKeys:
    """What people search is matched against; each key column holds space-led words,
    so `LIKE '% q%'` is a word-prefix match."""

    user_id: str
    username: str
    name: str  # display name, lower case
    full: str  # " zhangwei wei" : the spelling from each syllable on
    initials: str  # " zw w"


@dataclass(slots=True)
class ImportRow:
    line: int
    path: list[str]
    username: str
    title: str = ""
    sort_order: int | None = None


@dataclass(slots=True)
class ImportSummary:
    departments_created: int = 0
    members_added: int = 0
    members_updated: int = 0
    skipped: list[str] = field(default_factory=list)


# --- names and ordering
def clean_name(name: str) -> str:
    """A department name: trimmed, 1-128 characters, no "/" (the import path separator)."""
    if not isinstance(name, str):
        raise BadRequest("name must be a string")
    name = name.strip()
    if not name:
        raise BadRequest("name must not be empty")
    if len(name) > MAX_NAME:
        raise BadRequest(f"name: at most {MAX_NAME} characters")
    if PATH_SEP in name:
        raise BadRequest(f"name must not contain {PATH_SEP!r}")
    if any(ord(ch) < 32 for ch in name):
        raise BadRequest("name must not contain control characters")
    return name


def clean_title(title: str) -> str:
    title = (title or "").strip()
    if len(title) > MAX_TITLE:
        raise BadRequest(f"title: at most {MAX_TITLE} characters")
    return title


def check_order(order: int | None) -> int | None:
    if order is not None and not -MAX_ORDER <= order <= MAX_ORDER:
        raise BadRequest(f"sort_order: between -{MAX_ORDER} and {MAX_ORDER}")
    return order


def dept_sort_key(d: Department) -> tuple[int, str, str]:
    """Siblings: by sort order, then name, then id (stable whatever the database)."""
    return (d.sort_order, d.name, d.id)


def member_sort_key(m: DirectoryEntry) -> tuple[int, str, str]:
    return (m.sort_order, m.display_name, m.user_id)


# --- tree shape
def ancestors(dept_id: str, parents: Mapping[str, str | None]) -> list[str]:
    """Ids from `dept_id`'s parent up to the root (stops on a cycle rather than looping)."""
    out: list[str] = []
    seen = {dept_id}
    cur = parents.get(dept_id)
    while cur is not None and cur not in seen:
        out.append(cur)
        seen.add(cur)
        cur = parents.get(cur)
    return out


def check_move(dept_id: str, new_parent: str | None, parents: Mapping[str, str | None]) -> None:
    """Refuse moves that would make a cycle: under itself or under one of its descendants.
    Depth is not limited (the tree is never nested on the wire)."""
    if new_parent is None:
        return
    if new_parent == dept_id:
        raise Conflict("a department cannot be its own parent")
    if new_parent not in parents:
        raise BadRequest(f"no such parent department {new_parent!r}")
    if dept_id in ancestors(new_parent, parents):
        raise Conflict("cannot move a department under one of its own sub-departments")


def path_of(dept_id: str, depts: Mapping[str, Department]) -> list[Department]:
    """Root first, ending with the department itself."""
    parents = {d.id: d.parent_id for d in depts.values()}
    chain = [dept_id, *ancestors(dept_id, parents)]
    return [depts[i] for i in reversed(chain) if i in depts]


def flat_tree(
    depts: Iterable[Department], member_counts: Mapping[str, int], depth0: int = 0, root: str | None = None
) -> list[dict[str, Any]]:
    """The (sub)tree under `root` (None: everything) as a flat list in tree order: each
    department right after its parent, siblings ordered, `depth` levels below the top.

    Flat, because a nested form of a deep chain would pass JSON encoders' nesting limits
    (orjson stops at 255) and recursive readers' stacks; built with an explicit stack,
    so depth is unbounded here too. Departments whose parent is missing (which storage
    never allows) are listed as top-level ones rather than dropped; a corrupted cycle,
    unreachable from the top, is left out instead of looping."""
    ordered = sorted(depts, key=dept_sort_key)
    ids = {d.id for d in ordered}
    children: dict[str | None, list[Department]] = {}
    for d in ordered:
        parent = d.parent_id if d.parent_id in ids else None
        children.setdefault(parent, []).append(d)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    stack = [(d, depth0) for d in reversed(children.get(root, []))]
    while stack:
        d, depth = stack.pop()
        if d.id in seen:  # a corrupted (cyclic) table must not loop
            continue
        seen.add(d.id)
        kids = children.get(d.id, [])
        out.append(node(d, member_counts.get(d.id, 0), len(kids), depth))
        stack.extend((k, depth + 1) for k in reversed(kids))
    return out


def node(d: Department, member_count: int, child_count: int = 0, depth: int = 0) -> dict[str, Any]:
    """One department as the directory API shows it (no nested children: see flat_tree)."""
    return {
        "department_id": d.id,
        "parent_id": d.parent_id,
        "name": d.name,
        "sort_order": d.sort_order,
        "depth": depth,
        "member_count": member_count,
        "child_count": child_count,
    }


# --- people search
_WORD = re.compile(r"[0-9A-Za-z]+")


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _syllables(text: str) -> list[list[str]]:
    """One entry per Han character (its reading) or Latin word; the first entry, when it
    is a Han character (usually the surname), lists all its readings: 单 is "shan" as a
    name though "dan" as a word, 曾 "zeng", 解 "xie"."""
    # imported on first use: pypinyin's dictionaries cost ~50 MB of RSS, which a server
    # without a directory should not pay
    from pypinyin import Style, lazy_pinyin, pinyin

    def latin_words(chunk: str) -> Any:  # pypinyin accepts a list here; its stubs say str
        return _WORD.findall(chunk.lower()) or [""]

    pieces: list[str] = lazy_pinyin(text, errors=latin_words)
    out = [[p.lower()] for p in pieces if p]
    stripped = text.strip()
    if out and stripped and _is_han(stripped[0]):
        readings: list[str] = pinyin(stripped[0], style=Style.NORMAL, heteronym=True)[0]
        out[0] = list(dict.fromkeys([out[0][0], *(r.lower() for r in readings)]))[:4]
    return out


def search_keys(user_id: str, username: str, display_name: str) -> SearchKeys:
    sylls = _syllables(display_name)
    fulls: list[str] = []
    inits: list[str] = []
    for head in sylls[0] if sylls else []:
        rest = [s[0] for s in sylls[1:]]
        words = [head, *rest]
        for i in range(len(words)):
            fulls.append("".join(words[i:]))
            inits.append("".join(w[0] for w in words[i:]))

    def uniq(xs: list[str]) -> str:
        return "".join(" " + x for x in dict.fromkeys(xs) if x)

    return SearchKeys(
        user_id=user_id,
        username=username.lower(),
        name=display_name.strip().lower(),
        full=uniq(fulls)[:1000],
        initials=uniq(inits)[:500],
    )


def clean_query(q: str) -> tuple[str, str]:
    """(text for name/username matching, compact lower-case form for pinyin matching)."""
    q = (q or "").strip()
    if not q:
        raise BadRequest("q: must not be empty")
    if len(q) > MAX_QUERY:  # counted before lower(), which may lengthen it ("İ" becomes 2)
        raise BadRequest(f"q: at most {MAX_QUERY} characters")
    q = q.lower()
    compact = re.sub(r"[\s'·.\-_]+", "", q)
    return q, compact


def like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- import files
def split_path(path: str) -> list[str]:
    parts = [p.strip() for p in (path or "").split(PATH_SEP)]
    parts = [p for p in parts if p]
    if not parts:
        raise BadRequest("department path is empty")
    return [clean_name(p) for p in parts]


def parse_import(text: str, fmt: str) -> tuple[list[ImportRow], list[str]]:
    """Rows of (department path, username, title[, order]) from CSV or JSON text.

    Returns the good rows and one message per bad row, so one typo does not stop an
    import of thousands of people."""
    raw: list[tuple[int, Any]] = []
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(f"not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get("members", data.get("rows"))
        if not isinstance(data, list):
            raise BadRequest('JSON must be a list of {"department", "username", "title"} objects')
        for i, item in enumerate(data, 1):
            if not isinstance(item, dict):
                raw.append((i, None))
            else:
                raw.append((i, [item.get("department"), item.get("username", ""), item.get("title", ""), item.get("order")]))
    elif fmt == "csv":
        reader = csv.reader(io.StringIO(text))
        for i, cells in enumerate(reader, 1):
            if not cells or all(not c.strip() for c in cells):
                continue
            if i == 1 and cells[0].strip().lower() in ("department", "department path", "path", "部门"):
                continue  # header
            raw.append((i, ([*cells, "", "", ""])[:4]))
    else:
        raise BadRequest("format must be csv or json")
    rows: list[ImportRow] = []
    errors: list[str] = []
    for line, cells in raw:
        where = f"{'item' if fmt == 'json' else 'line'} {line}"
        try:
            if cells is None:
                raise BadRequest("not an object")
            dept, username, title, order = cells
            if not isinstance(dept, str):
                raise BadRequest("department must be a path string")
            if not isinstance(username, str) or not isinstance(title, str):
                raise BadRequest("username and title must be strings")
            sort_order: int | None
            if order is None or (isinstance(order, str) and not order.strip()):
                sort_order = None
            elif isinstance(order, bool):
                raise BadRequest("order must be an integer")
            else:
                try:
                    sort_order = int(order)
                except (TypeError, ValueError):
                    raise BadRequest("order must be an integer") from None
            rows.append(ImportRow(line, split_path(dept), username.strip(), clean_title(title), check_order(sort_order)))
        except BadRequest as exc:
            errors.append(f"{where}: {exc.message}")
    return rows, errors
