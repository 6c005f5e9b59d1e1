"""Admin API (/api/admin/v1): user administration for accounts made with `semot create-admin`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .http import Call
from .routing import Route, RouteTable


class UserPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disabled: bool | None = None
    is_admin: bool | None = None


class AdminUserOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    is_admin: bool
    disabled: bool
    created_at: int


def _user_out(u: Any) -> dict[str, Any]:
    return {**u.public(), "is_admin": u.is_admin, "disabled": u.disabled, "created_at": u.created_at}


async def get_user(call: Call) -> dict[str, Any]:
    return _user_out(await call.services.accounts.get(call.request.match_info["user_id"]))


async def patch_user(call: Call) -> dict[str, Any]:
    uid = call.request.match_info["user_id"]
    b: UserPatchIn = call.body
    accounts = call.services.accounts
    if b.is_admin is not None:
        await accounts.set_admin(uid, b.is_admin)
    if b.disabled is not None:
        await accounts.set_disabled(uid, b.disabled)
    return _user_out(await accounts.get(uid))


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("GET", "/api/admin/v1/users/{user_id}", get_user, "Look up a user", "admin", None, AdminUserOut, auth="admin"))
    t.add(
        Route(
            "PATCH",
            "/api/admin/v1/users/{user_id}",
            patch_user,
            "Disable / enable a user (disabling disconnects every device with 1008) or grant admin",
            "admin",
            UserPatchIn,
            AdminUserOut,
            auth="admin",
        )
    )
    return t
