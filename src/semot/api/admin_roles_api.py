"""Admin API for administrators and roles (/api/admin/v1/me, /roles, /admins, /permissions).

The console asks `/me` what the caller may do (it hides what would fail; the API
refuses it anyway), builds custom roles from `/permissions` (grouped by menu, labelled
in zh-CN and English) and grants roles, optionally limited to departments. Every change
is written to the audit log with the state before and after.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from semot.domain import admin_perms as rules
from semot.services.admin_access import AdminGrant
from semot.services.admin_roles import MAX_PAGE, RbacAdmin, role_out

from .http import Call
from .models import Id, StatusOut, not_blank
from .routing import Query, Route, RouteTable

_CONTROL = "\\x00-\\x1f\\x7f-\\x9f"
RoleName = Annotated[str, StringConstraints(min_length=1, max_length=rules.MAX_ROLE_NAME, pattern=not_blank(_CONTROL))]
# tabs and line breaks allowed, no other control characters (domain/admin_perms.py clean_description)
Description = Annotated[
    str, StringConstraints(max_length=rules.MAX_ROLE_DESCRIPTION, pattern="^[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*$")
]


def _known_perm(name: str) -> str:
    if name not in rules.ALL_PERMS:
        raise ValueError("not a permission (GET /api/admin/v1/permissions lists them)")
    return name


# one of the catalogue's names: an enum in /openapi.json, checked on the way in
PermName = Annotated[
    str, AfterValidator(_known_perm), WithJsonSchema({"type": "string", "enum": rules.sorted_perms(rules.ALL_PERMS)})
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RbacRoleIn(_In):
    name: RoleName = Field(description="unique among roles (built-in names included), 1-64 characters")
    description: Description = ""
    perms: list[PermName] = Field(min_length=1, max_length=64, description="permission names (GET /permissions)")


class RbacRolePatchIn(_In):
    name: RoleName | None = None
    description: Description | None = None
    perms: list[PermName] | None = Field(None, min_length=1, max_length=64)


class RbacGrantIn(_In):
    roles: list[Id] = Field(min_length=1, max_length=rules.MAX_GRANT_ROLES, description="role ids")
    departments: list[Id] | None = Field(
        None,
        min_length=1,
        max_length=rules.MAX_GRANT_DEPARTMENTS,
        description="limit to these departments and their subtrees; null or absent: the whole organisation",
    )


class RbacLabels(BaseModel):
    zh_CN: str = Field(alias="zh-CN")
    en: str


class RbacPermOut(BaseModel):
    perm: str
    labels: RbacLabels


class RbacMenuOut(BaseModel):
    menu: str = Field(description="the console page it belongs to")
    labels: RbacLabels
    reserved: bool = Field(description="a page still to come (compliance): roles may carry it already")
    perms: list[RbacPermOut]


class RbacPermissionsOut(BaseModel):
    menus: list[RbacMenuOut]


class RbacRoleOut(BaseModel):
    role_id: str
    name: str
    labels: RbacLabels
    description: str
    perms: list[str] | None = Field(description="null: every permission (super administrator)")
    built_in: bool = Field(description="built-in roles are read-only")
    admin_count: int = Field(description="administrators holding it")
    created_at: int
    updated_at: int


class RbacRolesOut(BaseModel):
    roles: list[RbacRoleOut]


class RbacMeOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    roles: list[str]
    perms: list[str] | None = Field(description="null: every permission")
    departments: list[str] | None = Field(description="null: the whole organisation; else these and their subtrees")
    department_names: dict[str, str]
    super_admin: bool


class RbacDeptRef(BaseModel):
    department_id: str
    name: str


class RbacAdminOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    disabled: bool
    roles: list[str]
    departments: list[RbacDeptRef] | None
    super_admin: bool = Field(description="every permission over the whole organisation")
    perms: list[str] | None
    updated_at: int
    updated_by: str


class RbacAdminsOut(BaseModel):
    admins: list[RbacAdminOut]
    total: int
    offset: int


class RbacGrantOut(BaseModel):
    user_id: str
    roles: list[str]
    departments: list[str] | None


def rbac(call: Call) -> RbacAdmin:
    return RbacAdmin(call.services.admin, call.services.storage.users)


def _grant(call: Call) -> AdminGrant:
    assert call.grant is not None
    return call.grant


async def admin_me(call: Call) -> dict[str, Any]:
    return await rbac(call).me(call.me, _grant(call))


async def admin_permissions(call: Call) -> dict[str, Any]:
    return {"menus": rules.catalogue()}


async def admin_list_roles(call: Call) -> dict[str, Any]:
    return {"roles": await rbac(call).list_roles()}


def _role_audit(out: dict[str, Any]) -> dict[str, Any]:
    return {k: out[k] for k in ("role_id", "name", "description", "perms")}


async def admin_create_role(call: Call) -> dict[str, Any]:
    b: RbacRoleIn = call.body
    role = await rbac(call).create_role(_grant(call), b.name, b.description, b.perms)
    out = role_out(role)
    await call.audit("role.create", role.id, after=_role_audit(out))
    return out


async def admin_update_role(call: Call) -> dict[str, Any]:
    b: RbacRolePatchIn = call.body
    rid = call.request.match_info["role_id"]
    old, new = await rbac(call).update_role(_grant(call), rid, name=b.name, description=b.description, perms=b.perms)
    await call.audit("role.update", rid, before=_role_audit(role_out(old)), after=_role_audit(role_out(new)))
    holders = {r["role_id"]: r["admin_count"] for r in await rbac(call).list_roles()}
    return role_out(new, holders.get(rid, 0))


async def admin_delete_role(call: Call) -> dict[str, Any]:
    rid = call.request.match_info["role_id"]
    old = await rbac(call).delete_role(_grant(call), rid)
    await call.audit("role.delete", rid, before=_role_audit(role_out(old)))
    return {"status": "deleted"}


async def admin_list_admins(call: Call) -> dict[str, Any]:
    offset, limit = call.query_int("offset") or 0, call.query_int("limit") or 50
    return await rbac(call).list_admins(_grant(call), offset=offset, limit=limit)


async def admin_put_admin(call: Call) -> dict[str, Any]:
    b: RbacGrantIn = call.body
    uid = call.request.match_info["user_id"]
    before, after = await rbac(call).set_grant(_grant(call), uid, b.roles, b.departments)
    await call.audit("admin.grant", uid, before=before, after=after)
    return {"user_id": uid, "roles": after["roles"], "departments": after["departments"]}


async def admin_delete_admin(call: Call) -> dict[str, Any]:
    uid = call.request.match_info["user_id"]
    before = await rbac(call).revoke(_grant(call), uid)
    await call.audit("admin.revoke", uid, before=before, after={"is_admin": False})
    return {"status": "revoked"}


def routes() -> RouteTable:
    t = RouteTable()
    tag = "admin: administrators"
    base = "/api/admin/v1"

    def add(
        method: str,
        path: str,
        handler: Any,
        summary: str,
        body: Any,
        reply: Any,
        perm: str | None,
        status: int = 200,
        **kw: Any,
    ) -> None:
        t.add(Route(method, base + path, handler, summary, tag, body, reply, status, auth="admin", perm=perm, **kw))

    add(
        "GET",
        "/me",
        admin_me,
        "The caller's roles, permissions and department limit (any administrator)",
        None,
        RbacMeOut,
        None,
    )
    add(
        "GET",
        "/permissions",
        admin_permissions,
        "Every permission, grouped by console menu, labelled in zh-CN and English",
        None,
        RbacPermissionsOut,
        "admins.view",
    )
    add(
        "GET",
        "/roles",
        admin_list_roles,
        "Built-in and custom roles with their permissions",
        None,
        RbacRolesOut,
        "admins.view",
    )
    add(
        "POST",
        "/roles",
        admin_create_role,
        "Define a custom role (only permissions the caller holds)",
        RbacRoleIn,
        RbacRoleOut,
        "admins.write",
        201,
    )
    add(
        "PATCH",
        "/roles/{role_id}",
        admin_update_role,
        "Change a custom role (built-in roles are read-only: 403)",
        RbacRolePatchIn,
        RbacRoleOut,
        "admins.write",
    )
    add(
        "DELETE",
        "/roles/{role_id}",
        admin_delete_role,
        "Delete a custom role (409 while an administrator holds it)",
        None,
        StatusOut,
        "admins.write",
    )
    add(
        "GET",
        "/admins",
        admin_list_admins,
        "Administrators with their roles and departments, by username",
        None,
        RbacAdminsOut,
        "admins.view",
        query={
            "offset": Query("skip this many (default 0)"),
            "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
        },
    )
    add(
        "PUT",
        "/admins/{user_id}",
        admin_put_admin,
        "Make a user an administrator with these roles, optionally limited to departments (409: the last super "
        "administrator cannot be demoted)",
        RbacGrantIn,
        RbacGrantOut,
        "admins.write",
    )
    add(
        "DELETE",
        "/admins/{user_id}",
        admin_delete_admin,
        "Take administration away from a user (409 for the last super administrator)",
        None,
        StatusOut,
        "admins.write",
    )
    return t
