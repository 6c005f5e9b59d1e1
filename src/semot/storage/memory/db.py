"""The tables of the in-memory storage: plain dicts shared by its stores.

Each store method runs without awaiting anything, so on one event loop it is as atomic
as a transaction: it checks everything that can fail before it changes anything.
Records go in and come out as copies, as they would through a database.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, TypeVar

from semot.domain.files import FileRecord, FileRef
from semot.domain.messages import Message
from semot.domain.org import Department, DeptMember, SearchKeys
from semot.domain.records import (
    ContactTag,
    FriendRequest,
    Group,
    GroupRequest,
    RefreshToken,
    User,
)
from semot.storage.base import Database

T = TypeVar("T")


def clone(value: T) -> T:
    return copy.deepcopy(value)


@dataclass(slots=True)
class Conv:
    kind: str  # "d" or "g"
    max_seq: int
    last_ts: int


@dataclass(slots=True)
class ConvMember:
    role: str
    read_seq: int
    joined_at: int
    muted_until: int | None = None
    pinned_at: int | None = None  # the member's own settings (domain/conv_settings.py)
    dnd: bool = False
    hidden_seq: int | None = None


@dataclass(slots=True)
class Row:
    """A stored message, and when its body burns (set by the recipient's read)."""

    message: Message
    burn_s: int | None
    burn_at: int | None = None


@dataclass(slots=True)
class MemoryDb:
    users: dict[str, User] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> contact settings
    tokens: dict[str, RefreshToken] = field(default_factory=dict)
    convs: dict[str, Conv] = field(default_factory=dict)
    members: dict[str, dict[str, ConvMember]] = field(default_factory=dict)  # conv -> user -> member
    messages: dict[str, dict[int, Row]] = field(default_factory=dict)  # conv -> seq -> row
    by_cid: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)  # (sender, cid) -> (conv, seq)
    groups: dict[str, Group] = field(default_factory=dict)
    group_requests: dict[str, GroupRequest] = field(default_factory=dict)
    friends: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)  # user -> friend -> (remark, at)
    friend_requests: dict[str, FriendRequest] = field(default_factory=dict)
    tags: dict[str, dict[str, ContactTag]] = field(default_factory=dict)  # user -> tag id -> tag
    blocks: dict[str, dict[str, int]] = field(default_factory=dict)  # user -> blocked -> at
    departments: dict[str, Department] = field(default_factory=dict)
    dept_members: dict[str, dict[str, DeptMember]] = field(default_factory=dict)  # dept -> user -> member
    search_keys: dict[str, SearchKeys] = field(default_factory=dict)
    files: dict[str, FileRecord] = field(default_factory=dict)
    file_refs: dict[tuple[str, str, str], FileRef] = field(default_factory=dict)  # (file, kind, ref) -> ref
    departures: dict[tuple[str, str], int] = field(default_factory=dict)  # (conv, user) -> when they last left
    # edits and reactions (storage/memory/changes.py): (conv, seq) -> (emoji, user) -> ts; conv -> change_seq
    reactions: dict[tuple[str, int], dict[tuple[str, str], int]] = field(default_factory=dict)
    change_seqs: dict[str, int] = field(default_factory=dict)


class MemoryDatabase(Database):
    def __init__(self, db: MemoryDb) -> None:
        self.db = db

    async def migrate(self) -> None:
        """Nothing to build: the tables are dicts."""

    async def ping(self) -> None:
        """Always reachable."""

    async def close(self) -> None:
        """Nothing to release."""
