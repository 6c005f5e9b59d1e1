"""The SQL stores of one database (SQLite or PostgreSQL), sharing its connection pools."""

from __future__ import annotations

from semot.storage.base import Storage
from semot.storage.outbox import OutboxWants
from semot.storage.sql.admin_rbac_store import SqlAdminRbac
from semot.storage.sql.api_key_store import SqlApiKeys
from semot.storage.sql.client_config_store import SqlClientConfig
from semot.storage.sql.contacts_store import SqlContacts
from semot.storage.sql.conv_settings_store import SqlConvSettings
from semot.storage.sql.customer_service_store import SqlCustomerService
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.devtools_store import SqlDevTools
from semot.storage.sql.engine import Engines
from semot.storage.sql.external_identity_store import SqlExternalIdentities
from semot.storage.sql.file_store import SqlFiles
from semot.storage.sql.group_store import SqlGroups
from semot.storage.sql.login_log_store import SqlLoginLogs
from semot.storage.sql.message_store import SqlMessages
from semot.storage.sql.moderation_store import SqlModeration
from semot.storage.sql.org_store import SqlOrgStorage
from semot.storage.sql.retention_store import SqlRetention
from semot.storage.sql.search_store import SqlSearch
from semot.storage.sql.sensitive_store import SqlSensitive
from semot.storage.sql.stats_store import SqlStats
from semot.storage.sql.user_admin_store import SqlUserAdmin
from semot.storage.sql.user_store import SqlTokens, SqlUsers
from semot.storage.sql.webhook_store import SqlWebhooks


def sql_storage(engines: Engines, *, schema: str | None = None) -> Storage:
    db = SqlDatabase(engines, schema=schema)
    outbox = OutboxWants()  # which webhook events the stores write with their changes (storage/outbox.py)
    messages = SqlMessages(db, outbox)
    return Storage(
        database=db,
        users=SqlUsers(db),
        tokens=SqlTokens(db),
        messages=messages,
        groups=SqlGroups(db, messages),  # a group write numbers its notices with the message code
        contacts=SqlContacts(db, outbox),
        org=SqlOrgStorage(engines),
        files=SqlFiles(db),
        conv_settings=SqlConvSettings(db),
        client_config=SqlClientConfig(db),
        user_admin=SqlUserAdmin(db),
        admin_rbac=SqlAdminRbac(db),
        devtools=SqlDevTools(db),
        login_logs=SqlLoginLogs(db),
        stats=SqlStats(db),
        sensitive=SqlSensitive(db),
        search=SqlSearch(db),
        moderation=SqlModeration(db),
        retention=SqlRetention(db),
        webhooks=SqlWebhooks(db, outbox, messages.sqlite_appender),
        api_keys=SqlApiKeys(db),
        customer_service=SqlCustomerService(db),
        external_identities=SqlExternalIdentities(db),
    )
