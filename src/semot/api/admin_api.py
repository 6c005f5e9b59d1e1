"""Admin API for users (/api/admin/v1/users...): the list, one user, create, change,
passwords and set-password links, devices and kicking a login, bulk actions.

Reading needs `users.view`, changing `users.write`. An administrator limited to
departments sees and changes only the users in them (and puts new users in them);
administrators themselves are changed only by holders of `admins.write` (otherwise a
user administrator could take over a super administrator by resetting their password).
Every change goes to the audit log with the user before and after (never a password).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.errors import BadRequest, Forbidden, SemotError
from semot.services.admin_access import AdminGrant
from semot.services.password_links import MAX_LINK_TTL_S, MIN_LINK_TTL_S
from semot.services.user_admin import MAX_BULK, MAX_PAGE, SORTS, UserAdmin, audit_view

from .http import Call
from .models import INTEGRAL, NOT_BLANK, Id
from .routing import ID, Query, Route, RouteTable

USERNAME = r"^[A-Za-z0-9_.-]+$"
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NOT_BLANK)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateUserIn(_In):
    username: Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=USERNAME)]
    password: Password | None = Field(
        None, description="absent: the account signs in only after a set-password link (or SSO)"
    )
    display_name: Annotated[str, StringConstraints(max_length=128)] | None = None
    department_id: Id | None = Field(
        None, description="put the user in this department (required when your scope is limited)"
    )
    title: Annotated[str, StringConstraints(max_length=64)] | None = Field(None, description="job title there")


class CreateUserOut(BaseModel):
    user_id: str


class UserPatchIn(_In):
    display_name: DisplayName | None = None
    password: Password | None = Field(None, description="a new password: every login of the user ends")
    disabled: bool | None = Field(None, description="true: every login ends and every socket closes (1008)")
    is_admin: bool | None = Field(None, description="needs admins.write over the whole organisation")


class DepartmentRef(BaseModel):
    department_id: str
    name: str
    title: str


class AdminUserOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    disabled: bool
    is_admin: bool
    created_at: int
    online: bool = Field(description="a device is connected now, on any node")
    has_password: bool = Field(description="false: created without one, waiting for a set-password link")
    last_seen: int | None = Field(description="when a device of the user last connected (ms), if recorded")
    avatar_url: str | None
    external: bool = Field(False, description="a customer (server API `external`) or an anonymous visitor of "
                           "customer service: limited to customer service")
    departments: list[DepartmentRef]


class UsersPageOut(BaseModel):
    users: list[AdminUserOut]
    total: int
    offset: int
    limit: int


class PasswordLinkIn(_In):
    ttl_s: Annotated[int, Field(ge=MIN_LINK_TTL_S, le=MAX_LINK_TTL_S), INTEGRAL] | None = Field(
        None, description="how long the link works (s); default 7 days"
    )


class PasswordLinkOut(BaseModel):
    token: str = Field(description="shown once; only its hash is stored")
    path: str = Field(description="where the web client opens it: append to the server's address")
    user_id: str
    expires_at: int


class DeviceOut(BaseModel):
    device_id: str
    platform: str
    ip: str
    first_seen: int
    last_seen: int
    online: bool


class LoginOut(BaseModel):
    login_id: str = Field(description="kick it with DELETE .../devices/{login_id}")
    created_at: int = Field(description="when the login began (ms; from its first token)")
    refreshed_at: int
    expires_at: int
    platform: str | None
    ip: str | None
    last_seen: int | None
    online: bool
    devices: list[DeviceOut]


class ConnectionOut(BaseModel):
    device_id: str
    login_id: str | None
    platform: str | None
    ip: str | None


class DevicesOut(BaseModel):
    user_id: str
    online: bool
    logins: list[LoginOut] = Field(description="live logins, newest first")
    connections: list[ConnectionOut] = Field(description="devices connected now, on any node")


class KickOut(BaseModel):
    status: str = Field(description="`ended`")


class BulkIn(_In):
    # move_department without a department is refused (admin_users_bulk): the document says
    # so with if/then, or generated clients and schemathesis take it for a valid request
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"action": {"const": "move_department"}}, "required": ["action"]},
            "then": {"properties": {"department_id": {"type": "string"}}, "required": ["department_id"]},
        }
    )
    user_ids: list[Id] = Field(min_length=1, max_length=MAX_BULK)
    action: Literal["disable", "enable", "move_department"]
    department_id: Id | None = Field(None, description="move_department: the department to move them to")


class BulkError(BaseModel):
    code: str
    message: str


class BulkResult(BaseModel):
    user_id: str
    ok: bool
    error: BulkError | None = None


class BulkOut(BaseModel):
    results: list[BulkResult]
    succeeded: int
    failed: int


# --------------------------------------------------------------------------- helpers


def service(call: Call) -> UserAdmin:
    ua = call.services.user_admin
    if ua is None:
        raise BadRequest("user administration is not available on this server")
    return ua


def _grant(call: Call) -> AdminGrant:
    assert call.grant is not None
    return call.grant


def _uid(call: Call) -> str:
    return call.request.match_info["user_id"]


async def _may_change(call: Call, user_id: str) -> None:
    """403 unless the caller may change this user: in their departments, and an
    administrator only for holders of admins.write."""
    grant = _grant(call)
    await call.services.admin.check_user_scope(grant, user_id)
    user = await service(call).get(user_id)
    if user.is_admin and not grant.allows("admins.write"):
        raise Forbidden("administrators are changed by those who hold admins.write")


def _flag(raw: str | None, name: str) -> bool | None:
    if raw in (None, ""):
        return None
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise BadRequest(f"{name}: true or false")


# --------------------------------------------------------------------------- handlers


async def admin_list_users(call: Call) -> dict[str, Any]:
    scope = await call.services.admin.scope_departments(_grant(call))
    return await service(call).list_users(
        q=call.query_str("q"),
        disabled=_flag(call.query_str("disabled"), "disabled"),
        admin=_flag(call.query_str("admin"), "admin"),
        department_id=call.query_str("department_id") or None,
        scope=scope,
        sort=call.query_str("sort") or "-created_at",
        offset=call.query_int("offset") or 0,
        limit=call.query_int("limit") or 50,
    )


async def admin_get_user(call: Call) -> dict[str, Any]:
    await call.services.admin.check_user_scope(_grant(call), _uid(call))
    return await service(call).describe(_uid(call))


async def admin_create_user(call: Call) -> dict[str, Any]:
    b: CreateUserIn = call.body
    grant = _grant(call)
    if grant.departments is not None and b.department_id is None:
        raise BadRequest("department_id: required, your administration is limited to departments")
    if b.department_id is not None:
        await call.services.admin.check_department_scope(grant, b.department_id)
    ua = service(call)
    user = await ua.create(b.username, b.password, b.display_name, department_id=b.department_id, title=b.title)
    after = {**audit_view(user), "has_password": b.password is not None, "department_id": b.department_id}
    await call.audit("user.create", user.id, after=after)
    return {"user_id": user.id}


async def admin_patch_user(call: Call) -> dict[str, Any]:
    b: UserPatchIn = call.body
    uid, grant, ua = _uid(call), _grant(call), service(call)
    await _may_change(call, uid)
    if b.is_admin is not None and not (grant.departments is None and grant.allows("admins.write")):
        raise Forbidden("making or unmaking administrators needs admins.write over the whole organisation")
    if uid == call.me.id and (b.disabled is True or b.is_admin is False):
        raise BadRequest("you cannot disable yourself or take away your own administration")
    user = await ua.get(uid)
    before = audit_view(user)
    if user.is_admin and (b.disabled is True or b.is_admin is False):
        await call.services.admin.ensure_not_last_super(uid)
    if b.display_name is not None:
        user = await ua.set_display_name(user, b.display_name)
    if b.password is not None:
        await ua.set_password(uid, b.password)
    if b.is_admin is not None and b.is_admin != user.is_admin:
        user = await ua.set_admin(uid, b.is_admin)
    if b.disabled is not None and b.disabled != user.disabled:
        user = await ua.set_disabled(uid, b.disabled)
    after: dict[str, Any] = audit_view(user)
    if b.password is not None:
        after["password"] = "set"  # that it changed, never what to
    await call.audit("user.update", uid, before=before, after=after)
    return await ua.describe(uid)


async def admin_password_link(call: Call) -> dict[str, Any]:
    b: PasswordLinkIn = call.body
    uid = _uid(call)
    await _may_change(call, uid)
    kw = {"ttl_s": b.ttl_s} if b.ttl_s is not None else {}
    link = await service(call).make_password_link(uid, created_by=call.me.id, **kw)
    await call.audit("user.password_link", uid, after={"expires_at": link.expires_at})
    return link.to_wire()


async def admin_user_devices(call: Call) -> dict[str, Any]:
    uid = _uid(call)
    await call.services.admin.check_user_scope(_grant(call), uid)
    await service(call).get(uid)
    return await service(call).devices.devices(uid)


async def admin_kick_login(call: Call) -> dict[str, Any]:
    uid, login_id = _uid(call), call.request.match_info["login_id"]
    await _may_change(call, uid)
    await service(call).kick(uid, login_id)
    await call.audit("user.kick", uid, before={"login_id": login_id})
    return {"status": "ended"}


async def _bulk_one(call: Call, b: BulkIn, uid: str, scope: frozenset[str] | None) -> None:
    ua = service(call)
    await _may_change(call, uid)
    user = await ua.get(uid)
    if b.action == "move_department":
        assert b.department_id is not None
        before = await ua.move_to_department(uid, b.department_id, scope=scope)
        memberships = (await call.services.storage.org.user_memberships([uid])).get(uid, [])
        after = sorted(m.department_id for m in memberships)
        await call.audit(
            "user.move_department", uid, before={"departments": sorted(before)}, after={"departments": after}
        )
        return
    disable = b.action == "disable"
    if disable and uid == call.me.id:
        raise BadRequest("you cannot disable yourself")
    if disable and user.is_admin:
        await call.services.admin.ensure_not_last_super(uid)
    if user.disabled != disable:
        changed = await ua.set_disabled(uid, disable)
        await call.audit("user.update", uid, before=audit_view(user), after=audit_view(changed))


async def admin_users_bulk(call: Call) -> dict[str, Any]:
    b: BulkIn = call.body
    grant = _grant(call)
    if b.action == "move_department":
        if b.department_id is None:
            raise BadRequest("department_id: required for move_department")
        await call.services.admin.check_department_scope(grant, b.department_id)
        await service(call).subtree(b.department_id)
    scope = await call.services.admin.scope_departments(grant)
    results: list[dict[str, Any]] = []
    for uid in dict.fromkeys(b.user_ids):
        try:
            await _bulk_one(call, b, uid, scope)
            results.append({"user_id": uid, "ok": True})
        except SemotError as exc:
            results.append({"user_id": uid, "ok": False, "error": {"code": exc.code, "message": exc.message}})
    ok = sum(1 for r in results if r["ok"])
    return {"results": results, "succeeded": ok, "failed": len(results) - ok}


LIST_QUERY: dict[str, Query | str] = {
    "q": Query("part of a username or display name, or pinyin (directory members)", "string", max_length=64),
    "disabled": Query(
        "true or false: only disabled / only enabled users", "string", max_length=5, pattern="^(true|false|1|0)?$"
    ),
    "admin": Query(
        "true or false: only administrators / only others", "string", max_length=5, pattern="^(true|false|1|0)?$"
    ),
    "department_id": Query("only users in this department or below it", "string", max_length=64, pattern=ID.pattern),
    "sort": Query(
        f"one of {', '.join(SORTS)} (default -created_at: newest first)",
        "string",
        max_length=16,
        pattern="^(" + "|".join(SORTS) + ")?$",
    ),
    "offset": Query("skip this many (default 0)"),
    "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
}


def routes() -> RouteTable:
    t = RouteTable()
    base = "/api/admin/v1/users"
    one = base + "/{user_id}"
    tag = "admin: users"

    def add(
        method: str, path: str, handler: Any, summary: str, body: Any, reply: Any, status: int = 200, **kw: Any
    ) -> None:
        perm = "users.view" if method == "GET" else "users.write"
        t.add(Route(method, path, handler, summary, tag, body, reply, status, auth="admin", perm=perm, **kw))

    add(
        "GET",
        base,
        admin_list_users,
        "Users, searched and filtered, one page and the total",
        None,
        UsersPageOut,
        query=LIST_QUERY,
    )
    add(
        "POST",
        base,
        admin_create_user,
        "Create a user (without a password: a set-password link signs them in)",
        CreateUserIn,
        CreateUserOut,
        201,
    )
    add(
        "POST",
        base + "/bulk",
        admin_users_bulk,
        "Disable, enable or move many users; a result per user",
        BulkIn,
        BulkOut,
    )
    add("GET", one, admin_get_user, "One user, as in the list", None, AdminUserOut)
    add(
        "PATCH",
        one,
        admin_patch_user,
        "Change a user: name, password (every login ends), disabled (every socket closes with 1008), admin",
        UserPatchIn,
        AdminUserOut,
    )
    add(
        "POST",
        one + "/password-link",
        admin_password_link,
        "Make a one-time set-password link (replaces an unused one)",
        PasswordLinkIn,
        PasswordLinkOut,
        201,
    )
    add(
        "GET",
        one + "/devices",
        admin_user_devices,
        "The user's logins with their devices, and who is connected now",
        None,
        DevicesOut,
    )
    add(
        "DELETE",
        one + "/devices/{login_id}",
        admin_kick_login,
        "End one login: its tokens stop working, its sockets close",
        None,
        KickOut,
    )
    return t
