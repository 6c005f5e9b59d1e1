"""Plain records passed between services and storage (no behaviour, no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from semot.domain.conv_settings import wire_fields
from semot.domain.groups import effective_settings
from semot.domain.messages import Message


@dataclass(slots=True)
class User:
    id: str
    username: str
    display_name: str
    password_hash: str
    is_admin: bool = False
    disabled: bool = False
    created_at: int = 0
    avatar_file_id: str | None = None  # an uploaded raster image (services/profiles.py)

    def public(self) -> dict[str, Any]:
        return {"user_id": self.id, "username": self.username, "display_name": self.display_name}


@dataclass(slots=True)
class RefreshToken:
    token_hash: str
    user_id: str
    family: str
    expires_at: int
    used_at: int | None = None
    revoked: bool = False


@dataclass(slots=True)
class NewMessage:
    """A message waiting for its seq; `direct_users` lets the first message create the chat."""

    conv: str
    sender: str
    cid: str
    kind: str
    body: dict[str, Any]
    opts: dict[str, Any]
    ts: int
    mid: str
    direct_users: tuple[str, str] | None = None
    # the device that sent it: its own echo is skipped at fan-out. Never stored; carried
    # on the queued message so nothing has to remember it per mid (and forget it again)
    origin_session: str | None = field(default=None, compare=False)
    # the IP of the device that sent it (stored with the message for the audit search)
    ip: str | None = field(default=None, compare=False)


@dataclass(slots=True)
class AppendResult:
    message: Message
    created: bool  # False: the (sender, cid) was stored before and this is the original


@dataclass(slots=True)
class ConvState:
    conv: str
    max_seq: int
    read_seq: int
    unread: int
    last: Message | None
    peer_read_seq: int | None = None  # direct chats: how far the other party has read
    change_seq: int = 0  # edits/reactions cursor of the conversation (docs/protocol.md)
    # the member's own settings (extension: domain/conv_settings.py)
    pinned_at: int | None = None
    dnd: bool = False
    hidden_seq: int | None = None

    def to_wire(self) -> dict[str, Any]:
        out = {
            "conv": self.conv,
            "max_seq": self.max_seq,
            "read_seq": self.read_seq,
            "unread": self.unread,
            "last": self.last.to_wire() if self.last else None,
        }
        if self.peer_read_seq is not None:
            out["peer_read_seq"] = self.peer_read_seq
        out["change_seq"] = self.change_seq
        out.update(wire_fields(self.pinned_at, self.dnd, self.hidden_seq, self.max_seq))
        return out


@dataclass(slots=True)
class Group:
    id: str
    name: str
    owner_id: str
    created_at: int
    settings: dict[str, Any] = field(default_factory=dict)
    kind: str = "project"
    announcement: str | None = None
    dismissed_at: int | None = None
    avatar_file_id: str | None = None  # an uploaded raster image (services/profiles.py)

    def to_wire(self) -> dict[str, Any]:
        return {
            "group_id": self.id,
            "conv": f"g:{self.id}",
            "name": self.name,
            "owner": self.owner_id,
            "type": self.kind,
            "settings": effective_settings(self.kind, self.settings),
            "announcement": self.announcement,
            "created_at": self.created_at,
            "dismissed": self.dismissed_at is not None,
        }


@dataclass(slots=True)
class Member:
    user_id: str
    role: str
    joined_at: int
    muted_until: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "role": self.role, "joined_at": self.joined_at, "muted_until": self.muted_until}


@dataclass(slots=True)
class GroupState:
    """What every send to a group is checked against; cached per node."""

    group: Group
    members: dict[str, Member]


@dataclass(slots=True)
class GroupRequest:
    id: str
    group_id: str
    user_id: str
    inviter: str | None
    message: str
    status: str
    created_at: int
    handled_by: str | None = None
    handled_at: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "request_id": self.id,
            "group_id": self.group_id,
            "user_id": self.user_id,
            "inviter": self.inviter,
            "message": self.message,
            "status": self.status,
            "created_at": self.created_at,
            "handled_by": self.handled_by,
            "handled_at": self.handled_at,
        }


@dataclass(slots=True)
class ReadResult:
    previous: int
    current: int
    burns: list[tuple[int, int]]  # (seq, burn_at ms) scheduled by this read


@dataclass(slots=True)
class Friend:
    user_id: str
    display_name: str
    remark: str
    created_at: int

    def to_wire(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "display_name": self.display_name, "remark": self.remark, "created_at": self.created_at}


@dataclass(slots=True)
class FriendRequest:
    id: str
    from_user: str
    to_user: str
    message: str
    status: str
    created_at: int
    handled_at: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "request_id": self.id,
            "from": self.from_user,
            "to": self.to_user,
            "message": self.message,
            "status": self.status,
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class ContactTag:
    id: str
    name: str
    created_at: int
    members: list[str] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        return {"tag_id": self.id, "name": self.name, "created_at": self.created_at, "members": sorted(self.members)}


@dataclass(slots=True)
class BlockEntry:
    user_id: str
    created_at: int

    def to_wire(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "created_at": self.created_at}


# --- group writes: one change and the `system` notices it calls for, one transaction


@dataclass(slots=True, frozen=True)
class CreateGroup:
    group: Group
    members: list[str]  # besides the owner
    now: int


@dataclass(slots=True, frozen=True)
class AddMembers:
    """Add those not yet members (role member). BadRequest, adding nobody, past `limit`."""

    group_id: str
    user_ids: list[str]
    now: int
    limit: int


@dataclass(slots=True, frozen=True)
class RemoveMember:
    group_id: str
    user_id: str


@dataclass(slots=True, frozen=True)
class SetMember:
    """Change a member's `role` and/or `muted_until` (the keys of `values`)."""

    group_id: str
    user_id: str
    values: dict[str, Any]


@dataclass(slots=True, frozen=True)
class UpdateGroup:
    """Change name, settings, kind, announcement, owner_id and/or dismissed_at."""

    group_id: str
    values: dict[str, Any]


@dataclass(slots=True, frozen=True)
class TransferOwnership:
    """`new_owner` becomes owner (unmuted) and `old_owner` an admin; BadRequest when the
    new owner is not a member."""

    group_id: str
    old_owner: str
    new_owner: str


GroupWrite = CreateGroup | AddMembers | RemoveMember | SetMember | UpdateGroup | TransferOwnership


@dataclass(slots=True)
class WriteOutcome:
    """What a group write did: `changed` is False when there was nothing to do (the user
    was not a member, everyone invited already was); `added` lists who AddMembers added;
    `notices` are the system messages stored in the same transaction, seq-numbered."""

    changed: bool
    added: list[str] = field(default_factory=list)
    notices: list[AppendResult] = field(default_factory=list)


# Builds the notices of a write from what it did, inside its transaction (pure: no I/O).
NoticesFor = Callable[[WriteOutcome], list[NewMessage]]
