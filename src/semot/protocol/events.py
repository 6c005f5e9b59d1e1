"""Every push the server sends (PROTOCOL.md §2.4, docs/protocol.md section 6), one
model each, in one place (as Zulip's `zerver/lib/event_types.py` does for its events).

A push is `{"t":"msg",...}` (a message) or `{"t":"evt","evt":<name>,...}`. The `group`
and `contacts` events carry a `change` whose `type` picks one model more. Every model is
frozen and `extra="forbid"`: a field the contract does not name cannot be sent, and a
test (tests/unit/test_events.py, tests/integration/test_events.py) parses every push a
real server emits with `parse_push`, strictly.

The wire names are the contract's: field names here are those names, except `from`
(a Python keyword), which is `sender` with the alias `from`.

Cost: building a pydantic model and serialising it takes a few microseconds, so the
message push, sent thousands of times a second, is encoded from the stored message's
wire dict by orjson (`encode_message_wire`) and turned into a `MessageEvent` only when
someone looks at it (a local subscriber, or validation in tests). Both give the same
bytes (tested).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    with_config,
)
from typing_extensions import TypedDict

from semot.protocol.client_config import PublicClientConfig


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class _Push(_Model):
    def to_json(self) -> bytes:
        """The push as compact UTF-8 JSON (what the bus carries; the hub frames it)."""
        return self.__pydantic_serializer__.to_json(self)


# --------------------------------------------------------------------------- messages


@with_config(extra="forbid")
class MessageOpts(TypedDict, total=False):
    burn_s: int


@with_config(extra="forbid")
class ReactionSummary(TypedDict):
    """One emoji on a message: how many reacted and who (the first 100, in order)."""

    emoji: str
    count: int
    users: list[str]


class MessageEvent(_Push):
    """`{"t":"msg",...}`: a message, as pushed and as returned by `history` (§2.3).

    `body` depends on `kind` and is validated on the way in (semot.domain.messages)."""

    t: Literal["msg"] = "msg"
    conv: str
    seq: int
    mid: str
    cid: str
    sender: str = Field(alias="from")
    kind: str
    body: dict[str, Any]
    ts: int
    opts: MessageOpts
    # edits and reactions (docs/protocol.md): present only on a message that has them
    edited_ts: int | None = None
    reactions: list[ReactionSummary] | None = None
    # who recalled a recalled message, and as what (docs/protocol.md, recall extension)
    recalled_by: str | None = None
    recalled_role: Literal["sender", "group_admin", "admin"] | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_changes(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out `edited_ts` / `reactions` when absent: the same bytes as the fast path."""
        out: dict[str, Any] = handler(self)
        for key in ("edited_ts", "reactions", "recalled_by", "recalled_role"):
            if out.get(key) is None:
                out.pop(key, None)
        return out


def encode_message_wire(wire: dict[str, Any]) -> bytes:
    """The fast path of a message push: the wire dict of a stored message, as JSON."""
    return orjson.dumps(wire)


# --------------------------------------------------------------------------- events


class _Event(_Push):
    t: Literal["evt"] = "evt"
    evt: str


class ReadEvent(_Event):
    """`user` read up to `seq` in `conv`."""

    evt: Literal["read"] = "read"
    conv: str
    seq: int
    user: str


class TypingEvent(_Event):
    """`user` is typing in a direct chat."""

    evt: Literal["typing"] = "typing"
    conv: str
    user: str


class RecallEvent(_Event):
    """Message `seq` of `conv` was recalled by `by`."""

    evt: Literal["recall"] = "recall"
    conv: str
    seq: int
    by: str
    # Semot extension: as what `by` recalled it (sender, group_admin, admin); docs/protocol.md
    role: Literal["sender", "group_admin", "admin"] | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_role(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if out.get("role") is None:
            out.pop("role", None)
        return out


class BurnedEvent(_Event):
    """Burn-after-reading message `seq` of `conv` was erased."""

    evt: Literal["burned"] = "burned"
    conv: str
    seq: int


class EditEvent(_Event):
    """Semot extension: message `seq` of `conv` now reads `body` (edited at `edited_ts`);
    `change_seq` is the conversation's change cursor after this change."""

    evt: Literal["edit"] = "edit"
    conv: str
    seq: int
    body: dict[str, Any]
    edited_ts: int
    by: str
    change_seq: int


class ReactionEvent(_Event):
    """Semot extension: `user` put (`on`) or took back `emoji` on message `seq` of
    `conv`; `reactions` is the message's whole summary after it."""

    evt: Literal["reaction"] = "reaction"
    conv: str
    seq: int
    emoji: str
    user: str
    on: bool
    reactions: list[ReactionSummary]
    change_seq: int


PresenceStatus = Literal["online", "offline", "busy", "away"]


class PresenceEvent(_Event):
    """A user's status; `v` grows with each change (drop a push older than the last)."""

    evt: Literal["presence"] = "presence"
    user: str
    status: PresenceStatus
    text: str
    v: int


class ConfigEvent(_Event):
    """The client configuration changed (contract: fetch it again). Semot adds the new
    configuration itself (`config`, as GET /api/v1/client-config answers) and its
    `version`, so every connected client need not fetch it at the same moment."""

    evt: Literal["config"] = "config"
    version: int | None = Field(None, exclude_if=lambda v: v is None)
    config: PublicClientConfig | None = Field(None, exclude_if=lambda v: v is None)


class NotifyEvent(_Event):
    """A notification pushed by an integrator (contract; not sent yet)."""

    evt: Literal["notify"] = "notify"
    data: dict[str, Any]


class ResyncEvent(_Event):
    """Extension (docs/protocol.md, "Catching up after a cluster hiccup"): this node may
    have missed pushes published on other nodes (its Redis subscription broke, or a node
    had to drop pushes it could not publish). Clients run their `sync` catch-up, each
    after a random wait of up to `spread_ms` so that a whole node does not ask at once."""

    evt: Literal["resync"] = "resync"
    spread_ms: int


# --- group changes (docs/protocol.md, Groups: "Every change explains itself")


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


# --- contacts changes (docs/protocol.md, Contacts: "Snapshot + events")


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


# --- files (docs/protocol.md, Files)


class FileUploaded(_Model):
    """An upload finished: what the server found the file to be (type sniffed from its bytes)."""

    type: Literal["uploaded"] = "uploaded"
    file_id: str
    name: str
    size: int
    mime: str
    sha256: str
    w: int | None = None
    h: int | None = None


class FileEvent(_Event):
    """Something happened to one of the user's files; sent to the uploader's devices."""

    evt: Literal["file"] = "file"
    change: FileUploaded


# --- profiles (docs/protocol.md, Profiles and avatars)


class ProfileEvent(_Event):
    """`user` changed their display name or avatar; sent to their devices, friends and
    co-members (services/profiles.py)."""

    evt: Literal["profile"] = "profile"
    user: str
    display_name: str
    avatar_url: str | None


# --- conversation settings (docs/protocol.md, Conversation settings)


class ConvSettingsEvent(_Event):
    """The user's own settings of `conv` changed on another of their devices.
    `hidden` with `hidden_seq` null: a conversation they are not in, removed from the list."""

    evt: Literal["conv_settings"] = "conv_settings"
    conv: str
    pinned_at: int | None
    dnd: bool
    hidden: bool
    hidden_seq: int | None


# --- pre-moderation (PROTOCOL.md §7, docs/moderation.md)


class ModerationEvent(_Event):
    """A reviewer decided on the user's held message `mid` (sent to the sender's devices).
    The contract's `rejected` carries `reason`; Semot adds `approved` (with the `seq` it
    was stored at) and `conv` on both."""

    evt: Literal["moderation"] = "moderation"
    mid: str
    action: Literal["approved", "rejected"]
    reason: str | None
    conv: str
    seq: int | None = Field(None, exclude_if=lambda v: v is None)


# --- customer service (docs/customer-service.md)


class CsEvent(_Event):
    """A customer-service session changed (`session`, as the workbench lists it), or an
    agent's state (`agent`: `{"user_id","state"}`, `session` null). Sent to the agents
    concerned and to the session's visitor."""

    evt: Literal["cs"] = "cs"
    type: Literal["assigned", "waiting", "transferred", "closed", "agent_state"]
    session: dict[str, Any] | None
    agent: dict[str, Any] | None = Field(None, exclude_if=lambda v: v is None)


# --------------------------------------------------------------------------- unions

EventModel: TypeAlias = (
    ReadEvent
    | TypingEvent
    | RecallEvent
    | BurnedEvent
    | EditEvent
    | ReactionEvent
    | PresenceEvent
    | ConfigEvent
    | NotifyEvent
    | GroupEvent
    | ContactsEvent
    | FileEvent
    | ProfileEvent
    | ConvSettingsEvent
    | ModerationEvent
    | CsEvent
    | ResyncEvent
)
"""Any `evt` push (a plain union, for type hints)."""

PushModel: TypeAlias = MessageEvent | EventModel
"""Any push (a plain union, for type hints)."""

Event: TypeAlias = Annotated[EventModel, Field(discriminator="evt")]
Push: TypeAlias = Annotated[MessageEvent | Event, Field(discriminator="t")]

PUSH: TypeAdapter[PushModel] = TypeAdapter(Push)


def parse_push(raw: bytes | str) -> PushModel:
    """Parse one pushed frame's JSON strictly (no coercion, no unknown field), by
    discriminator: what tests and test servers check every push against. Only wire
    names are accepted (`from`, never the Python name `sender`)."""
    return PUSH.validate_json(raw, strict=True, by_alias=True, by_name=False)


def _by_literal(models: tuple[type[_Model], ...], field: str) -> dict[str, type[_Model]]:
    return {m.model_fields[field].default: m for m in models}


EVENT_TYPES = _by_literal(
    (
        ReadEvent,
        TypingEvent,
        RecallEvent,
        BurnedEvent,
        EditEvent,
        ReactionEvent,
        PresenceEvent,
        ConfigEvent,
        NotifyEvent,
        GroupEvent,
        ContactsEvent,
        FileEvent,
        ProfileEvent,
        ConvSettingsEvent,
        ModerationEvent,
        CsEvent,
        ResyncEvent,
    ),
    "evt",
)
"""evt name -> model, for every event of the contract."""

GROUP_CHANGES = _by_literal(
    (
        GroupCreated,
        MembersAdded,
        MemberJoined,
        MemberRemoved,
        MemberLeft,
        RoleChanged,
        MemberMuted,
        OwnerTransferred,
        GroupRenamed,
        AnnouncementChanged,
        SettingsChanged,
        GroupDismissed,
        RequestsPending,
        RequestDecided,
        GroupAvatarChanged,
    ),
    "type",
)
"""`evt group` change type -> model."""

CONTACTS_CHANGES = _by_literal(
    (
        FriendAdded,
        FriendUpdated,
        FriendRemoved,
        RequestAdded,
        RequestRemoved,
        TagAdded,
        TagUpdated,
        TagRemoved,
        UserBlocked,
        UserUnblocked,
        SettingsReplaced,
    ),
    "type",
)
"""`evt contacts` change type -> model."""
