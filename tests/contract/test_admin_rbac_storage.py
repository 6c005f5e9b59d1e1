"""AdminRbacStorage contract: roles, grants and the admin audit log in memory, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from semot.domain.admin_perms import Grant, Role
from semot.domain.org import Department, search_keys
from semot.domain.records import User
from semot.errors import Conflict, NotFound
from semot.storage.admin_rbac import MAX_AUDIT_JSON, AuditEntry, AuditQuery
from semot.storage.base import Storage


async def user(storage: Storage, uid: str, *, admin: bool = False, disabled: bool = False) -> User:
    u = User(uid, uid, uid.title(), "x", is_admin=admin, disabled=disabled, created_at=1)
    await storage.users.create_user(u)
    return u


def role(rid: str, name: str, *perms: str, at: int = 1) -> Role:
    return Role(rid, name, "", frozenset(perms), created_at=at, updated_at=at)


async def test_custom_roles(storage: Storage) -> None:
    rb = storage.admin_rbac
    await rb.create_role(role("r1", "Helpdesk", "users.view", "users.write", at=1))
    await rb.create_role(role("r2", "Readers", "users.view", at=2))
    with pytest.raises(Conflict):
        await rb.create_role(role("r3", "Helpdesk", "org.view"))
    assert [r.id for r in await rb.list_roles()] == ["r1", "r2"]
    got = await rb.get_role("r1")
    assert got is not None and got.perms == frozenset({"users.view", "users.write"}) and got.name == "Helpdesk"
    assert await rb.get_role("nope") is None
    new = await rb.update_role("r1", name="Help desk", description="first line", perms=frozenset({"org.view"}), now=9)
    assert new is not None and (new.name, new.description, new.perms, new.updated_at) == (
        "Help desk",
        "first line",
        frozenset({"org.view"}),
        9,
    )
    same = await rb.update_role("r1", name=None, description=None, perms=None, now=10)
    assert same is not None and same.name == "Help desk" and same.perms == frozenset({"org.view"})
    with pytest.raises(Conflict):
        await rb.update_role("r1", name="Readers", description=None, perms=None, now=11)
    assert await rb.update_role("nope", name="x", description=None, perms=None, now=1) is None
    # a role somebody holds is not deleted under them
    await user(storage, "ann", admin=True)
    await user(storage, "boss", admin=True)
    await rb.set_admin("ann", Grant("ann", ("r2",)), admin=True)
    with pytest.raises(Conflict):
        await rb.delete_role("r2")
    assert await rb.delete_role("r1")
    assert not await rb.delete_role("r1")
    assert [r.id for r in await rb.list_roles()] == ["r2"]


async def test_grants_and_the_last_super_admin(storage: Storage) -> None:
    rb = storage.admin_rbac
    boss = await user(storage, "boss", admin=True)  # `semot create-admin`: no grant, a super admin
    await user(storage, "carol")
    with pytest.raises(NotFound):
        await rb.set_admin("ghost", Grant("ghost", ("auditor",)), admin=True)
    # the only super admin cannot be demoted, limited or removed
    for grant, admin in (
        (Grant(boss.id, ("auditor",)), True),
        (Grant(boss.id, ("super_admin",), ("d1",)), True),
        (None, False),
    ):
        with pytest.raises(Conflict):
            await rb.set_admin(boss.id, grant, admin=admin)
    assert (await rb.admins())[0][1] is None  # nothing changed
    # carol becomes an auditor limited to a department
    before = await rb.set_admin("carol", Grant("carol", ("auditor",), ("d1", "d2"), 5, "boss"), admin=True)
    assert (before.is_admin, before.grant) == (False, None)
    assert await rb.get_grant("carol") == Grant("carol", ("auditor",), ("d1", "d2"), 5, "boss")
    assert [(u.id, g) for u, g in await rb.admins()] == [("boss", None), ("carol", await rb.get_grant("carol"))]
    # now carol is a full super admin too, so boss may step down
    await rb.set_admin("carol", Grant("carol", ("super_admin",), None, 6, "boss"), admin=True)
    before = await rb.set_admin("boss", Grant("boss", ("user_admin",)), admin=True)
    assert (before.is_admin, before.grant) == (True, None)
    with pytest.raises(Conflict):  # carol is the last one now
        await rb.set_admin("carol", None, admin=False)
    before = await rb.set_admin("boss", None, admin=False)
    assert before.grant == Grant("boss", ("user_admin",))
    got = await storage.users.get_user("boss")
    assert got is not None and not got.is_admin
    assert await rb.get_grant("boss") is None
    assert [u.id for u, _ in await rb.admins()] == ["carol"]
    assert [g.user_id for g in await rb.grants()] == ["carol"]
    assert await rb.drop_grant("carol") and not await rb.drop_grant("carol")
    assert await rb.get_grant("carol") is None


async def test_a_disabled_super_admin_does_not_count(storage: Storage) -> None:
    rb = storage.admin_rbac
    await user(storage, "sleepy", admin=True, disabled=True)
    await user(storage, "boss", admin=True)
    with pytest.raises(Conflict):
        await rb.set_admin("boss", None, admin=False)
    await rb.set_admin("sleepy", None, admin=False)  # not a super admin while disabled: may go


async def test_concurrent_demotions_leave_one_super_admin(storage: Storage) -> None:
    rb = storage.admin_rbac
    await user(storage, "a", admin=True)
    await user(storage, "b", admin=True)
    results = await asyncio.gather(
        rb.set_admin("a", None, admin=False), rb.set_admin("b", None, admin=False), return_exceptions=True
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert len(await rb.admins()) == 1


async def test_department_user_ids(storage: Storage) -> None:
    for d, parent in (("hq", None), ("rd", "hq"), ("ops", "hq")):
        await storage.org.create_department(Department(d, parent, d.upper(), 0, 1))
    for uid, d in (("ann", "rd"), ("bob", "rd"), ("bob", "ops"), ("cy", "ops")):
        if await storage.users.get_user(uid) is None:
            await user(storage, uid)
        keys = search_keys(uid, uid, uid)
        await storage.org.put_member(d, uid, title=None, sort_order=None, keys=keys, now=1)
    rb = storage.admin_rbac
    assert await rb.department_user_ids(["rd"]) == {"ann", "bob"}
    assert await rb.department_user_ids(["rd", "ops"]) == {"ann", "bob", "cy"}
    assert await rb.department_user_ids(["hq"]) == set()  # direct members only
    assert await rb.department_user_ids([]) == set()


async def test_audit_log_filters_and_pages(storage: Storage) -> None:
    rb = storage.admin_rbac
    rows = [
        AuditEntry("boss", "user.create", "u1", "10.0.0.1", 1000, None, {"username": "u1"}),
        AuditEntry("boss", "user.update", "u1", "10.0.0.1", 2000, {"disabled": False}, {"disabled": True}),
        AuditEntry("carol", "role.create", "role_x", "::1", 3000, None, {"perms": ["users.view"]}),
        AuditEntry("carol", "user.update", "u2", "::1", 4000, {"名字": "张伟"}, {"名字": "张三"}),
        AuditEntry("boss", "username.fix", "u3", "", 5000),
    ]
    for r in rows:
        await rb.add_audit(r)

    async def page(**kw: object) -> tuple[list[tuple[str, str, int]], int]:
        found, total = await rb.audit_entries(AuditQuery(**kw))  # type: ignore[arg-type]
        return [(e.action, e.target, e.ts) for e in found], total

    everything, total = await page()
    assert total == 5 and [ts for *_, ts in everything] == [5000, 4000, 3000, 2000, 1000]  # newest first
    assert (await page(admin="carol"))[1] == 2
    assert (await page(action="user.update"))[0] == [("user.update", "u2", 4000), ("user.update", "u1", 2000)]
    assert (await page(action="user."))[1] == 3  # a prefix; "username.fix" is not a user.* action
    assert (await page(target="u1"))[1] == 2
    assert (await page(since=2000, until=4000))[1] == 3
    assert (await page(admin="boss", action="user.", since=1500))[0] == [("user.update", "u1", 2000)]
    assert await page(offset=1, limit=2) == ([("user.update", "u2", 4000), ("role.create", "role_x", 3000)], 5)
    assert await page(offset=10, limit=2) == ([], 5)
    found, _ = await rb.audit_entries(AuditQuery(target="u2"))
    e = found[0]
    assert (e.admin, e.ip, e.before, e.after) == ("carol", "::1", {"名字": "张伟"}, {"名字": "张三"})
    assert found[0].id > 0


async def test_audit_values_are_bounded(storage: Storage) -> None:
    rb = storage.admin_rbac
    huge = {"ids": ["x" * 60] * (MAX_AUDIT_JSON // 50)}
    await rb.add_audit(AuditEntry("boss", "user.bulk_disable", "*", "", 1, huge, [1, "two", None]))
    (e,), _ = await rb.audit_entries(AuditQuery())
    assert e.before["truncated"] is True and e.before["bytes"] > MAX_AUDIT_JSON
    assert e.after == [1, "two", None]
