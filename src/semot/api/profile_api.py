"""Profiles over HTTP (PROTOCOL.md §6, last bullet; docs/protocol.md, Profiles and
avatars): change your name and avatar, your password, a group's avatar, and the avatar
images themselves behind the signed `avatar_url` (services/profiles.py says why signed).
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from aiohttp.payload import AsyncIterablePayload
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.errors import NotFound, Unavailable
from semot.ids import now_ms
from semot.services import file_media
from semot.services.profiles import AVATAR_TYPES, Owner, ProfileService

from .auth_http import request_ip
from .http import Call, bearer_token
from .models import NOT_BLANK, StatusOut
from .routing import Query, Route, RouteTable

FileId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NOT_BLANK)]


class UpdateMeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: DisplayName | None = Field(None, description="1-128 characters, not all blank (trimmed)")
    avatar_file_id: FileId | None = Field(
        None,
        description="A finished upload you may read whose sniffed type is JPEG, PNG, WebP or GIF (at most 10 MiB); "
        "null removes the avatar, omitted keeps it",
    )


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Annotated[str, StringConstraints(min_length=8, max_length=256)]


class MeOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    is_admin: bool
    created_at: int
    avatar_url: str | None = Field(description="load it in <img> without a token (signed, expires); null: none")
    cs_agent: bool | None = Field(None, description="GET only: a customer-service agent (the web client's workbench)")
    restricted: bool | None = Field(
        None, description="GET only: an anonymous visitor or an external customer, limited to customer service "
        "(docs/customer-service.md): the web client shows its customer mode")


def profile_service(call: Call) -> ProfileService:
    service: ProfileService | None = getattr(call.services, "profiles", None)
    if service is None:
        raise Unavailable("profiles are not enabled on this server")
    return service


def me_wire(call: Call) -> dict[str, Any]:
    u = call.me
    return {**u.public(), "is_admin": u.is_admin, "created_at": u.created_at,
            "avatar_url": profile_service(call).urls.user(u)}


async def with_avatars(call: Call, items: list[dict[str, Any]], key: str = "user_id") -> list[dict[str, Any]]:
    """Put each user's `avatar_url` on the dicts of a reply (one query for the page)."""
    urls = await profile_service(call).avatar_urls([str(i[key]) for i in items]) if items else {}
    for item in items:
        item["avatar_url"] = urls.get(str(item[key]))
    return items


async def update_me(call: Call) -> dict[str, Any]:
    b: UpdateMeIn = call.body
    await profile_service(call).update_me(
        call.me,
        display_name=b.display_name,
        avatar="avatar_file_id" in b.model_fields_set,
        avatar_file_id=b.avatar_file_id,
    )
    return me_wire(call)


async def change_password(call: Call) -> dict[str, Any]:
    b: PasswordIn = call.body
    accounts = call.services.accounts
    login_id = accounts.login_of(bearer_token(call.request))
    await accounts.change_password(
        call.me, login_id, b.old_password, b.new_password, ip=request_ip(call.request, call.services.settings)
    )
    return {"status": "password_changed"}


async def _serve(call: Call, owner: Owner, owner_id: str, file_id: str | None) -> web.StreamResponse:
    """The avatar image, if `v`, `exp` and `sig` were signed for it and it is still the
    current avatar (a replaced one is not served through its old URL)."""
    service = profile_service(call)
    v, exp, sig = call.query_str("v"), call.query_int("exp"), call.query_str("sig")
    if not v or exp is None or not sig or not service.urls.valid(owner, owner_id, v, exp, sig):
        raise NotFound("this avatar link is invalid or expired")
    files = call.services.files
    if v != file_id or files is None:
        raise NotFound("this is not the current avatar")
    record = await call.services.storage.files.get_file(v)
    if record is None or not record.complete or record.mime not in AVATAR_TYPES:
        raise NotFound("this avatar is gone")
    await files.check_bytes(record)
    etag = f'"{record.sha256}-avatar"'
    max_age = max(0, (exp - now_ms()) // 1000)
    headers = {
        "ETag": etag,
        "Cache-Control": f"private, max-age={max_age}, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": file_media.content_disposition(record.name or "avatar", True),
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if call.request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    try:  # the thumbnail (at most 320 px, small) where there is one: avatars are shown small
        thumb = await files.thumb(record)
    except NotFound:
        thumb = None
    if thumb is not None:
        headers["Content-Type"] = file_media.sniff(thumb[: file_media.SNIFF_BYTES])
        return web.Response(headers=headers, body=thumb)
    headers["Content-Type"] = record.mime
    headers["Content-Length"] = str(record.size)
    return web.Response(headers=headers, body=AsyncIterablePayload(files.read(record, 0, record.size)))


async def user_avatar(call: Call) -> web.StreamResponse:
    uid = call.request.match_info["user_id"]
    user = await call.services.storage.users.get_user(uid)
    return await _serve(call, "users", uid, user.avatar_file_id if user is not None else None)


async def group_avatar(call: Call) -> web.StreamResponse:
    gid = call.request.match_info["group_id"]
    group = await call.services.storage.groups.get_group(gid)
    return await _serve(call, "groups", gid, group.avatar_file_id if group is not None else None)


def routes() -> RouteTable:
    t = RouteTable()
    signed: dict[str, Query | str] = {
        "v": Query("the avatar's file id (cache-busting)", "string", max_length=64, min_length=1,
                   pattern=r"^[A-Za-z0-9_.-]{1,64}$", required=True),
        "exp": Query("the signed URL's expiry (ms)", required=True),
        "sig": Query("the signed URL's signature", "string", max_length=64, pattern="^[A-Za-z0-9_-]{1,64}$",
                     required=True),
    }
    image = {304: "Not modified (If-None-Match)", 404: "An invalid or expired link, or not the current avatar"}
    etag = {"If-None-Match": Query("an ETag held (304 when it is current)", "string", max_length=200)}
    t.add(Route("PATCH", "/api/v1/me", update_me, "Change your display name and/or avatar (pushes evt profile)",
                "users", UpdateMeIn, MeOut))
    t.add(Route("POST", "/api/v1/me/password", change_password,
                "Change your password: every other login ends (this one keeps working); 403 for a wrong old "
                "password (counted as a failed login)", "users", PasswordIn, StatusOut))
    t.add(Route("GET", "/api/v1/users/{user_id}/avatar", user_avatar,
                "A user's avatar image: the `avatar_url` of a profile (signed: no token needed)", "users",
                auth=None, query=signed, headers=etag, responses=image))
    t.add(Route("GET", "/api/v1/groups/{group_id}/avatar", group_avatar,
                "A group's avatar image: the `avatar_url` of a group (signed: no token needed)", "groups",
                auth=None, query=signed, headers=etag, responses=image))
    return t
