"""Group HTTP API: creation, reading and every management action (roles, invitations,
join requests, kick, leave, transfer, dismiss, mutes, announcements, settings)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .http import Call
from .models import (
    ID_CHARS,
    INTEGRAL,
    MAX_SAFE_INT,
    NOT_BLANK,
    DecideIn,
    StatusOut,
    UserId,
)
from .profile_api import FileId, profile_service, with_avatars
from .routing import Query, Route, RouteTable

GroupName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NOT_BLANK)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateGroupIn(_In):
    name: GroupName
    members: Annotated[list[UserId], Field(max_length=10000)] = []
    type: Literal["department", "project", "temporary"] = "project"


class CreateGroupOut(BaseModel):
    group_id: str
    conv: str
    skipped: list[str] = Field(description="members left out: they blocked you")


class GroupOut(BaseModel):
    """Members get every field; others only what they need to ask to join (see
    docs/protocol.md): the rest is null."""

    group_id: str
    conv: str
    name: str | None = Field(description="null for non-members unless the group takes joiners")
    owner: str | None = Field(description="null for non-members")
    type: str | None = Field(description="null for non-members unless the group takes joiners")
    settings: dict[str, Any] = Field(description="non-members: only `join`")
    announcement: str | None
    created_at: int | None = Field(description="null for non-members")
    dismissed: bool
    member_count: int | None = Field(None, description="null for non-members unless the group takes joiners")
    my_role: str | None = None
    my_muted_until: int | None = Field(None, description="members only: until when you are muted (ms), or null")
    avatar_url: str | None = Field(None, description="the group's avatar image (signed URL); null: none")
    pending_requests: int | None = Field(
        None, description="owner and admins: join requests and invitations waiting for review; null for others"
    )


class GroupListOut(BaseModel):
    groups: list[GroupOut]


class FoundGroupOut(BaseModel):
    group_id: str
    conv: str
    name: str
    type: str
    member_count: int
    join: str = Field(description="open: join at once; approval: a request waits for an admin")
    my_role: str | None = Field(description="your role if you are already a member")
    avatar_url: str | None = Field(None, description="the group's avatar image (signed URL); null: none")


class SearchOut(BaseModel):
    groups: list[FoundGroupOut]


class GroupSettingsIn(_In):
    """Only what changes; mute_all is for owners and admins, the rest for the owner."""

    invite: Literal["member", "admin", "approval"] | None = Field(None, description="who may add members")
    join: Literal["open", "approval", "closed"] | None = Field(None, description="how outsiders get in")
    member_leave: bool | None = Field(None, description="members may leave on their own")
    mute_all: bool | None = Field(None, description="only owner and admins may speak")
    searchable: bool | None = Field(None, description="group search finds it by name")
    review: bool | None = Field(
        None, description="pre-moderation: members' messages wait for a reviewer (owner/admins are never held)"
    )


class UpdateGroupIn(_In):
    name: GroupName | None = None
    announcement: Annotated[str, StringConstraints(max_length=2000)] | None = None
    settings: GroupSettingsIn | None = None
    avatar_file_id: FileId | None = Field(
        None, description="owner/admins: a JPEG, PNG, WebP or GIF upload you may read (as PATCH /api/v1/me); "
        "null removes the avatar, omitted keeps it"
    )


class GroupMemberOut(BaseModel):
    user_id: str
    role: str
    joined_at: int
    muted_until: int | None
    avatar_url: str | None = Field(None, description="the avatar image (signed URL, see PATCH /api/v1/me); null: none")


class MembersOut(BaseModel):
    members: list[GroupMemberOut]
    more: bool
    next: str | None
    total: int


class InviteIn(_In):
    user_ids: Annotated[list[UserId], Field(min_length=1, max_length=1000)]


class InviteOut(BaseModel):
    added: list[str]
    pending: list[str] = Field(description="request ids of invitations waiting for an admin")


class RoleIn(_In):
    role: Literal["admin", "member"]


class MuteIn(_In):
    until: Annotated[int, Field(ge=0, le=MAX_SAFE_INT), INTEGRAL] | None = Field(description="ms since the epoch; null unmutes")


class TransferIn(_In):
    user_id: UserId


class JoinIn(_In):
    message: Annotated[str, StringConstraints(max_length=500)] = ""


class JoinOut(BaseModel):
    joined: bool
    request_id: str | None


class GroupRequestOut(BaseModel):
    request_id: str
    group_id: str
    user_id: str
    inviter: str | None
    message: str
    status: str
    created_at: int
    handled_by: str | None
    handled_at: int | None


class GroupRequestsOut(BaseModel):
    requests: list[GroupRequestOut]


def _gid(call: Call) -> str:
    return call.request.match_info["group_id"]


def _uid(call: Call) -> str:
    return call.request.match_info["user_id"]


async def create_group(call: Call) -> dict[str, Any]:
    b: CreateGroupIn = call.body
    group, skipped = await call.services.groups.create(call.me.id, b.name, b.members, b.type)
    return {"group_id": group.id, "conv": f"g:{group.id}", "skipped": skipped}


async def list_groups(call: Call) -> dict[str, Any]:
    return {"groups": await call.services.groups.my_groups(call.me.id)}


async def search_groups(call: Call) -> dict[str, Any]:
    limit = call.query_int("limit")
    q = call.query_str("q", "") or ""
    return {"groups": await call.services.groups.search(call.me.id, q, limit=20 if limit is None else limit)}


async def get_group(call: Call) -> dict[str, Any]:
    return await call.services.groups.info(call.me.id, _gid(call))


async def update_group(call: Call) -> dict[str, Any]:
    b: UpdateGroupIn = call.body
    groups = call.services.groups
    settings = None if b.settings is None else b.settings.model_dump(exclude_none=True)
    if "avatar_file_id" in b.model_fields_set:  # checked first: a refused file changes nothing
        service = profile_service(call)
        if b.avatar_file_id is not None:
            await service.avatar_file(call.me.id, b.avatar_file_id)
        if await groups.set_avatar(call.me.id, _gid(call), b.avatar_file_id):
            await service.group_avatar_ref(_gid(call), b.avatar_file_id)
    await groups.update(call.me.id, _gid(call), name=b.name, announcement=b.announcement, settings=settings)
    return await groups.info(call.me.id, _gid(call))


async def dismiss_group(call: Call) -> dict[str, Any]:
    await call.services.groups.dismiss(call.me.id, _gid(call))
    return {"status": "dismissed"}


async def list_members(call: Call) -> dict[str, Any]:
    limit = call.query_int("limit")
    page = await call.services.groups.members(
        call.me.id, _gid(call), after=call.query_str("after") or None, limit=100 if limit is None else limit
    )
    await with_avatars(call, page["members"])
    return page


async def invite(call: Call) -> dict[str, Any]:
    return await call.services.groups.invite(call.me.id, _gid(call), call.body.user_ids)


async def remove_member(call: Call) -> dict[str, Any]:
    target = _uid(call)
    groups = call.services.groups
    if target == call.me.id:
        await groups.leave(call.me.id, _gid(call))
        return {"status": "left"}
    await groups.kick(call.me.id, _gid(call), target)
    return {"status": "removed"}


async def leave(call: Call) -> dict[str, Any]:
    await call.services.groups.leave(call.me.id, _gid(call))
    return {"status": "left"}


async def set_role(call: Call) -> dict[str, Any]:
    await call.services.groups.set_role(call.me.id, _gid(call), _uid(call), call.body.role)
    return {"status": "ok"}


async def mute(call: Call) -> dict[str, Any]:
    await call.services.groups.mute(call.me.id, _gid(call), _uid(call), call.body.until)
    return {"status": "ok"}


async def transfer(call: Call) -> dict[str, Any]:
    await call.services.groups.transfer(call.me.id, _gid(call), call.body.user_id)
    return {"status": "ok"}


async def join(call: Call) -> dict[str, Any]:
    return await call.services.groups.join(call.me.id, _gid(call), call.body.message)


async def list_requests(call: Call) -> dict[str, Any]:
    return {"requests": await call.services.groups.requests(call.me.id, _gid(call))}


async def decide(call: Call) -> dict[str, Any]:
    rid = call.request.match_info["request_id"]
    return await call.services.groups.decide(call.me.id, _gid(call), rid, call.body.action == "accept")


def routes() -> RouteTable:
    t = RouteTable()
    g = "/api/v1/groups/{group_id}"
    add = t.add
    add(Route("POST", "/api/v1/groups", create_group, "Create a group (you are the owner)", "groups", CreateGroupIn, CreateGroupOut, 201))
    add(Route("GET", "/api/v1/groups", list_groups, "Your groups, with your role in each", "groups", None, GroupListOut))
    # before /groups/{group_id}, which would otherwise take "search" for an id
    add(
        Route(
            "GET", "/api/v1/groups/search", search_groups,
            "Find groups to join: by exact group id, or by part of the name (groups set searchable)",
            "groups", None, SearchOut,
            query={
                "q": Query(
                    "part of a name, or a group id: 1-128 characters, not all blank", "string", max_length=128,
                    min_length=1, pattern=NOT_BLANK, required=True,
                ),
                "limit": Query("1-50, default 20", minimum=1, maximum=50),
            },
        )
    )
    add(Route("GET", g, get_group, "A group's details (non-members see what they need to ask to join)", "groups", None, GroupOut))
    add(Route("PATCH", g, update_group, "Rename, set the announcement, change settings (owner/admins)", "groups", UpdateGroupIn, GroupOut))
    add(Route("DELETE", g, dismiss_group, "Dismiss the group (owner)", "groups", None, StatusOut))
    add(
        Route(
            "GET", g + "/members", list_members, "Members, paged by user id", "groups", None, MembersOut,
            query={
                "after": Query(
                    "the `next` of the previous page: members after this user id", "string", max_length=64,
                    pattern=f"^{ID_CHARS}{{0,64}}$",
                ),
                "limit": Query("1-500, default 100", minimum=1, maximum=500),
            },
        )
    )
    add(Route("POST", g + "/members", invite, "Invite or add members, as the group's policy allows", "groups", InviteIn, InviteOut))
    add(Route("DELETE", g + "/members/{user_id}", remove_member, "Remove a member (or yourself: leave)", "groups", None, StatusOut))
    add(Route("PUT", g + "/members/{user_id}/role", set_role, "Appoint or demote an admin (owner)", "groups", RoleIn, StatusOut))
    add(Route("PUT", g + "/members/{user_id}/mute", mute, "Mute a member until a time, or unmute (owner/admins)", "groups", MuteIn, StatusOut))
    add(Route("POST", g + "/leave", leave, "Leave the group", "groups", None, StatusOut))
    add(Route("POST", g + "/transfer", transfer, "Hand ownership to a member (owner)", "groups", TransferIn, StatusOut))
    add(Route("POST", g + "/join", join, "Join, or ask to join, as the group's policy allows", "groups", JoinIn, JoinOut))
    add(Route("GET", g + "/requests", list_requests, "Pending join requests and invitations (owner/admins)", "groups", None, GroupRequestsOut))
    add(Route("POST", g + "/requests/{request_id}", decide, "Accept or decline a request (owner/admins)", "groups", DecideIn, StatusOut))
    return t
