"""The client configuration (终端配置): product name and logo, feature switches, default
friend groups, quick phrases, custom H5 pages, self-registration and the direct-message
policy, as an administrator sets them in the console.

Read on every request that a switch governs, so each node keeps it in memory (a dict
lookup on the send path) and reloads it when the bus says it changed: the node that
stores a change applies it at once, publishes `Invalidate("cfg:" + the new document)`
(every other node applies it as it arrives) and then broadcasts `evt config` with the
new public configuration to every connection of every node: the bus keeps their order,
so no client hears of a change before its node enforces it. A node that missed the bus message (a
Redis outage) finds the new version within `refresh_s` by reading just the version.

Two switches predate the configuration and live on in the server's settings
(SEMOT_SELF_REGISTRATION, SEMOT_DIRECT_MESSAGE_POLICY): they are the defaults while no
administrator has saved a configuration; once one is saved, its values win at run time
(this service sets them on AccountService and ContactsService).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from semot.bus.base import Bus, Invalidate
from semot.domain.contacts import check_tag_name
from semot.domain.files import FileRef
from semot.errors import BadRequest, Conflict, NotFound
from semot.ids import now_ms
from semot.protocol.client_config import ClientConfigEdit, PublicClientConfig, defaults, merge, normalise, origin
from semot.protocol.events import ConfigEvent
from semot.services.events import EventPublisher
from semot.services.features import FeatureGate
from semot.storage.base import Storage
from semot.storage.client_config import StoredClientConfig

if TYPE_CHECKING:
    from semot.domain.records import User
    from semot.services.accounts import AccountService
    from semot.services.contacts import ContactsService
    from semot.services.files import FileService
    from semot.services.groups import GroupService
    from semot.services.messaging import MessageService

log = logging.getLogger(__name__)

CONFIG_KEY = "cfg:"  # bus Invalidate key: "cfg:" + the new stored configuration as JSON
LOGO_PATH = "/api/v1/client-config/logo"
REF_LOGO = "logo"  # file_refs kind keeping the uploaded logo alive (the collector spares it)
LOGO_REF = "client-config"
LOGO_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/x-icon", "image/vnd.microsoft.icon"}
)
MAX_LOGO_BYTES = 1024 * 1024


class ClientSettings:
    def __init__(
        self,
        storage: Storage,
        bus: Bus,
        events: EventPublisher,
        *,
        self_registration: bool,
        direct_message_policy: str,
        file_max_bytes: int,
        auth_config: dict[str, Any] | None = None,
        refresh_s: float = 30.0,
    ) -> None:
        self._store = storage.client_config
        self._file_store = storage.files
        self._bus = bus
        self._events = events
        self._base = defaults(self_registration=self_registration, direct_message_policy=direct_message_policy)
        self._file_max_bytes = file_max_bytes
        # the auth reply's `config` (app.client_config): its `client` entry is kept current
        self._auth_config = auth_config if auth_config is not None else {}
        self.refresh_s = refresh_s
        self.gate = FeatureGate()
        self.accounts: AccountService | None = None  # set by the node: self-registration, new users
        self.contacts: ContactsService | None = None  # set by the node: DM policy, default tags
        self.files: FileService | None = None  # set by the node: the uploaded logo
        self._listeners: list[Callable[[PublicClientConfig], None]] = []
        self._doc: dict[str, Any] = dict(self._base)
        self._version = 0
        self._updated_at: int | None = None
        self._updated_by: str | None = None
        self._logo: tuple[str, bytes, str, str] | None = None  # file id, bytes, type, sha256
        self._reloading: asyncio.Task[None] | None = None
        self._again = False
        self._refresher: asyncio.Task[None] | None = None
        self._public: PublicClientConfig
        self._public_json: bytes
        self._set(None)

    # --- lifecycle
    async def start(self) -> None:
        await self.reload()
        self._refresher = asyncio.create_task(self._refresh_loop(), name="semot-client-config")

    async def stop(self) -> None:
        for task in (self._refresher, self._reloading):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def listen(self, callback: Callable[[PublicClientConfig], None]) -> None:
        """Call `callback` with the public configuration now and after every change on this node."""
        self._listeners.append(callback)
        callback(self.public)

    # --- reading
    @property
    def version(self) -> int:
        return self._version

    @property
    def public(self) -> PublicClientConfig:
        return self._public

    @property
    def public_json(self) -> bytes:
        """GET /api/v1/client-config's body, encoded once per change."""
        return self._public_json

    @property
    def doc(self) -> dict[str, Any]:
        return self._doc

    def admin_view(self) -> dict[str, Any]:
        """What the console edits: the stored fields (as PUT takes them), who changed them
        last, the public view, and the server limits the editor must stay within."""
        return {
            "version": self._version,
            "updated_at": self._updated_at,
            "updated_by": self._updated_by,
            "config": self._doc,
            "public": self._public.model_dump(),
            "limits": {"file_max_bytes": self._file_max_bytes, "max_logo_bytes": MAX_LOGO_BYTES},
        }

    # --- applying a configuration on this node
    def _set(self, stored: StoredClientConfig | None) -> None:
        doc = normalise(stored.doc, self._base) if stored is not None else dict(self._base)
        self._doc = doc
        self._version = stored.version if stored is not None else 0
        self._updated_at = stored.updated_at if stored is not None else None
        self._updated_by = stored.updated_by if stored is not None else None
        limit = min(doc["max_upload_bytes"] or self._file_max_bytes, self._file_max_bytes)
        self.gate.set(doc["features"], limit if doc["max_upload_bytes"] else 0)
        if doc["logo_file_id"]:
            logo_url: str | None = f"{LOGO_PATH}?v={doc['logo_file_id']}"
        else:
            logo_url = doc["logo_url"]
        # `places` (the location picker's offices) reach only signed-in users, through GET /api/v1/geo/search
        public = {k: v for k, v in doc.items() if k not in ("logo_file_id", "logo_url", "max_upload_bytes", "places")}
        self._public = PublicClientConfig(
            version=self._version,
            updated_at=self._updated_at,
            logo_url=logo_url,
            max_upload_bytes=limit,
            **public,
        )
        self._public_json = self._public.model_dump_json().encode()
        self._auth_config["client"] = self._public.model_dump()
        if self.accounts is not None:
            self.accounts.self_registration = doc["self_registration"]
        if self.contacts is not None:
            self.contacts.direct_policy = doc["direct_message_policy"]
        for callback in list(self._listeners):
            try:
                callback(self._public)
            except Exception:
                log.exception("client configuration listener %r failed", callback)

    def attach(
        self,
        accounts: AccountService,
        contacts: ContactsService,
        files: FileService | None,
        messages: MessageService,
        groups: GroupService,
    ) -> None:
        """Wire the services whose run-time settings follow the configuration (they share
        this node's one FeatureGate), and give every account created from now on the
        default friend groups."""
        self.accounts, self.contacts, self.files = accounts, contacts, files
        messages.features = messages.changes.features = groups.features = contacts.features = self.gate
        accounts.created_hooks.append(self.user_created)
        accounts.self_registration = self._doc["self_registration"]
        contacts.direct_policy = self._doc["direct_message_policy"]

    async def reload(self) -> None:
        stored = await self._store.get_client_config()
        if (stored.version if stored else 0) >= self._version:
            self._set(stored)

    def invalidate(self, key: str) -> None:
        """The bus says the configuration changed (on whichever node). The key carries the
        new stored configuration itself (`cfg:{"v":..,"doc":..}`, a few KB at most): it is
        applied here and now, before the `evt config` published right after it on the same
        bus reaches this node's clients, so whoever is told of a change finds every node
        enforcing it. A key without it (or unreadable) makes the node reload."""
        try:
            sent = orjson.loads(key[len(CONFIG_KEY) :])
            stored = StoredClientConfig(sent["doc"], int(sent["v"]), int(sent["at"]), sent.get("by"))
        except (ValueError, KeyError, TypeError):
            stored = None
        if stored is not None:
            if stored.version > self._version:
                self._set(stored)
            return
        if self._reloading is not None and not self._reloading.done():
            self._again = True
            return
        self._reloading = asyncio.create_task(self._reload_soon(), name="semot-client-config-reload")

    async def _reload_soon(self) -> None:
        while True:
            self._again = False
            try:
                await self.reload()
            except Exception:
                log.exception("reloading the client configuration failed (retried within %ss)", self.refresh_s)
            if not self._again:
                return

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                if await self._store.client_config_version() != self._version:
                    await self.reload()
            except Exception:
                log.exception("re-reading the client configuration failed")

    # --- changing it
    async def update(self, edit: ClientConfigEdit, *, admin: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check and store an administrator's change, apply it here, tell every node and
        every client. Returns the stored fields before and after (for the audit log)."""
        before = self._doc
        after = merge(before, edit)
        after["default_friend_groups"] = [check_tag_name(n) for n in after["default_friend_groups"]]
        if after["logo_file_id"] and after["logo_file_id"] != before["logo_file_id"]:
            await self._check_logo(admin, after["logo_file_id"])
        stored = await self._store.put_client_config(
            after, expected_version=edit.version, updated_by=admin, now=now_ms()
        )
        if stored is None:
            current = await self._store.client_config_version()
            raise Conflict(
                f"the configuration was changed meanwhile (now version {current}, yours {edit.version}): "
                "reload it and make your change again",
                version=current,
            )
        if after["logo_file_id"] != before["logo_file_id"]:
            await self._file_store.remove_refs(REF_LOGO, LOGO_REF)
            if after["logo_file_id"]:
                await self._file_store.add_ref(FileRef(after["logo_file_id"], REF_LOGO, LOGO_REF, None, now_ms()))
        if stored.version >= self._version:
            self._set(stored)
        sent = {"v": stored.version, "at": stored.updated_at, "by": stored.updated_by, "doc": stored.doc}
        self._bus.publish(Invalidate(CONFIG_KEY + orjson.dumps(sent).decode()))
        self._events.broadcast(ConfigEvent(version=stored.version, config=self._public))
        return before, self._doc

    async def _check_logo(self, admin: str, file_id: str) -> None:
        if self.files is None:
            raise BadRequest("logo_file_id: file uploads are not enabled on this server")
        try:
            record = await self.files.readable(admin, file_id)
        except NotFound:
            raise NotFound("logo_file_id: no finished upload of that id that you may read") from None
        if record.mime not in LOGO_TYPES:
            raise BadRequest(f"logo_file_id: a logo is a PNG, JPEG, GIF, WebP or ICO picture, not {record.mime}")
        if record.size > MAX_LOGO_BYTES:
            raise BadRequest(f"logo_file_id: a logo may be at most {MAX_LOGO_BYTES // 1024} KiB")

    async def logo(self) -> tuple[bytes, str, str] | None:
        """The uploaded logo's bytes, type and sha256 (kept in memory: it is small and
        asked for by every login page), or None when the logo is not an upload."""
        file_id = self._doc["logo_file_id"]
        if not file_id or self.files is None:
            return None
        cached = self._logo
        if cached is not None and cached[0] == file_id:
            return cached[1], cached[2], cached[3]
        record = await self._file_store.get_file(file_id)
        if record is None or not record.complete or record.mime not in LOGO_TYPES:
            return None
        await self.files.check_bytes(record)
        data = b"".join([chunk async for chunk in self.files.read(record, 0, record.size)])
        self._logo = (file_id, data, record.mime, record.sha256 or "")
        return data, record.mime, record.sha256 or ""

    # --- new accounts
    async def user_created(self, user: User) -> None:
        """Give a new account the default friend groups (contact tags) of the configuration."""
        await self.seed_friend_groups([user.id])

    async def seed_friend_groups(self, user_ids: list[str]) -> None:
        """The default friend groups for these (new) users; failures are logged, never
        raised: an account is not refused because a tag could not be made."""
        names = self._doc["default_friend_groups"]
        if not names or self.contacts is None:
            return
        for user_id in user_ids:
            for name in names:
                try:
                    await self.contacts.create_tag(user_id, name, [])
                except Exception:
                    log.exception("could not create the default friend group %r for %s", name, user_id)


def csp_sources(config: PublicClientConfig) -> str:
    """What the web pages' Content-Security-Policy must add for `config`: the origins of
    H5 pages shown in a frame (frame-src) and of an outside logo (img-src). Origins only:
    `_check_url` allowed nothing in a host that a policy would read as syntax."""
    parts = []
    frames = sorted({origin(p.url) for p in config.pages if p.open == "tab"})
    if frames:
        parts.append("frame-src " + " ".join(frames))
    if config.logo_url and not config.logo_url.startswith("/"):
        parts.append("img-src " + origin(config.logo_url))
    return "; ".join(parts)
