"""The `group` event (docs/protocol.md, Groups: "Every change explains itself"): its
`change` is one model per kind of change, picked by `type`."""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Field, with_config
from typing_extensions import TypedDict

from semot.protocol.events.base import _Event, _Model


@with_config(extra="forbid")
class GroupSettingsChange(TypedDict, total=False):
    """The settings that changed, and only those."""

    invite: Literal["member", "admin", "approval"]
    join: Literal["open", "approval", "closed"]
    member_leave: bool
    mute_all: bool
    searchable: bool
    review: bool  # pre-moderation (docs/moderation.md)


class _GroupChange(_Model):
    type: str
    by: str  # who made the change
    # extension (issue 12): true when `by` is an administrator acting from the admin
    # console (not necessarily a member); absent otherwise, so members' changes are unchanged
    by_admin: Literal[True] | None = Field(default=None, exclude_if=lambda v: v is None)


class GroupCreated(_GroupChange):
    type: Literal["created"] = "created"
    name: str


class MembersAdded(_GroupChange):
    type: Literal["members_added"] = "members_added"
    users: list[str]


class MemberJoined(_GroupChange):
    type: Literal["member_joined"] = "member_joined"
    user: str
    inviter: str | None = None  # null when they asked to join


class MemberRemoved(_GroupChange):
    type: Literal["member_removed"] = "member_removed"
    user: str


class MemberLeft(_GroupChange):
    type: Literal["member_left"] = "member_left"
    user: str


class RoleChanged(_GroupChange):
    type: Literal["role_changed"] = "role_changed"
    user: str
    role: Literal["admin", "member"]


class MemberMuted(_GroupChange):
    type: Literal["member_muted"] = "member_muted"
    user: str
    until: int | None  # null: unmuted


class OwnerTransferred(_GroupChange):
    type: Literal["owner_transferred"] = "owner_transferred"
    user: str  # the new owner


class GroupRenamed(_GroupChange):
    type: Literal["renamed"] = "renamed"
    name: str


class AnnouncementChanged(_GroupChange):
    type: Literal["announcement"] = "announcement"
    text: str


class SettingsChanged(_GroupChange):
    type: Literal["settings_changed"] = "settings_changed"
    settings: GroupSettingsChange


class GroupDismissed(_GroupChange):
    type: Literal["dismissed"] = "dismissed"


class GroupAvatarChanged(_GroupChange):
    """A new group avatar (`avatar_url`, see services/profiles.py), or none (null)."""

    type: Literal["avatar"] = "avatar"
    avatar_url: str | None


class RequestsPending(_GroupChange):
    """To owner and admins: join requests or invitations wait for review. `count`: how
    many this action made; `pending`: how many wait in all now (the badge's number)."""

    type: Literal["requests_pending"] = "requests_pending"
    count: int
    pending: int  # extension (issue 11)


class RequestDecided(_GroupChange):
    """To the requester and owner/admins; `pending`: how many requests still wait."""

    type: Literal["request_decided"] = "request_decided"
    request_id: str
    accepted: bool
    user: str
    pending: int  # extension (issue 11)


GroupChange: TypeAlias = Annotated[
    GroupCreated
    | MembersAdded
    | MemberJoined
    | MemberRemoved
    | MemberLeft
    | RoleChanged
    | MemberMuted
    | OwnerTransferred
    | GroupRenamed
    | AnnouncementChanged
    | SettingsChanged
    | GroupDismissed
    | RequestsPending
    | RequestDecided
    | GroupAvatarChanged,
    Field(discriminator="type"),
]


class GroupEvent(_Event):
    evt: Literal["group"] = "group"
    group_id: str
    conv: str
    change: GroupChange
