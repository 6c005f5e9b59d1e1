"""MemoryGroups: groups, members and join requests in memory; a write and its notices
succeed or fail together (the group's rows are restored if its notices fail)."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from semot.domain.groups import findable, name_key
from semot.domain.records import (
    AddMembers,
    AppendResult,
    CreateGroup,
    Group,
    GroupRequest,
    GroupState,
    GroupWrite,
    Member,
    NoticesFor,
    RemoveMember,
    SetMember,
    TransferOwnership,
    UpdateGroup,
    WriteOutcome,
)
from semot.errors import BadRequest, Conflict
from semot.ids import now_ms
from semot.storage.base import GroupStorage
from semot.storage.memory.db import Conv, ConvMember, MemoryDb, clone
from semot.storage.memory.messages import MemoryMessages

_GROUP_FIELDS = {"name", "settings", "kind", "announcement", "owner_id", "dismissed_at", "avatar_file_id"}
_MEMBER_FIELDS = {"role", "muted_until"}
T = TypeVar("T")


def _put(table: dict[str, T], key: str, value: T | None) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


def _member(user_id: str, m: ConvMember) -> Member:
    return Member(user_id, m.role, m.joined_at, m.muted_until)


class MemoryGroups(GroupStorage):
    def __init__(self, db: MemoryDb, messages: MemoryMessages) -> None:
        self._db = db
        self._messages = messages

    # --- writes
    async def write(self, change: GroupWrite, notices: NoticesFor | None = None) -> WriteOutcome:
        gid = change.group.id if isinstance(change, CreateGroup) else change.group_id
        conv = f"g:{gid}"
        db = self._db
        before = clone((db.groups.get(gid), db.members.get(conv), db.convs.get(conv)))
        try:
            outcome = self._apply(change)
            batch = notices(outcome) if notices is not None else []
            if batch:
                results = self._messages.append_now(batch)
                for r in results:
                    if not isinstance(r, AppendResult):
                        raise r
                outcome.notices = [r for r in results if isinstance(r, AppendResult)]
        except BaseException:
            _put(db.groups, gid, before[0])
            _put(db.members, conv, before[1])
            _put(db.convs, conv, before[2])
            raise
        return outcome

    def _apply(self, change: GroupWrite) -> WriteOutcome:
        db = self._db
        match change:
            case CreateGroup(group, members, now):
                if group.id in db.groups:
                    raise Conflict(f"group {group.id!r} exists")
                conv = f"g:{group.id}"
                db.groups[group.id] = clone(group)
                db.convs[conv] = Conv("g", 0, now)
                everyone = dict.fromkeys([group.owner_id, *members])
                db.members[conv] = {
                    u: ConvMember("owner" if u == group.owner_id else "member", 0, now) for u in everyone
                }
                return WriteOutcome(True, added=list(dict.fromkeys(members)))
            case AddMembers(group_id, user_ids, now, limit):
                present = db.members.setdefault(f"g:{group_id}", {})
                new = [u for u in dict.fromkeys(user_ids) if u not in present]
                if len(present) + len(new) > limit:
                    raise BadRequest(f"a group has at most {limit} members ({len(present)} now)")
                for u in new:
                    present[u] = ConvMember("member", 0, now)
                return WriteOutcome(bool(new), added=new)
            case RemoveMember(group_id, user_id):
                gone = db.members.get(f"g:{group_id}", {}).pop(user_id, None) is not None
                if gone:  # the files of what they saw stay readable (storage/memory/files.py)
                    db.departures[(f"g:{group_id}", user_id)] = now_ms()
                return WriteOutcome(gone)
            case SetMember(group_id, user_id, values):
                unknown = set(values) - _MEMBER_FIELDS
                if unknown:
                    raise TypeError(f"not member fields: {sorted(unknown)}")
                m = db.members.get(f"g:{group_id}", {}).get(user_id)
                for k, v in values.items():
                    if m is not None:
                        setattr(m, k, v)
                return WriteOutcome(m is not None)
            case UpdateGroup(group_id, values):
                unknown = set(values) - _GROUP_FIELDS
                if unknown:
                    raise TypeError(f"not group fields: {sorted(unknown)}")
                g = db.groups.get(group_id)
                if g is not None:
                    db.groups[group_id] = dataclasses.replace(g, **clone(values))
                    if values.get("dismissed_at") is not None:
                        for u in db.members.get(f"g:{group_id}", {}):
                            db.departures[(f"g:{group_id}", u)] = values["dismissed_at"]
                return WriteOutcome(g is not None)
            case TransferOwnership(group_id, old_owner, new_owner):
                roles = db.members.get(f"g:{group_id}", {})
                if new_owner not in roles:
                    raise BadRequest("the new owner must be a member of the group")
                if group_id in db.groups:
                    db.groups[group_id].owner_id = new_owner
                if old_owner in roles:
                    roles[old_owner].role = "admin"
                roles[new_owner].role, roles[new_owner].muted_until = "owner", None
                return WriteOutcome(True)
        raise TypeError(f"not a group write: {change!r}")  # pragma: no cover

    # --- reads
    async def get_group(self, group_id: str) -> Group | None:
        g = self._db.groups.get(group_id)
        return clone(g) if g else None

    async def group_state(self, group_id: str) -> GroupState | None:
        g = self._db.groups.get(group_id)
        if g is None:
            return None
        members = self._db.members.get(f"g:{group_id}", {})
        return GroupState(clone(g), {u: _member(u, m) for u, m in members.items()})

    async def user_groups(self, user_id: str) -> list[tuple[Group, str]]:
        out = [
            (clone(self._db.groups[conv[2:]]), members[user_id].role)
            for conv, members in self._db.members.items()
            if conv.startswith("g:") and user_id in members and conv[2:] in self._db.groups
        ]
        out.sort(key=lambda gr: gr[0].created_at)
        return out

    async def search_groups(self, name_part: str, *, limit: int) -> list[tuple[Group, int]]:
        key = name_key(name_part)
        found = [
            g
            for g in self._db.groups.values()
            if g.dismissed_at is None and findable(g.kind, g.settings, by_id=False) and key in name_key(g.name)
        ]
        found.sort(key=lambda g: g.id)
        found.sort(key=lambda g: g.created_at, reverse=True)
        return [(clone(g), len(self._db.members.get(f"g:{g.id}", {}))) for g in found[:limit]]

    async def admin_groups(
        self, *, query: str | None, kind: str | None, dismissed: bool | None, offset: int, limit: int
    ) -> tuple[list[tuple[Group, int]], int]:
        def passes(g: Group) -> bool:
            return (kind is None or g.kind == kind) and (dismissed is None or (g.dismissed_at is not None) == dismissed)

        exact = self._db.groups.get(query) if query else None
        if exact is not None and passes(exact):
            found = [exact]
        else:
            key = name_key(query) if query else None
            found = [g for g in self._db.groups.values() if passes(g) and (key is None or key in name_key(g.name))]
        found.sort(key=lambda g: g.id)
        found.sort(key=lambda g: g.created_at, reverse=True)
        page = found[offset : offset + limit]
        return [(clone(g), len(self._db.members.get(f"g:{g.id}", {}))) for g in page], len(found)

    async def group_members(self, group_id: str, *, after: str | None, limit: int) -> list[Member]:
        members = self._db.members.get(f"g:{group_id}", {})
        ids = sorted(u for u in members if after is None or u > after)[:limit]
        return [_member(u, members[u]) for u in ids]

    # --- join requests
    async def add_group_request(self, request: GroupRequest) -> None:
        if request.id in self._db.group_requests:
            raise Conflict(f"request {request.id!r} exists")
        self._db.group_requests[request.id] = clone(request)

    async def get_group_request(self, request_id: str) -> GroupRequest | None:
        r = self._db.group_requests.get(request_id)
        return clone(r) if r else None

    async def group_requests(self, group_id: str, status: str = "pending") -> list[GroupRequest]:
        found = [r for r in self._db.group_requests.values() if r.group_id == group_id and r.status == status]
        return [clone(r) for r in sorted(found, key=lambda r: r.created_at)]

    async def close_group_request(self, request_id: str, status: str, by: str, now: int) -> bool:
        r = self._db.group_requests.get(request_id)
        if r is None or r.status != "pending":
            return False
        r.status, r.handled_by, r.handled_at = status, by, now
        return True
