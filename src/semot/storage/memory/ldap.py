"""LdapStorage in memory (tests of the services; storage/ldap.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from semot.storage.ldap import RUNS_KEPT, LdapStorage, LdapSyncRun, LdapUser


class MemoryLdap(LdapStorage):
    def __init__(self) -> None:
        self._users: dict[str, LdapUser] = {}
        self._runs: dict[int, LdapSyncRun] = {}
        self._leases: dict[str, tuple[str, int]] = {}
        self._next = 1
        self._config: dict[str, Any] = {}

    async def ldap_user(self, user_id: str) -> LdapUser | None:
        return self._users.get(user_id)

    async def ldap_users(self) -> list[LdapUser]:
        return sorted(self._users.values(), key=lambda u: u.user_id)

    async def put_ldap_user(self, user: LdapUser) -> None:
        self._users[user.user_id] = user

    async def touch_ldap_users(self, user_ids: list[str], seen_at: int) -> None:
        for user_id in user_ids:
            if user_id in self._users:
                self._users[user_id] = replace(self._users[user_id], seen_at=seen_at)

    async def add_sync_run(self, run: LdapSyncRun) -> int:
        run.id, self._next = self._next, self._next + 1
        self._runs[run.id] = replace(run, counts=dict(run.counts), errors=list(run.errors))
        for old in sorted(self._runs)[:-RUNS_KEPT]:
            del self._runs[old]
        return run.id

    async def finish_sync_run(self, run: LdapSyncRun) -> None:
        if run.id in self._runs:
            self._runs[run.id] = replace(run, counts=dict(run.counts), errors=list(run.errors))

    async def sync_runs(self, limit: int) -> list[LdapSyncRun]:
        return [self._runs[i] for i in sorted(self._runs, reverse=True)[:limit]]

    async def claim_lease(self, name: str, holder: str, now: int, until: int) -> bool:
        held = self._leases.get(name)
        if held is not None and held[0] != holder and held[1] > now:
            return False
        self._leases[name] = (holder, until)
        return True

    async def release_lease(self, name: str, holder: str) -> None:
        if self._leases.get(name, ("", 0))[0] == holder:
            del self._leases[name]

    async def get_config(self, name: str) -> Any:
        return self._config.get(name)

    async def set_config(self, name: str, value: Any) -> None:
        self._config[name] = value
