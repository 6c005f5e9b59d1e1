"""The storage interfaces the services depend on, one per aggregate.

Services never see SQL: they call these methods, and `app.py` picks the implementation
(sql/ for SQLite and PostgreSQL, memory/ for unit tests). Every method is one
transaction; `append_messages` is the group-commit unit, so seq assignment and the
rows it numbers are committed together or not at all, and `GroupStorage.write` commits
a group change with the `system` notices that record it.

`Storage` bundles one database's stores for the composition root and for services that
span aggregates (a group invitation checks users and the blacklist); each service keeps
only the parts it uses.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from semot.domain.messages import Message
from semot.domain.records import (
    AddMembers,
    AppendResult,
    ConvState,
    CreateGroup,
    Group,
    GroupRequest,
    GroupState,
    GroupWrite,
    Member,
    NewMessage,
    NoticesFor,
    ReadResult,
    RefreshToken,
    RemoveMember,
    SetMember,
    TransferOwnership,
    UpdateGroup,
    User,
    WriteOutcome,
)
from semot.storage.admin_rbac import AdminRbacStorage
from semot.storage.api_keys import ApiKeyStorage
from semot.storage.client_config import ClientConfigStorage
from semot.storage.contacts import ContactsStorage
from semot.storage.conv_settings import ConvSettingsStorage
from semot.storage.customer_service import CustomerServiceStorage
from semot.storage.devtools import DevToolsStorage
from semot.storage.external_identities import ExternalIdentityStorage
from semot.storage.files import FileStorage
from semot.storage.login_logs import LoginLogStorage
from semot.storage.message_changes import MessageChangeStorage
from semot.storage.moderation import ModerationStorage
from semot.storage.org import OrgStorage
from semot.storage.retention import RetentionStorage
from semot.storage.search import SearchStorage
from semot.storage.sensitive import SensitiveStorage
from semot.storage.stats import StatsStorage
from semot.storage.user_admin import UserAdminStorage
from semot.storage.webhooks import WebhookStorage


class Database(abc.ABC):
    """The database itself: schema, health, and the connections every store shares."""

    @abc.abstractmethod
    async def migrate(self) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the shared connections (after every store closed its own)."""


class UserStorage(abc.ABC):
    @abc.abstractmethod
    async def create_user(self, user: User) -> None:
        """Raise Conflict when the id or username is taken."""

    @abc.abstractmethod
    async def get_user(self, user_id: str) -> User | None: ...

    @abc.abstractmethod
    async def get_user_by_username(self, username: str) -> User | None:
        """Case-insensitive; an account spelled exactly `username` wins (two accounts
        may differ only in case if they were created before usernames were folded)."""

    @abc.abstractmethod
    async def existing_user_ids(self, user_ids: Iterable[str]) -> set[str]: ...

    @abc.abstractmethod
    async def users_by_ids(self, user_ids: Iterable[str]) -> list[User]: ...

    @abc.abstractmethod
    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool: ...

    @abc.abstractmethod
    async def set_user_admin(self, user_id: str, is_admin: bool) -> bool: ...

    @abc.abstractmethod
    async def set_user_profile(self, user_id: str, *, display_name: str, avatar_file_id: str | None) -> bool:
        """Store the name and avatar (services/profiles.py checks both); False: no such user."""

    @abc.abstractmethod
    async def set_password_hash(self, user_id: str, password_hash: str) -> bool: ...

    # --- bulk import (services/user_import.py)
    @abc.abstractmethod
    async def users_by_usernames(self, usernames: Iterable[str]) -> list[User]:
        """The users holding these usernames, matched regardless of letter case."""

    @abc.abstractmethod
    async def create_users(self, users: list[User]) -> list[str]:
        """Insert many users in one transaction, leaving out each whose id or username
        (in any letter case) is taken, e.g. registered since the caller looked; returns
        the ids inserted."""


class TokenStorage(abc.ABC):
    """Refresh tokens, grouped in families: one family is one login."""

    @abc.abstractmethod
    async def add_refresh_token(self, token: RefreshToken) -> None: ...

    @abc.abstractmethod
    async def consume_refresh_token(self, token_hash: str, now: int) -> RefreshToken | None:
        """Mark the token used and return it as it was before; a token already used
        revokes its whole family (a stolen token was replayed) and is returned as is."""

    @abc.abstractmethod
    async def revoke_user_tokens(self, user_id: str) -> None: ...

    @abc.abstractmethod
    async def revoke_token_family(self, token_hash: str, user_id: str) -> str | None:
        """Revoke the login (token family) of a refresh token, if it is `user_id`'s;
        returns the token's owner (None for an unknown token)."""

    @abc.abstractmethod
    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None: ...

    @abc.abstractmethod
    async def revoke_login(self, family: str) -> None:
        """End a login: every refresh token of the family is revoked, for good."""

    @abc.abstractmethod
    async def revoke_other_logins(self, user_id: str, keep: str) -> list[str]:
        """End every login of `user_id` but `keep` (a password change); returns the
        families that were still alive, whose sockets must close."""

    @abc.abstractmethod
    async def login_alive(self, user_id: str, family: str) -> bool:
        """Whether `user_id` has this login and none of its tokens was ever revoked
        (a token added to a family after its revocation does not revive it)."""

    @abc.abstractmethod
    async def logins_alive(self, logins: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (user_id, family) pairs of `logins` that `login_alive` would accept, in
        few queries: a node re-checks every login it holds a socket for this way."""


class MessageStorage(MessageChangeStorage):
    """Conversations: their messages, members' read positions and who is in them (and
    edits and reactions: semot.storage.message_changes)."""

    @abc.abstractmethod
    async def append_messages(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        """Store a batch in one transaction, giving each the next seq of its conversation.

        Raises semot.errors.StorageDataError when the database refuses the data of the
        batch (not when it is down), so the writer can isolate the message at fault."""

    @abc.abstractmethod
    async def get_message(self, conv: str, seq: int) -> Message | None: ...

    @abc.abstractmethod
    async def history(
        self, conv: str, *, after: int | None, before: int | None, limit: int
    ) -> tuple[list[Message], bool]: ...

    @abc.abstractmethod
    async def sync(
        self, user_id: str, known: dict[str, int], changes: dict[str, int] | None = None
    ) -> list[ConvState]:
        """Conversations whose max_seq is above `known`'s value, and with `changes`
        (the edits/reactions extension) also those whose change_seq is above its value
        (0 for a conversation it leaves out)."""

    @abc.abstractmethod
    async def set_read(self, conv: str, user_id: str, seq: int, now: int) -> ReadResult:
        """Advance (never move back) the read position; schedule burns it covers."""

    @abc.abstractmethod
    async def recall(self, conv: str, seq: int, by: str | None = None, role: str | None = None) -> None:
        """Make the message a tombstone (kind recalled, body {}), recording who recalled
        it and as what (domain.messages.RECALL_ROLES)."""

    @abc.abstractmethod
    async def set_reply_excerpts(self, conv: str, excerpts: dict[int, dict[str, Any]]) -> None:
        """Replace the `reply_to` excerpt of these replies (seq -> excerpt), leaving the
        rest of their bodies alone: a recalled original's text leaves its quotes too."""

    @abc.abstractmethod
    async def claim_due_burns(self, now: int, limit: int) -> list[tuple[str, int]]:
        """Erase bodies whose burn time has come; return the (conv, seq) erased."""

    @abc.abstractmethod
    async def conversation_max_seq(self, conv: str) -> int | None: ...

    @abc.abstractmethod
    async def conv_members(self, conv: str) -> list[str]: ...

    @abc.abstractmethod
    async def is_member(self, conv: str, user_id: str) -> bool: ...

    @abc.abstractmethod
    async def read_positions(self, conv: str) -> dict[str, int]:
        """Every member's read_seq (group read receipts: who has read up to where)."""

    @abc.abstractmethod
    async def read_marks(self, conv: str) -> dict[str, tuple[int, int]]:
        """Every member's (read_seq, joined_at ms): read receipts leave out who joined after a message."""

    @abc.abstractmethod
    async def count_messages(self) -> int: ...

    async def close(self) -> None:
        """Release what the append path holds of its own (the database closes after)."""


class GroupStorage(abc.ABC):
    """Groups, their members (roles, mutes) and join requests."""

    @abc.abstractmethod
    async def write(self, change: GroupWrite, notices: NoticesFor | None = None) -> WriteOutcome:
        """Apply one change and, in the same transaction, store the `system` notices
        `notices` builds from its outcome (numbered like any message of the group), so a
        change is never committed without its notice nor a notice without its change."""

    @abc.abstractmethod
    async def get_group(self, group_id: str) -> Group | None: ...

    @abc.abstractmethod
    async def group_state(self, group_id: str) -> GroupState | None:
        """The group with every member's role and mute, in one read."""

    @abc.abstractmethod
    async def user_groups(self, user_id: str) -> list[tuple[Group, str]]:
        """The groups a user is in, with the user's role in each."""

    @abc.abstractmethod
    async def search_groups(self, name_part: str, *, limit: int) -> list[tuple[Group, int]]:
        """Listed groups (live, taking joiners, searchable) whose name contains `name_part`
        case-insensitively (Unicode-wide), newest first, with their member counts."""

    @abc.abstractmethod
    async def group_members(self, group_id: str, *, after: str | None, limit: int) -> list[Member]:
        """Members ordered by user id, after the cursor `after`."""

    @abc.abstractmethod
    async def admin_groups(
        self, *, query: str | None, kind: str | None, dismissed: bool | None, offset: int, limit: int
    ) -> tuple[list[tuple[Group, int]], int]:
        """Every group, for the admin console (services/group_admin.py): `query` is an
        exact group id (then that group alone, if it passes the filters), or else part of
        the name, case-insensitively (as search_groups, but listed or not); `dismissed`
        None means both. Newest first: the page's groups with their member counts, and
        how many matched in all."""

    @abc.abstractmethod
    async def add_group_request(self, request: GroupRequest) -> None: ...

    @abc.abstractmethod
    async def get_group_request(self, request_id: str) -> GroupRequest | None: ...

    @abc.abstractmethod
    async def group_requests(self, group_id: str, status: str = "pending") -> list[GroupRequest]: ...

    @abc.abstractmethod
    async def close_group_request(self, request_id: str, status: str, by: str, now: int) -> bool:
        """Settle a pending request; False if it was not pending any more."""

    # --- single writes without notices (see the records of domain/records.py)
    async def create_group(self, group: Group, members: list[str], now: int) -> None:
        await self.write(CreateGroup(group, members, now))

    async def update_group(self, group_id: str, **values: Any) -> None:
        await self.write(UpdateGroup(group_id, values))

    async def add_members(self, group_id: str, user_ids: list[str], now: int, *, limit: int) -> list[str]:
        return (await self.write(AddMembers(group_id, user_ids, now, limit))).added

    async def remove_member(self, group_id: str, user_id: str) -> bool:
        return (await self.write(RemoveMember(group_id, user_id))).changed

    async def set_member(self, group_id: str, user_id: str, **values: Any) -> bool:
        return (await self.write(SetMember(group_id, user_id, values))).changed

    async def transfer_ownership(self, group_id: str, old_owner: str, new_owner: str) -> None:
        await self.write(TransferOwnership(group_id, old_owner, new_owner))


@dataclass(frozen=True, slots=True)
class Storage:
    """One database's stores."""

    database: Database
    users: UserStorage
    tokens: TokenStorage
    messages: MessageStorage
    groups: GroupStorage
    contacts: ContactsStorage
    org: OrgStorage
    files: FileStorage
    conv_settings: ConvSettingsStorage  # pinned / do not disturb / hidden (storage/conv_settings.py)
    user_admin: UserAdminStorage  # admin user list, set-password links, devices (storage/user_admin.py)
    client_config: ClientConfigStorage  # the administrator's client configuration (storage/client_config.py)
    admin_rbac: AdminRbacStorage  # admin roles, grants and the audit log (storage/admin_rbac.py)
    devtools: DevToolsStorage  # protocol log and client error reports (storage/devtools.py)
    login_logs: LoginLogStorage  # every login attempt (storage/login_logs.py)
    stats: StatsStorage  # the dashboard's counters and aggregates (storage/stats.py)
    sensitive: SensitiveStorage  # sensitive words and their hits (storage/sensitive.py)
    search: SearchStorage  # message search, user and audit (storage/search.py)
    moderation: ModerationStorage  # the pre-moderation queue (storage/moderation.py)
    retention: RetentionStorage  # retention policy, legal holds, the sweep (storage/retention.py)
    webhooks: WebhookStorage  # webhooks and their delivery outbox (storage/webhooks.py)
    api_keys: ApiKeyStorage  # server API keys, call log, SSO tickets (storage/api_keys.py)
    customer_service: CustomerServiceStorage  # queues, agents, visitor sessions (storage/customer_service.py)
    external_identities: ExternalIdentityStorage  # OIDC subjects linked to users (storage/external_identities.py)

    async def migrate(self) -> None:
        await self.database.migrate()

    async def ping(self) -> None:
        await self.database.ping()

    async def close(self) -> None:
        try:
            await self.messages.close()
        finally:
            await self.database.close()
