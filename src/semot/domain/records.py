"""Plain records passed between services and storage (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

    def to_wire(self) -> dict[str, Any]:
        return {
            "conv": self.conv,
            "max_seq": self.max_seq,
            "read_seq": self.read_seq,
            "unread": self.unread,
            "last": self.last.to_wire() if self.last else None,
        }


@dataclass(slots=True)
class Group:
    id: str
    name: str
    owner_id: str
    created_at: int
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ReadResult:
    previous: int
    current: int
    burns: list[tuple[int, int]]  # (seq, burn_at ms) scheduled by this read
