"""Admin API for the organisation directory (/api/admin/v1/departments...): the tree and
who is in each department, for administrators until the admin console exists."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.domain.org import MAX_NAME, MAX_ORDER, MAX_TITLE

from .directory_api import (
    PAGE_QUERY,
    DepartmentDetailOut,
    MembersPageOut,
    TreeOut,
    members_page,
    org,
)
from .http import Call
from .models import INTEGRAL, Id, StatusOut, not_blank
from .routing import Route, RouteTable

# trimmed (domain/org.py clean_name): not blank, no control characters, no "/"
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, pattern=not_blank("\\x00-\\x1f/"))]
Title = Annotated[str, StringConstraints(max_length=MAX_TITLE)]
Order = Annotated[int, Field(ge=-MAX_ORDER, le=MAX_ORDER), INTEGRAL]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateDepartmentIn(_In):
    name: Name = Field(description='1-128 characters, no "/"; unique among its siblings')
    parent_id: Id | None = Field(None, description="null or absent: a top-level department")
    sort_order: Order | None = Field(None, description="position among siblings (ascending); default: last")


class UpdateDepartmentIn(_In):
    name: Name | None = None
    parent_id: Id | None = Field(
        None, description="move under this department; an explicit null moves to the top level; absent: stay"
    )
    sort_order: Order | None = None


class PutMemberIn(_In):
    title: Title | None = Field(None, description="job title in this department; absent keeps the current one")
    sort_order: Order | None = Field(None, description="position in the department; default: last (new) or unchanged")


class PutMemberOut(BaseModel):
    department_id: str
    user_id: str
    added: bool = Field(description="true if the user was not in the department before")


def _did(call: Call) -> str:
    return call.request.match_info["department_id"]


async def admin_tree(call: Call) -> dict[str, Any]:
    return {"parent": None, "departments": await org(call).tree()}


async def create_department(call: Call) -> dict[str, Any]:
    b: CreateDepartmentIn = call.body
    dept = await org(call).create_department(b.name, b.parent_id, b.sort_order)
    return await org(call).describe(dept.id)


async def get_department(call: Call) -> dict[str, Any]:
    return await org(call).describe(_did(call))


async def update_department(call: Call) -> dict[str, Any]:
    b: UpdateDepartmentIn = call.body
    move = "parent_id" in b.model_fields_set
    await org(call).update_department(_did(call), name=b.name, sort_order=b.sort_order, move=move, parent_id=b.parent_id)
    return await org(call).describe(_did(call))


async def delete_department(call: Call) -> dict[str, Any]:
    await org(call).delete_department(_did(call))
    return {"status": "deleted"}


async def admin_members(call: Call) -> dict[str, Any]:
    return await members_page(call)


async def put_member(call: Call) -> dict[str, Any]:
    b: PutMemberIn = call.body
    uid = call.request.match_info["user_id"]
    added = await org(call).add_member(_did(call), uid, b.title, b.sort_order)
    return {"department_id": _did(call), "user_id": uid, "added": added}


async def remove_department_member(call: Call) -> dict[str, Any]:
    await org(call).remove_member(_did(call), call.request.match_info["user_id"])
    return {"status": "removed"}


async def reindex_user(call: Call) -> dict[str, Any]:
    found = await org(call).reindex_user(call.request.match_info["user_id"])
    return {"status": "reindexed" if found else "not_in_directory"}


def routes() -> RouteTable:
    t = RouteTable()
    base = "/api/admin/v1/departments"
    one = base + "/{department_id}"
    tag = "admin: directory"

    def add(method: str, path: str, handler: Any, summary: str, body: Any, reply: Any, status: int = 200, **kw: Any) -> None:
        t.add(Route(method, path, handler, summary, tag, body, reply, status, auth="admin", **kw))

    add("GET", base, admin_tree, "The whole department tree, flat in tree order (as the directory API)", None, TreeOut)
    add("POST", base, create_department, "Create a department (under parent_id, or at the top)", CreateDepartmentIn, DepartmentDetailOut, 201)
    add("GET", one, get_department, "A department, its path from the top and its counts", None, DepartmentDetailOut)
    add(
        "PATCH", one, update_department,
        "Rename, reorder or move a department (moving under itself or a sub-department is refused with 409)",
        UpdateDepartmentIn, DepartmentDetailOut,
    )
    add("DELETE", one, delete_department, "Delete an empty department (409 while it has members or sub-departments)", None, StatusOut)
    add(
        "GET", one + "/members", admin_members, "Members in order, paged", None, MembersPageOut,
        query=PAGE_QUERY,
    )
    add(
        "PUT", one + "/members/{user_id}", put_member,
        "Put a user in the department, or change their title / order there", PutMemberIn, PutMemberOut,
    )
    add("DELETE", one + "/members/{user_id}", remove_department_member, "Take a user out of the department", None, StatusOut)
    add(
        "POST", "/api/admin/v1/directory/users/{user_id}/reindex", reindex_user,
        "Recompute a person's search keys (after their display name changed)", None, StatusOut,
    )
    return t
