"""Place search for the location picker over real HTTP (issue 11; docs/protocol.md,
"Place search"): the organisation's places an administrator sets in the client
configuration come first and change live, then the offline gazetteer's cities found by
Chinese name, English name or pinyin, then a Nominatim-compatible geocoder when one is
configured (here a small HTTP server on loopback speaking Nominatim's /search JSON: a
real Nominatim needs an OpenStreetMap import), which may fail or time out without
failing the search. Bad input, no token and too many searches are refused."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.hardening.ws_support import assert_clean_log, run_backend
from tests.integration.harness import Account, Api, ServerProcess
from tests.integration_api.support import A, admin

PLACES = [
    {"name": "北京总部", "address": "北京市海淀区中关村大街1号", "lat": 39.98, "lng": 116.31},
    {"name": "上海浦东仓库", "address": "上海市浦东新区张江路88号", "lat": 31.20, "lng": 121.59},
    {"name": "Shenzhen R&D", "address": "Nanshan, Shenzhen", "lat": 22.54, "lng": 113.95},
]


class _Nominatim(BaseHTTPRequestHandler):
    """Nominatim's /search: `q`, `format=jsonv2`, `limit`, `accept-language` in; a JSON list out."""

    seen: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        type(self).seen.append(query)
        q = query.get("q", [""])[0]
        if q == "slowroad":
            time.sleep(3)  # past the server's 1 s timeout
        if q == "redirected":  # a geocoder's redirect is not followed (it could point anywhere)
            self.send_response(302)
            self.send_header("Location", "/search?q=lujiazui&format=jsonv2")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if q == "deepnest":  # nested past the JSON parser's recursion limit
            body = b"[" * 200_000 + b"]" * 200_000
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        rows: list[dict[str, Any]] = []
        if q.lower().startswith("lujiazui"):
            rows = [{"lat": "31.2397", "lon": "121.4998", "name": "陆家嘴",
                     "display_name": "陆家嘴, 浦东新区, 上海市, 中国"},
                    {"lat": "not a number", "lon": "1", "display_name": "dropped"}]
        body = json.dumps(rows).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def geocoder() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Nominatim)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/search"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, geocoder: str) -> Iterator[ServerProcess]:
    env = {"SEMOT_GEOCODER_URL": geocoder, "SEMOT_GEOCODER_TIMEOUT_S": "1"}
    for srv in run_backend("sqlite", tmp_path_factory.mktemp("geo") / "data", env):
        yield srv
        assert_clean_log(srv)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        yield Api(session)


async def _search(api: Api, server: ServerProcess, who: Account, **params: str) -> tuple[int, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return await api.call(server, "GET", f"/api/v1/geo/search?{query}", token=who.access_token)


def _titles(body: Any) -> list[tuple[str, str]]:
    return [(r["kind"], r["title"]) for r in body["results"]]


async def test_places_first_then_cities_by_name_and_pinyin(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    user = await api.account(server, "geo")
    status, body = await api.call(server, "PUT", f"{A}/client-config", {"places": PLACES}, token=boss.access_token)
    assert status == 200, body
    # the places stay out of the public configuration (nobody signed out sees the offices)
    status, public = await api.call(server, "GET", "/api/v1/client-config")
    assert status == 200 and "places" not in public

    # an empty query lists the places, nearest first with `near` (and starts the gazetteer)
    status, body = await _search(api, server, user, q="", near="31.23,121.47")
    assert status == 200, body
    assert [r["title"] for r in body["results"]] == ["上海浦东仓库", "北京总部", "Shenzhen R&D"]  # 12 km, 1,070 km, 1,210 km
    assert body["geocoder"] == "skipped"
    assert 10_000 < body["results"][0]["distance_m"] < 20_000

    # Chinese, English and pinyin all find the office first and then the city of Beijing
    status, body = await _search(api, server, user, q="北京", lang="zh")
    assert status == 200, body
    assert _titles(body)[:2] == [("place", "北京总部"), ("city", "北京")]
    city = body["results"][1]
    assert city["country"] == "CN" and city["address"] == "中国" and city["population"] > 10_000_000
    assert abs(city["lat"] - 39.9) < 0.2 and abs(city["lng"] - 116.4) < 0.2
    status, body = await _search(api, server, user, q="Beijing")
    assert _titles(body)[:2] == [("place", "北京总部"), ("city", "Beijing")], body
    assert body["results"][1]["address"] == "China"
    status, body = await _search(api, server, user, q="beijing", lang="zh")
    assert _titles(body)[:2] == [("place", "北京总部"), ("city", "北京")], body
    status, body = await _search(api, server, user, q="Pékin")  # accents folded: Pekin, the French name
    assert ("city", "Beijing") in _titles(body), body
    status, body = await _search(api, server, user, q="bjzb")  # the office's pinyin initials
    assert _titles(body)[0] == ("place", "北京总部"), body
    status, body = await _search(api, server, user, q="仓库")  # inside the name
    assert _titles(body) == [("place", "上海浦东仓库")], body
    status, body = await _search(api, server, user, q="张江")  # inside the address
    assert _titles(body)[0] == ("place", "上海浦东仓库"), body
    status, body = await _search(api, server, user, q="shanghai", limit="3")
    assert len(body["results"]) == 3 and ("city", "Shanghai") in _titles(body), body
    status, body = await _search(api, server, user, q="zzzqqxx")
    assert status == 200 and body["results"] == [], body

    # a change of the configuration is live: a removed place is no longer found
    status, body = await api.call(server, "PUT", f"{A}/client-config", {"places": PLACES[1:]}, token=boss.access_token)
    assert status == 200, body
    status, body = await _search(api, server, user, q="北京", lang="zh")
    assert _titles(body)[0] == ("city", "北京"), body
    status, view = await api.call(server, "GET", f"{A}/client-config", token=boss.access_token)
    assert [p["name"] for p in view["config"]["places"]] == ["上海浦东仓库", "Shenzhen R&D"]


async def test_geocoder_answers_fails_and_times_out(server: ServerProcess, api: Api) -> None:
    user = await api.account(server, "geo")
    _Nominatim.seen.clear()
    status, body = await _search(api, server, user, q="lujiazui", lang="zh")
    assert status == 200, body
    assert body["geocoder"] == "ok"
    got = [r for r in body["results"] if r["kind"] == "geocoder"]
    assert got == [{"kind": "geocoder", "title": "陆家嘴", "address": "陆家嘴, 浦东新区, 上海市, 中国",
                    "lat": 31.2397, "lng": 121.4998}]
    assert _Nominatim.seen[-1]["format"] == ["jsonv2"] and _Nominatim.seen[-1]["accept-language"] == ["zh"]

    started = time.monotonic()
    status, body = await _search(api, server, user, q="slowroad")
    assert status == 200 and body["geocoder"] == "failed", body
    assert time.monotonic() - started < 2.9  # the search did not wait for the slow geocoder

    for q in ("redirected", "deepnest"):  # neither followed nor a 500
        status, body = await _search(api, server, user, q=q)
        assert status == 200 and body["geocoder"] == "failed", (q, body)
        assert not [r for r in body["results"] if r["kind"] == "geocoder"], body


async def test_a_failed_gazetteer_build_is_not_retried_by_every_search() -> None:
    """Each build is a child of ~200 MB and seconds of CPU: after a failure the searches go
    on without cities and the build waits BUILD_RETRY_S before it is tried again."""
    from semot.services import geo as geo_service

    calls = 0

    async def failing() -> Any:
        nonlocal calls
        calls += 1
        raise RuntimeError("out of memory")

    service = geo_service.GeoService(lambda: [], loader=failing)
    try:
        for _ in range(3):
            body = await service.search("u1", "Beijing")
            assert body["results"] == []
        assert calls == 1
        service._failed_at = time.monotonic() - geo_service.BUILD_RETRY_S - 1  # later
        await service.search("u1", "Beijing")
        assert calls == 2
    finally:
        await service.close()


async def test_bad_input_no_token_and_rate_limit(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    user = await api.account(server, "geo")
    for params, word in [
        ({"near": "abc"}, "near"), ({"near": "91,0"}, "near"), ({"near": "1,2,3"}, "near"),
        ({"limit": "0"}, "limit"), ({"limit": "31"}, "limit"), ({"lang": "fr"}, "lang"), ({"q": "x" * 101}, "q"),
    ]:
        status, body = await _search(api, server, user, **params)
        assert status == 400 and word in body["error"]["message"], (params, body)
    status, body = await api.call(server, "GET", "/api/v1/geo/search?q=beijing")
    assert status == 401, body

    for places, word in [
        ([{"name": "X", "lat": 91, "lng": 0}], "lat"),
        ([{"name": "X", "lat": 0, "lng": 181}], "lng"),
        ([{"name": " ", "lat": 0, "lng": 0}], "name"),
        ([{"name": "X", "lat": 0}], "lng"),
        ([{"name": f"p{i}", "lat": 0, "lng": 0} for i in range(501)], "places"),
    ]:
        status, body = await api.call(server, "PUT", f"{A}/client-config", {"places": places}, token=boss.access_token)
        assert status == 400 and word in json.dumps(body), (places[:1], body)

    # location messages switched off: nothing to search for
    status, body = await api.call(server, "PUT", f"{A}/client-config", {"features": {"location": False}},
                                  token=boss.access_token)
    assert status == 200, body
    try:
        status, body = await _search(api, server, user, q="beijing")
        assert status == 403 and body["error"]["details"]["feature"] == "location", body
    finally:
        status, body = await api.call(server, "PUT", f"{A}/client-config", {"features": {"location": True}},
                                      token=boss.access_token)
        assert status == 200, body

    # 60 searches a minute per user, then 429 with the wait
    for _ in range(60):
        status, body = await _search(api, server, user, q="")
        assert status == 200, body
    status, body = await _search(api, server, user, q="")
    assert status == 429 and body["error"]["code"] == "rate_limited", body
