"""Contacts HTTP API: the snapshot, friend requests, friends, tags, blacklist, settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .http import Call
from .models import NOT_BLANK, DecideIn, StatusOut, UserId
from .routing import Route, RouteTable

TagName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NOT_BLANK)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FriendOut(BaseModel):
    user_id: str
    display_name: str
    remark: str
    created_at: int
    avatar_url: str | None = Field(None, description="the avatar image (signed URL, see PATCH /api/v1/me); null: none")


class FriendRequestOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    request_id: str
    from_: str = Field(alias="from")
    to: str
    message: str
    status: str
    created_at: int


class TagOut(BaseModel):
    tag_id: str
    name: str
    created_at: int
    members: list[str]


class BlockOut(BaseModel):
    user_id: str
    created_at: int


class FriendRequestsOut(BaseModel):
    incoming: list[FriendRequestOut]
    outgoing: list[FriendRequestOut]


class SettingsOut(BaseModel):
    friend_approval: bool = Field(description="true: friend requests need my approval; false: anyone can add me")


class SnapshotOut(BaseModel):
    friends: list[FriendOut]
    requests: FriendRequestsOut
    tags: list[TagOut]
    blacklist: list[BlockOut]
    settings: SettingsOut


class FriendRequestIn(_In):
    user_id: UserId
    message: Annotated[str, StringConstraints(max_length=500)] = ""


class FriendRequestResult(BaseModel):
    status: Literal["requested", "friends"]
    request_id: str | None


class RemarkIn(_In):
    remark: Annotated[str, StringConstraints(max_length=128)]


class TagIn(_In):
    name: TagName
    members: Annotated[list[UserId], Field(max_length=5000)] = []


class TagPatchIn(_In):
    name: TagName | None = None
    members: Annotated[list[UserId], Field(max_length=5000)] | None = None


class SettingsIn(_In):
    friend_approval: bool | None = None


def _uid(call: Call) -> str:
    return call.request.match_info["user_id"]


async def snapshot(call: Call) -> dict[str, Any]:
    return await call.services.contacts.snapshot(call.me.id)


async def request_friend(call: Call) -> dict[str, Any]:
    b: FriendRequestIn = call.body
    return await call.services.contacts.request_friend(call.me.id, b.user_id, b.message)


async def decide_request(call: Call) -> dict[str, Any]:
    rid = call.request.match_info["request_id"]
    return await call.services.contacts.decide_request(call.me.id, rid, call.body.action == "accept")


async def remove_friend(call: Call) -> dict[str, Any]:
    await call.services.contacts.remove_friend(call.me.id, _uid(call))
    return {"status": "removed"}


async def set_remark(call: Call) -> dict[str, Any]:
    return await call.services.contacts.set_remark(call.me.id, _uid(call), call.body.remark)


async def create_tag(call: Call) -> dict[str, Any]:
    b: TagIn = call.body
    return await call.services.contacts.create_tag(call.me.id, b.name, b.members)


async def update_tag(call: Call) -> dict[str, Any]:
    b: TagPatchIn = call.body
    tag_id = call.request.match_info["tag_id"]
    return await call.services.contacts.update_tag(call.me.id, tag_id, name=b.name, members=b.members)


async def delete_tag(call: Call) -> dict[str, Any]:
    await call.services.contacts.delete_tag(call.me.id, call.request.match_info["tag_id"])
    return {"status": "deleted"}


async def block(call: Call) -> dict[str, Any]:
    await call.services.contacts.block(call.me.id, _uid(call))
    return {"status": "blocked"}


async def unblock(call: Call) -> dict[str, Any]:
    await call.services.contacts.unblock(call.me.id, _uid(call))
    return {"status": "unblocked"}


async def get_settings(call: Call) -> dict[str, Any]:
    settings: dict[str, Any] = (await call.services.contacts.snapshot(call.me.id))["settings"]
    return settings


async def update_settings(call: Call) -> dict[str, Any]:
    change = call.body.model_dump(exclude_none=True)
    return await call.services.contacts.update_settings(call.me.id, change)


def routes() -> RouteTable:
    t = RouteTable()
    add = t.add
    add(Route("GET", "/api/v1/contacts", snapshot, "Contacts snapshot: friends, pending requests, tags, blacklist, settings", "contacts", None, SnapshotOut))
    add(Route("POST", "/api/v1/friends/requests", request_friend, "Ask to be friends (or become friends at once, per their setting)", "contacts", FriendRequestIn, FriendRequestResult))
    add(Route("POST", "/api/v1/friends/requests/{request_id}", decide_request, "Accept or decline (recipient); decline cancels (sender)", "contacts", DecideIn, StatusOut))
    add(Route("DELETE", "/api/v1/friends/{user_id}", remove_friend, "Remove a friend (both sides)", "contacts", None, StatusOut))
    add(Route("PATCH", "/api/v1/friends/{user_id}", set_remark, "Set the remark (alias) you give a friend", "contacts", RemarkIn, FriendOut))
    add(Route("POST", "/api/v1/contacts/tags", create_tag, "Create a tag (label) for friends", "contacts", TagIn, TagOut, 201))
    add(Route("PATCH", "/api/v1/contacts/tags/{tag_id}", update_tag, "Rename a tag and/or replace its members", "contacts", TagPatchIn, TagOut))
    add(Route("DELETE", "/api/v1/contacts/tags/{tag_id}", delete_tag, "Delete a tag", "contacts", None, StatusOut))
    add(Route("PUT", "/api/v1/blacklist/{user_id}", block, "Block a user: no messages, no friend requests, no presence", "contacts", None, StatusOut))
    add(Route("DELETE", "/api/v1/blacklist/{user_id}", unblock, "Unblock a user", "contacts", None, StatusOut))
    add(Route("GET", "/api/v1/me/settings", get_settings, "Your contact settings", "contacts", None, SettingsOut))
    add(Route("PATCH", "/api/v1/me/settings", update_settings, "Change your contact settings", "contacts", SettingsIn, SettingsOut))
    return t
