"""Admin API for groups (/api/admin/v1/groups...): every group, searchable; its members;
the owner's powers exercised by an administrator; its history, read as an auditor.

Permissions: groups.view (list, detail, members), groups.write (changes),
groups.history (reading messages). Every change is audited with before/after, and so
is every page of history read: an auditor's reading of people's chats must itself be
traceable. The changes reach members exactly as the owner's would (services/group_admin.py).

PATCH takes one body for every group setting an administrator may change, so settings
the compliance issue adds (PROTOCOL.md §7: `review` for pre-moderation) are new
optional fields of the same model, not new routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.domain.groups import GROUP_KINDS
from semot.errors import SemotError
from semot.services.admin_access import AdminGrant
from semot.services.group_admin import MAX_PAGE, GroupAdmin

from .client_api import MessageOut
from .http import Call
from .models import INTEGRAL, MAX_SAFE_INT, NOT_BLANK, StatusOut, UserId
from .routing import Query, Route, RouteTable

GroupName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NOT_BLANK)]

PAGE: dict[str, Query | str] = {
    "offset": Query("skip this many (default 0)"),
    "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
}
SEARCH = Query("part of a name (case-insensitive) or an exact id", "string", max_length=128)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdminGroupPatchIn(_In):
    """Only what changes; an omitted field stays as it is."""

    name: GroupName | None = None
    announcement: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        None, description='the group announcement ("" clears it)'
    )
    mute_all: bool | None = Field(None, description="only the owner and group admins may speak")
    review: bool | None = Field(
        None, description="pre-moderation: messages of members (not the owner or admins) wait for a reviewer"
    )
    owner: UserId | None = Field(None, description="transfer ownership to this member (the old owner becomes an admin)")


class AdminMuteIn(_In):
    until: Annotated[int, Field(ge=0, le=MAX_SAFE_INT), INTEGRAL] | None = Field(
        description="ms since the epoch, in the future; null unmutes"
    )


class AdminGroupOut(BaseModel):
    group_id: str
    conv: str
    name: str
    type: str
    owner: str
    owner_name: str | None = Field(description="the owner's display name (null: no such user any more)")
    member_count: int
    created_at: int
    mute_all: bool
    dismissed: bool
    dismissed_at: int | None
    avatar_url: str | None


class AdminGroupDetailOut(AdminGroupOut):
    announcement: str | None
    settings: dict[str, Any] = Field(description="the effective policies (type preset + changes)")
    admin_count: int
    muted_count: int = Field(description="members muted right now")
    pending_requests: int = Field(description="join requests and invitations waiting")


class AdminGroupListOut(BaseModel):
    groups: list[AdminGroupOut]
    total: int
    offset: int


class AdminGroupMemberOut(BaseModel):
    user_id: str
    username: str | None
    display_name: str
    role: str
    joined_at: int
    muted_until: int | None
    muted: bool = Field(description="muted right now")
    disabled: bool


class AdminGroupMembersOut(BaseModel):
    members: list[AdminGroupMemberOut]
    total: int
    offset: int


class HistorySenderOut(BaseModel):
    username: str
    display_name: str


class AdminHistoryOut(BaseModel):
    messages: list[MessageOut]
    more: bool = Field(description="older messages exist (ask with before = the first seq here)")
    senders: dict[str, HistorySenderOut] = Field(description="user_id -> names, for the senders on this page")


def _gid(call: Call) -> str:
    return call.request.match_info["group_id"]


def _admin(call: Call) -> GroupAdmin:
    s = call.services
    return GroupAdmin(s.storage, s.groups, s.messages)


def _grant(call: Call) -> AdminGrant:
    assert call.grant is not None
    return call.grant


async def _check_scope(call: Call, owner: str) -> None:
    """An administrator limited to departments handles the groups whose owner is theirs."""
    grant = _grant(call)
    if grant.departments is not None:
        await call.services.admin.check_user_scope(grant, owner)


async def admin_list_groups(call: Call) -> dict[str, Any]:
    state = call.query_str("state", "all")
    return await _admin(call).list_groups(
        query=call.query_str("q"),
        kind=call.query_str("type") or None,
        dismissed=None if state == "all" else state == "dismissed",
        offset=call.query_int("offset") or 0,
        limit=call.query_int("limit") or 50,
    )


async def admin_get_group(call: Call) -> dict[str, Any]:
    return await _admin(call).detail(_gid(call))


async def admin_group_members(call: Call) -> dict[str, Any]:
    return await _admin(call).members(
        _gid(call), query=call.query_str("q"), offset=call.query_int("offset") or 0, limit=call.query_int("limit") or 50
    )


async def admin_patch_group(call: Call) -> dict[str, Any]:
    b: AdminGroupPatchIn = call.body
    admin = _admin(call)
    gid = _gid(call)
    await _check_scope(call, (await admin.state(gid)).group.owner_id)
    before, after = await admin.update(
        call.me.id, gid, name=b.name, announcement=b.announcement, mute_all=b.mute_all, owner=b.owner,
        review=b.review,
    )
    if after:
        await call.audit("group.update", gid, before=before, after=after)
    return await admin.detail(gid)


async def admin_mute_member(call: Call) -> dict[str, Any]:
    b: AdminMuteIn = call.body
    admin = _admin(call)
    gid, uid = _gid(call), call.request.match_info["user_id"]
    await _check_scope(call, (await admin.state(gid)).group.owner_id)
    was = await admin.mute(call.me.id, gid, uid, b.until)
    if was != b.until:
        await call.audit(
            "group.member_mute",
            gid,
            before={"user_id": uid, "muted_until": was},
            after={"user_id": uid, "muted_until": b.until},
        )
    return {"status": "muted" if b.until is not None else "unmuted"}


async def admin_remove_member(call: Call) -> dict[str, Any]:
    admin = _admin(call)
    gid, uid = _gid(call), call.request.match_info["user_id"]
    await _check_scope(call, (await admin.state(gid)).group.owner_id)
    role = await admin.remove(call.me.id, gid, uid)
    await call.audit("group.member_remove", gid, before={"user_id": uid, "role": role}, after=None)
    return {"status": "removed"}


async def admin_dismiss_group(call: Call) -> dict[str, Any]:
    admin = _admin(call)
    gid = _gid(call)
    await _check_scope(call, (await admin.state(gid)).group.owner_id)
    was = await admin.dismiss(call.me.id, gid)
    await call.audit("group.dismiss", gid, before={**was, "dismissed": False}, after={"dismissed": True})
    return {"status": "dismissed"}


async def admin_group_messages(call: Call) -> dict[str, Any]:
    """Audited as a read, refused reads included: who tried to read which chat matters."""
    admin = _admin(call)
    gid = _gid(call)
    before, limit = call.query_int("before"), call.query_int("limit") or 50
    read: dict[str, Any] = {"before": before, "limit": limit}
    try:
        await _check_scope(call, (await admin.state(gid)).group.owner_id)
        page = await admin.history(gid, before=before, limit=limit)
    except SemotError as exc:
        await call.audit("group.history_read", gid, after={**read, "refused": exc.code})
        raise
    seqs = [m["seq"] for m in page["messages"]]
    await call.audit(
        "group.history_read", gid, after={**read, "count": len(seqs), "seqs": [seqs[0], seqs[-1]] if seqs else []}
    )
    return page


def routes() -> RouteTable:
    t = RouteTable()
    base = "/api/admin/v1/groups"
    one = base + "/{group_id}"
    tag = "admin: groups"

    def add(method: str, path: str, handler: Any, summary: str, body: Any, reply: Any, perm: str, **kw: Any) -> None:
        t.add(Route(method, path, handler, summary, tag, body, reply, auth="admin", perm=perm, **kw))

    add(
        "GET",
        base,
        admin_list_groups,
        "Every group, newest first: search by name or id, filter by type and state",
        None,
        AdminGroupListOut,
        "groups.view",
        query={
            "q": SEARCH,
            "type": Query(
                f"one of {', '.join(GROUP_KINDS)}", "string", max_length=16, pattern=f"^({'|'.join(GROUP_KINDS)})$"
            ),
            "state": Query(
                "live, dismissed or all (default)", "string", max_length=9, pattern="^(live|dismissed|all)$"
            ),
            **PAGE,
        },
    )
    add(
        "GET",
        one,
        admin_get_group,
        "A group with its announcement, policies and counts",
        None,
        AdminGroupDetailOut,
        "groups.view",
    )
    add(
        "PATCH",
        one,
        admin_patch_group,
        "Rename, edit the announcement, mute all, or transfer ownership, as an administrator (members are told "
        "as when the owner does it, with by_admin: true); 409 once dismissed",
        AdminGroupPatchIn,
        AdminGroupDetailOut,
        "groups.write",
    )
    add(
        "DELETE",
        one,
        admin_dismiss_group,
        "Dismiss the group for good (members are told; history stays readable here)",
        None,
        StatusOut,
        "groups.write",
    )
    add(
        "GET",
        one + "/members",
        admin_group_members,
        "Members, owner first, then admins, then members (each by join time); q: part of an id or name",
        None,
        AdminGroupMembersOut,
        "groups.view",
        query={"q": SEARCH, **PAGE},
    )
    add(
        "PUT",
        one + "/members/{user_id}/mute",
        admin_mute_member,
        "Mute a member until a time, or unmute (null); the owner and group admins are never muted (409)",
        AdminMuteIn,
        StatusOut,
        "groups.write",
    )
    add(
        "DELETE",
        one + "/members/{user_id}",
        admin_remove_member,
        "Remove a member (not the owner: transfer first); the member is told",
        None,
        StatusOut,
        "groups.write",
    )
    add(
        "GET",
        one + "/messages",
        admin_group_messages,
        "History, read-only and audited (each page read goes to the audit log); newest last",
        None,
        AdminHistoryOut,
        "groups.history",
        query={
            "before": Query("messages with seq < before (default: the latest)"),
            "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
        },
    )
    return t
