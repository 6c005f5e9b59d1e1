"""LDAP on an in-process node (SQLite) against a real OpenLDAP (tests/sso/slapd_support.py):
which account a directory login may become, what a login refused after the bind looks
like, and the directory sync's lease over a run longer than the lease.

The filter also matches `mail`, as Active Directory deployments do with
userPrincipalName: the typed name can find an entry whose username is another one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from semot.app import Node
from semot.config import Settings
from semot.errors import Conflict, Unauthorized
from semot.ids import now_ms
from semot.services.ldap_accounts import LdapAccounts
from semot.services.ldap_sync import LEASE, LEASE_MS, LdapSync
from semot.services.login_log import LoginAttempt
from semot.storage import login_logs
from semot.storage.external_identities import ExternalIdentity
from semot.storage.ldap import LdapUser
from semot.storage.sql.database import SqlDatabase
from semot.storage.sql.ldap_store import SqlLdap
from tests.sso.slapd_support import PEOPLE, READER_DN, READER_PW, Slapd
from tests.sso.support import uid

FILTER = "(&(objectClass=inetOrgPerson)(|(uid={username})(mail={username})))"
MINUTE = 60_000


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    with Slapd(tmp_path_factory.mktemp("slapd")) as d:
        yield d


@pytest.fixture
async def node(tmp_path: Path, directory: Slapd) -> AsyncIterator[Node]:
    n = Node(Settings(
        data_dir=tmp_path, ldap_enabled=True, ldap_url=directory.url, ldap_bind_dn=READER_DN,
        ldap_bind_password=READER_PW, ldap_user_base=PEOPLE, ldap_user_filter=FILTER,
    ))
    await n.start()
    try:
        yield n
    finally:
        await n.stop()


def ldap_of(node: Node) -> LdapSync:
    assert node.ldap is not None
    return node.ldap


async def test_a_directory_login_becomes_only_the_entrys_own_account(node: Node, directory: Slapd) -> None:
    accounts, admin, links = node.accounts, node.services.user_admin, ldap_of(node).accounts.store
    assert admin is not None
    # a pre-provisioned account (no password yet); another person's entry has its name as mail
    target, other = uid("pre"), uid("other")
    await admin.create(target, None, "Pre-provisioned")
    directory.add_user(other, "other-directory-pw", mail=target)
    with pytest.raises(Unauthorized):
        await accounts.login(target, "other-directory-pw")
    assert await links.ldap_user(target) is None
    # typing the mail of an entry without a local account of that name reaches the entry's own account
    mailer = uid("mailer")
    directory.add_user(mailer, "mailer-directory-pw", mail=f"{mailer}-alias")
    assert (await accounts.login(f"{mailer}-alias", "mailer-directory-pw")).user_id == mailer
    # an account linked to an OIDC provider is that provider's person: a directory entry of its name cannot adopt it
    sso = uid("sso")
    await admin.create(sso, None, "Signs in with SSO")
    await node.storage.external_identities.link_identity(ExternalIdentity("https://idp.example", uid("sub"), sso, now_ms()))
    directory.add_user(sso, "impostor-directory-pw")
    with pytest.raises(Unauthorized):
        await accounts.login(sso, "impostor-directory-pw")
    assert await links.ldap_user(sso) is None
    # an account with no way in and no link is adopted by its own entry (the import's accounts)
    fresh = uid("csv")
    await admin.create(fresh, None, None)
    directory.add_user(fresh, "csv-directory-pw")
    assert (await accounts.login(fresh, "csv-directory-pw")).user_id == fresh
    assert await links.ldap_user(fresh) is not None


async def test_refusals_after_the_bind_answer_as_a_wrong_password(node: Node, directory: Slapd) -> None:
    accounts = node.accounts
    local, bad = uid("local"), uid("bad name ")  # a space: not a username Semot can use
    await accounts.create_user(local, "local-own-password")
    directory.add_user(local, "local-directory-pw", mail=f"{local}-mail")  # found by its mail: the local account
    directory.add_user(bad, "bad-directory-pw")
    for typed, password in ((f"{local}-mail", "local-directory-pw"), (bad, "bad-directory-pw")):
        attempt = LoginAttempt(typed)
        with pytest.raises(Unauthorized):  # not 409 naming the local account, not 403
            await accounts.login(typed, password, attempt=attempt)
        assert (attempt.ok, attempt.method, attempt.reason) == (False, "ldap", login_logs.UNKNOWN_USER), attempt
    assert (await accounts.login(local, "local-own-password")).user_id == local
    # a refusal costs a password hash whichever way it went: timing does not tell a local account
    hashes: list[str | None] = []
    real = accounts.hasher.verify

    async def counted(stored: str | None, password: str) -> bool:
        hashes.append(stored)
        return await real(stored, password)

    accounts.hasher.verify = counted  # type: ignore[method-assign]
    for typed in (uid("ghost"), local):  # nobody anywhere (the directory's refusal), a local account
        with pytest.raises(Unauthorized):
            await accounts.login(typed, "wrong-password-1")
    assert len(hashes) == 2, hashes


class SlowLinks(SqlLdap):
    """The real link store of a node that takes `step_ms` (on the lease's clock) per
    account it writes; at write number `stall_at` it stalls past the lease and another
    node, "node-b", takes the sync over. Node-b also tries to take it at every write."""

    def __init__(self, database: SqlDatabase, clock: list[int]) -> None:
        super().__init__(database)
        self.clock, self.step_ms, self.stall_at, self.writes = clock, 0, 0, 0
        self.taken_by_b: list[int] = []

    async def put_ldap_user(self, user: LdapUser) -> None:
        await super().put_ldap_user(user)
        self.writes += 1
        self.clock[0] += self.step_ms
        if self.writes == self.stall_at:
            self.clock[0] += LEASE_MS + 1
            assert await self.claim_lease(LEASE, "node-b", self.clock[0], self.clock[0] + LEASE_MS)
        elif await self.claim_lease(LEASE, "node-b", self.clock[0], self.clock[0] + LEASE_MS):
            self.taken_by_b.append(self.writes)
            await self.release_lease(LEASE, "node-b")


async def test_a_long_sync_keeps_its_lease_and_stops_when_it_lost_it(node: Node, directory: Slapd) -> None:
    ldap = ldap_of(node)
    assert isinstance(node.storage.database, SqlDatabase) and node.services.user_admin is not None
    clock = [now_ms()]
    links = SlowLinks(node.storage.database, clock)
    accounts = LdapAccounts(ldap.accounts.directory, links, node.storage.users, node.services.user_admin, node.org,
                            node.services.admin, identities=node.storage.external_identities, group_roles={})
    a = LdapSync(accounts, node.storage, node.services.user_admin, node.org, interval_s=0, node_id="node-a",
                 clock=lambda: clock[0])
    first = [directory.add_user(uid(f"long{i}"), "long-directory-pw") for i in range(6)]
    # 6 minutes per account: the run lasts far longer than its 15-minute lease
    links.step_ms = 6 * MINUTE
    running = asyncio.create_task(a.run("schedule"))
    await asyncio.sleep(0)
    with pytest.raises(Conflict):  # one run at a time on a node too (the lease is the node's)
        await a.start_run("root")
    run = await running
    assert run.ok is True and run.counts["created"] >= 6, run
    assert links.writes >= 6 and links.taken_by_b == [], links.taken_by_b  # never free for another node
    # the next run stalls past its lease after two accounts: node-b takes over, this run stops
    directory.delete(first[0])  # departed: would be disabled at the end of a whole run
    for i in range(4):
        directory.add_user(uid(f"later{i}"), "later-directory-pw")
    links.step_ms, links.stall_at, links.writes = 0, 2, 0
    run = await a.run("schedule")
    assert run.ok is False and any("another node" in e for e in run.errors), run
    assert links.writes == 2, links.writes  # nothing written after the takeover
    gone = first[0].split(",")[0].removeprefix("uid=")
    assert (await node.services.user_admin.get(gone)).disabled is False
    assert not await links.claim_lease(LEASE, "node-c", clock[0], clock[0] + LEASE_MS)  # still node-b's
