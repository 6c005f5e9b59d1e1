"""Every storage interface in memory, for unit tests of the services (no database, no
server): the same contract suite as SQLite and PostgreSQL runs on it (tests/contract)."""

from __future__ import annotations

from semot.storage.base import Storage
from semot.storage.memory.contacts import MemoryContacts
from semot.storage.memory.conv_settings import MemoryConvSettings
from semot.storage.memory.db import MemoryDatabase, MemoryDb
from semot.storage.memory.files import MemoryFiles
from semot.storage.memory.groups import MemoryGroups
from semot.storage.memory.messages import MemoryMessages
from semot.storage.memory.org import MemoryOrg
from semot.storage.memory.users import MemoryTokens, MemoryUsers


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
    )
