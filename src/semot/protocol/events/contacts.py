"""The `contacts` event (docs/protocol.md, Contacts: "Snapshot + events"): its `change`
is one model per kind of change, picked by `type`, carrying the snapshot's own shapes
(a friend, a request, a tag, a block)."""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Field

from semot.protocol.events.base import _Event, _Model


class Friend(_Model):
    user_id: str
    display_name: str
    remark: str
    created_at: int
    avatar_url: str | None  # extension (services/profiles.py)


class FriendRequest(_Model):
    request_id: str
    from_user: str = Field(alias="from")
    to_user: str = Field(alias="to")
    message: str
    status: Literal["pending", "accepted", "declined", "cancelled"]
    created_at: int


class ContactTag(_Model):
    tag_id: str
    name: str
    created_at: int
    members: list[str]


class BlockEntry(_Model):
    user_id: str
    created_at: int


class UserSettings(_Model):
    friend_approval: bool


class FriendAdded(_Model):
    type: Literal["friend_added"] = "friend_added"
    friend: Friend


class FriendUpdated(_Model):
    type: Literal["friend_updated"] = "friend_updated"
    friend: Friend


class FriendRemoved(_Model):
    type: Literal["friend_removed"] = "friend_removed"
    user_id: str


class RequestAdded(_Model):
    type: Literal["request_added"] = "request_added"
    direction: Literal["incoming", "outgoing"]
    request: FriendRequest


class RequestRemoved(_Model):
    type: Literal["request_removed"] = "request_removed"
    request_id: str


class TagAdded(_Model):
    type: Literal["tag_added"] = "tag_added"
    tag: ContactTag


class TagUpdated(_Model):
    type: Literal["tag_updated"] = "tag_updated"
    tag: ContactTag


class TagRemoved(_Model):
    type: Literal["tag_removed"] = "tag_removed"
    tag_id: str


class UserBlocked(_Model):
    type: Literal["blocked"] = "blocked"
    entry: BlockEntry


class UserUnblocked(_Model):
    type: Literal["unblocked"] = "unblocked"
    user_id: str


class SettingsReplaced(_Model):
    type: Literal["settings"] = "settings"
    settings: UserSettings


ContactsChange: TypeAlias = Annotated[
    FriendAdded
    | FriendUpdated
    | FriendRemoved
    | RequestAdded
    | RequestRemoved
    | TagAdded
    | TagUpdated
    | TagRemoved
    | UserBlocked
    | UserUnblocked
    | SettingsReplaced,
    Field(discriminator="type"),
]


class ContactsEvent(_Event):
    evt: Literal["contacts"] = "contacts"
    change: ContactsChange
