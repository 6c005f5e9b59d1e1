"""Admin API for the organisation directory, what the console needs beyond
api/org_admin_api.py: moving a department to a position (drag and drop), importing
the directory from a file's text (as `semot import-org`), and people's primary
department (with a members page that shows it).

A drag and drop says "put it here, between these two": `move` takes the new parent
and the index among its children and renumbers the siblings, so the client never
computes sort orders. Permissions and department scope as in org_admin_api.py:
reading needs org.view, changing org.write; an administrator limited to departments
changes only inside their subtrees. Every change is in the audit log.
"""

from __future__ import annotations

import csv
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.domain.org import ImportSummary, parse_import
from semot.errors import BadRequest, Conflict
from semot.services.admin_access import AdminGrant

from .directory_api import PAGE_QUERY, DepartmentDetailOut, DirectoryMemberOut, members_page, org
from .http import Call
from .models import INTEGRAL, Id
from .routing import Route, RouteTable

MAX_IMPORT_CHARS = 1_000_000  # about 20,000 rows; the request body limit is 1 MiB anyway
MAX_SIBLINGS = 10_000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DepartmentMoveIn(_In):
    parent_id: Id | None = Field(description="the new parent; null: the top level")
    position: Annotated[int, Field(ge=0, le=MAX_SIBLINGS), INTEGRAL] = Field(
        description="index among the new parent's other children (0: first; past the end: last)"
    )


class OrgImportIn(_In):
    format: Literal["csv", "json"] = Field(description="as `semot import-org --format` (docs/org-directory.md)")
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_IMPORT_CHARS)] = Field(
        description="the file's text (UTF-8 decoded; a byte-order mark is ignored)"
    )


class OrgImportOut(BaseModel):
    rows: int
    departments_created: int
    members_added: int
    members_updated: int
    skipped: list[str] = Field(description='one line per row not applied ("line 5: no such user ...")')


class PrimaryDepartmentIn(_In):
    department_id: Id | None = Field(description="one of the user's departments; null: none")


class PrimaryDepartmentOut(BaseModel):
    user_id: str
    primary_department_id: str | None


class RosterMemberOut(DirectoryMemberOut):
    primary_department_id: str | None = Field(description="the person's primary department (any), or null")


class DepartmentRosterOut(BaseModel):
    department_id: str
    members: list[RosterMemberOut]
    total: int
    offset: int
    more: bool


def _grant(call: Call) -> AdminGrant:
    assert call.grant is not None
    return call.grant


async def move_department(call: Call) -> dict[str, Any]:
    """Move (or only reorder) and renumber the new siblings 0, 1, 2... in their new
    order. The move itself comes first: a cycle or a name taken there refuses it before
    anything is renumbered."""
    b: DepartmentMoveIn = call.body
    dept_id = call.request.match_info["department_id"]
    service, admin, grant = org(call), call.services.admin, _grant(call)
    await admin.check_department_scope(grant, dept_id)
    await admin.check_department_scope(grant, b.parent_id)
    before = await service.describe(dept_id)
    store = call.services.storage.org
    siblings = [d for d in await store.child_departments(b.parent_id) if d.id != dept_id]
    position = min(b.position, len(siblings))
    await service.update_department(dept_id, move=True, parent_id=b.parent_id, sort_order=position)
    order = [d.id for d in siblings]
    order.insert(position, dept_id)
    current = {d.id: d.sort_order for d in siblings}
    for index, sibling in enumerate(order):
        if sibling != dept_id and current[sibling] != index:
            await service.update_department(sibling, sort_order=index)
    after = await service.describe(dept_id)

    def brief(d: dict[str, Any]) -> dict[str, Any]:
        return {"parent_id": d["parent_id"], "sort_order": d["sort_order"]}

    await call.audit("department.move", dept_id, before=brief(before), after={**brief(after), "position": position})
    return after


async def roster(call: Call) -> dict[str, Any]:
    page = await members_page(call)
    ids = [m["user_id"] for m in page["members"]]
    primary = await call.services.storage.org.primary_departments(ids) if ids else {}
    for m in page["members"]:
        m["primary_department_id"] = primary.get(m["user_id"])
    return page


async def set_primary(call: Call) -> dict[str, Any]:
    b: PrimaryDepartmentIn = call.body
    uid = call.request.match_info["user_id"]
    store, admin, grant = call.services.storage.org, call.services.admin, _grant(call)
    await admin.check_user_scope(grant, uid)
    if b.department_id is not None:
        await admin.check_department_scope(grant, b.department_id)
    was = (await store.primary_departments([uid])).get(uid)
    if not await store.set_primary_department(uid, b.department_id):
        raise Conflict(f"{uid!r} is not a member of department {b.department_id!r}")
    if was != b.department_id:
        await call.audit(
            "department.primary",
            uid,
            before={"primary_department_id": was},
            after={"primary_department_id": b.department_id},
        )
    return {"user_id": uid, "primary_department_id": b.department_id}


async def import_directory(call: Call) -> dict[str, Any]:
    """As `semot import-org`: good rows are applied, bad ones listed. Limited
    administrators may not import: a file names paths from the top of the tree."""
    b: OrgImportIn = call.body
    if _grant(call).departments is not None:
        await call.services.admin.check_department_scope(_grant(call), None)  # refuses with 403
    text = b.text[1:] if b.text.startswith("\ufeff") else b.text
    try:
        rows, bad = parse_import(text, b.format)
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
        raise BadRequest(f"text: not readable as CSV ({exc})") from None
    if not rows and not bad:
        raise BadRequest("text: no rows")
    summary: ImportSummary = await org(call).import_rows(rows)
    skipped = [*bad, *summary.skipped]
    out = {
        "rows": len(rows) + len(bad),
        "departments_created": summary.departments_created,
        "members_added": summary.members_added,
        "members_updated": summary.members_updated,
        "skipped": skipped,
    }
    await call.audit("org.import", "directory", after={**out, "skipped": len(skipped), "format": b.format})
    return out


def routes() -> RouteTable:
    t = RouteTable()
    tag = "admin: directory"

    def add(method: str, path: str, handler: Any, summary: str, body: Any, reply: Any, perm: str, **kw: Any) -> None:
        t.add(Route(method, path, handler, summary, tag, body, reply, auth="admin", perm=perm, **kw))

    add(
        "POST",
        "/api/admin/v1/departments/{department_id}/move",
        move_department,
        "Move a department under a parent (null: the top level) at a position among its children; "
        "the siblings are renumbered (drag and drop)",
        DepartmentMoveIn,
        DepartmentDetailOut,
        "org.write",
    )
    add(
        "GET",
        "/api/admin/v1/departments/{department_id}/roster",
        roster,
        "Members in order, paged, each with their primary department",
        None,
        DepartmentRosterOut,
        "org.view",
        query=PAGE_QUERY,
    )
    add(
        "PUT",
        "/api/admin/v1/directory/users/{user_id}/primary",
        set_primary,
        "Set (or clear with null) a person's primary department: one of their departments (409 otherwise)",
        PrimaryDepartmentIn,
        PrimaryDepartmentOut,
        "org.write",
    )
    add(
        "POST",
        "/api/admin/v1/directory/import",
        import_directory,
        "Import departments and memberships from CSV or JSON text, as `semot import-org`",
        OrgImportIn,
        OrgImportOut,
        "org.write",
    )
    return t
