"""Bad HTTP input never reaches SQL unchecked (issue 8, section 4).

Attacks, over real HTTP against `semot serve` on SQLite and on PostgreSQL (which is the
stricter one: NUL in text and integers past int64 fail there): integers past 2^63 in
query strings and JSON bodies, NUL in every string (query, path, body), huge strings,
LIKE wildcards in search terms. Every reply must be a JSON error with a 4xx status
(never a 500), and the server log must hold no traceback.

The sweep takes every operation from the server's own /openapi.json and attacks each
of its parameters in turn, the others being valid, so a new route is covered the day
it is added (and one the document forgets fails the test).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from semot import __version__
from semot.api import (
    admin_api,
    admin_groups_api,
    admin_logs_api,
    admin_recall_api,
    admin_roles_api,
    apps_api,
    audit_log_api,
    auth_methods_api,
    client_api,
    client_config_api,
    contacts_api,
    cs_admin_api,
    cs_api,
    dashboard_api,
    devtools_api,
    directory_api,
    files_api,
    geo_api,
    groups_api,
    import_api,
    ldap_api,
    moderation_api,
    oidc_api,
    org_admin_api,
    org_admin_extra_api,
    presence_api,
    profile_api,
    retention_api,
    search_api,
    sensitive_api,
    server_api,
    server_api_keys,
    server_groups_api,
    set_password_api,
    webhooks_api,
)
from semot.api.routing import RouteTable
from tests.hardening.http_support import (
    RawHttp,
    Reply,
    ServerProcess,
    assert_log_clean,
    server_log,
    start_backend,
)
from tests.integration.harness import PASSWORD, unique

# --------------------------------------------------------------------------- the world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from start_backend(request.param, tmp_path_factory.mktemp(request.param) / "data")


@dataclass
class World:
    """Valid values for every path parameter, and a token for each kind of route."""

    server: ServerProcess
    user: str
    token: str
    admin_token: str
    peer: str
    path_values: dict[str, str] = field(default_factory=dict)
    server_key: str = ""  # a server API key (/api/server/v1, api/server_api.py)


async def _build_world(server: ServerProcess) -> World:
    async with aiohttp.ClientSession() as session:
        http = RawHttp(session, server)

        async def account(prefix: str) -> tuple[str, str]:
            name = unique(prefix)
            r = await http.call("POST", "/api/v1/auth/register", {"username": name, "password": PASSWORD})
            assert r.status == 201, r.text
            r = await http.call("POST", "/api/v1/auth/login", {"username": name, "password": PASSWORD})
            assert r.status == 200, r.text
            return r.body["user_id"], r.body["access_token"]

        me, token = await account("me")
        peer, peer_token = await account("peer")
        admin_name = unique("admin")
        await asyncio.to_thread(server.create_admin, admin_name)
        r = await http.call("POST", "/api/v1/auth/login", {"username": admin_name, "password": PASSWORD})
        admin_token = r.body["access_token"]

        r = await http.call("POST", "/api/v1/groups", {"name": "Sweep", "members": [peer]}, token=token)
        group_id = r.body["group_id"]
        r = await http.call("PATCH", "/api/v1/me/settings", {"friend_approval": False}, token=peer_token)
        r = await http.call("POST", "/api/v1/friends/requests", {"user_id": peer}, token=token)
        assert r.body["status"] == "friends", r.text
        r = await http.call("POST", "/api/v1/contacts/tags", {"name": "sweep", "members": [peer]}, token=token)
        tag_id = r.body["tag_id"]
        r = await http.call("POST", "/api/admin/v1/departments", {"name": "Sweep dept"}, token=admin_token)
        dept_id = r.body["department_id"]
        r = await http.call("PUT", f"/api/admin/v1/departments/{dept_id}/members/{peer}", {"title": "x"}, token=admin_token)
        r = await http.call("POST", "/api/admin/v1/roles", {"name": "Sweep role", "perms": ["org.view"]}, token=admin_token)
        role_id = r.body["role_id"]
        r = await http.call("POST", "/api/admin/v1/api-keys", {"name": "Sweep key"}, token=admin_token)
        server_key, key_id = r.body["key"], r.body["key_id"]
        lo, hi = sorted((me, peer), key=str.encode)
        conv = f"d:{lo}:{hi}"
    return World(
        server, me, token, admin_token, peer,
        {"group_id": group_id, "user_id": peer, "tag_id": tag_id, "department_id": dept_id, "conv": conv,
         "request_id": "0123456789abcdef", "role_id": role_id, "key_id": key_id},
        server_key,
    )


@pytest.fixture(scope="module")
def world(backend: ServerProcess) -> World:
    return asyncio.run(_build_world(backend))


@pytest.fixture
async def http(world: World) -> AsyncIterator[RawHttp]:
    async with aiohttp.ClientSession() as session:
        yield RawHttp(session, world.server)


def _operations() -> list[tuple[str, str]]:
    table = RouteTable()
    for part in (
        client_api, groups_api, contacts_api, presence_api, admin_api, directory_api, org_admin_api, files_api,
        profile_api, admin_groups_api, org_admin_extra_api, admin_roles_api, audit_log_api, client_config_api,
        devtools_api, admin_logs_api, dashboard_api, set_password_api, import_api,
        admin_recall_api, retention_api, search_api, sensitive_api, moderation_api, webhooks_api,
        server_api, server_api_keys, server_groups_api,
        apps_api,
        ldap_api,
        cs_api, cs_admin_api,
        oidc_api, auth_methods_api,
        geo_api,
    ):
        table.routes.extend(part.routes().routes)
    return [(r.method, r.path) for r in table.routes]


OPERATIONS = _operations()


# --------------------------------------------------------------------------- attack values

# integers no column can hold (SQLite and PostgreSQL stop at 2^63-1) and other non-integers
BAD_QUERY_INTS = [
    "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1" + "0" * 40,
    "-1", "1e3", "0x10", "1.5", "%00", "5%005", "abc", "9" * 4000,
]
BAD_QUERY_STRINGS = ["%00", "a%00b"]  # and one character more than the declared maxLength
ODD_QUERY_STRINGS = ["%25", "_", "%5C", "%25%25", "%FF%FE", "%ED%A0%80", "x" * 4000]  # valid or not: never a 500
BAD_PATH = ["%00", "a%00b", "x" * 3000]
ODD_PATH = ["%FF", "%ED%A0%80", "..", "%2F", "%25", "_"]
BAD_BODY_INTS: list[Any] = [2**63, -(2**63) - 1, 2**64, 10**40, 2**53 + 1, -(2**53) - 2, 1.5, 1e308, "1", True]
BAD_BODY_STRINGS: list[Any] = ["a\x00b", "\x00", "x" * 200_000, 2**64, ["a\x00"]]
ODD_BODY_STRINGS: list[Any] = ["", " ", "%", "_", "\\", "\u202e", "\U0001d518" * 10]  # valid or not: never a 500
NOT_OBJECTS = [b"[]", b"null", b"1", b'"x"', b"{", b"", b"\xff\xfe", b'{"a":1}{"b":2}']


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _kind(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """integer, string, boolean, array, object or other, looking through Optional[...]."""
    schema = _resolve(spec, schema)
    for alt in schema.get("anyOf", []):
        alt = _resolve(spec, alt)
        if alt.get("type") not in (None, "null"):
            return _kind(spec, alt)
    if "enum" in schema or "const" in schema:
        return "enum"
    return str(schema.get("type", "other"))


def _valid(spec: dict[str, Any], schema: dict[str, Any], name: str, world: World) -> Any:
    """A plausible valid value, so that the attacked field is the one that matters."""
    schema = _resolve(spec, schema)
    for alt in schema.get("anyOf", []):
        alt = _resolve(spec, alt)
        if alt.get("type") != "null":
            return _valid(spec, alt, name, world)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return 1
    if kind == "boolean":
        return False  # never switches anything on (admin, disabled)
    if kind == "array":
        return [world.peer] if "user" in name or name == "members" else []
    if kind == "object":
        props = schema.get("properties")
        if props is None:
            return {}
        return {k: _valid(spec, v, k, world) for k, v in props.items() if k in schema.get("required", [])}
    if name in ("user_id",):
        return world.peer
    if name == "username":
        return unique("sw")
    if name == "password":
        return PASSWORD
    return "sweep"


def _body_schema(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    rb = op.get("requestBody")
    if rb is None or "application/json" not in rb["content"]:
        return None  # no body, or raw bytes (tus PATCH): nothing to attack field by field
    return _resolve(spec, rb["content"]["application/json"]["schema"])


async def _spec(http: RawHttp) -> dict[str, Any]:
    r = await http.call("GET", "/openapi.json")
    assert r.status == 200
    return r.body  # type: ignore[no-any-return]


def _fill(path: str, values: dict[str, str], override: dict[str, str] | None = None) -> str:
    out = path
    for name, value in {**values, **(override or {})}.items():
        out = out.replace("{" + name + "}", value if override and name in override else quote(value, safe=""))
    return out


def _token(world: World, path: str, op: dict[str, Any]) -> str | None:
    if not op.get("security"):
        return None
    if path.startswith("/api/server/"):
        return world.server_key
    return world.admin_token if path.startswith("/api/admin/") else world.token


def _must_be_error(r: Reply, what: str) -> None:
    assert 400 <= r.status < 500, f"{what}: HTTP {r.status} {r.text[:300]}"
    if what.startswith("HEAD "):
        return  # a reply to HEAD has no body (RFC 9110): the status is the answer (tus HEAD)
    assert r.error_code() is not None and r.body["error"].get("message"), f"{what}: not a JSON error: {r.text[:300]}"


def _not_a_crash(r: Reply, what: str) -> None:
    assert r.status < 500, f"{what}: HTTP {r.status} {r.text[:300]}"
    if r.status >= 400:
        _must_be_error(r, what)


# --------------------------------------------------------------------------- the sweep


async def test_openapi_lists_every_route(http: RawHttp) -> None:
    spec = await _spec(http)
    served = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert served == set(OPERATIONS), f"routes the sweep does not attack (add their module to _operations): {served - set(OPERATIONS)}"
    # every query parameter a handler reads is declared with its real type and bounds
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                if p["in"] == "query" and p["schema"]["type"] == "integer":
                    assert "maximum" in p["schema"] and "minimum" in p["schema"], (method, path, p)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_sweep(method: str, path: str, world: World, http: RawHttp) -> None:
    spec = await _spec(http)
    op = spec["paths"][path][method.lower()]
    token = _token(world, path, op)
    start = len(server_log(world.server))
    params = op.get("parameters", [])
    schema = _body_schema(spec, op)
    body = _valid(spec, schema, "", world) if schema is not None else None
    if path == "/api/v1/auth/register":
        body = {"username": unique("sw"), "password": PASSWORD}
    if path == "/api/v1/auth/logout":  # a login of its own: a logout may end the one it runs in
        name = unique("lo")
        await http.call("POST", "/api/v1/auth/register", {"username": name, "password": PASSWORD})
        token = (await http.call("POST", "/api/v1/auth/login", {"username": name, "password": PASSWORD})).body["access_token"]

    def url(override: dict[str, str] | None = None, query: str = "") -> str:
        return _fill(path, world.path_values, override) + (f"?{query}" if query else "")

    async def send(u: str, b: Any = body, raw: bytes | None = None) -> Reply:
        return await http.call(method, u, b, token=token, raw=raw)

    for p in params:
        name = p["name"]
        if p["in"] == "path":
            for bad in BAD_PATH:
                _must_be_error(await send(url({name: bad})), f"{method} {path} path {name}={bad[:20]}")
            for odd in ODD_PATH:
                _not_a_crash(await send(url({name: odd})), f"{method} {path} path {name}={odd}")
        elif p["schema"]["type"] == "integer":
            for bad in BAD_QUERY_INTS:
                if bad == "-1" and p["schema"]["minimum"] < 0:
                    continue  # a parameter that may be negative (a time zone's offset)
                _must_be_error(await send(url(query=f"{name}={bad}")), f"{method} {path} ?{name}={bad[:20]}")
        else:
            too_long = "x" * (p["schema"]["maxLength"] + 1)
            for bad in [*BAD_QUERY_STRINGS, *([too_long] if len(too_long) < 7000 else [])]:
                _must_be_error(await send(url(query=f"{name}={bad}")), f"{method} {path} ?{name}={bad[:20]}")
            for odd in ODD_QUERY_STRINGS:
                _not_a_crash(await send(url(query=f"{name}={odd}")), f"{method} {path} ?{name}={odd[:20]}")
    # NUL anywhere in a query string, even in a parameter nobody reads
    _must_be_error(await send(url(query="zz=%00")), f"{method} {path} ?zz=%00")

    if schema is not None:
        for prop, prop_schema in schema.get("properties", {}).items():
            kind = _kind(spec, prop_schema)
            if kind == "integer":
                attacks = BAD_BODY_INTS
            elif kind in ("string", "enum", "array"):
                attacks = BAD_BODY_STRINGS
            elif kind == "object":
                attacks = [{"k": "\x00"}, {"\x00": 1}, {"k": 2**64}]
            else:
                attacks = ["\x00", 2**64]
            for bad in attacks:
                raw = json.dumps({**body, prop: bad}).encode()  # stdlib: integers of any size
                _must_be_error(await send(url(), raw=raw), f"{method} {path} body {prop}={str(bad)[:20]}")
            if kind in ("string", "array"):
                for odd in ODD_BODY_STRINGS:
                    value = [odd] if kind == "array" else odd
                    r = await send(url(), raw=json.dumps({**body, prop: value}).encode())
                    _not_a_crash(r, f"{method} {path} body {prop}={odd!r}")
        for raw in NOT_OBJECTS:
            _must_be_error(await send(url(), raw=raw), f"{method} {path} body {raw!r}")
        # a NUL in a key, deep nesting of a NUL, a lone surrogate
        for raw in (
            json.dumps({**body, "\x00": 1}).encode(),
            json.dumps({**body, "zz": [[{"a": "\x00"}]]}).encode(),
            json.dumps(body)[:-1].encode() + (b', "zz": "\\ud800"}' if body else b'"zz": "\\ud800"}'),
        ):
            _must_be_error(await send(url(), raw=raw), f"{method} {path} raw {raw[-30:]!r}")
    assert_log_clean(world.server, start)


# --------------------------------------------------------------------------- the findings, one by one


async def test_history_bounds(world: World, http: RawHttp) -> None:
    """`after`/`before` of history past 2^63: was a 500 (SQLite OverflowError, PG int64)."""
    start = len(server_log(world.server))
    base = f"/api/v1/conversations/{world.path_values['conv']}/messages"
    for q in ("after=9223372036854775808", "before=9223372036854775808", "after=99999999999999999999",
              "limit=9223372036854775808", "after=9007199254740993"):
        r = await http.call("GET", f"{base}?{q}", token=world.token)
        assert r.status == 400 and r.error_code() == "bad_request", (q, r.text)
    r = await http.call("GET", f"{base}?after=9007199254740991", token=world.token)  # 2^53-1 is fine
    assert r.status == 200 and r.body == {"messages": [], "more": False}
    assert_log_clean(world.server, start)


async def test_directory_and_admin_offsets(world: World, http: RawHttp) -> None:
    start = len(server_log(world.server))
    dept = world.path_values["department_id"]
    for path, token in (
        (f"/api/v1/directory/departments/{dept}/members", world.token),
        (f"/api/admin/v1/departments/{dept}/members", world.admin_token),
    ):
        for q in ("offset=9223372036854775808", "offset=9223372036854775807", "offset=-1", "limit=1000"):
            r = await http.call("GET", f"{path}?{q}", token=token)
            assert r.status == 400 and r.error_code() == "bad_request", (path, q, r.text)
        r = await http.call("GET", f"{path}?offset=1000000", token=token)  # past the end: an empty page
        assert r.status == 200 and r.body["members"] == [] and r.body["more"] is False
    assert_log_clean(world.server, start)


async def test_mute_until_bounds(world: World, http: RawHttp) -> None:
    start = len(server_log(world.server))
    gid, peer = world.path_values["group_id"], world.peer
    for until in (2**63, 2**64, 10**30, 2**53 + 1):
        r = await http.call("PUT", f"/api/v1/groups/{gid}/members/{peer}/mute", raw=json.dumps({"until": until}).encode(),
                            token=world.token)
        assert r.status == 400 and r.error_code() == "bad_request", (until, r.text)
    assert_log_clean(world.server, start)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/groups", {"name": "evil\x00group", "members": []}),
        ("PATCH", "/api/v1/groups/{group_id}", {"name": "evil\x00"}),
        ("PATCH", "/api/v1/groups/{group_id}", {"announcement": "a\x00b"}),
        ("POST", "/api/v1/contacts/tags", {"name": "t\x00g", "members": []}),
        ("POST", "/api/v1/auth/register", {"username": "nul_user", "password": PASSWORD, "display_name": "N\x00L"}),
        ("POST", "/api/v1/auth/login", {"username": "ad\x00min", "password": PASSWORD}),
        ("POST", "/api/v1/friends/requests", {"user_id": "{user_id}", "message": "hi\x00"}),
        ("PATCH", "/api/v1/friends/{user_id}", {"remark": "r\x00"}),
        ("PUT", "/api/v1/me/presence", {"status": "busy", "text": "\x00"}),
        ("POST", "/api/admin/v1/departments", {"name": "D\x00"}),
    ],
)
async def test_nul_in_json_strings(method: str, path: str, body: dict[str, Any], world: World, http: RawHttp) -> None:
    """NUL in names, texts, usernames: was a 500 on PostgreSQL (text cannot hold it)."""
    start = len(server_log(world.server))
    body = {k: (world.peer if v == "{user_id}" else v) for k, v in body.items()}
    token = world.admin_token if path.startswith("/api/admin/") else world.token
    r = await http.call(method, _fill(path, world.path_values), body, token=token)
    assert r.status == 400 and r.error_code() == "bad_request", r.text
    assert "NUL" in r.body["error"]["message"] or "null character" in r.body["error"]["message"], r.text
    assert_log_clean(world.server, start)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/groups/search?q=a%00b",
        "/api/v1/directory/search?q=%00",
        "/api/v1/users?ids=a%00b",
        "/api/v1/presence?users=a%00b",
        "/api/v1/groups/{group_id}/members?after=%00",
        "/api/v1/directory/departments?parent=%00",
        "/api/v1/users/a%00b",
        "/api/v1/friends/requests/a%00b",
        "/api/v1/conversations/d:a%00:b/messages",
    ],
)
async def test_nul_in_query_and_path(path: str, world: World, http: RawHttp) -> None:
    start = len(server_log(world.server))
    method = "POST" if "/friends/requests/" in path else "GET"
    body = {"action": "decline"} if method == "POST" else None
    r = await http.call(method, _fill(path, world.path_values), body, token=world.token)
    assert r.status == 400 and r.error_code() == "bad_request", r.text
    assert_log_clean(world.server, start)


async def test_search_terms_huge_and_wildcards(world: World, http: RawHttp) -> None:
    """A 1 MB search term is refused before any query; `%` and `_` match themselves."""
    start = len(server_log(world.server))
    r = await http.call("GET", "/api/v1/directory/search?q=" + "x" * 7000, token=world.token)
    assert r.status == 400 and r.error_code() == "bad_request", r.text
    # past the HTTP parser's 8 KiB request line: refused before any route runs, as a JSON error all the same
    r = await http.call("GET", "/api/v1/groups/search?q=" + "x" * 1_000_000, token=world.token)
    assert r.status == 400 and r.error_code() == "bad_request", r.text[:200]
    for q, text in (("%25", "%"), ("_", "_"), ("%25%25", "%%"), ("%5C", "\\"), ("a_b", "a_b")):
        for path in ("/api/v1/groups/search", "/api/v1/directory/search"):
            r = await http.call("GET", f"{path}?q={q}", token=world.token)
            assert r.status == 200, (path, q, r.text)
            found = r.body.get("groups", r.body.get("results"))
            for hit in found:  # a wildcard matches itself only, never everything
                assert any(text in str(hit.get(k, "")).lower() for k in ("name", "username", "display_name")), (q, hit)
    assert_log_clean(world.server, start)


async def test_openapi_is_truthful_about_bounds(http: RawHttp) -> None:
    spec = await _spec(http)
    history = spec["paths"]["/api/v1/conversations/{conv}/messages"]["get"]["parameters"]
    after = next(p for p in history if p["name"] == "after")
    assert after["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
    search = spec["paths"]["/api/v1/groups/search"]["get"]["parameters"]
    assert next(p for p in search if p["name"] == "q")["schema"]["type"] == "string"
    mute = spec["components"]["schemas"]["MuteIn"]["properties"]["until"]
    assert any(alt.get("maximum") == 2**53 - 1 for alt in mute.get("anyOf", [mute])), mute
    assert __version__ == spec["info"]["version"]



@pytest.mark.parametrize(
    "path", ["/web/a%00b", "/web/%00", "/%00", "/docs/static/a%00b", "/sdk/semot.js%00", "/api/v1/%00", "/healthz%00"]
)
async def test_nul_outside_the_api(path: str, world: World, http: RawHttp) -> None:
    """The web client's files and the API docs take a path too: a NUL there is a 4xx."""
    start = len(server_log(world.server))
    r = await http.call("GET", path)
    assert 400 <= r.status < 500, (path, r.status, r.text[:200])
    assert_log_clean(world.server, start)


async def test_ids_with_a_trailing_newline_are_not_ids(world: World, http: RawHttp) -> None:
    """`^...$` let "bob\\n" pass as an id (Python's `$` matches before a final newline)."""
    conv = world.path_values["conv"]
    r = await http.call("GET", f"/api/v1/conversations/{conv}%0A/messages", token=world.token)
    assert r.status == 400 and r.error_code() == "bad_request", r.text
    r = await http.call("POST", "/api/v1/groups", {"name": "nl", "members": [world.peer + "\n"]}, token=world.token)
    assert r.status == 400 and r.error_code() == "bad_request", r.text


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x00b\r\n\r\n",
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 20000 + b"\r\n\r\n",
        b"GET /api/v1/groups/search?q=" + b"x" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/v1/me\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["nul-header", "huge-header", "huge-line", "nul-line"],
)
async def test_malformed_requests_are_refused_without_a_traceback(request_bytes: bytes, world: World) -> None:
    """What the HTTP parser refuses (before any route) is a 400 and one log line, not a traceback."""
    start = len(server_log(world.server))
    reader, writer = await asyncio.open_connection("127.0.0.1", world.server.port)
    try:
        writer.write(request_bytes)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    assert status_line.split()[1:2] == [b"400"], status_line
    assert_log_clean(world.server, start)
