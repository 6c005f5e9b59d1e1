"""Conversation ids (§1): `d:<a>:<b>` with a < b in byte order, and `g:<group_id>`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from semot.errors import BadRequest, Forbidden
from semot.ids import is_valid_id


@dataclass(slots=True, frozen=True)
class DirectRef:
    """A direct chat between two users (`users` in byte order, as in the conv id)."""

    conv: str
    users: tuple[str, str]
    kind: Literal["d"] = "d"

    def peer_of(self, user_id: str) -> str:
        a, b = self.users
        return b if user_id == a else a


@dataclass(slots=True, frozen=True)
class GroupRef:
    """A group's conversation."""

    conv: str
    group_id: str
    kind: Literal["g"] = "g"


ConvRef = DirectRef | GroupRef
"""A parsed conversation id: `ref.kind == "d"` (or isinstance) tells the two apart."""


def direct_conv(a: str, b: str) -> str:
    lo, hi = sorted((a, b), key=lambda s: s.encode())
    return f"d:{lo}:{hi}"


def group_conv(group_id: str) -> str:
    return f"g:{group_id}"


def parse_conv(conv: str) -> ConvRef:
    """Validate a conversation id; anything malformed is a bad_request, never a lookup."""
    if conv.startswith("g:"):
        gid = conv[2:]
        if is_valid_id(gid):
            return GroupRef(conv, gid)
    elif conv.startswith("d:"):
        parts = conv[2:].split(":")
        if len(parts) == 2 and all(is_valid_id(p) for p in parts) and parts[0].encode() < parts[1].encode():
            return DirectRef(conv, (parts[0], parts[1]))
    raise BadRequest(f"invalid conversation id {conv!r}")


def resolve_target(to: str, sender: str) -> ConvRef:
    """`send.to` may be a user id, `g:<group_id>` or a conversation id."""
    if to.startswith(("g:", "d:")):
        ref = parse_conv(to)
        if ref.kind == "d" and sender not in ref.users:
            raise Forbidden("you are not a member of this conversation")
        return ref
    if not is_valid_id(to):
        raise BadRequest(f"invalid recipient {to!r}")
    if to == sender:
        raise BadRequest("cannot start a direct conversation with yourself")
    return parse_conv(direct_conv(sender, to))
