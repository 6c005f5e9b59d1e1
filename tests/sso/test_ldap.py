"""LDAP / Active Directory against a real OpenLDAP (tests/sso/slapd_support.py) and a
real `semot serve`: directory passwords at login, account creation, the local-account
rule, directory sync (departments from OUs, users disabled when gone and enabled when
back, moves), group -> role mapping, the admin API's permissions and bad input."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from semot.errors import Conflict
from semot.services.ldap_client import LdapConfig, LdapDirectory
from tests.integration.harness import PASSWORD, Api, ServerProcess
from tests.sso.slapd_support import GROUPS, PEOPLE, READER_PW, SMALL_READER_DN, Slapd
from tests.sso.support import uid

L = "/api/admin/v1/ldap"
SUPERS = f"cn=semot-supers,{GROUPS}"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    with Slapd(tmp_path_factory.mktemp("slapd")) as d:
        d.add_ou("ou=Sales", "Sales")
        d.add_ou("ou=East,ou=Sales", "East")
        d.add_ou("ou=Research", "Research")
        d.add_group("semot-supers", [f"cn=nobody,{GROUPS}"])  # groupOfNames needs a member
        yield d


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, directory: Slapd) -> Iterator[tuple[ServerProcess, str]]:
    env = directory.settings_env(SEMOT_LDAP_GROUP_ROLES=json.dumps({SUPERS: "super_admin"}))
    srv = ServerProcess(tmp_path_factory.mktemp("ldap") / "data", env)
    srv.start()
    root = uid("root")
    srv.create_admin(root)
    try:
        yield srv, root
    finally:
        rc = srv.stop()
        log = srv.log_path.read_text(errors="replace")
        assert rc == 0 and "Traceback" not in log, log[-3000:]


class World:
    def __init__(self, server: ServerProcess, api: Api, root_token: str) -> None:
        self.server, self.api, self.root = server, api, root_token

    async def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        return await self.api.call(self.server, method, path, body, token=token or self.root)

    async def ok(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        status, reply = await self.call(method, path, body, token)
        assert status in (200, 201, 202), (method, path, status, reply)
        return reply

    async def login(self, username: str, password: str) -> tuple[int, Any]:
        return await self.api.login(self.server, username, password)

    async def token(self, username: str, password: str) -> str:
        status, body = await self.login(username, password)
        assert status == 200, body
        return str(body["access_token"])

    async def user(self, user_id: str) -> dict[str, Any]:
        return dict(await self.ok("GET", f"/api/admin/v1/users/{user_id}"))

    async def sync(self) -> dict[str, Any]:
        """Sync now and wait (up to 30 s) for the run to end; the run."""
        started = await self.ok("POST", L + "/sync")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = await self.ok("GET", L)
            run = next(r for r in status["runs"] if r["run_id"] == started["run_id"])
            if run["finished_at"] is not None:
                assert run["ok"] is True, run
                return dict(run)
            await asyncio.sleep(0.2)
        raise AssertionError("the sync did not end in 30 s")


@pytest.fixture
async def world(server: tuple[ServerProcess, str]) -> AsyncIterator[World]:
    srv, root = server
    async with aiohttp.ClientSession() as session:
        api = Api(session)
        status, body = await api.login(srv, root)
        assert status == 200, body
        yield World(srv, api, body["access_token"])


async def test_directory_password_signs_in_and_creates_the_account(world: World, directory: Slapd) -> None:
    name = uid("alice")
    directory.add_user(name, "alice-directory-pw", ou="ou=East,ou=Sales", cn="张三 Alice", mail=f"{name}@example.com",
                       phone="+86 10 1234")
    assert (await world.login(name, "wrong-password-1"))[0] == 401
    assert (await world.login(uid("ghost"), "alice-directory-pw"))[0] == 401
    for evil in ("*", f"{name})(uid=*", f"{name}*"):  # escaped in the filter: they match nothing
        assert (await world.login(evil, "alice-directory-pw"))[0] in (400, 401)
    status, body = await world.login(name, "alice-directory-pw")
    assert status == 200 and body["user_id"] == name, body
    me = await world.user(name)
    assert me["display_name"] == "张三 Alice" and me["has_password"] is False and not me["is_admin"]
    assert [d["name"] for d in me["departments"]] == ["East"]
    east = me["departments"][0]["department_id"]
    dept = await world.ok("GET", f"/api/admin/v1/departments/{east}")
    assert "Sales" in json.dumps(dept, ensure_ascii=False)  # East sits under Sales, as in the OU tree
    # the login log says how the password was checked (written in batches: polled)
    deadline, seen = time.monotonic() + 20, list[tuple[bool, str]]()
    while time.monotonic() < deadline and not {(True, "ldap"), (False, "ldap")} <= set(seen):
        await asyncio.sleep(0.2)
        logs = await world.ok("GET", f"/api/admin/v1/login-logs?q={name}")
        seen = [(e["ok"], e["method"]) for e in logs["logs"]]
    assert (True, "ldap") in seen and (False, "ldap") in seen, seen
    # the directory's name wins at the next login; the password is the directory's, and only it
    directory.set_password(f"uid={name},ou=East,ou=Sales,ou=People,dc=example,dc=com", "alice-new-pw-2")
    assert (await world.login(name, "alice-directory-pw"))[0] == 401
    assert (await world.login(name, "alice-new-pw-2"))[0] == 200


async def test_a_local_account_keeps_its_own_password(world: World, directory: Slapd) -> None:
    name = uid("local")
    status, _ = await world.api.register(world.server, name)
    assert status == 201
    directory.add_user(name, "someone-elses-pw", cn="Impostor")  # the same username in the directory
    assert (await world.login(name, "someone-elses-pw"))[0] == 401  # no takeover
    assert (await world.login(name, PASSWORD))[0] == 200
    assert (await world.user(name))["display_name"] == name
    run = await world.sync()
    assert any(name in e and "local account" in e for e in run["errors"]), run
    assert (await world.user(name))["disabled"] is False


async def test_sync_makes_departments_and_users_and_disables_the_departed(world: World, directory: Slapd) -> None:
    bob, carol = uid("bob"), uid("carol")
    bob_dn = directory.add_user(bob, "bob-directory-pw", ou="ou=Research", cn="Bob Research")
    carol_dn = directory.add_user(carol, "carol-directory-pw", ou="ou=Sales", cn="Carol Sales")
    run = await world.sync()
    assert run["counts"]["created"] >= 2 and run["counts"]["users"] >= 2, run
    assert run["trigger"] == "manual" and run["by"]
    assert [d["name"] for d in (await world.user(bob))["departments"]] == ["Research"]
    assert [d["name"] for d in (await world.user(carol))["departments"]] == ["Sales"]
    assert (await world.login(carol, "carol-directory-pw"))[0] == 200
    # carol leaves the company, bob moves to East
    directory.delete(carol_dn)
    directory.move(bob_dn, "ou=East,ou=Sales")
    run = await world.sync()
    assert run["counts"]["disabled"] == 1 and run["counts"]["unchanged"] >= 1, run  # others: nothing written
    assert (await world.user(carol))["disabled"] is True
    assert (await world.login(carol, "carol-directory-pw"))[0] == 401  # gone from the directory: refused
    assert [d["name"] for d in (await world.user(bob))["departments"]] == ["East"]  # out of Research
    status = await world.ok("GET", L)
    assert status["enabled"] and status["disabled_by_sync"] >= 1 and status["managed_users"] >= 3
    # carol comes back: enabled again by the sync
    directory.add_user(carol, "carol-directory-pw", ou="ou=Sales", cn="Carol Sales")
    run = await world.sync()
    assert run["counts"]["enabled"] == 1, run
    assert (await world.user(carol))["disabled"] is False
    assert (await world.login(carol, "carol-directory-pw"))[0] == 200
    audit = await world.ok("GET", "/api/admin/v1/audit-log?action=ldap.&limit=50")
    assert any(e["action"] == "ldap.sync" for e in audit["entries"])


async def test_directory_groups_give_and_take_administrator_roles(world: World, directory: Slapd) -> None:
    dave, erin = uid("dave"), uid("erin")
    dave_dn = directory.add_user(dave, "dave-directory-pw", ou="ou=Sales", cn="Dave")
    erin_dn = directory.add_user(erin, "erin-directory-pw", ou="ou=Sales", cn="Erin")
    auditors = directory.add_group("semot-auditors", [erin_dn])
    directory.set_members(SUPERS, [dave_dn])
    # the mapping from the setting; dave becomes a super administrator at his first login
    token = await world.token(dave, "dave-directory-pw")
    me = await world.ok("GET", "/api/admin/v1/me", token=token)
    assert me["super_admin"] is True and me["roles"] == ["super_admin"], me
    # the console's mapping replaces the setting's
    bad = await world.call("PUT", L + "/group-roles", {"group_roles": {auditors: "no_such_role"}})
    assert bad[0] == 404, bad
    bad = await world.call("PUT", L + "/group-roles", {"group_roles": {"not a dn": "auditor"}})
    assert bad[0] == 400, bad
    mapping = {SUPERS: "super_admin", auditors: "auditor"}
    assert (await world.ok("PUT", L + "/group-roles", {"group_roles": mapping}))["group_roles"] == mapping
    erin_token = await world.token(erin, "erin-directory-pw")
    me = await world.ok("GET", "/api/admin/v1/me", token=erin_token)
    assert me["roles"] == ["auditor"] and me["super_admin"] is False, me
    assert (await world.call("GET", L, token=erin_token))[0] == 403  # an auditor does not see the LDAP page
    # leaving the group takes the role away at the next sync
    directory.set_members(auditors, [dave_dn])
    await world.sync()
    assert (await world.user(erin))["is_admin"] is False
    assert (await world.call("GET", "/api/admin/v1/users", token=erin_token))[0] == 403
    assert (await world.user(dave))["is_admin"] is True
    audit = await world.ok("GET", "/api/admin/v1/audit-log?action=ldap.&limit=50")
    assert any(e["action"] == "ldap.group_roles" for e in audit["entries"])
    # what the directory's groups did is in the audit log, done by "ldap"
    audit = await world.ok("GET", f"/api/admin/v1/audit-log?target={erin}&limit=50")
    done = [(e["admin"], e["action"], (e["after"] or {}).get("roles")) for e in reversed(audit["entries"])]
    assert done == [("ldap", "admin.grant", ["auditor"]), ("ldap", "admin.revoke", None)], done


async def test_editing_the_mapping_grants_no_more_than_the_editor_holds(world: World) -> None:
    """ldap.write alone is no way to super administrator: a group (the editor's own) mapped
    to super_admin would make them one at their next login. As for a grant by hand, the
    roles added or taken out must be within the editor's, over the whole organisation."""
    role = await world.ok("POST", "/api/admin/v1/roles", {"name": uid("LDAP keeper "), "perms": ["ldap.view", "ldap.write"]})
    keeper = uid("keeper")
    assert (await world.api.register(world.server, keeper))[0] == 201
    await world.ok("PUT", f"/api/admin/v1/admins/{keeper}", {"roles": [role["role_id"]]})
    token = await world.token(keeper, PASSWORD)
    before = (await world.ok("GET", L))["group_roles"]
    assert before.get(SUPERS) == "super_admin", before
    mine = f"cn={uid('keepers')},{GROUPS}"
    for refused in ({**before, mine: "super_admin"}, {**before, mine: "user_admin"},  # above the editor
                    {g: r for g, r in before.items() if g != SUPERS}):  # nor may they take super_admin away
        status, body = await world.call("PUT", L + "/group-roles", {"group_roles": refused}, token=token)
        assert status == 403 and body["error"]["code"] == "forbidden", (status, body)
    assert (await world.ok("GET", L))["group_roles"] == before
    own = {**before, mine: role["role_id"]}  # a role within theirs: fine, the groups already mapped stay
    assert (await world.ok("PUT", L + "/group-roles", {"group_roles": own}, token=token))["group_roles"] == own
    # group roles are granted over the whole organisation: an editor limited to a department maps none
    dept = (await world.ok("POST", "/api/admin/v1/departments", {"name": uid("Keepers ")}))["department_id"]
    await world.ok("PUT", f"/api/admin/v1/admins/{keeper}", {"roles": [role["role_id"]], "departments": [dept]})
    status, _ = await world.call("PUT", L + "/group-roles", {"group_roles": before}, token=token)
    assert status == 403
    assert (await world.ok("PUT", L + "/group-roles", {"group_roles": before}))["group_roles"] == before  # the root may


async def test_only_administrators_with_the_permission_reach_the_api(world: World) -> None:
    name = uid("plain")
    await world.api.register(world.server, name)
    token = await world.token(name, PASSWORD)
    for method, path, body in (("GET", L, None), ("POST", L + "/sync", None),
                               ("PUT", L + "/group-roles", {"group_roles": {}})):
        assert (await world.call(method, path, body, token=token))[0] == 403
        assert (await world.api.call(world.server, method, path, body))[0] == 401
    assert (await world.call("PUT", L + "/group-roles", {"group_roles": {"cn=x": "auditor"}, "more": 1}))[0] == 400
    assert (await world.call("PUT", L + "/group-roles", {"group_roles": ["cn=x"]}))[0] == 400


async def test_a_search_cut_short_by_the_directory_is_an_error_not_a_short_list(directory: Slapd) -> None:
    """The service account of this directory may see 3 entries: the list of users is not
    taken as complete (the sync would disable everybody else), the sync stops."""
    for i in range(4):
        directory.add_user(uid(f"many{i}"), "many-directory-pw")
    config = LdapConfig(url=directory.url, user_base=PEOPLE, user_filter="(&(objectClass=inetOrgPerson)(uid={username}))",
                        bind_dn=SMALL_READER_DN, bind_password=READER_PW)
    with pytest.raises(Conflict, match="size limit"):
        await LdapDirectory(config).users()


async def test_the_scheduled_sync_runs_by_itself(tmp_path_factory: pytest.TempPathFactory, directory: Slapd) -> None:
    """A second server on the same directory, syncing every second on its own."""
    name = uid("gina")
    directory.add_user(name, "gina-directory-pw", ou="ou=Research", cn="Gina")
    srv = ServerProcess(tmp_path_factory.mktemp("ldap-scheduled") / "data",
                        directory.settings_env(SEMOT_LDAP_SYNC_INTERVAL_S="1"))
    srv.start()
    root = uid("root")
    srv.create_admin(root)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(session)
            status, body = await api.login(srv, root)
            assert status == 200, body
            w = World(srv, api, body["access_token"])
            deadline, runs = time.monotonic() + 30, list[dict[str, Any]]()
            while time.monotonic() < deadline:
                runs = [r for r in (await w.ok("GET", L))["runs"] if r["finished_at"] is not None]
                if runs:
                    break
                await asyncio.sleep(0.3)
            assert runs and runs[0]["trigger"] == "schedule" and runs[0]["ok"] is True and runs[0]["by"] is None, runs
            person = await w.user(name)  # made by the sync, never signed in
            assert person["display_name"] == "Gina" and [d["name"] for d in person["departments"]] == ["Research"]
    finally:
        assert srv.stop() == 0
        log = srv.log_path.read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]


async def test_directory_down_means_unavailable_but_local_admins_still_sign_in(
    world: World, directory: Slapd, server: tuple[ServerProcess, str]
) -> None:
    """Last in the module: it stops the directory."""
    name = uid("frank")
    directory.add_user(name, "frank-directory-pw", cn="Frank")
    assert (await world.login(name, "frank-directory-pw"))[0] == 200
    directory.stop()
    status, body = await world.login(name, "frank-directory-pw")
    assert status == 503 and body["error"]["code"] == "unavailable", body
    assert (await world.login(server[1], PASSWORD))[0] == 200  # `semot create-admin`'s account is local
    started = await world.call("POST", L + "/sync")
    assert started[0] == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = (await world.ok("GET", L))["runs"][0]
        if run["finished_at"] is not None:
            break
        await asyncio.sleep(0.2)
    assert run["ok"] is False and run["errors"] and (await world.user(name))["disabled"] is False, run
