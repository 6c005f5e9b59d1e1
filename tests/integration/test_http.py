"""The HTTP API (PROTOCOL.md §3, §5): accounts, groups, history, docs, metrics, admin."""

from __future__ import annotations

from typing import Any

from tests.integration.harness import PASSWORD, Api, Clients, ServerProcess, direct_conv, metric, unique


async def test_register_and_conflict(server: ServerProcess, api: Api) -> None:
    name = unique("reg")
    status, body = await api.call(
        server, "POST", "/api/v1/auth/register", {"username": name, "password": PASSWORD, "display_name": "Reg Istered"}
    )
    assert (status, body) == (201, {"user_id": name})
    status, body = await api.register(server, name, "another-password")
    assert status == 409 and body["error"]["code"] == "conflict" and body["error"]["message"]
    status, body = await api.login(server, name)
    assert status == 200
    status, me = await api.call(server, "GET", "/api/v1/me", token=body["access_token"])
    assert status == 200
    assert (me["user_id"], me["username"], me["display_name"]) == (name, name, "Reg Istered")


async def test_register_bad_bodies(server: ServerProcess, api: Api) -> None:
    bad = [
        {"username": 5, "password": PASSWORD},
        {"username": unique("r")},
        {"username": "has space", "password": PASSWORD},
        {"username": "x", "password": PASSWORD},  # too short
        {"username": unique("r"), "password": "short"},
        {"username": unique("r"), "password": PASSWORD, "admin": True},  # unknown field
        [],
        "just a string",
    ]
    for body in bad:
        status, reply = await api.call(server, "POST", "/api/v1/auth/register", body)
        assert status == 400, (body, reply)
        assert reply["error"]["code"] == "bad_request" and reply["error"]["message"], reply
    for raw in (b"{not json", b""):
        status, reply = await api.call(server, "POST", "/api/v1/auth/register", data=raw)
        assert status == 400 and reply["error"]["code"] == "bad_request", reply


async def test_login_failures(server: ServerProcess, api: Api) -> None:
    a = await api.account(server)
    status, body = await api.login(server, a.user_id, "wrong-password")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await api.login(server, unique("nobody"))
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await api.call(server, "POST", "/api/v1/auth/login", {"username": a.user_id})
    assert status == 400 and body["error"]["code"] == "bad_request"


async def test_login_reply_shape(server: ServerProcess, api: Api) -> None:
    a = await api.account(server)
    status, body = await api.login(server, a.user_id)
    assert status == 200
    assert body["user_id"] == a.user_id
    assert isinstance(body["access_token"], str) and isinstance(body["refresh_token"], str)
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0


async def test_refresh_rotates_and_reuse_revokes_the_family(server: ServerProcess, api: Api, clients: Clients) -> None:
    a = await api.account(server)
    r0 = a.refresh_token
    status, t1 = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": r0})
    assert status == 200, t1
    assert t1["user_id"] == a.user_id and t1["refresh_token"] != r0
    status, me = await api.call(server, "GET", "/api/v1/me", token=t1["access_token"])
    assert status == 200 and me["user_id"] == a.user_id
    status, t2 = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": t1["refresh_token"]})
    assert status == 200 and t2["refresh_token"] not in (r0, t1["refresh_token"])
    # The new access token also opens a WebSocket session.
    ws = await clients.raw(server)
    reply = await ws.request("auth", token=t2["access_token"], device={"id": "r", "platform": "web"})
    assert reply["ok"] and reply["data"]["user_id"] == a.user_id

    # Reusing an already used token fails, and revokes the whole family: the newest dies too.
    status, body = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": r0})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": t2["refresh_token"]})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    # Another login starts a new family that works.
    status, fresh = await api.login(server, a.user_id)
    status, _t3 = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": fresh["refresh_token"]})
    assert status == 200
    # Garbage
    status, body = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": "nope"})
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_me_requires_a_valid_token(server: ServerProcess, api: Api) -> None:
    a = await api.account(server)
    status, me = await api.call(server, "GET", "/api/v1/me", token=a.access_token)
    assert status == 200
    assert me["user_id"] == a.user_id and me["username"] == a.user_id and me["display_name"] == a.user_id
    status, body = await api.call(server, "GET", "/api/v1/me")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await api.call(server, "GET", "/api/v1/me", token="garbage")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await api.call(server, "GET", "/api/v1/me", token=a.refresh_token)  # not an access token
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_create_group(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(server, 3)
    wb = await clients.connect(server, b)
    status, body = await api.call(
        server, "POST", "/api/v1/groups", {"name": "crew", "members": [b.user_id, c.user_id]}, token=a.access_token
    )
    assert status == 201
    gid, conv = body["group_id"], body["conv"]
    assert conv == f"g:{gid}"
    evt = await wb.wait_for(lambda f: f.get("t") == "evt" and f.get("evt") == "group")
    assert evt["group_id"] == gid
    status, body = await api.call(
        server, "POST", "/api/v1/groups", {"name": "crew", "members": [b.user_id, unique("ghost")]}, token=a.access_token
    )
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await api.call(server, "POST", "/api/v1/groups", {"name": "", "members": []}, token=a.access_token)
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body = await api.call(server, "POST", "/api/v1/groups", {"name": "x", "members": ["bad id!"]}, token=a.access_token)
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body = await api.call(server, "POST", "/api/v1/groups", {"name": "x", "members": []})
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_conversation_messages_over_http(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, stranger = await api.accounts(server, 3)
    wa = await clients.connect(server, a)
    acks = [await wa.send_text(b.user_id, f"h{i}") for i in range(5)]
    conv = direct_conv(a.user_id, b.user_id)
    path = f"/api/v1/conversations/{conv}/messages"
    status, body = await api.call(server, "GET", path, token=b.access_token)
    assert status == 200 and body["more"] is False
    assert [(m["seq"], m["mid"], m["body"]["text"]) for m in body["messages"]] == [
        (x["seq"], x["mid"], f"h{i}") for i, x in enumerate(acks)
    ]
    ws_page = await wa.call("history", conv=conv, after=0, limit=50)
    assert body["messages"] == ws_page["messages"], "HTTP and WebSocket history agree"
    status, body = await api.call(server, "GET", path + "?after=1&limit=2", token=a.access_token)
    assert [m["seq"] for m in body["messages"]] == [2, 3] and body["more"] is True
    status, body = await api.call(server, "GET", path + "?before=3", token=a.access_token)
    assert [m["seq"] for m in body["messages"]] == [1, 2] and body["more"] is False

    status, body = await api.call(server, "GET", path, token=stranger.access_token)
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await api.call(server, "GET", path)
    assert status == 401
    for q in ("?limit=0", "?limit=201", "?after=x", "?after=-1", "?after=1&before=3"):
        status, body = await api.call(server, "GET", path + q, token=a.access_token)
        assert status == 400 and body["error"]["code"] == "bad_request", (q, body)
    status, body = await api.call(server, "GET", "/api/v1/conversations/nonsense/messages", token=a.access_token)
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body = await api.call(server, "GET", "/api/v1/conversations/g:no-such-group/messages", token=a.access_token)
    assert status in (403, 404) and body["error"]["code"] in ("forbidden", "not_found")


async def test_ops_endpoints(server: ServerProcess, api: Api, clients: Clients) -> None:
    status, body = await api.call(server, "GET", "/healthz")
    assert status == 200 and body["status"] == "ok"
    status, spec = await api.call(server, "GET", "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/me",
        "/api/v1/groups",
        "/api/v1/conversations/{conv}/messages",
    ):
        assert path in spec["paths"], path
    async with api.session.get(server.base_url + "/docs") as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        html = await resp.text()
    assert "swagger" in html.lower() and "cdn" not in html.lower()
    async with api.session.get(server.base_url + "/docs/static/swagger-ui-bundle.js") as resp:
        assert resp.status == 200  # vendored, not from a CDN

    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    stored_before = await metric(api, server, "semot_messages_stored_total")
    await wa.send_text(b.user_id, "count me")
    assert await metric(api, server, "semot_messages_stored_total") >= stored_before + 1
    status, text = await api.call(server, "GET", "/metrics")
    assert "semot_messages_stored" in text and "semot_connections" in text and "semot_send_ack_seconds" in text


async def test_unknown_route_is_a_json_error(server: ServerProcess, api: Api) -> None:
    status, body = await api.call(server, "GET", "/api/v1/no-such-thing")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await api.call(server, "DELETE", "/api/v1/me")
    assert status == 405 and isinstance(body, dict) and "error" in body


async def test_disabled_user_is_disconnected_and_cannot_log_in(server: ServerProcess, api: Api, clients: Clients) -> None:
    admin_name = unique("admin")
    server.create_admin(admin_name)
    status, admin = await api.login(server, admin_name)
    assert status == 200
    victim, friend = await api.accounts(server, 2)
    v1 = await clients.connect(server, victim, "v-phone")
    v2 = await clients.connect(server, victim, "v-web")
    wf = await clients.connect(server, friend)

    # Only administrators may do this.
    status, body = await api.call(
        server, "PATCH", f"/api/admin/v1/users/{victim.user_id}", {"disabled": True}, token=friend.access_token
    )
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await api.call(
        server, "PATCH", f"/api/admin/v1/users/{victim.user_id}", {"disabled": True}, token=admin["access_token"]
    )
    assert status == 200 and body["disabled"] is True
    assert await v1.wait_closed() == 1008
    assert await v2.wait_closed() == 1008
    assert not wf.closed.is_set()

    status, body = await api.login(server, victim.user_id)
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await api.call(server, "POST", "/api/v1/auth/refresh", {"refresh_token": victim.refresh_token})
    assert status == 401
    status, body = await api.call(server, "GET", "/api/v1/me", token=victim.access_token)
    assert status == 401
    ws = await clients.raw(server)
    reply = await ws.request("auth", token=victim.access_token, device={"id": "again", "platform": "web"})
    assert reply["error"]["code"] == "unauthorized"
    assert await ws.wait_closed() == 4401
    # The friend's session is untouched.
    assert "server_time" in await wf.call("ping")

    status, body = await api.call(
        server, "PATCH", f"/api/admin/v1/users/{victim.user_id}", {"disabled": False}, token=admin["access_token"]
    )
    assert status == 200 and body["disabled"] is False
    status, _ = await api.login(server, victim.user_id)
    assert status == 200
    status, body = await api.call(
        server, "PATCH", f"/api/admin/v1/users/{unique('ghost')}", {"disabled": True}, token=admin["access_token"]
    )
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_oversize_body_and_plain_get_on_ws(server: ServerProcess, api: Api) -> None:
    status, body = await api.call(server, "POST", "/api/v1/auth/login", data=b"a" * 2_000_000)
    assert status == 413 and body["error"]["code"] == "too_large"
    status, body = await api.call(server, "GET", "/ws")  # no upgrade headers
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body = await api.call(server, "GET", "/healthz")
    assert status == 200


async def test_self_registration_can_be_switched_off(spawn_server: Any, api: Api, clients: Clients) -> None:
    srv = spawn_server({"SEMOT_SELF_REGISTRATION": "false"})
    status, body = await api.register(srv, unique("nope"))
    assert status == 403 and body["error"]["code"] == "forbidden"
    # accounts made by an operator still work
    name = unique("op")
    srv.create_admin(name)
    status, tokens = await api.login(srv, name)
    assert status == 200
    ws = await clients.raw(srv)
    reply = await ws.request("auth", token=tokens["access_token"], device={"id": "d", "platform": "web"})
    assert reply["ok"] and reply["data"]["user_id"] == name
