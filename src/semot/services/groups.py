"""Groups: creation and management (roles, invitations, join requests, kick, leave,
transfer, dismiss, mutes, announcements, settings).

Every change is three things, in this order: the storage write, a `system` message in
the group's conversation (so history explains itself and offline devices find it with
`sync`), and an `evt group` to the members' devices, the affected user's included.
"""

from __future__ import annotations

import secrets
from typing import Any

from semot.bus.base import Bus, Invalidate
from semot.domain import groups as rules
from semot.domain.conversations import group_conv
from semot.domain.records import Group, GroupRequest, GroupState, Member
from semot.errors import BadRequest, Conflict, Forbidden, NotFound
from semot.ids import is_valid_id, new_group_id, now_ms
from semot.protocol.replies import event
from semot.services.membership import MembershipCache
from semot.services.messaging import MessageService
from semot.storage.base import Storage

MAX_ANNOUNCEMENT = 2000
MAX_REQUEST_MESSAGE = 500


class GroupService:
    def __init__(
        self,
        storage: Storage,
        messages: MessageService,
        membership: MembershipCache,
        bus: Bus,
        *,
        max_members: int,
    ) -> None:
        self._storage = storage
        self._messages = messages
        self._membership = membership
        self._bus = bus
        self._max_members = max_members

    # --- helpers
    async def _state(self, group_id: str, *, live: bool = True) -> GroupState:
        if not is_valid_id(group_id):
            raise BadRequest(f"invalid group id {group_id!r}")
        state = await self._membership.state(group_id)
        if live and state.group.dismissed_at is not None:
            raise Forbidden("this group has been dismissed")
        return state

    @staticmethod
    def _role(state: GroupState, user_id: str) -> str | None:
        m = state.members.get(user_id)
        return m.role if m else None

    async def _existing_users(self, user_ids: list[str]) -> list[str]:
        wanted = list(dict.fromkeys(user_ids))
        bad = [u for u in wanted if not is_valid_id(u)]
        if bad:
            raise BadRequest(f"invalid user ids: {bad[:10]}")
        found = await self._storage.existing_user_ids(wanted)
        missing = [u for u in wanted if u not in found]
        if missing:
            raise NotFound(f"no such users: {missing[:20]}")
        return wanted

    async def _changed(
        self, group_id: str, actor: str, change: dict[str, Any], *, also: tuple[str, ...] = (), notice: bool = True
    ) -> None:
        """After a write: drop cached copies everywhere, record it, tell the devices."""
        conv = group_conv(group_id)
        self._bus.publish(Invalidate(conv))
        if notice:
            body = {**change, "type": f"group_{change['type']}", "by": actor}
            await self._messages.store_system(conv, actor, f"sys.{secrets.token_hex(12)}", body)
        state = await self._membership.state(group_id)
        recipients = set(state.members) | set(also)
        self._messages.push(recipients, event("group", group_id=group_id, conv=conv, change={**change, "by": actor}))

    # --- creation and reading
    async def create(self, owner_id: str, name: str, members: list[str], kind: str = "project") -> Group:
        name = name.strip()
        if not 1 <= len(name) <= 128:
            raise BadRequest("name: 1-128 characters")
        settings = rules.default_settings(kind)
        wanted = await self._existing_users([m for m in members if m != owner_id])
        if len(wanted) + 1 > self._max_members:
            raise BadRequest(f"a group has at most {self._max_members} members")
        now = now_ms()
        group = Group(new_group_id(), name, owner_id, now, settings, kind)
        await self._storage.create_group(group, wanted, now)
        everyone = [owner_id, *wanted]
        self._membership.remember(
            GroupState(group, {u: Member(u, "owner" if u == owner_id else "member", now) for u in everyone})
        )
        conv = group_conv(group.id)
        await self._messages.store_system(
            conv, owner_id, f"sys.{group.id}.created", {"type": "group_created", "by": owner_id, "name": name}
        )
        self._messages.push(
            everyone,
            event("group", group_id=group.id, conv=conv, change={"type": "created", "by": owner_id, "name": name}),
        )
        return group

    async def info(self, user_id: str, group_id: str) -> dict[str, Any]:
        """Members see everything; others see what they need to ask to join."""
        state = await self._state(group_id, live=False)
        role = self._role(state, user_id)
        out = {**state.group.to_wire(), "member_count": len(state.members), "my_role": role}
        if role is not None:
            out["my_muted_until"] = state.members[user_id].muted_until  # the composer says so up front
        else:
            out["announcement"] = None
            out["settings"] = {"join": rules.effective_settings(state.group.kind, state.group.settings)["join"]}
        return out

    async def my_groups(self, user_id: str) -> list[dict[str, Any]]:
        return [{**g.to_wire(), "my_role": role} for g, role in await self._storage.user_groups(user_id)]

    async def search(self, user_id: str, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """Groups an outsider can ask to join: by exact group id (any group that takes
        joiners), or by part of the name (searchable groups only)."""
        text = query.strip()
        if not 1 <= len(text) <= 128:
            raise BadRequest("q: 1-128 characters")
        if not 1 <= limit <= rules.MAX_SEARCH_RESULTS:
            raise BadRequest(f"limit: 1 to {rules.MAX_SEARCH_RESULTS}")
        found: dict[str, tuple[Group, int]] = {}
        if is_valid_id(text):
            try:
                state: GroupState | None = await self._membership.state(text)
            except NotFound:
                state = None
            if state is not None and state.group.dismissed_at is None:
                if rules.findable(state.group.kind, state.group.settings, by_id=True):
                    found[text] = (state.group, len(state.members))
        for group, count in await self._storage.search_groups(text, limit=limit):
            found.setdefault(group.id, (group, count))
        mine = {g.id: role for g, role in await self._storage.user_groups(user_id)} if found else {}
        out = []
        for group, count in list(found.values())[:limit]:
            eff = rules.effective_settings(group.kind, group.settings)
            out.append(
                {
                    "group_id": group.id,
                    "conv": group_conv(group.id),
                    "name": group.name,
                    "type": group.kind,
                    "member_count": count,
                    "join": eff["join"],
                    "my_role": mine.get(group.id),
                }
            )
        return out

    async def members(self, user_id: str, group_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
        state = await self._state(group_id, live=False)
        if user_id not in state.members:
            raise Forbidden("you are not a member of this group")
        if not 1 <= limit <= 500:
            raise BadRequest("limit: 1 to 500")
        page = await self._storage.group_members(group_id, after=after, limit=limit + 1)
        more = len(page) > limit
        page = page[:limit]
        return {
            "members": [m.to_wire() for m in page],
            "more": more,
            "next": page[-1].user_id if more and page else None,
            "total": len(state.members),
        }

    # --- membership
    async def invite(self, actor: str, group_id: str, user_ids: list[str]) -> dict[str, Any]:
        state = await self._state(group_id)
        needs_approval = rules.invitation_needs_approval(self._role(state, actor), state.group.settings)
        wanted = [u for u in await self._existing_users(user_ids) if u not in state.members]
        if not wanted:
            return {"added": [], "pending": []}
        if needs_approval:
            pending = []
            for u in wanted:
                req = GroupRequest(secrets.token_hex(8), group_id, u, actor, "", "pending", now_ms())
                await self._storage.add_group_request(req)
                pending.append(req.id)
            await self._notify_managers(state, actor, {"type": "requests_pending", "count": len(pending)})
            return {"added": [], "pending": pending}
        added = await self._storage.add_members(group_id, wanted, now_ms(), limit=self._max_members)
        if added:
            await self._changed(group_id, actor, {"type": "members_added", "users": added})
        return {"added": added, "pending": []}

    async def join(self, user_id: str, group_id: str, message: str = "") -> dict[str, Any]:
        state = await self._state(group_id)
        if user_id in state.members:
            raise Conflict("you are already a member of this group")
        if len(message) > MAX_REQUEST_MESSAGE:
            raise BadRequest(f"message: at most {MAX_REQUEST_MESSAGE} characters")
        if rules.check_join(state.group.settings):
            req = GroupRequest(secrets.token_hex(8), group_id, user_id, None, message, "pending", now_ms())
            await self._storage.add_group_request(req)
            await self._notify_managers(state, user_id, {"type": "requests_pending", "count": 1})
            return {"joined": False, "request_id": req.id}
        await self._storage.add_members(group_id, [user_id], now_ms(), limit=self._max_members)
        await self._changed(group_id, user_id, {"type": "member_joined", "user": user_id})
        return {"joined": True, "request_id": None}

    async def _notify_managers(self, state: GroupState, actor: str, change: dict[str, Any]) -> None:
        managers = [u for u, m in state.members.items() if rules.is_manager(m.role)]
        gid = state.group.id
        self._messages.push(managers, event("group", group_id=gid, conv=group_conv(gid), change={**change, "by": actor}))

    async def requests(self, actor: str, group_id: str) -> list[dict[str, Any]]:
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="admin", action="review join requests")
        return [r.to_wire() for r in await self._storage.group_requests(group_id)]

    async def decide(self, actor: str, group_id: str, request_id: str, accept: bool) -> dict[str, Any]:
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="admin", action="review join requests")
        req = await self._storage.get_group_request(request_id)
        if req is None or req.group_id != group_id:
            raise NotFound("no such request in this group")
        if not await self._storage.close_group_request(request_id, "accepted" if accept else "declined", actor, now_ms()):
            raise Conflict(f"this request was already {req.status}")
        decided = {"type": "request_decided", "request_id": request_id, "accepted": accept, "user": req.user_id}
        if accept and req.user_id not in state.members:
            await self._storage.add_members(group_id, [req.user_id], now_ms(), limit=self._max_members)
            await self._changed(
                group_id, actor, {"type": "member_joined", "user": req.user_id, "inviter": req.inviter}
            )
        gid = group_id
        self._messages.push(
            {req.user_id, *(u for u, m in state.members.items() if rules.is_manager(m.role))},
            event("group", group_id=gid, conv=group_conv(gid), change={**decided, "by": actor}),
        )
        return {"status": "accepted" if accept else "declined"}

    async def kick(self, actor: str, group_id: str, target: str) -> None:
        state = await self._state(group_id)
        rules.check_over(self._role(state, actor), self._role(state, target), "remove")
        await self._storage.remove_member(group_id, target)
        await self._changed(group_id, actor, {"type": "member_removed", "user": target}, also=(target,))

    async def leave(self, user_id: str, group_id: str) -> None:
        state = await self._state(group_id)
        rules.check_leave(self._role(state, user_id), state.group.settings)
        await self._storage.remove_member(group_id, user_id)
        await self._changed(group_id, user_id, {"type": "member_left", "user": user_id}, also=(user_id,))

    async def set_role(self, actor: str, group_id: str, target: str, role: str) -> None:
        if role not in ("admin", "member"):
            raise BadRequest("role: admin or member (use transfer to change the owner)")
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="owner", action="appoint admins")
        current = self._role(state, target)
        if current is None:
            raise BadRequest("that user is not a member of this group")
        if current == "owner":
            raise Forbidden("the owner's role changes only by transfer")
        if current == role:
            return
        await self._storage.set_member(group_id, target, role=role)
        await self._changed(group_id, actor, {"type": "role_changed", "user": target, "role": role})

    async def mute(self, actor: str, group_id: str, target: str, until: int | None) -> None:
        state = await self._state(group_id)
        rules.check_over(self._role(state, actor), self._role(state, target), "mute")
        if until is not None and until <= now_ms():
            raise BadRequest("until must be in the future (or null to unmute)")
        await self._storage.set_member(group_id, target, muted_until=until)
        await self._changed(group_id, actor, {"type": "member_muted", "user": target, "until": until})

    async def transfer(self, actor: str, group_id: str, new_owner: str) -> None:
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="owner", action="transfer ownership")
        if new_owner == actor:
            raise BadRequest("you already own this group")
        if new_owner not in state.members:
            raise BadRequest("the new owner must be a member of the group")
        await self._storage.transfer_ownership(group_id, actor, new_owner)
        await self._changed(group_id, actor, {"type": "owner_transferred", "user": new_owner})

    async def dismiss(self, actor: str, group_id: str) -> None:
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="owner", action="dismiss the group")
        conv = group_conv(group_id)
        body = {"type": "group_dismissed", "by": actor}
        await self._messages.store_system(conv, actor, f"sys.{secrets.token_hex(12)}", body)  # while sends still work
        await self._storage.update_group(group_id, dismissed_at=now_ms())
        # the event goes out once the group is dismissed in storage: a device that reloads
        # the group on it must already see `dismissed: true`
        await self._changed(group_id, actor, {"type": "dismissed"}, notice=False)

    async def update(
        self,
        actor: str,
        group_id: str,
        *,
        name: str | None = None,
        announcement: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Group:
        state = await self._state(group_id)
        role = self._role(state, actor)
        rules.require_role(role, at_least="admin", action="change the group")
        changes: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        if name is not None:
            name = name.strip()
            if not 1 <= len(name) <= 128:
                raise BadRequest("name: 1-128 characters")
            if name != state.group.name:
                values["name"] = name
                changes.append({"type": "renamed", "name": name})
        if announcement is not None:
            if len(announcement) > MAX_ANNOUNCEMENT:
                raise BadRequest(f"announcement: at most {MAX_ANNOUNCEMENT} characters")
            values["announcement"] = announcement
            changes.append({"type": "announcement", "text": announcement})
        if settings:
            if set(settings) - {"mute_all"} and role != "owner":
                raise Forbidden("only the owner can change the group's policies")
            current = rules.effective_settings(state.group.kind, state.group.settings)
            merged = rules.merge_settings(current, settings)
            if merged != current:
                values["settings"] = merged
                changed = {k: v for k, v in merged.items() if current.get(k) != v}
                changes.append({"type": "settings_changed", "settings": changed})
        if values:
            await self._storage.update_group(group_id, **values)
            for change in changes:
                await self._changed(group_id, actor, change)
        return (await self._membership.state(group_id)).group
