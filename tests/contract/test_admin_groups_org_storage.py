"""Storage contract of the admin console's group list and primary departments, in
memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from semot.domain.groups import default_settings
from semot.domain.records import CreateGroup, Group, UpdateGroup
from semot.storage.base import Storage
from tests.contract.test_org_storage import dept, put, user


async def _group(storage: Storage, gid: str, name: str, ts: int, members: list[str], kind: str = "project") -> None:
    await storage.groups.write(CreateGroup(Group(gid, name, "own", ts, default_settings(kind), kind), members, ts))


async def test_admin_groups_search_filter_and_page(storage: Storage) -> None:
    for uid in ("own", "a", "b"):
        await user(storage, uid, uid.upper())
    await _group(storage, "g1", "Sales Team", 1, ["a"])
    await _group(storage, "g2", "销售二部", 2, ["a", "b"], "department")  # not listed in user search: found here
    await _group(storage, "g3", "sales_%ops", 3, [])
    await storage.groups.write(UpdateGroup("g3", {"dismissed_at": 9}))
    groups = storage.groups

    page, total = await groups.admin_groups(query=None, kind=None, dismissed=None, offset=0, limit=10)
    assert total == 3 and [(g.id, n) for g, n in page] == [("g3", 1), ("g2", 3), ("g1", 2)]
    page, total = await groups.admin_groups(query="SALES", kind=None, dismissed=None, offset=0, limit=10)
    assert total == 2 and [g.id for g, _ in page] == ["g3", "g1"]
    page, total = await groups.admin_groups(query="_%", kind=None, dismissed=None, offset=0, limit=10)
    assert [g.id for g, _ in page] == ["g3"]  # LIKE wildcards are literal
    page, total = await groups.admin_groups(query="销售", kind="department", dismissed=False, offset=0, limit=10)
    assert total == 1 and page[0][0].id == "g2"
    page, total = await groups.admin_groups(query="g1", kind=None, dismissed=None, offset=0, limit=10)
    assert [g.id for g, _ in page] == ["g1"]  # an exact id
    page, total = await groups.admin_groups(query="g2", kind="project", dismissed=None, offset=0, limit=10)
    assert total == 0  # an id the filters leave out: then a name search (no name has "g2")
    page, total = await groups.admin_groups(query=None, kind=None, dismissed=True, offset=0, limit=10)
    assert [g.id for g, _ in page] == ["g3"] and page[0][0].dismissed_at == 9
    page, total = await groups.admin_groups(query=None, kind=None, dismissed=False, offset=1, limit=1)
    assert total == 2 and [g.id for g, _ in page] == ["g1"]
    page, total = await groups.admin_groups(query=None, kind=None, dismissed=None, offset=5, limit=10)
    assert total == 3 and page == []


async def test_primary_department(storage: Storage) -> None:
    org = storage.org
    await org.create_department(dept("hq", None, "总部"))
    await org.create_department(dept("rd", "hq", "研发部"))
    zhang, li = await user(storage, "zhang", "张伟"), await user(storage, "li", "李娜")
    await put(org, "hq", zhang)
    await put(org, "rd", zhang)
    await put(org, "rd", li)
    assert await org.primary_departments(["zhang", "li"]) == {}

    assert await org.set_primary_department("zhang", "rd")
    assert await org.set_primary_department("li", "rd")
    assert await org.primary_departments(["zhang", "li", "nobody"]) == {"zhang": "rd", "li": "rd"}
    assert await org.set_primary_department("zhang", "hq")  # one at a time: rd is unmarked
    assert await org.primary_departments(["zhang"]) == {"zhang": "hq"}
    assert not await org.set_primary_department("li", "hq")  # not a member there: nothing changes
    assert await org.primary_departments(["li"]) == {"li": "rd"}

    assert await org.set_primary_department("li", None)
    assert await org.primary_departments(["li"]) == {}
    assert await org.remove_member("hq", "zhang")  # leaving drops the mark
    assert await org.primary_departments(["zhang"]) == {}
    await put(org, "hq", zhang)
    assert await org.primary_departments(["zhang"]) == {}
