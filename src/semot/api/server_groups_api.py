"""Groups through the server API (`/api/server/v1/groups`, scope `groups`;
docs/integration.md): create a group for an owner, add and remove members, dismiss it.

Every change is made as the group's owner would make it (services/groups.py): the same
checks, the same `system` notices in the chat and the same `evt group` pushes, with the
owner as the one who did it. Members are added by the owner's invitation, which the
owner's role never needs approved; users who blocked the owner are left out (`skipped`).
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.services.group_admin import GroupAdmin

from .http import Call
from .models import ID_CHARS, NOT_BLANK
from .routing import Query, Route, RouteTable, json_response
from .server_api import MAX_NOTIFY_USERS, S, UserId

GroupName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NOT_BLANK)]
GROUP_ID = Query("a group id: 1-64 of A-Z a-z 0-9 _ . -", "string", max_length=64, min_length=1,
                 pattern=f"^{ID_CHARS}{{1,64}}$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerGroupIn(_In):
    owner: UserId = Field(description="The owner: the group is created as this user")
    name: GroupName
    members: Annotated[list[UserId], Field(max_length=MAX_NOTIFY_USERS)] = Field(
        default_factory=list, description="Members besides the owner"
    )
    group_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=f"^{ID_CHARS}+$")] | None = Field(
        None, description="Optional: the id to give the group (e.g. the integrator's own); 409 if taken"
    )


class ServerGroupOut(BaseModel):
    group_id: str
    conv: str
    skipped: list[str] = Field(description="members left out: they blocked the owner")


class ServerMembersIn(_In):
    users: Annotated[list[UserId], Field(min_length=1, max_length=MAX_NOTIFY_USERS)]


class ServerMembersOut(BaseModel):
    added: list[str] = Field(description="users who were not members before")


class ServerGroupEmptyOut(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _gid(call: Call) -> str:
    return call.request.match_info["group_id"]


async def _owner(call: Call) -> str:
    """The owner of a live group (404 for no such group, 409 once dismissed)."""
    s = call.services
    return (await GroupAdmin(s.storage, s.groups, s.messages).state(_gid(call), live=True)).group.owner_id


async def server_create_group(call: Call) -> web.Response:
    b: ServerGroupIn = call.body
    await call.services.accounts.get(b.owner)  # 404 for no such owner
    group, skipped = await call.services.groups.create(b.owner, b.name, b.members, group_id=b.group_id)
    return json_response({"group_id": group.id, "conv": f"g:{group.id}", "skipped": skipped}, 201)


async def server_add_members(call: Call) -> dict[str, Any]:
    b: ServerMembersIn = call.body
    res = await call.services.groups.invite(await _owner(call), _gid(call), b.users)
    return {"added": res["added"]}


async def server_remove_member(call: Call) -> dict[str, Any]:
    await call.services.groups.kick(await _owner(call), _gid(call), call.request.match_info["user_id"])
    return {}


async def server_dismiss_group(call: Call) -> dict[str, Any]:
    await call.services.groups.dismiss(await _owner(call), _gid(call))
    return {}


def routes() -> RouteTable:
    t = RouteTable()
    tag = "server"
    one = f"{S}/groups/{{group_id}}"
    spec = {"group_id": GROUP_ID}

    def add(method: str, path: str, handler: Any, summary: str, body: Any, reply: Any, **kw: Any) -> None:
        t.add(Route(method, path, handler, summary, tag, body, reply, auth="server", perm="groups", **kw))

    add("POST", f"{S}/groups", server_create_group, "Create a group as its owner (members are told as usual)",
        ServerGroupIn, ServerGroupOut, responses={201: "Created"})
    add("POST", one + "/members", server_add_members, "Add members, as the owner", ServerMembersIn, ServerMembersOut,
        path_specs=spec)
    add("DELETE", one + "/members/{user_id}", server_remove_member, "Remove a member (not the owner), as the owner", None,
        ServerGroupEmptyOut, path_specs=spec)
    add("DELETE", one, server_dismiss_group, "Dismiss the group, as the owner", None, ServerGroupEmptyOut, path_specs=spec)
    return t
