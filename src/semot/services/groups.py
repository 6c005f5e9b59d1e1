"""Groups: creation and management (roles, invitations, join requests, kick, leave,
transfer, dismiss, mutes, announcements, settings).

Every change is the storage write and a `system` message in the group's conversation
(so history explains itself and offline devices find it with `sync`), committed in one
transaction (GroupStorage.write), then an `evt group` to the members' devices, the
affected user's included. A write that changed nothing (a kick racing another) records
and announces nothing. Each
change is one typed model (semot.protocol.events, `GroupChange`): the event carries it,
and the system message's body is the same fields with the type prefixed `group_`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from typing import Any, Literal

from semot.bus.base import Bus, Invalidate
from semot.domain import groups as rules
from semot.domain.conversations import group_conv
from semot.domain.records import (
    AddMembers,
    CreateGroup,
    Group,
    GroupRequest,
    GroupState,
    GroupWrite,
    Member,
    NewMessage,
    RemoveMember,
    SetMember,
    TransferOwnership,
    UpdateGroup,
    WriteOutcome,
)
from semot.errors import BadRequest, Blocked, Conflict, Forbidden, NotFound
from semot.ids import is_valid_id, new_group_id, new_mid, now_ms
from semot.protocol import events as ev
from semot.services.events import EventPublisher
from semot.services.features import FeatureGate
from semot.services.membership import MembershipCache
from semot.services.messaging import MessageService
from semot.services.sensitive_words import SensitiveWords
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
        events: EventPublisher,
        *,
        max_members: int,
    ) -> None:
        self._store = storage.groups
        self._users = storage.users
        self._contacts = storage.contacts
        self._messages = messages
        self._membership = membership
        self._bus = bus
        self._events = events
        self._max_members = max_members
        # group id, avatar file id -> the URL clients load (set by the node: services/profiles.py)
        self.avatar_url: Callable[[str, str | None], str | None] = lambda group_id, file_id: None
        self.features = FeatureGate()  # the client configuration's switches (services/client_settings.py)
        self.sensitive: SensitiveWords | None = None  # names and announcements screened (services/sensitive_words.py)

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
        found = await self._users.existing_user_ids(wanted)
        missing = [u for u in wanted if u not in found]
        if missing:
            raise NotFound(f"no such users: {missing[:20]}")
        return wanted

    def _publish(self, users: Collection[str], group_id: str, change: ev.GroupChange) -> None:
        self._events.publish(users, ev.GroupEvent(group_id=group_id, conv=group_conv(group_id), change=change))

    @staticmethod
    def _notice(group_id: str, change: ev.GroupChange, cid: str | None = None) -> NewMessage:
        """The `system` message recording a change: its fields, the type prefixed `group_`."""
        body = {**change.model_dump(), "type": f"group_{change.type}"}
        cid = cid or f"sys.{secrets.token_hex(12)}"
        return NewMessage(group_conv(group_id), change.by, cid, "system", body, {}, now_ms(), new_mid())

    async def _write(
        self,
        group_id: str,
        write: GroupWrite,
        changes: Callable[[WriteOutcome], list[ev.GroupChange]],
        *,
        also: tuple[str, ...] = (),
    ) -> WriteOutcome:
        """Apply a write and store the notice of each change it made, in one transaction
        (`changes` says what it made, from its outcome); then drop cached copies
        everywhere, push the notices and tell the devices."""
        made: list[ev.GroupChange] = []

        def notices(outcome: WriteOutcome) -> list[NewMessage]:
            made[:] = changes(outcome)
            return [self._notice(group_id, c) for c in made]

        outcome = await self._store.write(write, notices)
        if made:
            self._bus.publish(Invalidate(group_conv(group_id)))
            self._messages.announce(outcome.notices)
            # one load of the new member list, shared with the notices' fan-out (single-flight)
            state = await self._membership.state(group_id)
            # someone removed (or who left) gets the notice too, as a message: their open
            # chat says what happened ("Alice removed you"), though history is closed to them
            gone = [u for u in also if u not in state.members]
            if gone:
                for res in outcome.notices:
                    if res.created:
                        self._events.publish_message(gone, res.message)
            for change in made:
                self._publish(set(state.members) | set(also), group_id, change)
        return outcome

    async def operate(
        self,
        group_id: str,
        write: GroupWrite,
        changes: Callable[[WriteOutcome], list[ev.GroupChange]],
        *,
        also: tuple[str, ...] = (),
    ) -> WriteOutcome:
        """An administrator's change (services/group_admin.py, which checked its rights):
        the same write, notices and events as a member's."""
        return await self._write(group_id, write, changes, also=also)

    async def _pending(self, group_id: str) -> int:
        """How many join requests and invitations wait for owner and admins."""
        return len(await self._store.group_requests(group_id))

    async def _refuse_blocked(self, actor: str, user_ids: list[str]) -> None:
        """Nobody is put in a group by someone they blocked: a group would carry the
        blocked user's messages to them, which the blacklist forbids."""
        blockers = await self._contacts.blockers(actor, user_ids)
        if blockers:
            raise Blocked("these users do not accept invitations from you", users=sorted(blockers))

    # --- creation and reading
    async def create(
        self, owner_id: str, name: str, members: list[str], kind: str = "project", *, group_id: str | None = None
    ) -> tuple[Group, list[str]]:
        """The new group, and the users left out because they blocked the creator (the
        group is made with the others, rather than failing over one of many). `group_id`:
        an id chosen by the caller (the server API); 409 if a group has it already."""
        self.features.require("groups")
        if group_id is not None:
            if not is_valid_id(group_id):
                raise BadRequest(f"invalid group id {group_id!r}")
            if await self._store.get_group(group_id) is not None:
                raise Conflict(f"a group {group_id!r} exists already")
        name = name.strip()
        if not 1 <= len(name) <= 128:
            raise BadRequest("name: 1-128 characters")
        if self.sensitive is not None:  # 400 blocked for a block word; replace: starred
            name = self.sensitive.screen_text(name, user_id=owner_id, target="group_name")
        settings = rules.default_settings(kind)
        wanted = await self._existing_users([m for m in members if m != owner_id])
        blockers = await self._contacts.blockers(owner_id, wanted)
        skipped = [u for u in wanted if u in blockers]
        wanted = [u for u in wanted if u not in blockers]
        if len(wanted) + 1 > self._max_members:
            raise BadRequest(f"a group has at most {self._max_members} members")
        now = now_ms()
        group = Group(group_id or new_group_id(), name, owner_id, now, settings, kind)
        created = ev.GroupCreated(by=owner_id, name=name)
        notice = self._notice(group.id, created, f"sys.{group.id}.created")
        outcome = await self._store.write(CreateGroup(group, wanted, now), lambda _: [notice])
        everyone = [owner_id, *wanted]
        self._membership.remember(
            GroupState(group, {u: Member(u, "owner" if u == owner_id else "member", now) for u in everyone})
        )
        self._messages.announce(outcome.notices)
        self._publish(everyone, group.id, created)
        return group, skipped

    async def info(self, user_id: str, group_id: str) -> dict[str, Any]:
        """Members see everything. Others see the join policy and whether the group was
        dismissed (what a former member's client shows); the name, type and size only
        when group search would show them for this id (a live group that takes joiners),
        never the owner, announcement or other settings."""
        state = await self._state(group_id, live=False)
        role = self._role(state, user_id)
        if role is not None:
            out = {**state.group.to_wire(), "member_count": len(state.members), "my_role": role}
            out["avatar_url"] = self.avatar_url(group_id, state.group.avatar_file_id)
            out["my_muted_until"] = state.members[user_id].muted_until  # the composer says so up front
            out["pending_requests"] = await self._pending(group_id) if rules.is_manager(role) else None
            return out
        g = state.group
        shown = g.dismissed_at is None and rules.findable(g.kind, g.settings, by_id=True)
        return {
            "group_id": g.id,
            "conv": group_conv(g.id),
            "name": g.name if shown else None,
            "owner": None,
            "type": g.kind if shown else None,
            "settings": {"join": rules.effective_settings(g.kind, g.settings)["join"]},
            "announcement": None,
            "created_at": None,
            "dismissed": g.dismissed_at is not None,
            "member_count": len(state.members) if shown else None,
            "my_role": None,
            "avatar_url": self.avatar_url(g.id, g.avatar_file_id) if shown else None,
        }

    async def my_groups(self, user_id: str) -> list[dict[str, Any]]:
        """With `pending_requests` where the user reviews requests (owner, admins of a live
        group): a device that was offline shows the badge the push would have set."""
        out = []
        for g, role in await self._store.user_groups(user_id):
            manages = rules.is_manager(role) and g.dismissed_at is None
            out.append(
                {
                    **g.to_wire(),
                    "my_role": role,
                    "avatar_url": self.avatar_url(g.id, g.avatar_file_id),
                    "pending_requests": await self._pending(g.id) if manages else None,
                }
            )
        return out

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
            if (
                state is not None
                and state.group.dismissed_at is None
                and rules.findable(state.group.kind, state.group.settings, by_id=True)
            ):
                found[text] = (state.group, len(state.members))
        for group, count in await self._store.search_groups(text, limit=limit):
            found.setdefault(group.id, (group, count))
        mine = {g.id: role for g, role in await self._store.user_groups(user_id)} if found else {}
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
                    "avatar_url": self.avatar_url(group.id, group.avatar_file_id),
                }
            )
        return out

    async def members(self, user_id: str, group_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
        state = await self._state(group_id, live=False)
        if user_id not in state.members:
            raise Forbidden("you are not a member of this group")
        if not 1 <= limit <= 500:
            raise BadRequest("limit: 1 to 500")
        page = await self._store.group_members(group_id, after=after, limit=limit + 1)
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
        await self._refuse_blocked(actor, wanted)
        if needs_approval:
            pending = []
            for u in wanted:
                req = GroupRequest(secrets.token_hex(8), group_id, u, actor, "", "pending", now_ms())
                await self._store.add_group_request(req)
                pending.append(req.id)
            waiting = await self._pending(group_id)
            self._notify_managers(state, ev.RequestsPending(by=actor, count=len(pending), pending=waiting))
            return {"added": [], "pending": pending}
        outcome = await self._write(
            group_id,
            AddMembers(group_id, wanted, now_ms(), self._max_members),
            lambda o: [ev.MembersAdded(by=actor, users=o.added)] if o.added else [],
        )
        return {"added": outcome.added, "pending": []}

    async def join(self, user_id: str, group_id: str, message: str = "") -> dict[str, Any]:
        self.features.require("groups")
        state = await self._state(group_id)
        if user_id in state.members:
            raise Conflict("you are already a member of this group")
        if len(message) > MAX_REQUEST_MESSAGE:
            raise BadRequest(f"message: at most {MAX_REQUEST_MESSAGE} characters")
        if rules.check_join(state.group.settings):
            req = GroupRequest(secrets.token_hex(8), group_id, user_id, None, message, "pending", now_ms())
            await self._store.add_group_request(req)
            waiting = await self._pending(group_id)
            self._notify_managers(state, ev.RequestsPending(by=user_id, count=1, pending=waiting))
            return {"joined": False, "request_id": req.id}
        await self._write(
            group_id,
            AddMembers(group_id, [user_id], now_ms(), self._max_members),
            lambda o: [ev.MemberJoined(by=user_id, user=user_id)] if o.added else [],
        )
        return {"joined": True, "request_id": None}

    def _notify_managers(self, state: GroupState, change: ev.GroupChange) -> None:
        managers = [u for u, m in state.members.items() if rules.is_manager(m.role)]
        self._publish(managers, state.group.id, change)

    async def requests(self, actor: str, group_id: str) -> list[dict[str, Any]]:
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="admin", action="review join requests")
        return [r.to_wire() for r in await self._store.group_requests(group_id)]

    async def decide(self, actor: str, group_id: str, request_id: str, accept: bool) -> dict[str, Any]:
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="admin", action="review join requests")
        req = await self._store.get_group_request(request_id)
        if req is None or req.group_id != group_id:
            raise NotFound("no such request in this group")
        if not await self._store.close_group_request(request_id, "accepted" if accept else "declined", actor, now_ms()):
            raise Conflict(f"this request was already {req.status}")
        if accept and req.user_id not in state.members:
            await self._write(
                group_id,
                AddMembers(group_id, [req.user_id], now_ms(), self._max_members),
                lambda o: [ev.MemberJoined(by=actor, user=req.user_id, inviter=req.inviter)] if o.added else [],
            )
        self._publish(
            {req.user_id, *(u for u, m in state.members.items() if rules.is_manager(m.role))},
            group_id,
            ev.RequestDecided(
                by=actor, request_id=request_id, accepted=accept, user=req.user_id, pending=await self._pending(group_id)
            ),
        )
        return {"status": "accepted" if accept else "declined"}

    async def kick(self, actor: str, group_id: str, target: str) -> None:
        state = await self._state(group_id)
        rules.check_over(self._role(state, actor), self._role(state, target), "remove")
        await self._write(
            group_id,
            RemoveMember(group_id, target),
            lambda o: [ev.MemberRemoved(by=actor, user=target)] if o.changed else [],
            also=(target,),
        )

    async def leave(self, user_id: str, group_id: str) -> None:
        state = await self._state(group_id)
        rules.check_leave(self._role(state, user_id), state.group.settings)
        await self._write(
            group_id,
            RemoveMember(group_id, user_id),
            lambda o: [ev.MemberLeft(by=user_id, user=user_id)] if o.changed else [],
            also=(user_id,),
        )

    async def set_role(self, actor: str, group_id: str, target: str, role: str) -> None:
        if role not in ("admin", "member"):
            raise BadRequest("role: admin or member (use transfer to change the owner)")
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="owner", action="appoint admins")
        current = self._role(state, target)
        if current is None:
            raise NotFound("that user is not a member of this group")
        if current == "owner":
            raise Forbidden("the owner's role changes only by transfer")
        if current == role:
            return
        new_role: Literal["admin", "member"] = "admin" if role == "admin" else "member"
        await self._write(
            group_id,
            SetMember(group_id, target, {"role": role}),
            lambda o: [ev.RoleChanged(by=actor, user=target, role=new_role)] if o.changed else [],
        )

    async def mute(self, actor: str, group_id: str, target: str, until: int | None) -> None:
        state = await self._state(group_id)
        rules.check_over(self._role(state, actor), self._role(state, target), "mute")
        if until is not None and until <= now_ms():
            raise Conflict("until must be in the future (or null to unmute)")
        await self._write(
            group_id,
            SetMember(group_id, target, {"muted_until": until}),
            lambda o: [ev.MemberMuted(by=actor, user=target, until=until)] if o.changed else [],
        )

    async def transfer(self, actor: str, group_id: str, new_owner: str) -> None:
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="owner", action="transfer ownership")
        if new_owner == actor:
            raise Conflict("you already own this group")
        if new_owner not in state.members:
            raise Conflict("the new owner must be a member of the group")
        await self._write(
            group_id,
            TransferOwnership(group_id, actor, new_owner),
            lambda _: [ev.OwnerTransferred(by=actor, user=new_owner)],
        )

    async def dismiss(self, actor: str, group_id: str) -> None:
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="owner", action="dismiss the group")
        # the event goes out once the group is dismissed in storage: a device that reloads
        # the group on it must already see `dismissed: true`
        await self._write(
            group_id,
            UpdateGroup(group_id, {"dismissed_at": now_ms()}),
            lambda o: [ev.GroupDismissed(by=actor)] if o.changed else [],
        )

    async def set_avatar(self, actor: str, group_id: str, file_id: str | None) -> bool:
        """Owner and admins; the file was checked by the caller (services/profiles.py).
        False when it was the avatar already."""
        state = await self._state(group_id)
        rules.require_role(self._role(state, actor), at_least="admin", action="change the group's avatar")
        if file_id == state.group.avatar_file_id:
            return False
        change = ev.GroupAvatarChanged(by=actor, avatar_url=self.avatar_url(group_id, file_id))
        outcome = await self._write(
            group_id, UpdateGroup(group_id, {"avatar_file_id": file_id}), lambda o: [change] if o.changed else []
        )
        return outcome.changed

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
        changes: list[ev.GroupChange] = []
        values: dict[str, Any] = {}
        if name is not None:
            name = name.strip()
            if not 1 <= len(name) <= 128:
                raise BadRequest("name: 1-128 characters")
            if name != state.group.name and self.sensitive is not None:
                name = self.sensitive.screen_text(name, user_id=actor, target="group_name", conv=f"g:{group_id}")
            if name != state.group.name:
                values["name"] = name
                changes.append(ev.GroupRenamed(by=actor, name=name))
        if announcement is not None:
            if len(announcement) > MAX_ANNOUNCEMENT:
                raise BadRequest(f"announcement: at most {MAX_ANNOUNCEMENT} characters")
            if announcement and self.sensitive is not None:
                announcement = self.sensitive.screen_text(
                    announcement, user_id=actor, target="announcement", conv=f"g:{group_id}"
                )
            values["announcement"] = announcement
            changes.append(ev.AnnouncementChanged(by=actor, text=announcement))
        if settings:
            if set(settings) - {"mute_all"} and role != "owner":
                raise Forbidden("only the owner can change the group's policies")
            current = rules.effective_settings(state.group.kind, state.group.settings)
            merged = rules.merge_settings(current, settings)
            if merged != current:
                values["settings"] = merged
                changed = {k: v for k, v in merged.items() if current.get(k) != v}
                changes.append(ev.SettingsChanged.model_validate({"by": actor, "settings": changed}))
        if values:
            await self._write(group_id, UpdateGroup(group_id, values), lambda o: changes if o.changed else [])
        return (await self._membership.state(group_id)).group
