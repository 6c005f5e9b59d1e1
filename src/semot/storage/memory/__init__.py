"""Every storage interface in memory, for unit tests of the services (no database, no
server): the same contract suite as SQLite and PostgreSQL runs on it (tests/contract)."""

from __future__ import annotations

from semot.storage.base import Storage
from semot.storage.memory.admin_rbac import MemoryAdminRbac
from semot.storage.memory.api_keys import MemoryApiKeys
from semot.storage.memory.client_config import MemoryClientConfig
from semot.storage.memory.contacts import MemoryContacts
from semot.storage.memory.conv_settings import MemoryConvSettings
from semot.storage.memory.customer_service import MemoryCustomerService
from semot.storage.memory.db import MemoryDatabase, MemoryDb
from semot.storage.memory.devtools import MemoryDevTools
from semot.storage.memory.external_identities import MemoryExternalIdentities
from semot.storage.memory.files import MemoryFiles
from semot.storage.memory.groups import MemoryGroups
from semot.storage.memory.login_logs import MemoryLoginLogs
from semot.storage.memory.messages import MemoryMessages
from semot.storage.memory.moderation import MemoryModeration
from semot.storage.memory.org import MemoryOrg
from semot.storage.memory.retention import MemoryRetention
from semot.storage.memory.search import MemorySearch
from semot.storage.memory.sensitive import MemorySensitive
from semot.storage.memory.stats import MemoryStats
from semot.storage.memory.user_admin import MemoryUserAdmin
from semot.storage.memory.users import MemoryTokens, MemoryUsers
from semot.storage.memory.webhooks import MemoryWebhooks


def memory_storage() -> Storage:
    db = MemoryDb()
    messages = MemoryMessages(db)
    return Storage(
        database=MemoryDatabase(db),
        users=MemoryUsers(db),
        tokens=MemoryTokens(db),
        messages=messages,
        groups=MemoryGroups(db, messages),
        contacts=MemoryContacts(db),
        org=MemoryOrg(db),
        files=MemoryFiles(db),
        conv_settings=MemoryConvSettings(db),
        client_config=MemoryClientConfig(),
        user_admin=MemoryUserAdmin(db),
        admin_rbac=MemoryAdminRbac(db),
        devtools=MemoryDevTools(),
        login_logs=MemoryLoginLogs(),
        stats=MemoryStats(db),
        sensitive=MemorySensitive(),
        search=MemorySearch(db, messages.search_index),
        moderation=MemoryModeration(),
        retention=MemoryRetention(db),
        webhooks=MemoryWebhooks(),
        api_keys=MemoryApiKeys(),
        customer_service=MemoryCustomerService(),
        external_identities=MemoryExternalIdentities(),
    )
