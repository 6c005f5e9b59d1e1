"""Profiles: display names and avatars of users and groups, and how others see them.

An avatar is an uploaded file (tus, services/files.py) that the setter may read, whose
type sniffed from its bytes is a raster image browsers draw (JPEG, PNG, WebP, GIF;
never SVG, which is a document that can carry script) with a known width and height.
It is kept alive by a file reference of kind `avatar` (`ref` = the user id, or
`g:<group id>` for a group: user ids never contain `:`, so a user named like a group
id cannot drop the group's reference), which the old avatar's loses.

Clients see `avatar_url`, never the file id alone: `/api/v1/users/<id>/avatar` or
`/api/v1/groups/<id>/avatar` with `v=<file id>` (cache-busting: a new avatar is a new
URL) and an expiring signature (`exp`, `sig`), so `<img src>` works without an
`Authorization` header. Such URLs are only handed to signed-in users (profiles,
contacts, directory, groups, `evt profile`). `exp` is rounded to whole days, so a URL
stays the same (one browser cache entry) for a day and works for one to two days; an
avatar that was replaced is no longer served through its old URL. Clients that keep a
URL longer (a tab open for days) fall back to initials when it fails and get a fresh
URL with the next profile they load.

A change of name or avatar is pushed as `evt profile` to the user's own devices,
friends and the members of their groups, at most `fanout_max` users (the rest see it
when they next load the profile); a group's avatar is an `evt group` change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Literal

from semot.domain.files import REF_AVATAR, FileRecord, FileRef
from semot.domain.records import User
from semot.errors import BadRequest, NotFound
from semot.ids import is_valid_id, now_ms
from semot.protocol.events import ProfileEvent
from semot.services.events import EventPublisher
from semot.services.files import FileService
from semot.services.membership import MembershipCache
from semot.services.sensitive_words import SensitiveWords
from semot.storage.base import Storage

AVATAR_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
AVATAR_MAX_BYTES = 10 * 1024 * 1024
AVATAR_URL_PERIOD_MS = 86_400_000
MAX_DISPLAY_NAME = 128
DEFAULT_FANOUT_MAX = 5000

Owner = Literal["users", "groups"]


class AvatarUrls:
    """Signed avatar URLs: the HMAC (a key derived from the server secret, apart from
    the file-URL and token keys) binds the owner, the file and the expiry."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"semot-avatar-url\x00" + secret.encode()).digest()

    def _mac(self, owner: Owner, owner_id: str, file_id: str, exp: int) -> str:
        msg = f"{owner}\x00{owner_id}\x00{file_id}\x00{exp}".encode()
        return base64.urlsafe_b64encode(hmac.new(self._key, msg, hashlib.sha256).digest()[:24]).decode().rstrip("=")

    def url(self, owner: Owner, owner_id: str, file_id: str | None, now: int | None = None) -> str | None:
        if not file_id:
            return None
        exp = ((now or now_ms()) // AVATAR_URL_PERIOD_MS + 2) * AVATAR_URL_PERIOD_MS
        return f"/api/v1/{owner}/{owner_id}/avatar?v={file_id}&exp={exp}&sig={self._mac(owner, owner_id, file_id, exp)}"

    def user(self, user: User) -> str | None:
        return self.url("users", user.id, user.avatar_file_id)

    def valid(self, owner: Owner, owner_id: str, file_id: str, exp: int, sig: str, now: int | None = None) -> bool:
        if exp < (now or now_ms()):
            return False
        return hmac.compare_digest(self._mac(owner, owner_id, file_id, exp), sig)


def group_ref(group_id: str) -> str:
    """The `ref` of a group's avatar reference (a user's is the bare user id)."""
    return f"g:{group_id}"


class ProfileService:
    def __init__(
        self,
        storage: Storage,
        events: EventPublisher,
        files: FileService | None,
        membership: MembershipCache,
        urls: AvatarUrls,
        *,
        fanout_max: int = DEFAULT_FANOUT_MAX,
    ) -> None:
        self._storage = storage
        self._users = storage.users
        self._events = events
        self._files = files
        self._membership = membership
        self.urls = urls
        self.fanout_max = fanout_max
        self.sensitive: SensitiveWords | None = None  # display names screened (services/sensitive_words.py)

    # --- avatars
    async def avatar_file(self, user_id: str, file_id: str) -> FileRecord:
        """The file `user_id` wants as an avatar, if it may be one: NotFound when it is no
        finished upload they may read (never saying which), BadRequest when it is one but
        not a picture an avatar may be."""
        if self._files is None:
            raise BadRequest("file uploads are not enabled on this server")
        try:
            record = await self._files.readable(user_id, file_id)
        except NotFound:
            raise NotFound("avatar_file_id: no finished upload of that id that you may read") from None
        if record.mime not in AVATAR_TYPES:
            raise BadRequest(f"avatar_file_id: an avatar is a JPEG, PNG, WebP or GIF image, not {record.mime}")
        if record.w is None or record.h is None:
            raise BadRequest("avatar_file_id: the image's size could not be read")
        if record.size > AVATAR_MAX_BYTES:
            raise BadRequest(f"avatar_file_id: an avatar may be at most {AVATAR_MAX_BYTES // (1024 * 1024)} MiB")
        return record

    async def _move_ref(self, ref: str, file_id: str | None) -> None:
        """Keep the new avatar alive and let the old one go (to the collector, after its grace)."""
        files = self._storage.files
        await files.remove_refs(REF_AVATAR, ref)
        if file_id:
            await files.add_ref(FileRef(file_id, REF_AVATAR, ref, None, now_ms()))

    async def group_avatar_ref(self, group_id: str, file_id: str | None) -> None:
        await self._move_ref(group_ref(group_id), file_id)

    # --- users
    def screen_name(self, user_id: str, name: str) -> str:
        """A display name through the sensitive words: 400 `blocked` for a block word,
        starred for replace, as it is for warn (every hit recorded)."""
        if self.sensitive is None:
            return name
        return self.sensitive.screen_text(name, user_id=user_id, target="display_name")

    async def update_me(
        self, user: User, *, display_name: str | None = None, avatar: bool = False, avatar_file_id: str | None = None,
        screened: bool = False,
    ) -> User:
        """Change the name and/or (when `avatar`) the avatar (None removes it). `screened`:
        the name went through the sensitive words already (a user import's row)."""
        name = user.display_name
        if display_name is not None:
            name = display_name.strip()
            if not 1 <= len(name) <= MAX_DISPLAY_NAME:
                raise BadRequest(f"display_name: 1-{MAX_DISPLAY_NAME} characters, not all blank")
            if name != user.display_name and not screened:
                name = self.screen_name(user.id, name)
        file_id = user.avatar_file_id
        if avatar:
            if avatar_file_id is not None:
                await self.avatar_file(user.id, avatar_file_id)
            file_id = avatar_file_id
        if name == user.display_name and file_id == user.avatar_file_id:
            return user
        if not await self._users.set_user_profile(user.id, display_name=name, avatar_file_id=file_id):
            raise NotFound("no such user")
        if file_id != user.avatar_file_id:
            await self._move_ref(user.id, file_id)
        user.display_name, user.avatar_file_id = name, file_id
        self._events.publish(
            await self.audience(user.id),
            ProfileEvent(user=user.id, display_name=name, avatar_url=self.urls.user(user)),
        )
        return user

    async def audience(self, user_id: str) -> set[str]:
        """Who hears of `user_id`'s profile changes: themselves, friends, then the members
        of their groups, oldest group first, until `fanout_max` users are reached."""
        out = dict.fromkeys([user_id, *sorted(await self._storage.contacts.friend_ids(user_id))])
        for group, _ in await self._storage.groups.user_groups(user_id):
            if len(out) >= self.fanout_max:
                break
            if group.dismissed_at is not None:
                continue
            try:
                members = (await self._membership.state(group.id)).members
            except NotFound:
                continue
            out.update(dict.fromkeys(members))
        return set(list(out)[: self.fanout_max])

    async def profiles(self, user_ids: list[str]) -> list[dict[str, Any]]:
        """Public profiles (id, username, display name, avatar URL) of existing users, in order."""
        ids = [u for u in dict.fromkeys(user_ids) if is_valid_id(u)]
        found = {u.id: u for u in await self._users.users_by_ids(ids)}
        return [{**found[u].public(), "avatar_url": self.urls.user(found[u])} for u in ids if u in found]

    async def avatar_urls(self, user_ids: list[str]) -> dict[str, str | None]:
        """`avatar_url` of each existing user of `user_ids`, in one query."""
        users = await self._users.users_by_ids(user_ids)
        return {u.id: self.urls.user(u) for u in users}
