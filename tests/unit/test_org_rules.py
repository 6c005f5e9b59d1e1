"""Organisation directory rules, without storage or sockets: names, tree moves, ordering,
search keys and the import format."""

from __future__ import annotations

import pytest

from semot.domain import org as rules
from semot.domain.org import Department
from semot.errors import BadRequest, Conflict


def d(id: str, parent: str | None, name: str = "", order: int = 0) -> Department:
    return Department(id, parent, name or id, order, 0)


def test_names_titles_and_orders() -> None:
    assert rules.clean_name("  研发部 ") == "研发部"
    for bad in ("", "   ", "a/b", "x" * 129, "tab\there"):
        with pytest.raises(BadRequest):
            rules.clean_name(bad)
    assert rules.clean_name("x" * 128) == "x" * 128
    assert rules.clean_title(" 工程师 ") == "工程师"
    with pytest.raises(BadRequest):
        rules.clean_title("t" * 129)
    assert rules.check_order(None) is None and rules.check_order(-3) == -3
    with pytest.raises(BadRequest):
        rules.check_order(10**12)


def test_moves_never_make_cycles() -> None:
    parents = {"hq": None, "rd": "hq", "be": "rd", "fe": "rd", "ops": "hq"}
    rules.check_move("be", "ops", parents)
    rules.check_move("rd", None, parents)
    rules.check_move("ops", "be", parents)
    for dept, target in (("hq", "be"), ("rd", "fe"), ("rd", "rd"), ("hq", "hq")):
        with pytest.raises(Conflict):  # the request is well formed; the tree refuses it
            rules.check_move(dept, target, parents)
    with pytest.raises(BadRequest):
        rules.check_move("rd", "missing", parents)
    assert rules.ancestors("be", parents) == ["rd", "hq"]
    # a corrupted (cyclic) map must not hang
    assert rules.ancestors("a", {"a": "b", "b": "a"}) == ["b"]


def test_depth_is_not_limited() -> None:
    """Any depth: a chain of 5000 levels takes more levels and moves under its bottom,
    while the cycle check still holds at the far end."""
    n = 5000
    chain = {f"c{i}": (f"c{i-1}" if i else None) for i in range(n)}
    chain["x"], chain["y"] = None, "x"
    rules.check_move("x", f"c{n - 1}", chain)  # a 2-level subtree under level 5000
    rules.check_move(f"c{n - 1}", "y", chain)
    with pytest.raises(Conflict):
        rules.check_move("c0", f"c{n - 1}", chain)  # the top under its own bottom
    assert len(rules.ancestors(f"c{n - 1}", chain)) == n - 1


def test_tree_is_flat_in_tree_order_at_any_depth() -> None:
    depts = [d("hq", None), d("b", "hq", "B", 2), d("a", "hq", "A", 1), d("a1", "a"), d("z", None, "Z", -1)]
    depts += [d(f"n{i}", f"n{i-1}" if i else "a1") for i in range(2000)]  # built without recursion
    flat = rules.flat_tree(depts, {"a": 3})
    order = [n["department_id"] for n in flat]
    assert order[:5] == ["z", "hq", "a", "a1", "n0"] and order[-1] == "b"  # each right after its parent
    assert len(order) == len(depts) == len(set(order))
    by_id = {n["department_id"]: n for n in flat}
    assert "children" not in by_id["hq"]  # never nested
    assert (by_id["hq"]["child_count"], by_id["hq"]["depth"], by_id["hq"]["parent_id"]) == (2, 0, None)
    assert (by_id["a"]["member_count"], by_id["b"]["member_count"], by_id["a"]["depth"]) == (3, 0, 1)
    assert by_id["n1999"]["depth"] == 2002 and by_id["n1999"]["child_count"] == 0
    assert by_id["n1999"]["parent_id"] == "n1998"
    # every department comes after its parent
    seen: set[str] = set()
    for n in flat:
        assert n["parent_id"] is None or n["parent_id"] in seen
        seen.add(n["department_id"])
    path = rules.path_of("a1", {x.id: x for x in depts})
    assert [p.id for p in path] == ["hq", "a", "a1"]
    assert [p.id for p in rules.path_of("n1999", {x.id: x for x in depts})][:3] == ["hq", "a", "a1"]
    # an orphan (its parent missing) is listed at the top rather than lost; a cycle ends
    odd = rules.flat_tree([d("o", "gone"), d("p", "q"), d("q", "p")], {})
    assert [n["department_id"] for n in odd] == ["o"]


def test_sort_keys() -> None:
    ds = [d("x", None, "乙", 1), d("y", None, "甲", 1), d("w", None, "丙", 0)]
    assert [x.id for x in sorted(ds, key=rules.dept_sort_key)] == ["w", "x", "y"]  # order, then name


@pytest.mark.parametrize(
    "name, full, initials",
    [
        ("张伟", ["zhangwei", "wei"], ["zw", "w"]),
        ("张晓明", ["zhangxiaoming", "xiaoming", "ming"], ["zxm", "xm", "m"]),
        ("单田芳", ["shantianfang", "dantianfang"], ["stf"]),  # 单 as a surname reads shan
        ("Alice 王", ["alicewang", "wang"], ["aw"]),
        ("John Smith", ["johnsmith", "smith"], ["js"]),
    ],
)
def test_search_keys(name: str, full: list[str], initials: list[str]) -> None:
    keys = rules.search_keys("u1", "User1", name)
    assert keys.username == "user1" and keys.name == name.lower()
    for f in full:
        assert f" {f}" in keys.full + " "
        assert f" {f} " in keys.full + " "
    for i in initials:
        assert f" {i} " in keys.initials + " "


def test_queries() -> None:
    assert rules.clean_query("  Zhang Wei ") == ("zhang wei", "zhangwei")
    assert rules.clean_query("张伟") == ("张伟", "张伟")
    for bad in ("", "   ", "x" * 65):
        with pytest.raises(BadRequest):
            rules.clean_query(bad)
    assert rules.like_escape("50%_a\\") == "50\\%\\_a\\\\"


def test_import_csv() -> None:
    text = "department,username,title,order\n总部/研发部/后端组, alice ,工程师,2\n总部//研发部,bob,,\n\n,carol,x\n总部/a,dave,t,abc\n总部,,\n"
    rows, errors = rules.parse_import(text, "csv")
    assert [(r.path, r.username, r.title, r.sort_order) for r in rows] == [
        (["总部", "研发部", "后端组"], "alice", "工程师", 2),
        (["总部", "研发部"], "bob", "", None),
        (["总部"], "", "", None),
    ]
    assert errors == ["line 5: department path is empty", "line 6: order must be an integer"]


def test_import_json() -> None:
    text = '[{"department": "总部/研发部", "username": "alice", "title": "经理", "order": 1}, 5, {"department": 3}, {"department": "A/B", "username": "bob"}]'
    rows, errors = rules.parse_import(text, "json")
    assert [(r.path, r.username, r.title, r.sort_order) for r in rows] == [
        (["总部", "研发部"], "alice", "经理", 1),
        (["A", "B"], "bob", "", None),
    ]
    assert errors == ["item 2: not an object", "item 3: department must be a path string"]
    rows, _ = rules.parse_import('{"members": [{"department": "X", "username": "u"}]}', "json")
    assert rows[0].path == ["X"]
    for bad in ("{", '"x"'):
        with pytest.raises(BadRequest):
            rules.parse_import(bad, "json")
    with pytest.raises(BadRequest):
        rules.parse_import("", "xml")
