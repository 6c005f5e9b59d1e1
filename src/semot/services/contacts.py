"""Contacts: friend requests, friends, remarks, tags, the blacklist and user settings.

Clients hold a snapshot (`GET /api/v1/contacts`) and apply `evt contacts` changes to it;
every change is pushed to all of the user's devices (and, from their side, to the other
party), carrying the full new object, so the snapshot with the events applied always
equals a fresh snapshot. Who-blocked-whom and friend sets are cached per node for the
direct-message check on the hot path and dropped through the bus on change.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any

from semot.bus.base import Bus, Invalidate
from semot.domain import contacts as rules
from semot.domain.records import ContactTag, Friend, FriendRequest
from semot.errors import BadRequest, Conflict, Forbidden, NotFound
from semot.ids import is_valid_id, now_ms
from semot.protocol import events as ev
from semot.services.events import EventPublisher
from semot.services.features import FeatureGate
from semot.storage.base import Storage

ColleagueCheck = Callable[[str, str], Awaitable[bool]]
_NONE: frozenset[str] = frozenset()  # most cached sets are empty: one object, not 216 bytes each


def _frozen(ids: Iterable[str]) -> frozenset[str]:
    return frozenset(ids) or _NONE
USER_KEY = "u:"  # bus Invalidate keys for per-user contact caches


class ContactsService:
    def __init__(self, storage: Storage, events: EventPublisher, bus: Bus, *, direct_policy: str) -> None:
        self._store = storage.contacts
        self._users = storage.users
        self._events = events
        self._bus = bus
        self.direct_policy = direct_policy
        self.colleague_check: ColleagueCheck | None = None  # set when the org directory is wired
        self.features = FeatureGate()  # the client configuration's switches (services/client_settings.py)
        # user ids -> their avatar URLs (services/profiles.py; set by the node)
        self.avatar_urls: Callable[[list[str]], Awaitable[dict[str, str | None]]] | None = None
        self._blocked: dict[str, frozenset[str]] = {}  # user -> whom they blocked
        self._friends: dict[str, frozenset[str]] = {}
        # bumped by every invalidation: a read that was in flight across one is returned
        # but not cached (it may predate the change)
        self._epoch = 0

    # --- caches
    def invalidate(self, user_id: str) -> None:
        self._epoch += 1
        self._blocked.pop(user_id, None)
        self._friends.pop(user_id, None)

    def invalidate_all(self) -> None:
        """This node may have missed invalidations (a Redis outage): forget everyone."""
        self._epoch += 1
        self._blocked.clear()
        self._friends.clear()

    async def warm(self, user_ids: Collection[str]) -> None:
        """Cache what pushing these users' presence asks (services/presence.py): their
        friend and block sets, then their friends' block sets, one storage query per 500
        users of each kind. A flush settles hundreds of users at once after a wave of
        connects; each cost two queries, and one per uncached friend."""
        friends: set[str] = set()
        for friend_ids, _ in (await self._load(user_ids, friends=True)).values():
            friends |= friend_ids
        friends.update(*(self._friends.get(u, ()) for u in user_ids))
        await self._load(friends, friends=False)

    async def _load(self, user_ids: Collection[str], *, friends: bool) -> dict[str, tuple[set[str], set[str]]]:
        """Read and cache the sets of those of `user_ids` not cached; returns what was read."""
        missing = [u for u in user_ids if u not in self._blocked or (friends and u not in self._friends)]
        if not missing:
            return {}
        epoch = self._epoch
        sets = await self._store.contact_sets(missing, friends=friends)
        if self._epoch == epoch:  # else an invalidation came in meanwhile: the sets may be stale
            if max(len(self._friends), len(self._blocked)) + len(sets) > 100_000:
                self._friends.clear()
                self._blocked.clear()
            for user_id, (friend_ids, blocked) in sets.items():
                if friends:
                    self._friends[user_id] = _frozen(friend_ids)
                self._blocked[user_id] = _frozen(blocked)
        return sets

    def _changed(self, *user_ids: str) -> None:
        for u in user_ids:
            self._bus.publish(Invalidate(USER_KEY + u))

    async def _blocked_by(self, user_id: str) -> frozenset[str]:
        got = self._blocked.get(user_id)
        if got is None:
            epoch = self._epoch
            got = _frozen(b.user_id for b in await self._store.blacklist(user_id))
            if self._epoch == epoch:
                if len(self._blocked) > 100_000:
                    self._blocked.clear()
                self._blocked[user_id] = got
        return got

    async def _friend_set(self, user_id: str) -> frozenset[str]:
        got = self._friends.get(user_id)
        if got is None:
            epoch = self._epoch
            got = _frozen(await self._store.friend_ids(user_id))
            if self._epoch == epoch:
                if len(self._friends) > 100_000:
                    self._friends.clear()
                self._friends[user_id] = got
        return got

    async def friend_set(self, user_id: str) -> frozenset[str]:
        return await self._friend_set(user_id)

    async def blocked_set(self, user_id: str) -> frozenset[str]:
        """Whom `user_id` has blocked."""
        return await self._blocked_by(user_id)

    async def has_blocked(self, user_id: str, other: str) -> bool:
        return other in await self._blocked_by(user_id)

    async def are_friends(self, a: str, b: str) -> bool:
        return b in await self._friend_set(a)

    async def check_direct(self, sender: str, peer: str) -> None:
        """May `sender` send `peer` a direct message? Called for every direct send."""
        blocked = sender in await self._blocked_by(peer)
        friends = False
        colleagues = False
        if not blocked and self.direct_policy != "anyone":
            friends = await self.are_friends(sender, peer)
            if not friends and self.direct_policy == "friends_or_colleagues" and self.colleague_check is not None:
                colleagues = await self.colleague_check(sender, peer)
        rules.check_direct(self.direct_policy, blocked_by_peer=blocked, friends=friends, colleagues=colleagues)

    # --- events
    def _emit(self, user_id: str, change: ev.ContactsChange) -> None:
        self._events.publish((user_id,), ev.ContactsEvent(change=change))

    async def _user(self, user_id: str) -> None:
        if not is_valid_id(user_id) or not await self._users.existing_user_ids([user_id]):
            raise NotFound(f"no user {user_id!r}")

    async def _friends_wire(self, friends: list[Friend]) -> list[dict[str, Any]]:
        """Friends as sent (snapshot and events alike), with their `avatar_url`."""
        urls = await self.avatar_urls([f.user_id for f in friends]) if self.avatar_urls and friends else {}
        return [{**f.to_wire(), "avatar_url": urls.get(f.user_id)} for f in friends]

    # --- snapshot
    async def snapshot(self, user_id: str) -> dict[str, Any]:
        incoming, outgoing = await self._store.pending_requests(user_id)
        return {
            "friends": await self._friends_wire(await self._store.friends(user_id)),
            "requests": {"incoming": [r.to_wire() for r in incoming], "outgoing": [r.to_wire() for r in outgoing]},
            "tags": [t.to_wire() for t in await self._store.tags(user_id)],
            "blacklist": [b.to_wire() for b in await self._store.blacklist(user_id)],
            "settings": rules.user_settings(await self._store.user_settings(user_id)),
        }

    # --- settings
    async def update_settings(self, user_id: str, change: dict[str, Any]) -> dict[str, Any]:
        stored = await self._store.user_settings(user_id)
        current = rules.user_settings(stored)
        merged = rules.merge_user_settings(current, change)
        if merged != current:
            # the same JSON also keeps other services' per-user values (presence): keep them
            await self._store.set_user_settings(user_id, {**stored, **merged})
            self._emit(user_id, ev.SettingsReplaced(settings=ev.UserSettings.model_validate(merged)))
        return merged

    # --- friends
    async def _befriend(self, a: str, b: str) -> None:
        await self._store.add_friendship(a, b, now_ms())
        self._changed(a, b)
        for me, other in ((a, b), (b, a)):
            friend = await self._store.friend(me, other)
            if friend is not None:
                wire = (await self._friends_wire([friend]))[0]
                self._emit(me, ev.FriendAdded(friend=ev.Friend.model_validate(wire)))

    def _request_gone(self, req: FriendRequest) -> None:
        for u in (req.from_user, req.to_user):
            self._emit(u, ev.RequestRemoved(request_id=req.id))

    async def request_friend(self, user_id: str, target: str, message: str = "") -> dict[str, Any]:
        self.features.require("friends")
        await self._user(target)
        if len(message) > rules.MAX_REQUEST_MESSAGE:
            raise BadRequest(f"message: at most {rules.MAX_REQUEST_MESSAGE} characters")
        rules.check_friend_request(
            user_id,
            target,
            blocked_by_target=await self.has_blocked(target, user_id),
            already_friends=await self.are_friends(user_id, target),
        )
        reverse = await self._store.pending_request(target, user_id)
        settings = rules.user_settings(await self._store.user_settings(target))
        if reverse is not None or not settings["friend_approval"]:
            await self._befriend(user_id, target)  # also settles pending requests between them
            if reverse is not None:
                self._request_gone(reverse)
            return {"status": "friends", "request_id": None}
        existing = await self._store.pending_request(user_id, target)
        if existing is not None:
            return {"status": "requested", "request_id": existing.id}
        req = FriendRequest(secrets.token_hex(8), user_id, target, message, "pending", now_ms())
        await self._store.add_friend_request(req)
        request = ev.FriendRequest.model_validate(req.to_wire())
        self._emit(user_id, ev.RequestAdded(direction="outgoing", request=request))
        self._emit(target, ev.RequestAdded(direction="incoming", request=request))
        return {"status": "requested", "request_id": req.id}

    async def decide_request(self, user_id: str, request_id: str, accept: bool) -> dict[str, Any]:
        req = await self._store.friend_request(request_id)
        if req is None or user_id not in (req.to_user, req.from_user):
            raise NotFound("no such friend request")
        if req.status != "pending":
            raise Conflict(f"this request was already {req.status}")
        if user_id == req.from_user:
            if accept:
                raise Forbidden("only the recipient can accept a request")
            status = "cancelled"
        else:
            status = "accepted" if accept else "declined"
        if accept:
            await self._befriend(req.from_user, req.to_user)
        elif not await self._store.settle_friend_request(request_id, status, now_ms()):
            raise Conflict("this request was already settled")
        self._request_gone(req)
        return {"status": status}

    async def remove_friend(self, user_id: str, friend_id: str) -> None:
        if not await self.are_friends(user_id, friend_id):
            raise NotFound("not in your friends")
        tags_before = {u: await self._store.tags(u) for u in (user_id, friend_id)}
        await self._store.remove_friendship(user_id, friend_id)
        self._changed(user_id, friend_id)
        for me, other in ((user_id, friend_id), (friend_id, user_id)):
            self._emit(me, ev.FriendRemoved(user_id=other))
            for tag in tags_before[me]:
                if other in tag.members:
                    tag.members.remove(other)
                    self._emit(me, ev.TagUpdated(tag=ev.ContactTag.model_validate(tag.to_wire())))

    async def set_remark(self, user_id: str, friend_id: str, remark: str) -> dict[str, Any]:
        remark = remark.strip()
        if len(remark) > rules.MAX_REMARK:
            raise BadRequest(f"remark: at most {rules.MAX_REMARK} characters")
        if not await self._store.set_remark(user_id, friend_id, remark):
            raise NotFound("not in your friends")
        friend = await self._store.friend(user_id, friend_id)
        assert friend is not None
        wire = (await self._friends_wire([friend]))[0]
        self._emit(user_id, ev.FriendUpdated(friend=ev.Friend.model_validate(wire)))
        return wire

    # --- tags
    async def _check_members(self, user_id: str, members: list[str]) -> list[str]:
        friends = await self._friend_set(user_id)
        strangers = [m for m in members if m not in friends]
        if strangers:
            raise Conflict(f"only friends can be tagged: {strangers[:10]}")
        return list(dict.fromkeys(members))

    async def _tag(self, user_id: str, tag_id: str) -> ContactTag:
        for tag in await self._store.tags(user_id):
            if tag.id == tag_id:
                return tag
        raise NotFound("no such tag")

    async def create_tag(self, user_id: str, name: str, members: list[str]) -> dict[str, Any]:
        tag = ContactTag(secrets.token_hex(8), rules.check_tag_name(name), now_ms(), await self._check_members(user_id, members))
        await self._store.create_tag(user_id, tag)
        wire = (await self._tag(user_id, tag.id)).to_wire()
        self._emit(user_id, ev.TagAdded(tag=ev.ContactTag.model_validate(wire)))
        return wire

    async def update_tag(self, user_id: str, tag_id: str, *, name: str | None, members: list[str] | None) -> dict[str, Any]:
        clean_name = rules.check_tag_name(name) if name is not None else None
        clean_members = await self._check_members(user_id, members) if members is not None else None
        if not await self._store.update_tag(user_id, tag_id, name=clean_name, members=clean_members):
            raise NotFound("no such tag")
        wire = (await self._tag(user_id, tag_id)).to_wire()
        self._emit(user_id, ev.TagUpdated(tag=ev.ContactTag.model_validate(wire)))
        return wire

    async def delete_tag(self, user_id: str, tag_id: str) -> None:
        if not await self._store.delete_tag(user_id, tag_id):
            raise NotFound("no such tag")
        self._emit(user_id, ev.TagRemoved(tag_id=tag_id))

    # --- blacklist
    async def block(self, user_id: str, target: str) -> None:
        await self._user(target)
        if target == user_id:
            raise Forbidden("you cannot block yourself")
        now = now_ms()
        if await self._store.block(user_id, target, now):
            self._changed(user_id)
            self._emit(user_id, ev.UserBlocked(entry=ev.BlockEntry(user_id=target, created_at=now)))
            # a pending request from the blocked user is dropped with the block
            pending = await self._store.pending_request(target, user_id)
            if pending is not None and await self._store.settle_friend_request(pending.id, "declined", now):
                self._request_gone(pending)

    async def unblock(self, user_id: str, target: str) -> None:
        if not await self._store.unblock(user_id, target):
            raise NotFound("that user is not in your blacklist")
        self._changed(user_id)
        self._emit(user_id, ev.UserUnblocked(user_id=target))
