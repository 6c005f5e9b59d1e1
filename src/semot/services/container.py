"""The services one node runs, handed to the edges by the composition root (app.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from semot.config import Settings
from semot.metrics import Metrics
from semot.services.accounts import AccountService
from semot.services.contacts import ContactsService
from semot.services.files import FileService
from semot.services.groups import GroupService
from semot.services.messaging import MessageService
from semot.services.org import OrgService
from semot.services.presence import PresenceService
from semot.services.profiles import ProfileService
from semot.storage.base import Storage


@dataclass(slots=True)
class Services:
    settings: Settings
    storage: Storage
    accounts: AccountService
    messages: MessageService
    groups: GroupService
    contacts: ContactsService
    presence: PresenceService
    metrics: Metrics
    client_config: dict[str, Any]
    org: OrgService | None = None  # the organisation directory
    files: FileService | None = None  # uploads and downloads (services/files.py)
    profiles: ProfileService | None = None  # names and avatars (services/profiles.py)
