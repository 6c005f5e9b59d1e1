"""The SQL stores of one database (SQLite or PostgreSQL), sharing its connection pools."""

from __future__ import annotations

from semot.storage.base import Storage
from semot.storage.sql.contacts_store import SqlContacts
from semot.storage.sql.conv_settings_store import SqlConvSettings
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.engine import Engines
from semot.storage.sql.file_store import SqlFiles
from semot.storage.sql.group_store import SqlGroups
from semot.storage.sql.message_store import SqlMessages
from semot.storage.sql.org_store import SqlOrgStorage
from semot.storage.sql.user_store import SqlTokens, SqlUsers


def sql_storage(engines: Engines, *, schema: str | None = None) -> Storage:
    db = SqlDatabase(engines, schema=schema)
    messages = SqlMessages(db)
    return Storage(
        database=db,
        users=SqlUsers(db),
        tokens=SqlTokens(db),
        messages=messages,
        groups=SqlGroups(db, messages),  # a group write numbers its notices with the message code
        contacts=SqlContacts(db),
        org=SqlOrgStorage(engines),
        files=SqlFiles(db),
        conv_settings=SqlConvSettings(db),
    )
