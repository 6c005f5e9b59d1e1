"""Admin API for the organisation directory (/api/admin/v1/departments...): the tree and
who is in each department.

Reading needs `org.view`, changing `org.write`; an administrator limited to departments
changes only inside their subtrees (a new department under one of them, moves within
them, members of them) and brings in only people from there or in no department yet.
Every change is in the audit log with the state before and after."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.domain.org import MAX_NAME, MAX_ORDER, MAX_TITLE
from semot.errors import Conflict, Forbidden
from semot.services.admin_access import AdminGrant
from semot.storage.org import OrgStorage

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


def _grant(call: Call) -> AdminGrant:
    assert call.grant is not None
    return call.grant


def _dept_audit(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in ("department_id", "name", "parent_id", "sort_order")}


async def _membership(call: Call, dept_id: str, user_id: str) -> dict[str, Any] | None:
    found = (await org_store(call).user_memberships([user_id])).get(user_id, [])
    for m in found:
        if m.department_id == dept_id:
            return {"department_id": dept_id, "title": m.title, "sort_order": m.sort_order}
    return None


def org_store(call: Call) -> OrgStorage:
    return call.services.storage.org


async def admin_tree(call: Call) -> dict[str, Any]:
    return {"parent": None, "departments": await org(call).tree()}


async def create_department(call: Call) -> dict[str, Any]:
    b: CreateDepartmentIn = call.body
    await call.services.admin.check_department_scope(_grant(call), b.parent_id)
    dept = await org(call).create_department(b.name, b.parent_id, b.sort_order)
    out = await org(call).describe(dept.id)
    await call.audit("department.create", dept.id, after=_dept_audit(out))
    return out


async def get_department(call: Call) -> dict[str, Any]:
    return await org(call).describe(_did(call))


async def update_department(call: Call) -> dict[str, Any]:
    b: UpdateDepartmentIn = call.body
    move = "parent_id" in b.model_fields_set
    admin = call.services.admin
    await admin.check_department_scope(_grant(call), _did(call))
    if move:  # a limited administrator moves only within what they administer
        await admin.check_department_scope(_grant(call), b.parent_id)
    before = await org(call).describe(_did(call))
    await org(call).update_department(
        _did(call), name=b.name, sort_order=b.sort_order, move=move, parent_id=b.parent_id
    )
    after = await org(call).describe(_did(call))
    await call.audit("department.update", _did(call), before=_dept_audit(before), after=_dept_audit(after))
    return after


async def delete_department(call: Call) -> dict[str, Any]:
    admin = call.services.admin
    await admin.check_department_scope(_grant(call), _did(call))
    before = await org(call).describe(_did(call))
    scoped = [g.user_id for g in await admin.rbac.grants() if g.departments and _did(call) in g.departments]
    if scoped:  # an administrator's scope would silently cover nothing
        raise Conflict("administrators are limited to this department: change their grants first", admins=scoped[:20])
    await org(call).delete_department(_did(call))
    await call.audit("department.delete", _did(call), before=_dept_audit(before))
    return {"status": "deleted"}


async def admin_members(call: Call) -> dict[str, Any]:
    return await members_page(call)


async def put_member(call: Call) -> dict[str, Any]:
    b: PutMemberIn = call.body
    uid = call.request.match_info["user_id"]
    admin, grant = call.services.admin, _grant(call)
    await admin.check_department_scope(grant, _did(call))
    if grant.departments is not None and not await admin.user_in_scope(grant, uid):
        # bringing someone into one's departments puts them under one's administration:
        # only people in no department yet (new staff), and never an administrator
        user = await call.services.storage.users.get_user(uid)
        placed = await org_store(call).in_directory([uid])
        if user is not None and (user.is_admin or placed):
            raise Forbidden("this user is outside the departments you administer")
    before = await _membership(call, _did(call), uid)
    added = await org(call).add_member(_did(call), uid, b.title, b.sort_order)
    after = await _membership(call, _did(call), uid)
    await call.audit("department.member_put", uid, before=before, after=after)
    return {"department_id": _did(call), "user_id": uid, "added": added}


async def remove_department_member(call: Call) -> dict[str, Any]:
    uid = call.request.match_info["user_id"]
    await call.services.admin.check_department_scope(_grant(call), _did(call))
    before = await _membership(call, _did(call), uid)
    await org(call).remove_member(_did(call), uid)
    await call.audit("department.member_remove", uid, before=before)
    return {"status": "removed"}


async def reindex_user(call: Call) -> dict[str, Any]:
    uid = call.request.match_info["user_id"]
    await call.services.admin.check_user_scope(_grant(call), uid)
    found = await org(call).reindex_user(uid)
    await call.audit("directory.reindex", uid)
    return {"status": "reindexed" if found else "not_in_directory"}


def routes() -> RouteTable:
    t = RouteTable()
    base = "/api/admin/v1/departments"
    one = base + "/{department_id}"
    tag = "admin: directory"

    def add(
        method: str, path: str, handler: Any, summary: str, body: Any, reply: Any, status: int = 200, **kw: Any
    ) -> None:
        # reading the tree: org.view; changing it: org.write, within the caller's departments
        perm = "org.view" if method == "GET" else "org.write"
        t.add(Route(method, path, handler, summary, tag, body, reply, status, auth="admin", perm=perm, **kw))

    add("GET", base, admin_tree, "The whole department tree, flat in tree order (as the directory API)", None, TreeOut)
    add(
        "POST",
        base,
        create_department,
        "Create a department (under parent_id, or at the top)",
        CreateDepartmentIn,
        DepartmentDetailOut,
        201,
    )
    add("GET", one, get_department, "A department, its path from the top and its counts", None, DepartmentDetailOut)
    add(
        "PATCH",
        one,
        update_department,
        "Rename, reorder or move a department (moving under itself or a sub-department is refused with 409)",
        UpdateDepartmentIn,
        DepartmentDetailOut,
    )
    add(
        "DELETE",
        one,
        delete_department,
        "Delete an empty department (409 while it has members or sub-departments)",
        None,
        StatusOut,
    )
    add(
        "GET",
        one + "/members",
        admin_members,
        "Members in order, paged",
        None,
        MembersPageOut,
        query=PAGE_QUERY,
    )
    add(
        "PUT",
        one + "/members/{user_id}",
        put_member,
        "Put a user in the department, or change their title / order there",
        PutMemberIn,
        PutMemberOut,
    )
    add(
        "DELETE",
        one + "/members/{user_id}",
        remove_department_member,
        "Take a user out of the department",
        None,
        StatusOut,
    )
    add(
        "POST",
        "/api/admin/v1/directory/users/{user_id}/reindex",
        reindex_user,
        "Recompute a person's search keys (after their display name changed)",
        None,
        StatusOut,
    )
    return t
