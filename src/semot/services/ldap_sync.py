"""Directory sync: users and departments from the LDAP / Active Directory tree.

A run reads the organisational units under the user base (each becomes a department,
at the same place in the tree: `semot import-org`'s path logic, so an existing
department of that name and place is reused), every user the filter finds, and the
members of the mapped groups; then each user is created or brought up to date as at a
login (services/ldap_accounts.py: name, department, roles). A user who moved to
another OU leaves the department of the old one (departments an administrator made by
hand are left alone). Directory-managed users the directory no longer returns are
disabled, never deleted (their messages stay), and enabled again if they come back.

If the directory returns no user at all while Semot manages some, the run stops
without disabling anybody: that is a wrong base or filter far more often than an
empty company. Runs are scheduled (`ldap_sync_interval_s`) and on demand (the console's
"sync now"); a lease in the database lets one node at a time run, so a cluster does not
sync N times. The run renews its lease as it goes (a big directory may take longer than
one lease), and stops if another node took it over meanwhile (this node stalled past the
lease): two runs never go on side by side. The newest runs (counts, errors) are kept for
the console.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from semot.domain.org import ImportSummary
from semot.errors import Conflict, SemotError
from semot.ids import now_ms
from semot.services.ldap_accounts import LdapAccounts, unchanged, wanted_roles
from semot.services.org import OrgService
from semot.services.user_admin import UserAdmin
from semot.storage.base import Storage
from semot.storage.ldap import MAX_ERRORS, LdapSyncRun

log = logging.getLogger(__name__)

LEASE = "sync"
LEASE_MS = 15 * 60_000  # a run not heard of for longer is assumed dead and may be taken over
RENEW_MS = LEASE_MS // 3  # a running sync renews its lease this often
RUNS_SHOWN = 10


class LdapSync:
    def __init__(
        self, accounts: LdapAccounts, storage: Storage, user_admin: UserAdmin, org: OrgService, *,
        interval_s: float, node_id: str, clock: Callable[[], int] = now_ms,
    ) -> None:
        self._accounts = self.accounts = accounts
        self._store = accounts.store
        self._storage = storage
        self._user_admin = user_admin
        self._org = org
        self.interval_s = interval_s
        self._node = node_id
        self._clock = clock  # the lease's time (ms)
        self._lease_at = 0  # when this node last claimed or renewed it
        self._task: asyncio.Task[None] | None = None
        self._running: asyncio.Task[LdapSyncRun] | None = None
        self._busy = False  # a run of this node, scheduled or manual (the lease is per node)

    def start(self) -> None:
        if self.interval_s > 0:
            self._task = asyncio.create_task(self._schedule(), name="semot-ldap-sync")

    async def stop(self) -> None:
        for task in (self._task, self._running):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _schedule(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.run("schedule")
            except Conflict:
                pass  # another node is syncing
            except Exception:
                log.exception("scheduled LDAP sync failed")

    # --- runs
    async def start_run(self, by: str) -> LdapSyncRun:
        """Start a run in the background ("sync now"); Conflict while one is running."""
        run = await self._begin("manual", by)
        self._running = asyncio.create_task(self._body(run), name="semot-ldap-sync-now")
        return run

    async def run(self, trigger: str, by: str | None = None) -> LdapSyncRun:
        return await self._body(await self._begin(trigger, by))

    async def _begin(self, trigger: str, by: str | None) -> LdapSyncRun:
        if self._busy:
            raise Conflict("a directory sync is running")
        self._busy = True
        try:
            now = self._clock()
            if not await self._store.claim_lease(LEASE, self._node, now, now + LEASE_MS):
                raise Conflict("a directory sync is running on another node")
            self._lease_at = now
            run = LdapSyncRun(trigger=trigger, started_at=now_ms(), by=by)
            await self._store.add_sync_run(run)
        except BaseException:
            self._busy = False
            raise
        return run

    async def _body(self, run: LdapSyncRun) -> LdapSyncRun:
        try:
            await self._sync(run)
            run.ok = True  # done; errors of single entries are listed with it
        except asyncio.CancelledError:
            run.ok, run.errors = False, [*run.errors, "stopped (server shutting down)"]
            raise
        except Exception as exc:
            if not isinstance(exc, SemotError):
                log.exception("LDAP sync failed")
            run.ok = False
            run.errors.append(exc.message if isinstance(exc, SemotError) else f"{type(exc).__name__}: {exc}")
        finally:
            run.finished_at = now_ms()
            run.errors = run.errors[:MAX_ERRORS]
            try:
                await asyncio.shield(self._finish(run))
            except Exception:
                log.exception("recording the LDAP sync run failed")
            finally:
                self._busy = False
        return run

    async def _finish(self, run: LdapSyncRun) -> None:
        await self._store.finish_sync_run(run)
        await self._store.release_lease(LEASE, self._node)

    async def _keep_lease(self) -> None:
        """Renew the lease when a third of it has passed; Conflict (the run stops) when
        another node holds it now."""
        now = self._clock()
        if now - self._lease_at < RENEW_MS:
            return
        if not await self._store.claim_lease(LEASE, self._node, now, now + LEASE_MS):
            raise Conflict("another node took the directory sync over (this run outlasted its lease): stopped")
        self._lease_at = now

    def _error(self, run: LdapSyncRun, text: str) -> None:
        run.counts["errors"] = run.counts.get("errors", 0) + 1
        if len(run.errors) < MAX_ERRORS:
            run.errors.append(text)

    async def _sync(self, run: LdapSyncRun) -> None:
        directory = self._accounts.directory
        counts = run.counts
        summary = ImportSummary()
        departments: dict[tuple[str, ...], str] = {}
        for path in sorted(await directory.ous(), key=len):
            await self._keep_lease()
            try:
                departments[path] = await self._org.ensure_path(list(path), summary)
            except SemotError as exc:
                self._error(run, f"department {'/'.join(path)}: {exc.message}")
        await self._keep_lease()
        found = await directory.users()
        await self._keep_lease()
        groups = await self._accounts.read_groups()
        for dn, members in groups.items():
            if members is None:
                self._error(run, f"group {dn}: not found in the directory")
        managed = {u.user_id: u for u in await self._store.ldap_users()}
        counts.update(users=len(found), departments=len(departments), created=0, disabled=0, enabled=0)
        counts["departments_created"] = summary.departments_created
        if not found and managed:
            raise Conflict("the directory returned no users: nobody was disabled (check ldap_user_base and "
                           "ldap_user_filter)")
        accounts = await self._storage.users.users_by_usernames([f.username for f in found])
        by_username = {u.username.lower(): u for u in accounts}
        member_of = await self._storage.org.user_memberships([u.id for u in accounts])
        mapping = await self._accounts.group_roles()
        ldap_depts = set(departments.values())
        seen: set[str] = set()
        untouched: list[str] = []
        by_name = {uid.lower(): link for uid, link in managed.items()}
        for entry in found:
            await self._keep_lease()
            user = by_username.get(entry.username.lower())
            link = by_name.get(entry.username.lower())
            if user is not None and link is not None and link.user_id == user.id:
                # the fast path: most entries did not change since the last sync (no write)
                target = departments.get(entry.ou_path)
                depts = {m.department_id for m in member_of.get(user.id, [])}
                if (unchanged(entry, user, link, wanted_roles(entry.dn, mapping, groups))
                        and (target is None or target in depts) and not (depts & ldap_depts) - {target}):
                    seen.add(user.id)
                    untouched.append(user.id)
                    continue
            try:
                was_disabled, is_new = link is not None and link.disabled_by_sync, user is None
                user = await self._accounts.adopt(entry, None, memberships=groups, departments=departments)
                seen.add(user.id)
                if is_new:
                    counts["created"] += 1
                if was_disabled and not user.disabled:
                    counts["enabled"] += 1
                target = departments.get(entry.ou_path)
                await self._leave_old(user.id, target, ldap_depts)
            except SemotError as exc:
                self._error(run, f"{entry.dn}: {exc.message}")
                if link is not None:
                    seen.add(link.user_id)  # still in the directory: an error here never disables anyone
        await self._store.touch_ldap_users(untouched, now_ms())
        counts["unchanged"] = len(untouched)
        for user_id, link in managed.items():
            if user_id in seen:
                continue
            await self._keep_lease()
            try:
                await self._gone(user_id, link.disabled_by_sync, link.roles, link.dn)
                if not link.disabled_by_sync:
                    counts["disabled"] += 1
            except SemotError as exc:
                self._error(run, f"{link.dn}: {exc.message}")

    async def _leave_old(self, user_id: str, target: str | None, ldap_depts: set[str]) -> None:
        """Out of the departments of OUs the user is no longer in."""
        mine = (await self._storage.org.user_memberships([user_id])).get(user_id, [])
        for m in mine:
            if m.department_id in ldap_depts and m.department_id != target:
                await self._org.remove_member(m.department_id, user_id)

    async def _gone(self, user_id: str, already: bool, roles: tuple[str, ...], dn: str) -> None:
        """Not in the directory any more: disabled (once), directory roles taken away."""
        user = await self._storage.users.get_user(user_id)
        link = await self._store.ldap_user(user_id)
        if user is None or link is None:
            return
        new_roles = await self._accounts.apply_roles(user_id, dn, roles, {}) if roles else roles
        if already or user.disabled:
            await self._store.put_ldap_user(replace(link, roles=new_roles))
            return
        await self._user_admin.set_disabled(user_id, True)
        await self._store.put_ldap_user(replace(link, roles=new_roles, disabled_by_sync=True))

    # --- the console
    async def status(self) -> dict[str, Any]:
        runs = await self._store.sync_runs(RUNS_SHOWN)
        managed = await self._store.ldap_users()
        return {
            "interval_s": self.interval_s,
            # a run whose node died never finishes: past the lease it is not running any more
            # (unless it is this node's: a long run renews its lease)
            "running": self._busy or any(r.finished_at is None and r.started_at > now_ms() - LEASE_MS for r in runs[:1]),
            "runs": [r.to_wire() for r in runs],
            "managed_users": len(managed),
            "disabled_by_sync": sum(1 for u in managed if u.disabled_by_sync),
            "group_roles": await self._accounts.group_roles(),
        }
