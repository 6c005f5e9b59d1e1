"""Customer-service administration and the edges of the visitor API, over real HTTP on
SQLite and PostgreSQL: queues and agents, the widget's settings, permissions, bad
input, the per-address limit on new visitors, CORS for the widget's sites."""

from __future__ import annotations

from tests.customer_service.cs_fixtures import (  # noqa: F401
    VISITOR_IP_MAX,
    A,
    V,
    admin_token,
    new_agent,
    new_queue,
    ok,
    srv,
    visitor,
)
from tests.integration.harness import Api, ServerProcess, unique


async def test_queues_agents_settings_permissions_and_bad_input(srv: ServerProcess, api: Api) -> None:
    boss = await admin_token(api, srv)
    name = unique("订单咨询")
    q = await ok(api, srv, "POST", f"{A}/queues", {"name": name, "description": "订单相关", "position": 1},
                 token=boss, status=201)
    status, err = await api.call(srv, "POST", f"{A}/queues", {"name": name}, token=boss)
    assert status == 409, err
    changed = await ok(api, srv, "PUT", f"{A}/queues/{q['queue_id']}", {"description": "订单与发票"}, token=boss)
    assert changed["description"] == "订单与发票" and changed["name"] == name
    agent = await new_agent(api, srv, boss, [q["queue_id"]], max_concurrent=3, field="订单咨询")
    listed = await ok(api, srv, "GET", f"{A}/agents", token=boss)
    mine = next(a for a in listed["agents"] if a["user_id"] == agent.user_id)
    assert mine["queues"] == [q["queue_id"]] and mine["max_concurrent"] == 3 and mine["state"] == "offline"
    assert mine["connected"] is False and mine["active_count"] == 0
    queues = await ok(api, srv, "GET", f"{A}/queues", token=boss)
    assert [x["agents"] for x in queues["queues"] if x["queue_id"] == q["queue_id"]] == [1]

    # bad input: a clear 400 / 404, never a traceback
    for path, body in (
        (f"{A}/queues", {"name": ""}), (f"{A}/queues", {"name": "x", "position": -1}),
        (f"{A}/queues", {"name": "x", "extra": 1}),
    ):
        status, err = await api.call(srv, "POST", path, body, token=boss)
        assert status == 400 and err["error"]["code"] == "bad_request", (body, err)
    for body in ({"queues": [], "max_concurrent": 0}, {"queues": ["bad id!"]}, {"queues": [], "field": "x" * 65}):
        status, err = await api.call(srv, "PUT", f"{A}/agents/{agent.user_id}", body, token=boss)
        assert status == 400, (body, err)
    status, err = await api.call(srv, "PUT", f"{A}/agents/{agent.user_id}", {"queues": ["q_nope"]}, token=boss)
    assert status == 404, err
    status, err = await api.call(srv, "PUT", f"{A}/agents/nobody-{unique()}", {"queues": []}, token=boss)
    assert status == 404, err
    base = await ok(api, srv, "GET", f"{A}/settings", token=boss)
    for bad in ({"color": "red"}, {"position": "top"}, {"timezone": "Mars/Olympus"},
                {"hours": [{"day": 8, "from": "09:00", "to": "18:00"}]},
                {"hours": [{"day": 1, "from": "9:00", "to": "18:00"}]},
                {"allowed_origins": ["https://shop.example/path"]}, {"frame_ancestors": ["javascript:alert(1)"]}):
        status, err = await api.call(srv, "PUT", f"{A}/settings", {**base, **bad}, token=boss)
        assert status == 400 and err["error"]["code"] == "bad_request", (bad, err)
    for bad_session in ({"queue_id": "q_nope"}, {"agent_id": "nobody"}, {"context": {"type": "coupon"}},
                        {"context": {"type": "product", "title": "x" * 201}},
                        {"context": {"type": "product", "nested": {"a": 1}}},
                        {"context": {"type": "product", "blob": "x" * 5000}}):
        v, _ = await visitor(api, srv)
        status, err = await api.call(srv, "POST", f"{V}/sessions", bad_session, token=v.access_token)
        assert status in (400, 404, 413), (bad_session, err)
    v, _ = await visitor(api, srv)
    status, err = await api.call(srv, "POST", f"{V}/sessions/css_nope/rating", {"score": 9}, token=v.access_token)
    assert status == 400, err
    status, err = await api.call(srv, "POST", f"{V}/sessions/css_nope/close", token=v.access_token)
    assert status == 404, err
    status, err = await api.call(srv, "POST", f"{V}/visitors", {"visitor_key": "short"}, token=None)
    assert status == 400, err

    # settings are stored and shown to the widget
    new = {**base, "title": "小店客服", "greeting": "欢迎光临", "color": "#ff6600", "position": "left",
           "allowed_origins": ["http://shop.test:8000"], "frame_ancestors": ["http://shop.test:8000"]}
    saved = await ok(api, srv, "PUT", f"{A}/settings", new, token=boss)
    assert saved["title"] == "小店客服" and saved["allowed_origins"] == ["http://shop.test:8000"]
    widget = await ok(api, srv, "GET", f"{V}/widget", token=None)
    assert (widget["title"], widget["greeting"], widget["color"], widget["position"]) == (
        "小店客服", "欢迎光临", "#ff6600", "left")
    card = next(x for x in widget["queues"] if x["queue_id"] == q["queue_id"])
    assert card["agents"][0]["field"] == "订单咨询" and card["agents"][0]["state"] == "offline"

    # CORS: the widget's sites may call the visitor API (no credentials); others may not
    async with api.session.options(srv.base_url + f"{V}/visitors", headers={
            "Origin": "http://shop.test:8000", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"}) as resp:
        assert resp.headers.get("Access-Control-Allow-Origin") == "http://shop.test:8000", dict(resp.headers)
        assert resp.headers.get("Access-Control-Allow-Credentials") is None
    async with api.session.get(srv.base_url + f"{V}/widget", headers={"Origin": "http://evil.test"}) as resp:
        assert resp.status == 200 and "Access-Control-Allow-Origin" not in resp.headers
    await ok(api, srv, "PUT", f"{A}/settings", base, token=boss)

    # who may do what: plain users are not administrators nor agents; nobody anonymous
    plain = await api.account(srv, "plain")
    for method, path in (("GET", f"{A}/queues"), ("GET", f"{A}/agents"), ("GET", f"{A}/settings"),
                         ("GET", f"{A}/stats"), ("DELETE", f"{A}/queues/{q['queue_id']}")):
        status, _ = await api.call(srv, method, path, token=plain.access_token)
        assert status == 403, (method, path)
    for method, path in (("GET", f"{V}/agent/workbench"), ("PUT", f"{V}/agent/state")):
        status, err = await api.call(srv, method, path, {"state": "online"} if method == "PUT" else None,
                                     token=plain.access_token)
        assert status == 403, (path, err)
    for method, path in (("POST", f"{V}/sessions"), ("GET", f"{V}/sessions/mine"), ("GET", f"{V}/agent/workbench")):
        status, _ = await api.call(srv, method, path, {} if method == "POST" else None)
        assert status == 401, path

    # removal: a queue with open sessions stays; an agent goes; then the queue
    v, _ = await visitor(api, srv)
    s = await ok(api, srv, "POST", f"{V}/sessions", {"queue_id": q["queue_id"]}, token=v.access_token)
    status, err = await api.call(srv, "DELETE", f"{A}/queues/{q['queue_id']}", token=boss)
    assert status == 409, err
    await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/close", token=v.access_token)
    assert await ok(api, srv, "DELETE", f"{A}/agents/{agent.user_id}", token=boss) == {}
    assert await ok(api, srv, "DELETE", f"{A}/queues/{q['queue_id']}", token=boss) == {}
    status, _ = await api.call(srv, "DELETE", f"{A}/queues/{q['queue_id']}", token=boss)
    assert status == 404
    log = await ok(api, srv, "GET", "/api/admin/v1/audit-log?limit=100", token=boss)
    actions = {e["action"] for e in log["entries"]}
    assert {"cs.queue_create", "cs.queue_update", "cs.queue_delete", "cs.agent_put", "cs.agent_delete",
            "cs.settings_update"} <= actions


async def test_new_visitors_are_limited_per_address(srv: ServerProcess, api: Api) -> None:
    kept, key = await visitor(api, srv)
    refused = None
    for _ in range(VISITOR_IP_MAX + 1):
        status, body = await api.call(srv, "POST", f"{V}/visitors", {}, token=None)
        if status == 429:
            refused = body
            break
        assert status == 200, body
    assert refused is not None and refused["error"]["code"] == "rate_limited"
    # a visitor coming back with its key is not a new one
    again, _ = await visitor(api, srv, key=key)
    assert again.user_id == kept.user_id
    # an anonymous visitor uses customer service only: not the directory, groups, contacts or users
    for method, path, body in (("GET", "/api/v1/directory/departments", None), ("GET", "/api/v1/directory/search?q=a", None),
                               ("POST", "/api/v1/groups", {"name": "x", "members": []}),
                               ("POST", "/api/v1/friends/requests", {"user_id": "hookadmin"}),
                               ("GET", "/api/v1/users/hookadmin", None)):
        status, err = await api.call(srv, method, path, body, token=again.access_token)
        assert status == 403 and err["error"]["code"] == "forbidden", (path, err)
    # profiles: only of whom they talk to (nobody yet), never the organisation's people
    assert await ok(api, srv, "GET", "/api/v1/users?ids=hookadmin", token=again.access_token) == {"users": []}
    me = await ok(api, srv, "GET", "/api/v1/me", token=again.access_token)
    assert me["user_id"] == kept.user_id
    plain = await api.account(srv, "plain")
    status, _ = await api.call(srv, "GET", "/api/v1/directory/departments", token=plain.access_token)
    assert status == 200  # others are not affected
