"""Customers and visitors are limited to customer service, over real HTTP and WebSocket
connections on SQLite and PostgreSQL (docs/customer-service.md, "Customers and visitors
are limited"): a site's buyer synced with `external: true` is refused the directory,
profiles, friend requests, group and place search, app identity tokens, presence
subscriptions and direct chats they open, yet answers the shop's own message and chats
with an agent in a session; session starts and context cards are counted per user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.customer_service.cs_fixtures import V, admin_token, new_agent, new_queue, ok, online, visitor
from tests.integration.harness import WS, Account, Api, Clients, ServerProcess, direct_conv, unique
from tests.integration_api.webhook_fixtures import start_server

START_MAX = 4
S = "/api/server/v1"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_ABUSE_LIMITS": "true", "SEMOT_CS_VISITOR_IP_MAX": "50", "SEMOT_CS_SESSION_START_MAX": str(START_MAX)}
    yield from start_server(request.param, tmp_path_factory.mktemp(f"cs-limited-{request.param}"), env)


async def _server(api: Api, srv: ServerProcess, key: str, method: str, path: str, body: Any) -> tuple[int, Any]:
    async with api.session.request(method, srv.base_url + S + path, json=body,
                                   headers={"Authorization": f"Bearer {key}"}) as resp:
        return resp.status, await resp.json(content_type=None)


async def _forbidden(api: Api, srv: ServerProcess, who: Account, method: str, path: str, body: Any = None) -> None:
    status, reply = await api.call(srv, method, path, body, token=who.access_token)
    assert status == 403 and reply["error"]["code"] == "forbidden", (method, path, status, reply)


async def test_a_synced_customer_is_limited_to_customer_service(srv: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin_token(api, srv)
    key = (await ok(api, srv, "POST", "/api/admin/v1/api-keys", {"name": unique("shop")}, token=boss, status=201))["key"]
    queue = await new_queue(api, srv, boss)
    agent = await new_agent(api, srv, boss, [queue])
    agent_ws = await online(api, srv, clients, agent)
    staff = await api.account(srv, "emp")

    # the shop's own account (staff-like, not external) and a buyer marked external
    shop_id, buyer_id = unique("shop"), unique("buyer")
    assert (await _server(api, srv, key, "PUT", f"/users/{shop_id}", {"display_name": "小店"}))[0] == 201
    assert (await _server(api, srv, key, "PUT", f"/users/{buyer_id}", {"display_name": "买家", "external": True}))[0] == 201
    status, bulk = await _server(api, srv, key, "POST", "/users:bulk", {"users": [{"user_id": buyer_id, "external": True}]})
    assert status == 200 and bulk["results"][0]["status"] == "unchanged"
    status, tok = await _server(api, srv, key, "POST", f"/users/{buyer_id}/tokens", {"type": "access"})
    assert status == 200, tok
    buyer = Account(buyer_id, "", tok["access_token"], "")
    assert (await ok(api, srv, "GET", f"/api/admin/v1/users/{buyer_id}", token=boss))["external"] is True  # the console's tag
    assert (await ok(api, srv, "GET", f"/api/admin/v1/users/{shop_id}", token=boss))["external"] is False

    # the organisation is closed to them (the check runs before the body is read)
    for method, path in [("GET", "/api/v1/directory/departments"), ("GET", f"/api/v1/users/{staff.user_id}"),
                         ("POST", "/api/v1/friends/requests"), ("GET", "/api/v1/groups/search?q=team"),
                         ("GET", "/api/v1/geo/search?q=beijing"), ("POST", "/api/v1/apps/identity-token"),
                         ("POST", "/api/v1/groups")]:
        await _forbidden(api, srv, buyer, method, path, {})
    seen = await ok(api, srv, "GET", f"/api/v1/presence?users={staff.user_id},{buyer_id}", token=buyer.access_token)
    assert [u["user"] for u in seen["users"]] == [buyer_id]  # their own presence only
    me = await ok(api, srv, "GET", "/api/v1/me", token=buyer.access_token)
    assert me["user_id"] == buyer_id and me["restricted"] is True  # the web client's customer mode
    assert (await ok(api, srv, "GET", "/api/v1/me", token=staff.access_token))["restricted"] is False

    # over the WebSocket: no direct chat they open, no presence of staff
    bws = await clients.connect(srv, buyer)
    assert await bws.error("send", to=staff.user_id, cid=unique("c"), kind="text", body={"text": "hi"}) == "forbidden"
    assert await bws.error("presence_sub", users=[staff.user_id, agent.user_id]) == "forbidden"
    # ... but they answer the shop's message in the chat the shop opened
    status, sent = await _server(api, srv, key, "POST", "/messages",
                                 {"from": shop_id, "to": buyer_id, "kind": "text", "body": {"text": "订单已发货"}})
    assert status == 200, sent
    assert (await bws.send_text(shop_id, "收到，谢谢"))["conv"] == direct_conv(shop_id, buyer_id)

    # and chat with an agent in a session, both ways
    s = await ok(api, srv, "POST", f"{V}/sessions", {"queue_id": queue}, token=buyer.access_token)
    assert s["state"] == "active" and s["agent_id"] == agent.user_id and s["visitor"]["signed_in"] is True
    await bws.send_text(s["conv"], "杯子有货吗？")
    await agent_ws.wait_for(lambda f: f.get("t") == "msg" and f.get("body", {}).get("text") == "杯子有货吗？", 20)
    await agent_ws.send_text(s["conv"], "有货")
    await bws.wait_for(lambda f: f.get("t") == "msg" and f.get("body", {}).get("text") == "有货", 20)

    # profiles: only of those they talk to (the agent, the shop), not of the organisation's people
    known = await ok(api, srv, "GET", f"/api/v1/users?ids={staff.user_id},{agent.user_id},{shop_id},{buyer_id}",
                     token=buyer.access_token)
    assert sorted(u["user_id"] for u in known["users"]) == sorted([agent.user_id, shop_id, buyer_id])

    # unmarked: an ordinary user again, at once
    assert (await _server(api, srv, key, "PUT", f"/users/{buyer_id}", {"external": False}))[0] == 200
    await ok(api, srv, "GET", "/api/v1/directory/departments", token=buyer.access_token)
    assert (await ok(api, srv, "GET", "/api/v1/me", token=buyer.access_token))["restricted"] is False
    assert (await ok(api, srv, "GET", f"/api/admin/v1/users/{buyer_id}", token=boss))["external"] is False


async def test_visitors_follow_nobodys_presence(srv: ServerProcess, api: Api, clients: Clients) -> None:
    staff = await api.account(srv, "emp")
    v, _ = await visitor(api, srv)
    assert (await ok(api, srv, "GET", "/api/v1/me", token=v.access_token))["restricted"] is True
    ws: WS = await clients.connect(srv, v)
    assert await ws.error("presence_sub", users=[staff.user_id]) == "forbidden"
    assert "server_time" in await ws.call("ping")


async def test_session_starts_and_context_cards_are_counted(srv: ServerProcess, api: Api, clients: Clients) -> None:
    """A close-then-start loop, or a context changed on every call, stops at the limit (429)."""
    boss = await admin_token(api, srv)
    queue = await new_queue(api, srv, boss)
    v, _ = await visitor(api, srv)
    product = {"type": "product", "title": "杯子"}
    s = await ok(api, srv, "POST", f"{V}/sessions", {"queue_id": queue, "context": product}, token=v.access_token)
    for i in range(START_MAX - 2):  # context changes: one card each
        await ok(api, srv, "POST", f"{V}/sessions", {"context": {**product, "title": f"杯子 {i}"}}, token=v.access_token)
    await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/close", token=v.access_token)
    await ok(api, srv, "POST", f"{V}/sessions", {"queue_id": queue}, token=v.access_token)  # the limit's last
    status, reply = await api.call(srv, "POST", f"{V}/sessions", {"context": {**product, "title": "又一个"}},
                                   token=v.access_token)
    assert status == 429 and reply["error"]["code"] == "rate_limited", reply
    mine = await ok(api, srv, "GET", f"{V}/sessions/mine", token=v.access_token)
    assert len(mine["sessions"]) == 2
    # the same visitor's open session is still answered (a resume is not counted)
    assert (await ok(api, srv, "POST", f"{V}/sessions", {}, token=v.access_token))["state"] in ("left_message", "waiting")
