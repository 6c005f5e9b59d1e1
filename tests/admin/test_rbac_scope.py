"""Department scopes over a real server: an administrator limited to a department
changes only that subtree (departments, members, grants), sees only its people among
the administrators, and cannot pull someone else's people or an administrator in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from semot.client import SemotClient
from tests.admin.rbac_support import A, create_admin, grant, login, mkdept, person, refused, status, tag
from tests.support.server import ServerProcess

ROOT = f"sroot{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("rbac_scope") / "data").start()
    create_admin(srv, ROOT)
    yield srv
    srv.kill()


@dataclass
class Org:
    """hq > rd > backend, hq > ops; `lead` administers rd (org_admin + a custom role with
    admins.*), `dev` sits in backend, `opsman` in ops, `newbie` nowhere yet."""

    root: SemotClient
    lead: SemotClient
    dev: SemotClient
    opsman: SemotClient
    newbie: SemotClient
    hq: str
    rd: str
    backend: str
    ops: str
    manager_role: str


@pytest.fixture
async def org(server: ServerProcess) -> AsyncIterator[Org]:
    root = await login(server, ROOT)
    hq = await mkdept(root, f"HQ {tag()}")
    rd = await mkdept(root, "R&D", hq)
    backend = await mkdept(root, "Backend", rd)
    ops = await mkdept(root, "Ops", hq)
    lead, dev, opsman, newbie = [await person(server, f"{n}{tag()}") for n in ("lead", "dev", "opsman", "newbie")]
    for who, dept in ((lead, rd), (dev, backend), (opsman, ops)):
        await root.http("PUT", f"{A}/departments/{dept}/members/{who.user_id}", {"title": "x"})
    role = await root.http(
        "POST", f"{A}/roles", {"name": f"Dept managers {tag()}", "perms": ["admins.view", "admins.write", "audit.view"]}
    )
    assert lead.user_id is not None
    await grant(root, lead.user_id, ["org_admin", role["role_id"]], [rd])
    o = Org(root, lead, dev, opsman, newbie, hq, rd, backend, ops, role["role_id"])
    yield o
    for c in (lead, dev, opsman, newbie):
        if c.user_id is not None:
            await status(root.http("DELETE", f"{A}/admins/{c.user_id}"))
    for c in (root, lead, dev, opsman, newbie):
        await c.close()


async def test_departments_only_inside_the_subtree(org: Org) -> None:
    lead = org.lead
    me = await lead.http("GET", f"{A}/me")
    assert me["departments"] == [org.rd] and me["department_names"] == {org.rd: "R&D"} and not me["super_admin"]
    # reading the tree is not limited (every user may browse the directory anyway)
    assert await status(lead.http("GET", f"{A}/departments")) == 200
    assert await status(lead.http("GET", f"{A}/departments/{org.ops}/members")) == 200
    # inside: create, rename, move within, delete
    qa = await mkdept(lead, "QA", org.rd)
    await lead.http("PATCH", f"{A}/departments/{org.backend}", {"name": "Backend team"})
    await lead.http("PATCH", f"{A}/departments/{qa}", {"parent_id": org.backend})
    await lead.http("DELETE", f"{A}/departments/{qa}")
    # outside: refused, with nothing changed
    await refused(lead.http("POST", f"{A}/departments", {"name": "Top"}))
    await refused(lead.http("POST", f"{A}/departments", {"name": "Sub", "parent_id": org.ops}))
    await refused(lead.http("PATCH", f"{A}/departments/{org.ops}", {"name": "Mine"}))
    await refused(lead.http("PATCH", f"{A}/departments/{org.hq}", {"name": "Mine"}))
    await refused(lead.http("PATCH", f"{A}/departments/{org.backend}", {"parent_id": org.ops}))  # out of the subtree
    await refused(lead.http("PATCH", f"{A}/departments/{org.backend}", {"parent_id": None}))  # to the top
    await refused(lead.http("DELETE", f"{A}/departments/{org.ops}"))
    ops = await org.root.http("GET", f"{A}/departments/{org.ops}")
    assert ops["name"] == "Ops" and ops["parent_id"] == org.hq


async def test_members_only_inside_the_subtree(org: Org) -> None:
    lead = org.lead
    assert org.dev.user_id and org.opsman.user_id and org.newbie.user_id
    await lead.http("PUT", f"{A}/departments/{org.backend}/members/{org.dev.user_id}", {"title": "Senior"})
    await lead.http(
        "PUT", f"{A}/departments/{org.backend}/members/{org.newbie.user_id}", {"title": "New"}
    )  # nowhere yet
    # someone from ops, the super admin, someone else's department: refused
    await refused(lead.http("PUT", f"{A}/departments/{org.rd}/members/{org.opsman.user_id}", {}))
    root_id = org.root.user_id
    await refused(lead.http("PUT", f"{A}/departments/{org.rd}/members/{root_id}", {}))
    await refused(lead.http("DELETE", f"{A}/departments/{org.ops}/members/{org.opsman.user_id}"))
    await refused(lead.http("POST", f"{A}/directory/users/{org.opsman.user_id}/reindex"))
    assert await status(lead.http("POST", f"{A}/directory/users/{org.dev.user_id}/reindex")) == 200
    await lead.http("DELETE", f"{A}/departments/{org.backend}/members/{org.newbie.user_id}")


async def test_grants_only_inside_the_subtree(org: Org) -> None:
    lead = org.lead
    assert org.dev.user_id and org.opsman.user_id
    # within: a narrower role over a department of the subtree
    reader = await org.root.http("POST", f"{A}/roles", {"name": f"Log readers {tag()}", "perms": ["audit.view"]})
    await grant(lead, org.dev.user_id, [reader["role_id"]], [org.backend])
    listed = {a["user_id"] for a in (await lead.http("GET", f"{A}/admins"))["admins"]}
    assert listed == {lead.user_id, org.dev.user_id}  # not root, not people elsewhere
    # refused: the whole organisation, a department outside, a person outside, defining roles
    await refused(grant(lead, org.dev.user_id, [reader["role_id"]]))
    await refused(grant(lead, org.dev.user_id, [reader["role_id"]], [org.ops]))
    await refused(grant(lead, org.opsman.user_id, [reader["role_id"]], [org.rd]))
    await refused(lead.http("POST", f"{A}/roles", {"name": f"Mine {tag()}", "perms": ["audit.view"]}))
    await refused(lead.http("PATCH", f"{A}/roles/{reader['role_id']}", {"name": "Changed"}))
    await refused(lead.http("DELETE", f"{A}/admins/{org.root.user_id}"))
    await lead.http("DELETE", f"{A}/admins/{org.dev.user_id}")
    await org.root.http("DELETE", f"{A}/roles/{reader['role_id']}")


async def test_a_moved_department_leaves_the_scope(org: Org) -> None:
    """Scopes follow the tree as it is now: move backend out of rd and it is out of reach."""
    await org.root.http("PATCH", f"{A}/departments/{org.backend}", {"parent_id": org.ops})
    await refused(org.lead.http("PATCH", f"{A}/departments/{org.backend}", {"name": "Gone"}))
    await refused(org.lead.http("DELETE", f"{A}/departments/{org.backend}/members/{org.dev.user_id}"))
    await org.root.http("PATCH", f"{A}/departments/{org.backend}", {"parent_id": org.rd})
    assert await status(org.lead.http("PATCH", f"{A}/departments/{org.backend}", {"name": "Back"})) == 200
