"""CORS over real HTTP (api/cors.py, docs/integration.md "Cross-origin (CORS)"): the client
API and the JS SDK answer the origins in `cors_origins` and the ones a dynamic source
names, never with credentials (the refresh cookie stays out of reach); preflights are answered with the methods, the headers
(Authorization included) and a max-age; every answer in scope says `Vary: Origin`; any
other origin gets no CORS headers (a preflight from it a 403); the server API and the
admin API never answer cross-origin, whatever the origin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDictProxy

from semot.api.cors import Cors
from tests.hardening.ws_support import assert_clean_log, run_backend
from tests.integration.harness import ServerProcess

SHOP = "https://shop.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_CORS_ORIGINS": f"{SHOP},http://127.0.0.1:1", "SEMOT_CORS_MAX_AGE_S": "900"}
    for srv in run_backend("sqlite", tmp_path_factory.mktemp("cors") / "data", env):
        yield srv
        assert_clean_log(srv)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def vary(headers: CIMultiDictProxy[str]) -> set[str]:
    return {v.strip().lower() for h in headers.getall("Vary", []) for v in h.split(",")}


async def preflight(http: aiohttp.ClientSession, url: str, origin: str, method: str = "POST",
                    headers: str = "authorization, content-type") -> aiohttp.ClientResponse:
    async with http.options(url, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                          "Access-Control-Request-Headers": headers}) as resp:
        await resp.read()
        return resp


async def test_client_api_and_sdk_answer_listed_origins(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    base = server.base_url
    # the preflight of a login with a JSON body and of a call with a bearer token
    resp = await preflight(http, base + "/api/v1/auth/login", SHOP)
    assert resp.status == 204
    h = resp.headers
    assert h["Access-Control-Allow-Origin"] == SHOP and "Access-Control-Allow-Credentials" not in h
    assert {"POST", "GET", "PUT", "PATCH", "DELETE"} <= {m.strip() for m in h["Access-Control-Allow-Methods"].split(",")}
    allowed = {x.strip().lower() for x in h["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "tus-resumable", "upload-offset"} <= allowed
    assert h["Access-Control-Max-Age"] == "900"
    assert "origin" in vary(h)
    # a tus upload's preflight
    resp = await preflight(http, base + "/api/v1/files/", SHOP, "PATCH", "tus-resumable, upload-offset, content-type")
    assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == SHOP

    # the answers themselves: readable by the listed origin, errors included, with tus/download headers exposed
    for path, status in (("/api/v1/client-config", 200), ("/api/v1/me", 401), ("/sdk/semot.js", 200)):
        async with http.get(base + path, headers={"Origin": SHOP}) as r:
            assert r.status == status, path
            assert r.headers["Access-Control-Allow-Origin"] == SHOP, path
            assert "Access-Control-Allow-Credentials" not in r.headers, path
            assert "upload-offset" in r.headers["Access-Control-Expose-Headers"].lower(), path
            assert "origin" in vary(r.headers), path
    async with http.post(base + "/api/v1/auth/login", json={"username": "nobody1", "password": "wrong-password"},
                         headers={"Origin": SHOP}) as r:
        assert r.status == 401 and r.headers["Access-Control-Allow-Origin"] == SHOP
        assert "Access-Control-Allow-Credentials" not in r.headers
    # the cookie-mode refresh: readable by no script of another origin, even a listed one
    # (a browser sends the refresh cookie, and hands the answer over, only with credentials)
    resp = await preflight(http, base + "/api/v1/auth/refresh", SHOP, "POST", "content-type")
    assert resp.status == 204 and "Access-Control-Allow-Credentials" not in resp.headers
    async with http.post(base + "/api/v1/auth/refresh", json={}, headers={"Origin": SHOP}) as r:
        assert "Access-Control-Allow-Credentials" not in r.headers


async def test_other_origins_and_other_apis_get_nothing(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    base = server.base_url
    # an origin nobody listed: its preflight refused, its answers without CORS headers (but with Vary)
    resp = await preflight(http, base + "/api/v1/auth/login", EVIL)
    assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers
    assert "origin" in vary(resp.headers)
    for origin in (EVIL, "null", SHOP + ".evil.net", "http://shop.example.com", SHOP + ":444"):
        async with http.get(base + "/api/v1/client-config", headers={"Origin": origin}) as r:
            assert r.status == 200
            assert "Access-Control-Allow-Origin" not in r.headers, origin
            assert "Access-Control-Allow-Credentials" not in r.headers, origin
            assert "origin" in vary(r.headers)
    # a method outside the list is refused at the preflight
    resp = await preflight(http, base + "/api/v1/me", SHOP, "TRACE")
    assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers
    # the server API and the admin API: never, not even for a listed origin (preflight or request)
    for path in ("/api/server/v1/users/u1/presence", "/api/admin/v1/users", "/healthz", "/metrics", "/admin/"):
        resp = await preflight(http, base + path, SHOP, "GET")
        assert "Access-Control-Allow-Origin" not in resp.headers, path
        assert resp.status in (404, 405), (path, resp.status)
        async with http.get(base + path, headers={"Origin": SHOP, "Authorization": "Bearer x"}) as r:
            assert "Access-Control-Allow-Origin" not in r.headers, path
            assert "Access-Control-Allow-Credentials" not in r.headers, path
    # same-origin requests (no Origin header) are as before: no CORS headers at all
    async with http.get(base + "/api/v1/client-config") as r:
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_dynamic_sources_and_wildcard() -> None:
    """`add_source` (the customer-service widget's origins): allowed, never with credentials,
    gone once removed; `*`: any origin, without credentials."""
    widget_origins = {"https://widget-host.example.org"}
    cors = Cors([SHOP], max_age_s=60)
    remove = cors.add_source(lambda: widget_origins)

    async def ping(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[cors.middleware()])
    cors.install(app)
    app.router.add_get("/api/v1/ping", ping)
    async with TestServer(app) as ts, aiohttp.ClientSession() as http:
        url = str(ts.make_url("/api/v1/ping"))
        origin = "https://WIDGET-host.example.org"
        async with http.get(url, headers={"Origin": origin}) as r:
            assert r.headers["Access-Control-Allow-Origin"] == origin
            assert "Access-Control-Allow-Credentials" not in r.headers
        resp = await preflight(http, url, origin, "GET")
        assert resp.status == 204 and "Access-Control-Allow-Credentials" not in resp.headers
        assert resp.headers["Access-Control-Max-Age"] == "60"
        widget_origins.add("https://second.example.org")  # asked at every request: a change applies at once
        async with http.get(url, headers={"Origin": "https://second.example.org"}) as r:
            assert r.headers["Access-Control-Allow-Origin"] == "https://second.example.org"
        remove()
        async with http.get(url, headers={"Origin": origin}) as r:
            assert "Access-Control-Allow-Origin" not in r.headers
        async with http.get(url, headers={"Origin": SHOP}) as r:
            assert r.headers["Access-Control-Allow-Origin"] == SHOP
            assert "Access-Control-Allow-Credentials" not in r.headers

    anyone = Cors(["*"])
    assert anyone.check("https://whoever.example.com") is True
