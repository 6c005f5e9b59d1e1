"""Directory API (/api/v1/directory): every logged-in user browses the department tree,
lists a department's members and searches people by name, username or pinyin."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from semot.domain.org import MAX_QUERY, ROOT
from semot.errors import Unavailable
from semot.services.org import MAX_PAGE, MAX_SEARCH, OrgService

from .http import Call
from .models import ID_CHARS, NOT_BLANK
from .profile_api import with_avatars
from .routing import Query, Route, RouteTable


class DepartmentOut(BaseModel):
    """One department of a listing. Never nested: a tree of any depth is a flat list
    (build it from `parent_id`, or indent by `depth`)."""

    department_id: str
    parent_id: str | None = Field(description="null for a top-level department")
    name: str
    sort_order: int
    depth: int = Field(description="levels above it: 0 for a top-level department")
    member_count: int = Field(description="people directly in this department")
    total_count: int = Field(0, description="people in this department and all its sub-departments, each once")
    child_count: int = Field(description="its direct sub-departments (0: a leaf)")


class PathItem(BaseModel):
    department_id: str
    name: str


class DepartmentDetailOut(BaseModel):
    department_id: str
    parent_id: str | None
    name: str
    sort_order: int
    created_at: int
    path: list[PathItem] = Field(description="from the top-level department down to this one")
    member_count: int
    total_count: int = Field(0, description="people in this department and all its sub-departments, each once")
    child_count: int


class TreeOut(BaseModel):
    parent: DepartmentDetailOut | None = Field(None, description="the department whose level this is (?parent=ID)")
    departments: list[DepartmentOut] = Field(
        description="the whole tree flat, in tree order (each department right after its parent, then its "
        "sub-departments, siblings in order); with ?parent= only that department's children, in order"
    )


class DirectoryMemberOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    title: str
    sort_order: int
    avatar_url: str | None = Field(None, description="the avatar image (signed URL, see PATCH /api/v1/me); null: none")


class MembersPageOut(BaseModel):
    department_id: str
    members: list[DirectoryMemberOut]
    total: int
    offset: int
    more: bool


class PersonDepartment(BaseModel):
    department_id: str
    name: str
    title: str


class PersonOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    departments: list[PersonDepartment]
    avatar_url: str | None = Field(None, description="the avatar image (signed URL, see PATCH /api/v1/me); null: none")


class DirectorySearchOut(BaseModel):
    results: list[PersonOut]


PAGE_QUERY: dict[str, Query | str] = {
    "offset": Query("skip this many (default 0)"),
    "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
}


def org(call: Call) -> OrgService:
    service: OrgService | None = getattr(call.services, "org", None)
    if service is None:
        raise Unavailable("the organisation directory is not enabled on this server")
    return service


async def browse(call: Call) -> dict[str, Any]:
    parent = call.query_str("parent")
    if parent is None:
        return {"parent": None, "departments": await org(call).tree()}
    return await org(call).level(None if parent in ("", ROOT) else parent)


async def department(call: Call) -> dict[str, Any]:
    return await org(call).describe(call.request.match_info["department_id"])


async def members_page(call: Call) -> dict[str, Any]:
    limit = call.query_int("limit")
    page = await org(call).members(
        call.request.match_info["department_id"],
        offset=call.query_int("offset") or 0,
        limit=50 if limit is None else limit,
    )
    await with_avatars(call, page["members"])
    return page


async def search(call: Call) -> dict[str, Any]:
    limit = call.query_int("limit")
    q = call.query_str("q", "") or ""
    return {"results": await with_avatars(call, await org(call).search(q, limit=20 if limit is None else limit))}


def routes() -> RouteTable:
    t = RouteTable()
    tag = "directory"
    base = "/api/v1/directory/departments"
    t.add(
        Route(
            "GET", base, browse,
            "The whole department tree as a flat list in tree order (parent_id, depth, member and "
            "sub-department counts), of any depth; with ?parent=ID (or ?parent=root for the top level) "
            "only the children of that department, for lazy browsing",
            tag, None, TreeOut,
            query={
                "parent": Query(
                    "a department id, or root (or empty): list only its children", "string", max_length=64,
                    pattern=f"^{ID_CHARS}{{0,64}}$",
                )
            },
        )
    )
    t.add(Route("GET", base + "/{department_id}", department, "A department, its path from the top and its counts", tag, None, DepartmentDetailOut))
    t.add(
        Route(
            "GET", base + "/{department_id}/members", members_page, "A department's members in order, paged", tag,
            None, MembersPageOut, query=PAGE_QUERY,
        )
    )
    t.add(
        Route(
            "GET", "/api/v1/directory/search", search,
            "Search people in the directory by ?q= (name, username, full pinyin or pinyin initials: "
            "张伟 is found by 张伟, zhangwei, zhang, wei and zw); best matches first",
            tag, None, DirectorySearchOut,
            query={
                "q": Query(
                    f"what to look for: 1-{MAX_QUERY} characters, not all blank", "string", max_length=MAX_QUERY,
                    min_length=1, pattern=NOT_BLANK, required=True,
                ),
                "limit": Query(f"1-{MAX_SEARCH}, default 20", minimum=1, maximum=MAX_SEARCH),
            },
        )
    )
    return t
