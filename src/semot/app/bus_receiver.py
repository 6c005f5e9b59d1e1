"""What this node does with what the bus delivers: pushes and disconnects go to the hub,
cache drops to whichever service owns the dropped key."""

from __future__ import annotations

from semot.bus.base import ALL_CACHES, Delivery, Disconnect, Invalidate
from semot.gateway.hub import Hub
from semot.services.accounts import CLOSE_UNAUTHORIZED, LOGIN_KEY, AccountService
from semot.services.admin_access import ADMIN_KEY, AdminAccess
from semot.services.client_settings import CONFIG_KEY, ClientSettings
from semot.services.contacts import USER_KEY, ContactsService
from semot.services.customer_service import CS_KEY, CS_USER_KEY, CustomerService
from semot.services.membership import MembershipCache
from semot.services.protocol_log import PLOG_KEY, ProtocolLog
from semot.services.sensitive_words import SENS_KEY, SensitiveWords
from semot.services.webhooks import WEBHOOK_KEY, WebhookService


class NodeReceiver:
    """Where the bus hands envelopes on this node: pushes to the hub, cache drops to the cache."""

    def __init__(
        self, hub: Hub, membership: MembershipCache, contacts: ContactsService, accounts: AccountService,
        admin: AdminAccess | None = None,
    ) -> None:
        self._hub = hub
        self._admin = admin
        self._membership = membership
        self._contacts = contacts
        self._accounts = accounts

    def deliver(self, delivery: Delivery) -> int:
        return self._hub.deliver(delivery)

    def disconnect(self, command: Disconnect) -> int:
        return self._hub.disconnect(command)

    protocol_log: ProtocolLog | None = None  # the developer tools' frame capture (Node.start sets it)
    client_settings: ClientSettings | None = None  # the client configuration (Node.start sets it)
    sensitive: SensitiveWords | None = None  # sensitive words: the list changed, or a live hit (Node.start sets it)
    webhooks: WebhookService | None = None  # webhooks: hooks changed, or deliveries due (Node.start sets it)
    customer_service: CustomerService | None = None  # the widget's settings changed (Node.start sets it)

    def invalidate(self, command: Invalidate) -> None:
        key = command.key
        if key == ALL_CACHES:  # missed invalidations (a Redis outage): drop or reload every copy
            self._membership.invalidate_all()
            self._contacts.invalidate_all()
            if self._admin is not None:
                self._admin.invalidate()
            if self.client_settings is not None:
                self.client_settings.invalidate(CONFIG_KEY)  # no configuration in the key: reload
            if self.sensitive is not None:
                self.sensitive.invalidate(SENS_KEY)  # not a live hit: reload the list
            if self.customer_service is not None:
                self.customer_service.invalidate_all()
        elif key.startswith(USER_KEY):
            self._contacts.invalidate(key[len(USER_KEY) :])
        elif key.startswith(LOGIN_KEY):
            ended = self._accounts.login_invalidated(key)
            if ended is not None:
                self._hub.close_login(*ended, CLOSE_UNAUTHORIZED, "signed out")
        elif key.startswith(CONFIG_KEY):
            if self.client_settings is not None:  # the client configuration changed (on any node)
                self.client_settings.invalidate(key)
        elif key.startswith(SENS_KEY):
            if self.sensitive is not None:
                self.sensitive.invalidate(key)
        elif key.startswith(PLOG_KEY):
            if self.protocol_log is not None:  # a protocol log session started or ended
                self.protocol_log.invalidated(key)
        elif key.startswith(WEBHOOK_KEY):
            if self.webhooks is not None:
                self.webhooks.invalidated(key)
        elif key.startswith((CS_KEY, CS_USER_KEY)):
            if self.customer_service is not None:
                self.customer_service.invalidate(key)
        elif key.startswith(ADMIN_KEY):
            if self._admin is not None:
                self._admin.invalidate()  # admin roles or grants changed (services/admin_access.py)
        else:
            self._membership.invalidate(key)
