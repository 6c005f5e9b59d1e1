"""OrgStorage contract: the organisation directory's storage in memory, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from semot.domain.org import Department, search_keys
from semot.domain.records import User
from semot.errors import Conflict, NotFound
from semot.storage.base import Storage
from semot.storage.org import OrgStorage


def dept(id: str, parent: str | None, name: str, order: int = 0) -> Department:
    return Department(id, parent, name, order, 1)


async def user(storage: Storage, uid: str, display: str, *, disabled: bool = False) -> User:
    u = User(uid, uid, display, "x", disabled=disabled, created_at=1)
    await storage.users.create_user(u)
    return u


async def put(org: OrgStorage, dept_id: str, u: User, title: str | None = None, order: int | None = None) -> bool:
    keys = search_keys(u.id, u.username, u.display_name)
    return await org.put_member(dept_id, u.id, title=title, sort_order=order, keys=keys, now=5)


async def test_tree_create_move_delete(storage: Storage) -> None:
    org = storage.org
    await org.create_department(dept("hq", None, "总部"))
    await org.create_department(dept("rd", "hq", "研发部", 2))
    await org.create_department(dept("ops", "hq", "运维部", 1))
    await org.create_department(dept("be", "rd", "后端组"))
    with pytest.raises(NotFound):
        await org.create_department(dept("x", "nope", "X"))
    with pytest.raises(Conflict):
        await org.create_department(dept("rd2", "hq", "研发部"))
    await org.create_department(dept("rd-top", None, "研发部"))  # same name elsewhere is fine

    assert [d.id for d in await org.child_departments("hq")] == ["ops", "rd"]
    assert {d.id for d in await org.child_departments(None)} == {"hq", "rd-top"}
    assert (await org.find_department("hq", "研发部")).id == "rd"  # type: ignore[union-attr]
    assert await org.find_department(None, "后端组") is None
    assert await org.child_counts(["hq", "rd", "be"]) == {"hq": 2, "rd": 1}

    with pytest.raises(Conflict):
        await org.update_department("hq", move=True, parent_id="be")  # under its own grandchild
    with pytest.raises(Conflict):
        await org.update_department("rd", move=True, parent_id="rd")
    with pytest.raises(Conflict):
        await org.update_department("rd", move=True, parent_id=None)  # "研发部" exists at the top
    with pytest.raises(Conflict):
        await org.update_department("ops", name="研发部")
    moved = await org.update_department("be", move=True, parent_id="ops", name="后端", sort_order=7)
    assert (moved.parent_id, moved.name, moved.sort_order) == ("ops", "后端", 7)
    assert (await org.get_department("be")) == moved
    top = await org.update_department("be", move=True, parent_id=None)
    assert top.parent_id is None
    with pytest.raises(NotFound):
        await org.update_department("nope", name="x")

    with pytest.raises(Conflict):
        await org.delete_department("hq")  # has sub-departments
    await org.delete_department("be")
    assert await org.get_department("be") is None
    with pytest.raises(NotFound):
        await org.delete_department("be")


async def test_members_order_paging_and_counts(storage: Storage) -> None:
    org = storage.org
    await org.create_department(dept("hq", None, "HQ"))
    await org.create_department(dept("rd", "hq", "R&D"))
    a = await user(storage, "ua", "张伟")
    b = await user(storage, "ub", "李娜")
    c = await user(storage, "uc", "王芳")
    assert await put(org, "rd", a, "工程师") is True
    assert await put(org, "rd", b) is True  # appended after a
    assert await put(org, "rd", c, "经理", order=-1) is True  # first
    assert await put(org, "hq", a, "顾问") is True
    assert await put(org, "rd", a, "高级工程师") is False  # update keeps the order
    with pytest.raises(NotFound):
        await put(org, "nope", a)

    page, total = await org.department_members("rd", offset=0, limit=2)
    assert total == 3
    assert [(e.user_id, e.title) for e in page] == [("uc", "经理"), ("ua", "高级工程师")]
    page2, _ = await org.department_members("rd", offset=2, limit=2)
    assert [e.user_id for e in page2] == ["ub"]
    assert page[1].display_name == "张伟" and page[1].username == "ua"

    assert await org.member_counts() == {"rd": 3, "hq": 1}
    assert await org.member_counts(["hq"]) == {"hq": 1}
    ms = await org.user_memberships(["ua"])
    assert {(m.department_id, m.title) for m in ms["ua"]} == {("rd", "高级工程师"), ("hq", "顾问")}

    assert await org.update_member("rd", "ub", sort_order=-5) is True
    assert (await org.department_members("rd", offset=0, limit=1))[0][0].user_id == "ub"
    assert await org.update_member("hq", "ub", title="x") is False

    with pytest.raises(Conflict):
        await org.delete_department("rd")  # has members
    assert await org.in_directory(["ua", "ub", "zz"]) == {"ua", "ub"}
    assert await org.remove_member("rd", "ub") is True
    assert await org.remove_member("rd", "ub") is False
    assert await org.in_directory(["ub"]) == set()


async def test_subtree_member_counts_include_sub_departments(storage: Storage) -> None:
    """Issue 11, defect 7: a department's count in the directory includes everyone below
    it, each person once, however deep the tree."""
    org = storage.org
    await org.create_department(dept("hq", None, "HQ"))
    await org.create_department(dept("rd", "hq", "R&D"))
    await org.create_department(dept("be", "rd", "Backend"))
    await org.create_department(dept("fe", "rd", "Frontend"))
    await org.create_department(dept("empty", "hq", "Empty"))
    await org.create_department(dept("other", None, "Other"))
    a, b, c, d = [await user(storage, f"s{i}", f"P{i}") for i in range(4)]
    await put(org, "hq", a)
    await put(org, "be", b)
    await put(org, "fe", c)
    await put(org, "be", d)
    await put(org, "fe", d)  # in two sub-departments: counted once above them
    await put(org, "other", a)
    counts = await org.subtree_member_counts(["hq", "rd", "be", "fe", "empty", "other", "nope"])
    assert counts == {"hq": 4, "rd": 3, "be": 2, "fe": 2, "other": 1}
    assert await org.member_counts(["hq", "rd"]) == {"hq": 1}  # direct counts unchanged
    # a deep chain: the count at the top still sees the person at the bottom
    parent = "other"
    for i in range(40):
        await org.create_department(dept(f"chain{i}", parent, f"C{i}"))
        parent = f"chain{i}"
    await put(org, parent, b)
    assert await org.subtree_member_counts(["other", "chain0"]) == {"other": 2, "chain0": 1}


async def test_search_by_name_username_pinyin_and_initials(storage: Storage) -> None:
    org = storage.org
    await org.create_department(dept("hq", None, "HQ"))
    zw = await user(storage, "zhangwei_id", "张伟")
    zx = await user(storage, "u2", "张晓明")
    st = await user(storage, "u3", "单田芳")
    gone = await user(storage, "u4", "张三", disabled=True)
    outside = await user(storage, "u5", "张飞")  # not in the directory
    pct = await user(storage, "u6", "100% Alice")
    for u in (zw, zx, st, gone, pct):
        await put(org, "hq", u)

    async def find(text: str, compact: str | None = None) -> list[str]:
        return [e.user_id for e in await org.search(text, text if compact is None else compact, limit=10)]

    assert await find("张伟") == ["zhangwei_id"]
    assert set(await find("张")) == {"zhangwei_id", "u2"}  # not the disabled one, not outsiders
    assert await find("zhangwei") == ["zhangwei_id"]
    assert (await find("zhang"))[:2] and set(await find("zhang")) == {"zhangwei_id", "u2"}
    assert await find("zw") == ["zhangwei_id"]
    assert await find("zxm") == ["u2"]
    assert await find("xiaoming") == ["u2"]
    assert await find("shantianfang") == ["u3"]  # the surname reading
    assert await find("stf") == ["u3"]
    assert await find("u3") == ["u3"]  # username
    assert await find("100%") == ["u6"]  # LIKE wildcards are escaped
    assert await find("%") == ["u6"]
    assert await find("_") == ["zhangwei_id"]
    assert await find("qqq") == []
    ranked = await find("zhang")
    assert ranked[0] == "zhangwei_id"  # the username starts with it

    assert outside.id not in await find("zhangfei")
    renamed = search_keys("u2", "u2", "赵六")
    assert await org.upsert_search_keys(renamed, 9) is True
    assert await find("zhaoliu") == ["u2"]
    assert await org.upsert_search_keys(search_keys("u5", "u5", "张飞"), 9) is False
    assert await find("zhangfei") == []


async def test_concurrent_moves_never_make_a_cycle(storage: Storage) -> None:
    org = storage.org
    await org.create_department(dept("a", None, "A"))
    await org.create_department(dept("b", None, "B"))
    results = await asyncio.gather(
        org.update_department("a", move=True, parent_id="b"),
        org.update_department("b", move=True, parent_id="a"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1
    parents = {d.id: d.parent_id for d in await org.all_departments()}
    assert None in parents.values()
