"""Group administration from the admin console: every group, its members, and the
owner's powers exercised by an administrator (rename, announcement, mute all, mute or
remove a member, transfer ownership, dismiss), plus reading history as an auditor.

An administrator is usually not a member, so none of the member role rules of
domain/groups.py apply; the permission check is the admin API's (groups.write). The
changes themselves go through GroupService.operate: the same storage write, `system`
notice and `evt group` as when the owner does it, so clients need nothing new. Each
change carries `by` = the administrator and `by_admin: true`, so notices can say an
administrator did it rather than pass it off as a member's act.

Group state is read from storage here, not from the per-node membership cache: an
administrator acts rarely, and must see what is stored rather than a copy.
"""

from __future__ import annotations

from typing import Any

from semot.domain import groups as rules
from semot.domain.conversations import group_conv
from semot.domain.records import (
    Group,
    GroupState,
    Member,
    RemoveMember,
    SetMember,
    TransferOwnership,
    UpdateGroup,
    User,
)
from semot.errors import BadRequest, Conflict, NotFound
from semot.ids import is_valid_id, now_ms
from semot.protocol import events as ev
from semot.services.groups import MAX_ANNOUNCEMENT, GroupService
from semot.services.messaging import MessageService
from semot.storage.base import Storage

MAX_PAGE = 200
MAX_MEMBER_SCAN = 20_000  # members looked up by name when filtering (a group has at most max_group_members)


def _member_sort_key(m: Member) -> tuple[int, int, str]:
    """Owner first, then admins, then members; each in the order they joined."""
    return (-rules.RANK.get(m.role, 0), m.joined_at, m.user_id)


class GroupAdmin:
    def __init__(self, storage: Storage, groups: GroupService, messages: MessageService) -> None:
        self._store = storage.groups
        self._users = storage.users
        self._history = storage.messages
        self._groups = groups
        self._messages = messages

    # --- helpers
    async def state(self, group_id: str, *, live: bool = False) -> GroupState:
        """The stored group; `live`: refused with 409 once dismissed (nothing changes after)."""
        if not is_valid_id(group_id):
            raise BadRequest(f"invalid group id {group_id!r}")
        state = await self._store.group_state(group_id)
        if state is None:
            raise NotFound(f"no group {group_id!r}")
        if live and state.group.dismissed_at is not None:
            raise Conflict("this group has been dismissed")
        return state

    async def _names(self, user_ids: list[str]) -> dict[str, User]:
        return {u.id: u for u in await self._users.users_by_ids(user_ids)} if user_ids else {}

    def _group_out(self, g: Group, member_count: int, owner: User | None) -> dict[str, Any]:
        eff = rules.effective_settings(g.kind, g.settings)
        return {
            "group_id": g.id,
            "conv": group_conv(g.id),
            "name": g.name,
            "type": g.kind,
            "owner": g.owner_id,
            "owner_name": owner.display_name if owner else None,
            "member_count": member_count,
            "created_at": g.created_at,
            "mute_all": bool(eff.get("mute_all")),
            "dismissed": g.dismissed_at is not None,
            "dismissed_at": g.dismissed_at,
            "avatar_url": self._groups.avatar_url(g.id, g.avatar_file_id),
        }

    # --- reading
    async def list_groups(
        self, *, query: str | None, kind: str | None, dismissed: bool | None, offset: int, limit: int
    ) -> dict[str, Any]:
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit: 1-{MAX_PAGE}")
        if kind is not None and kind not in rules.GROUP_KINDS:
            raise BadRequest(f"type: one of {', '.join(rules.GROUP_KINDS)}")
        text = query.strip() if query else None
        page, total = await self._store.admin_groups(
            query=text or None, kind=kind, dismissed=dismissed, offset=offset, limit=limit
        )
        owners = await self._names(list({g.owner_id for g, _ in page}))
        return {
            "groups": [self._group_out(g, n, owners.get(g.owner_id)) for g, n in page],
            "total": total,
            "offset": offset,
        }

    async def detail(self, group_id: str) -> dict[str, Any]:
        state = await self.state(group_id)
        g = state.group
        owner = (await self._names([g.owner_id])).get(g.owner_id)
        out = self._group_out(g, len(state.members), owner)
        roles = [m.role for m in state.members.values()]
        now = now_ms()
        out.update(
            announcement=g.announcement,
            settings=rules.effective_settings(g.kind, g.settings),
            admin_count=roles.count("admin"),
            muted_count=sum(1 for m in state.members.values() if m.muted_until and m.muted_until > now),
            pending_requests=len(await self._store.group_requests(group_id)),
        )
        return out

    async def members(self, group_id: str, *, query: str | None, offset: int, limit: int) -> dict[str, Any]:
        """Members in rank order (owner, admins, members; each by join time), paged;
        `query` filters by part of the user id, username or display name."""
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit: 1-{MAX_PAGE}")
        state = await self.state(group_id)
        ordered = sorted(state.members.values(), key=_member_sort_key)
        text = (query or "").strip().casefold()
        users: dict[str, User] = {}
        if text:
            users = await self._names([m.user_id for m in ordered[:MAX_MEMBER_SCAN]])

            def hit(m: Member) -> bool:
                u = users.get(m.user_id)
                fields = [m.user_id] + ([u.username, u.display_name] if u else [])
                return any(text in f.casefold() for f in fields)

            ordered = [m for m in ordered if hit(m)]
        page = ordered[offset : offset + limit]
        if not text:
            users = await self._names([m.user_id for m in page])
        now = now_ms()
        out = []
        for m in page:
            u = users.get(m.user_id)
            out.append(
                {
                    **m.to_wire(),
                    "username": u.username if u else None,
                    "display_name": u.display_name if u else m.user_id,
                    "disabled": u.disabled if u else False,
                    "muted": bool(m.muted_until and m.muted_until > now),
                }
            )
        return {"members": out, "total": len(ordered), "offset": offset}

    async def history(self, group_id: str, *, before: int | None, limit: int) -> dict[str, Any]:
        """A page of the group's history, newest last, ending before `before` (None: the
        latest); dismissed groups too. File messages get signed URLs as members' do."""
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit: 1-{MAX_PAGE}")
        await self.state(group_id)
        msgs, more = await self._history.history(group_conv(group_id), after=None, before=before, limit=limit)
        msgs = self._messages.attachments.decorate_all(msgs)
        senders = await self._names(list({m.sender for m in msgs}))
        return {
            "messages": [m.to_wire() for m in msgs],
            "more": more,
            "senders": {uid: {"username": u.username, "display_name": u.display_name} for uid, u in senders.items()},
        }

    # --- changes (the administrator acting as an operator)
    async def update(
        self,
        admin_id: str,
        group_id: str,
        *,
        name: str | None = None,
        announcement: str | None = None,
        mute_all: bool | None = None,
        owner: str | None = None,
        review: bool | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Apply what was given; returns (before, after) of the fields that changed."""
        state = await self.state(group_id, live=True)
        g = state.group
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        values: dict[str, Any] = {}
        changes: list[ev.GroupChange] = []
        if owner is not None and owner != g.owner_id and owner not in state.members:
            raise Conflict("the new owner must be a member of the group")
        if name is not None:
            name = name.strip()
            if not 1 <= len(name) <= 128:
                raise BadRequest("name: 1-128 characters")
            if name != g.name and self._groups.sensitive is not None:  # sensitive words: 400 blocked, or starred
                name = self._groups.sensitive.screen_text(name, user_id=admin_id, target="group_name", conv=f"g:{group_id}")
            if name != g.name:
                values["name"] = name
                before["name"], after["name"] = g.name, name
                changes.append(ev.GroupRenamed(by=admin_id, by_admin=True, name=name))
        if announcement is not None:
            if len(announcement) > MAX_ANNOUNCEMENT:
                raise BadRequest(f"announcement: at most {MAX_ANNOUNCEMENT} characters")
            if announcement and announcement != (g.announcement or "") and self._groups.sensitive is not None:
                announcement = self._groups.sensitive.screen_text(
                    announcement, user_id=admin_id, target="announcement", conv=f"g:{group_id}"
                )
            if announcement != (g.announcement or ""):
                values["announcement"] = announcement
                before["announcement"], after["announcement"] = g.announcement, announcement
                changes.append(ev.AnnouncementChanged(by=admin_id, by_admin=True, text=announcement))
        if mute_all is not None:
            current = rules.effective_settings(g.kind, g.settings)
            if bool(current.get("mute_all")) != mute_all:
                values["settings"] = rules.merge_settings(current, {"mute_all": mute_all})
                before["mute_all"], after["mute_all"] = not mute_all, mute_all
                changes.append(ev.SettingsChanged(by=admin_id, by_admin=True, settings={"mute_all": mute_all}))
        if review is not None:  # pre-moderation (docs/moderation.md)
            current = values.get("settings") or rules.effective_settings(g.kind, g.settings)
            if bool(current.get("review")) != review:
                values["settings"] = rules.merge_settings(current, {"review": review})
                before["review"], after["review"] = not review, review
                changes.append(ev.SettingsChanged(by=admin_id, by_admin=True, settings={"review": review}))
        if values:
            await self._groups.operate(group_id, UpdateGroup(group_id, values), lambda o: changes if o.changed else [])
        if owner is not None and owner != g.owner_id:
            change = ev.OwnerTransferred(by=admin_id, by_admin=True, user=owner)
            await self._groups.operate(group_id, TransferOwnership(group_id, g.owner_id, owner), lambda _: [change])
            before["owner"], after["owner"] = g.owner_id, owner
        return before, after

    async def mute(self, admin_id: str, group_id: str, user_id: str, until: int | None) -> int | None:
        """Mute until `until` (None: unmute); returns the member's previous muted_until."""
        state = await self.state(group_id, live=True)
        member = state.members.get(user_id)
        if member is None:
            raise NotFound("that user is not a member of this group")
        if until is not None and rules.is_manager(member.role):
            raise Conflict("the owner and group admins are never muted: make them a member first")
        if until is not None and until <= now_ms():
            raise Conflict("until must be in the future (or null to unmute)")
        change = ev.MemberMuted(by=admin_id, by_admin=True, user=user_id, until=until)
        await self._groups.operate(
            group_id, SetMember(group_id, user_id, {"muted_until": until}), lambda o: [change] if o.changed else []
        )
        return member.muted_until

    async def remove(self, admin_id: str, group_id: str, user_id: str) -> str:
        """Take a member out (not the owner: transfer first); returns the role they had."""
        state = await self.state(group_id, live=True)
        member = state.members.get(user_id)
        if member is None:
            raise NotFound("that user is not a member of this group")
        if member.role == "owner":
            raise Conflict("the owner cannot be removed: transfer ownership first")
        change = ev.MemberRemoved(by=admin_id, by_admin=True, user=user_id)
        await self._groups.operate(
            group_id, RemoveMember(group_id, user_id), lambda o: [change] if o.changed else [], also=(user_id,)
        )
        return member.role

    async def dismiss(self, admin_id: str, group_id: str) -> dict[str, Any]:
        """Dismiss for good (as the owner would); returns what the group was."""
        state = await self.state(group_id, live=True)
        change = ev.GroupDismissed(by=admin_id, by_admin=True)
        await self._groups.operate(
            group_id, UpdateGroup(group_id, {"dismissed_at": now_ms()}), lambda o: [change] if o.changed else []
        )
        return {"name": state.group.name, "owner": state.group.owner_id, "member_count": len(state.members)}
