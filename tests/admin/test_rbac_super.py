"""The last super administrator and revocation over real servers: the last enabled super
administrator can be neither removed, demoted nor limited (whoever asks, at once or one
after the other), `semot create-admin` still makes one, and a revoked role stops working
on the very next request, on this node and on another node of a cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from semot.client import SemotClient
from tests.admin.rbac_support import A, create_admin, grant, login, person, refused, status, tag
from tests.support.cluster import two_nodes
from tests.support.server import ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path / "data").start()
    yield srv
    srv.kill()


@pytest.fixture
async def root(server: ServerProcess) -> AsyncIterator[SemotClient]:
    name = f"root{tag()}"
    create_admin(server, name)
    c = await login(server, name)
    yield c
    await c.close()


async def test_the_last_super_admin_stays(server: ServerProcess, root: SemotClient) -> None:
    me = str(root.user_id)
    await refused(root.http("DELETE", f"{A}/admins/{me}"), 409)
    await refused(grant(root, me, ["auditor"]), 409)
    await refused(grant(root, me, ["super_admin", "auditor"], [await _dept(root)]), 409)  # limited: not full
    assert (await root.http("GET", f"{A}/me"))["super_admin"]
    # a second super admin: now either may step down, but not both
    other = await person(server, f"second{tag()}")
    assert other.user_id is not None
    await grant(root, other.user_id, ["super_admin"])
    await grant(root, me, ["auditor"])  # root demotes itself
    assert (await root.http("GET", f"{A}/me"))["roles"] == ["auditor"]
    await refused(root.http("GET", f"{A}/roles"))  # auditors do not see roles
    await refused(other.http("DELETE", f"{A}/admins/{other.user_id}"), 409)
    await other.http("DELETE", f"{A}/admins/{me}")
    await refused(root.http("GET", f"{A}/me"))
    # `semot create-admin` on an existing account makes a super admin again (no roles left)
    await other.http("PUT", f"{A}/admins/{me}", {"roles": ["org_admin"]})
    create_admin(server, str((await root.http("GET", "/api/v1/me"))["username"]))
    again = await _eventually_super(root)
    assert again["roles"] == ["super_admin"] and again["perms"] is None
    await other.close()


async def test_two_super_admins_removing_each_other_at_once(server: ServerProcess, root: SemotClient) -> None:
    other = await person(server, f"twin{tag()}")
    assert other.user_id is not None and root.user_id is not None
    await grant(root, other.user_id, ["super_admin"])
    results = await asyncio.gather(
        status(root.http("DELETE", f"{A}/admins/{other.user_id}")),
        status(other.http("DELETE", f"{A}/admins/{root.user_id}")),
    )
    assert sorted(results) in ([200, 403], [200, 409]), results  # one goes first; the other is refused
    admins = []
    for c in (root, other):  # whoever is still a super admin lists them
        if await status(c.http("GET", f"{A}/admins")) == 200:
            admins = (await c.http("GET", f"{A}/admins"))["admins"]
    assert [a["super_admin"] for a in admins] == [True]
    await other.close()


async def test_revocation_is_immediate(server: ServerProcess, root: SemotClient) -> None:
    who = await person(server, f"rev{tag()}")
    assert who.user_id is not None
    await grant(root, who.user_id, ["auditor"])
    for _ in range(3):  # warm the grant cache
        assert await status(who.http("GET", f"{A}/audit-log")) == 200
    await grant(root, who.user_id, ["org_admin"])  # a role taken away...
    assert await status(who.http("GET", f"{A}/audit-log")) == 403
    assert await status(who.http("GET", f"{A}/departments")) == 200
    await root.http("DELETE", f"{A}/admins/{who.user_id}")  # ...and everything
    assert await status(who.http("GET", f"{A}/departments")) == 403
    await who.close()


# --- helpers


async def _dept(root: SemotClient) -> str:
    return str((await root.http("POST", f"{A}/departments", {"name": f"D{tag()}"}))["department_id"])


async def _eventually_super(c: SemotClient) -> dict[str, object]:
    """The CLI wrote to the database behind the server's back: its cache lets go within seconds."""
    for _ in range(80):
        me = await c.http("GET", f"{A}/me")
        if me["super_admin"]:
            return dict(me)
        await asyncio.sleep(0.1)
    raise AssertionError("still not a super admin")


# --- two nodes sharing PostgreSQL and Redis


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with two_nodes(tmp_path_factory.mktemp("rbac_cluster"), "rbac") as c:  # a migrates first, then b joins
        yield c.a, c.b


async def test_revocation_reaches_every_node(nodes: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = nodes
    name = f"croot{tag()}"
    create_admin(a, name)
    root = await login(a, name)
    who_a = await person(a, f"crev{tag()}")
    assert who_a.user_id is not None
    who_b = SemotClient(b.base)  # the same person, on the other node
    await who_b.login(str((await who_a.http("GET", "/api/v1/me"))["username"]), "password123")
    await grant(root, who_a.user_id, ["auditor"])
    for _ in range(3):  # node b caches the grant
        assert await status(who_b.http("GET", f"{A}/audit-log")) == 200
    await root.http("DELETE", f"{A}/admins/{who_a.user_id}")  # on node a
    # node b learns through Redis, well before its cache would expire (5 s)
    refused_after = None
    loop = asyncio.get_running_loop()
    start = loop.time()
    while loop.time() - start < 3:
        if await status(who_b.http("GET", f"{A}/audit-log")) == 403:
            refused_after = loop.time() - start
            break
        await asyncio.sleep(0.02)
    assert refused_after is not None and refused_after < 1.0, refused_after
    print(f"revoked on node a, refused on node b after {refused_after * 1000:.0f} ms")
    for c in (root, who_a, who_b):
        await c.close()
