"""The matching rules of place search (domain/geo.py) on small hand-made data: folding,
grades, the Chinese name shown for a city, pinyin only for Chinese-speaking places, the
order of places, `near`. (test_geo_search.py runs them over HTTP on the real gazetteer.)"""

from __future__ import annotations

import pytest

from semot.domain.geo import EXACT, INITIALS, INSIDE, PREFIX, Gazetteer, OrgPlace, fold, match_places, parse_near

ROWS = [
    {"name": "Shenzhen", "latitude": 22.54, "longitude": 114.06, "countrycode": "CN", "population": 17_000_000,
     "alternatenames": ["宝安", "深圳", "深圳市", "Shēnzhèn"]},
    {"name": "Shenzhen City Centre", "latitude": 22.55, "longitude": 114.05, "countrycode": "CN",
     "population": 70_000, "alternatenames": []},
    {"name": "Basingstoke", "latitude": 51.26, "longitude": -1.09, "countrycode": "GB", "population": 107_000,
     "alternatenames": ["貝辛斯托克", "Бейзингсток"]},
]
COUNTRIES = {"CN": "China", "GB": "United Kingdom"}


def test_fold() -> None:
    assert fold("Pékin") == "pekin"
    assert fold("Bei Jing") == fold("bei-jing") == fold("BEIJING") == "beijing"
    assert fold("北京 市") == "北京市"


def test_gazetteer_names_pinyin_and_ranking() -> None:
    g = Gazetteer.build(ROWS, COUNTRIES)
    hits = g.search("shenzhen", 5, lang="en")
    assert [(h.title, h.grade) for h in hits] == [("Shenzhen", EXACT), ("Shenzhen City Centre", PREFIX)]
    # the Chinese name that reads as the city's name, not its old name (宝安 is shorter)
    assert [h.title for h in g.search("shenzhen", 1, lang="zh")] == ["深圳"]
    assert g.search("shenzhen", 1, lang="zh")[0].address == "中国"
    # a Chinese query shows the name typed; accents folded; initials of the Chinese name
    assert [h.title for h in g.search("宝安", 5, lang="en")] == ["宝安"]
    assert [h.title for h in g.search("Shēnzhèn", 1)] == ["Shenzhen"]
    assert [(h.title, h.grade) for h in g.search("sz", 5)] == [("Shenzhen", INITIALS)]
    # no pinyin for a transliteration outside Chinese-speaking places; other scripts are not indexed
    assert g.search("beixinsituoke", 5) == []
    assert g.search("Бейзингсток", 5) == []
    assert [h.title for h in g.search("貝辛斯托克", 5)] == ["貝辛斯托克"]
    assert g.search("   ", 5) == []


def test_places_order_and_near() -> None:
    places = [OrgPlace.of(p) for p in [
        {"name": "北京总部", "address": "海淀区中关村", "lat": 39.98, "lng": 116.31},
        {"name": "上海仓库", "address": "", "lat": 31.2, "lng": 121.59},
        {"name": "Beijing Lab", "address": "", "lat": 40.1, "lng": 116.2},
    ]]
    assert [h.title for h in match_places(places, "", None, 10)] == ["北京总部", "上海仓库", "Beijing Lab"]
    near = [h.title for h in match_places(places, "", (31.23, 121.47), 10)]
    assert near == ["上海仓库", "北京总部", "Beijing Lab"]
    # "beijing": the lab's name (prefix) and the office's pinyin (prefix) rank alike: the administrator's order
    assert [(h.title, h.grade) for h in match_places(places, "beijing", None, 10)] == [
        ("北京总部", PREFIX), ("Beijing Lab", PREFIX)]
    assert [(h.title, h.grade) for h in match_places(places, "中关村", None, 10)] == [("北京总部", INSIDE)]
    assert [h.title for h in match_places(places, "bjzb", None, 10)] == ["北京总部"]
    assert match_places(places, "", None, 2)[-1].title == "上海仓库"


@pytest.mark.parametrize(("raw", "ok"), [
    ("31.2,121.4", (31.2, 121.4)), ("-90,180", (-90.0, 180.0)), ("", None), (None, None),
    ("91,0", ValueError), ("0,181", ValueError), ("nan,0", ValueError), ("1", ValueError), ("a,b", ValueError),
])
def test_parse_near(raw: str | None, ok: object) -> None:
    if ok is ValueError:
        with pytest.raises(ValueError):
            parse_near(raw)
    else:
        assert parse_near(raw) == ok
