"""LdapStorage (storage/ldap.py) in memory, on SQLite and on PostgreSQL: the same answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from semot.storage.base import Storage
from semot.storage.ldap import RUNS_KEPT, LdapStorage, LdapSyncRun, LdapUser
from semot.storage.memory.ldap import MemoryLdap
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.ldap_store import SqlLdap
from tests.contract.conftest import _open


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LdapStorage]:
    async for storage in _open(request.param, tmp_path):
        yield ldap_of(storage)


def ldap_of(storage: Storage) -> LdapStorage:
    return SqlLdap(storage.database) if isinstance(storage.database, SqlDatabase) else MemoryLdap()


async def test_users_are_upserted(store: LdapStorage) -> None:
    assert await store.ldap_user("alice") is None
    u = LdapUser("alice", "uid=alice,ou=People,dc=x", "a@x.org", "+86 10", ("auditor",), False, 5, 1)
    await store.put_ldap_user(u)
    assert await store.ldap_user("alice") == u
    changed = LdapUser("alice", "uid=alice,ou=Sales,dc=x", "", "", (), True, 9, 777)
    await store.put_ldap_user(changed)
    got = await store.ldap_user("alice")
    assert got is not None and got.dn.startswith("uid=alice,ou=Sales") and got.disabled_by_sync and got.roles == ()
    await store.put_ldap_user(LdapUser("bob", "uid=bob,dc=x"))
    assert [u.user_id for u in await store.ldap_users()] == ["alice", "bob"]
    await store.touch_ldap_users(["bob", "nobody"], 1234)
    assert [u.seen_at for u in await store.ldap_users()] == [9, 1234]


async def test_sync_runs_newest_first_and_bounded(store: LdapStorage) -> None:
    first = LdapSyncRun("manual", 100, by="root")
    run_id = await store.add_sync_run(first)
    assert run_id == first.id and run_id > 0
    first.finished_at, first.ok, first.counts, first.errors = 200, True, {"users": 3}, ["x: y"]
    await store.finish_sync_run(first)
    for i in range(RUNS_KEPT + 2):
        await store.add_sync_run(LdapSyncRun("schedule", 300 + i))
    runs = await store.sync_runs(RUNS_KEPT + 10)
    assert len(runs) == RUNS_KEPT and runs[0].started_at == 300 + RUNS_KEPT + 1
    assert first.id not in {r.id for r in runs}  # the oldest went
    one = await store.sync_runs(1)
    assert one[0].ok is None and one[0].counts == {} and one[0].trigger == "schedule"


async def test_finished_run_reads_back(store: LdapStorage) -> None:
    run = LdapSyncRun("manual", 1, by="root")
    await store.add_sync_run(run)
    run.finished_at, run.ok, run.counts, run.errors = 2, False, {"users": 0, "errors": 1}, ["directory down"]
    await store.finish_sync_run(run)
    (got,) = await store.sync_runs(1)
    assert (got.ok, got.counts, got.errors, got.by, got.finished_at) == (False, run.counts, run.errors, "root", 2)


async def test_lease_is_held_by_one_holder_until_it_expires(store: LdapStorage) -> None:
    assert await store.claim_lease("sync", "node-a", now=1000, until=2000)
    assert not await store.claim_lease("sync", "node-b", now=1500, until=2500)
    assert await store.claim_lease("sync", "node-a", now=1600, until=2600)  # renewed by its holder
    assert await store.claim_lease("sync", "node-b", now=2600, until=3600)  # expired: taken over
    await store.release_lease("sync", "node-a")  # not a's any more: nothing happens
    assert not await store.claim_lease("sync", "node-a", now=2700, until=3700)
    await store.release_lease("sync", "node-b")
    assert await store.claim_lease("sync", "node-a", now=2700, until=3700)


async def test_config_values(store: LdapStorage) -> None:
    assert await store.get_config("group_roles") is None
    await store.set_config("group_roles", {"cn=admins,dc=x": "super_admin"})
    await store.set_config("group_roles", {"cn=audit,dc=x": "auditor"})
    assert await store.get_config("group_roles") == {"cn=audit,dc=x": "auditor"}
