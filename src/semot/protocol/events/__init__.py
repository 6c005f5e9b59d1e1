"""Every push the server sends (PROTOCOL.md §2.4, docs/protocol.md section 6), one
model each, all listed here (as Zulip's `zerver/lib/event_types.py` does for its events).

A push is `{"t":"msg",...}` (a message) or `{"t":"evt","evt":<name>,...}`. The `group`
and `contacts` events carry a `change` whose `type` picks one model more. Every model is
frozen and `extra="forbid"`: a field the contract does not name cannot be sent, and a
test (tests/unit/test_events.py, tests/integration/test_events.py) parses every push a
real server emits with `parse_push`, strictly.

The wire names are the contract's: field names here are those names, except `from`
(a Python keyword), which is `sender` with the alias `from`.

The models live in one module per area (`messages`, `groups`, `contacts`, `users`,
`server`, `customer_service`, on the bases in `base`); this module re-exports them all,
and holds the unions, the parser and the registries, so adding an event means a model
in its area's module plus its line in the union and registry below. Importers use
`semot.protocol.events` only.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from pydantic import Field, TypeAdapter

from semot.protocol.events.base import _Model
from semot.protocol.events.contacts import (
    BlockEntry,
    ContactsChange,
    ContactsEvent,
    ContactTag,
    Friend,
    FriendAdded,
    FriendRemoved,
    FriendRequest,
    FriendUpdated,
    RequestAdded,
    RequestRemoved,
    SettingsReplaced,
    TagAdded,
    TagRemoved,
    TagUpdated,
    UserBlocked,
    UserSettings,
    UserUnblocked,
)
from semot.protocol.events.customer_service import CsEvent
from semot.protocol.events.groups import (
    AnnouncementChanged,
    GroupAvatarChanged,
    GroupChange,
    GroupCreated,
    GroupDismissed,
    GroupEvent,
    GroupRenamed,
    GroupSettingsChange,
    MemberJoined,
    MemberLeft,
    MemberMuted,
    MemberRemoved,
    MembersAdded,
    OwnerTransferred,
    RequestDecided,
    RequestsPending,
    RoleChanged,
    SettingsChanged,
)
from semot.protocol.events.messages import (
    BurnedEvent,
    EditEvent,
    MessageEvent,
    MessageOpts,
    ModerationEvent,
    ReactionEvent,
    ReactionSummary,
    ReadEvent,
    RecallEvent,
    TypingEvent,
    encode_message_wire,
)
from semot.protocol.events.server import ConfigEvent, NotifyEvent, ResyncEvent
from semot.protocol.events.users import (
    ConvSettingsEvent,
    FileEvent,
    FileUploaded,
    PresenceEvent,
    PresenceStatus,
    ProfileEvent,
)

__all__ = [
    "CONTACTS_CHANGES",
    "EVENT_TYPES",
    "GROUP_CHANGES",
    "PUSH",
    "AnnouncementChanged",
    "BlockEntry",
    "BurnedEvent",
    "ConfigEvent",
    "ContactTag",
    "ContactsChange",
    "ContactsEvent",
    "ConvSettingsEvent",
    "CsEvent",
    "EditEvent",
    "Event",
    "EventModel",
    "FileEvent",
    "FileUploaded",
    "Friend",
    "FriendAdded",
    "FriendRemoved",
    "FriendRequest",
    "FriendUpdated",
    "GroupAvatarChanged",
    "GroupChange",
    "GroupCreated",
    "GroupDismissed",
    "GroupEvent",
    "GroupRenamed",
    "GroupSettingsChange",
    "MemberJoined",
    "MemberLeft",
    "MemberMuted",
    "MemberRemoved",
    "MembersAdded",
    "MessageEvent",
    "MessageOpts",
    "ModerationEvent",
    "NotifyEvent",
    "OwnerTransferred",
    "PresenceEvent",
    "PresenceStatus",
    "ProfileEvent",
    "Push",
    "PushModel",
    "ReactionEvent",
    "ReactionSummary",
    "ReadEvent",
    "RecallEvent",
    "RequestAdded",
    "RequestDecided",
    "RequestRemoved",
    "RequestsPending",
    "ResyncEvent",
    "RoleChanged",
    "SettingsChanged",
    "SettingsReplaced",
    "TagAdded",
    "TagRemoved",
    "TagUpdated",
    "TypingEvent",
    "UserBlocked",
    "UserSettings",
    "UserUnblocked",
    "encode_message_wire",
    "parse_push",
]

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


# --------------------------------------------------------------------------- registries


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
