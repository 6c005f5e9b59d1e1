"""Customer service over real HTTP and WebSocket connections, on SQLite and PostgreSQL:
visitors, routing to the least-busy online agent under its limit, waiting and
draining, left messages, transfer with history, close and rating, first-response time,
statistics, one open session per visitor, a visitor's message reopening a closed
session (docs/customer-service.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.customer_service.cs_fixtures import (  # noqa: F401
    A,
    V,
    admin_token,
    cs_event,
    new_agent,
    new_queue,
    ok,
    online,
    srv,
    visitor,
)
from tests.integration.harness import Api, Clients, ServerProcess, all_history, direct_conv, eventually

PRODUCT = {"type": "product", "title": "保温杯 500ml", "url": "https://shop.example/p/1",
           "image_url": "https://shop.example/p/1.jpg", "price": "¥59.00", "sku": "CUP-500"}


async def start(api: Api, srv: ServerProcess, token: str, **body: Any) -> dict[str, Any]:
    return dict(await ok(api, srv, "POST", f"{V}/sessions", body, token=token))


async def test_routing_transfer_close_rating_and_stats(srv: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin_token(api, srv)
    q1, q2 = await new_queue(api, srv, boss), await new_queue(api, srv, boss)
    a1 = await new_agent(api, srv, boss, [q1])
    a2 = await new_agent(api, srv, boss, [q1, q2])
    w1, w2 = await online(api, srv, clients, a1), await online(api, srv, clients, a2)

    # the first visitor goes to the least busy agent (both idle: the earlier made), with the product card
    v1, key1 = await visitor(api, srv, name="小王")
    wv1 = await clients.connect(srv, v1)
    s1 = await start(api, srv, v1.access_token, queue_id=q1, context=PRODUCT)
    assert s1["state"] == "active" and s1["agent_id"] == a1.user_id and s1["queue_id"] == q1
    assert s1["agent"]["user_id"] == a1.user_id and s1["agent"]["field"] == "售后问题"
    assert s1["visitor"] == {"user_id": v1.user_id, "display_name": "小王", "signed_in": False}
    assert s1["context"]["sku"] == "CUP-500"
    pushed = await w1.wait_for(cs_event("assigned", s1["session_id"]), 20)
    assert pushed["session"]["conv"] == s1["conv"]
    history = await all_history(w1, s1["conv"])
    card = [m for m in history if m["kind"] == "custom"]
    assert card and card[0]["body"] == {"type": "cs_context", "data": s1["context"]} and card[0]["from"] == v1.user_id
    # the agent joined the session's chat (not "invited by themselves")
    notices = [m["body"] for m in history if m["kind"] == "system"]
    assert any(b.get("type") == "group_member_joined" and b.get("user") == a1.user_id for b in notices), notices
    assert not any(b.get("type") == "group_members_added" for b in notices), notices

    # the visitor coming back with its key is the same visitor, with the same open session
    again, key_again = await visitor(api, srv, key=key1)
    assert again.user_id == v1.user_id and key_again == key1
    assert (await start(api, srv, again.access_token, queue_id=q1))["session_id"] == s1["session_id"]

    # the second goes to the other agent; the third waits (both at their limit of 1)
    v2, _ = await visitor(api, srv)
    wv2 = await clients.connect(srv, v2)
    s2 = await start(api, srv, v2.access_token, queue_id=q1)
    assert s2["state"] == "active" and s2["agent_id"] == a2.user_id
    v3, _ = await visitor(api, srv)
    wv3 = await clients.connect(srv, v3)
    s3 = await start(api, srv, v3.access_token, queue_id=q1)
    assert s3["state"] == "waiting" and s3["agent_id"] is None and s3["agent"] is None
    bench = await ok(api, srv, "GET", f"{V}/agent/workbench", token=a1.access_token)
    assert s3["session_id"] in [s["session_id"] for s in bench["waiting"]]
    assert [s["session_id"] for s in bench["active"]] == [s1["session_id"]] and bench["me"]["active_count"] == 1

    # messages are the chat's own; the agent's first answer is the first response
    await wv1.send_text(s1["conv"], "这个杯子保温多久？")
    await w1.wait_for(lambda f: f.get("t") == "msg" and f.get("conv") == s1["conv"] and f["kind"] == "text", 20)
    await w1.send_text(s1["conv"], "您好，保温 12 小时。")
    await wv1.wait_for(lambda f: f.get("t") == "msg" and f.get("from") == a1.user_id, 20)

    async def answered() -> bool:
        mine = await ok(api, srv, "GET", f"{V}/sessions/mine", token=v1.access_token)
        return bool(mine["sessions"][0]["first_response_at"])
    await eventually(answered, 20, "first response recorded")

    # rating waits for the close; the agent's close frees a place: the waiting visitor gets it
    status, err = await api.call(srv, "POST", f"{V}/sessions/{s1['session_id']}/rating", {"score": 5},
                                 token=v1.access_token)
    assert status == 409, err
    closed = await ok(api, srv, "POST", f"{V}/sessions/{s1['session_id']}/close", token=a1.access_token)
    assert closed["state"] == "closed" and closed["closed_at"]
    await wv1.wait_for(cs_event("closed", s1["session_id"]), 20)
    got = await wv3.wait_for(cs_event("assigned", s3["session_id"]), 20)
    assert got["session"]["agent_id"] == a1.user_id
    rated = await ok(api, srv, "POST", f"{V}/sessions/{s1['session_id']}/rating", {"score": 5, "comment": "很好"},
                     token=v1.access_token)
    assert rated["rating"] == {"score": 5, "comment": "很好"}
    status, _ = await api.call(srv, "POST", f"{V}/sessions/{s1['session_id']}/rating", {"score": 1},
                               token=v1.access_token)
    assert status == 409
    status, _ = await api.call(srv, "POST", f"{V}/sessions/{s2['session_id']}/rating", {"score": 1},
                               token=v1.access_token)
    assert status == 403  # not their session

    # transfer: the new agent reads what was said before, the old one leaves the chat
    await wv2.send_text(s2["conv"], "订单什么时候发货？")
    a3 = await new_agent(api, srv, boss, [q2], max_concurrent=3)
    w3 = await online(api, srv, clients, a3)
    status, _ = await api.call(srv, "POST", f"{V}/sessions/{s2['session_id']}/transfer", {"agent_id": a3.user_id},
                               token=a1.access_token)
    assert status == 403  # only the session's agent
    moved = await ok(api, srv, "POST", f"{V}/sessions/{s2['session_id']}/transfer", {"queue_id": q2},
                     token=a2.access_token)
    assert moved["agent_id"] == a3.user_id and moved["queue_id"] == q2  # a2 excluded: a3 is the one free
    await w3.wait_for(cs_event("transferred", s2["session_id"]), 20)
    texts = [m["body"].get("text") for m in await all_history(w3, s2["conv"]) if m["kind"] == "text"]
    assert "订单什么时候发货？" in texts
    assert await w2.error("history", conv=s2["conv"], limit=10) == "forbidden"

    # visitors have no direct chats; an agent can see a visitor's sessions, a visitor cannot
    assert await wv2.error("send", to=a3.user_id, cid="dm-1", kind="text", body={"text": "hi"}) == "forbidden"
    assert direct_conv(v2.user_id, a3.user_id)
    past = await ok(api, srv, "GET", f"{V}/visitors/{v1.user_id}/sessions", token=a3.access_token)
    assert [s["session_id"] for s in past["sessions"]] == [s1["session_id"]]
    status, _ = await api.call(srv, "GET", f"{V}/visitors/{v1.user_id}/sessions", token=v2.access_token)
    assert status == 403

    # statistics over the period: conversations, first response, ratings, per queue and agent
    stats = await ok(api, srv, "GET", f"{A}/stats", token=boss)
    assert stats["total"]["conversations"] >= 3 and stats["total"]["ratings"]["5"] >= 1
    assert stats["total"]["first_response_p50_ms"] is not None
    mine = next(x for x in stats["agents"] if x["user_id"] == a1.user_id)
    assert mine["answered"] == 1 and mine["ratings"]["5"] == 1 and mine["first_response_avg_ms"] >= 0
    assert {q1, q2} <= {x["queue_id"] for x in stats["queues"]}
    empty = await ok(api, srv, "GET", f"{A}/stats?since=10&until=5", token=boss)
    assert empty["total"]["conversations"] == 0 and empty["agents"] == []
    await wv1.close()


async def test_left_messages_and_opening_hours(srv: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin_token(api, srv)
    q = await new_queue(api, srv, boss)
    agent = await new_agent(api, srv, boss, [q], max_concurrent=5)

    # nobody online: the visitor leaves a message; an agent accepts it later and reads it
    v, _ = await visitor(api, srv)
    wv = await clients.connect(srv, v)
    s = await start(api, srv, v.access_token, queue_id=q)
    assert s["state"] == "left_message" and s["agent_id"] is None
    await wv.send_text(s["conv"], "我想退货，请回电 138xxxx")
    wa = await online(api, srv, clients, agent)
    assert s["session_id"] not in [x["session_id"] for x in
                                   (await ok(api, srv, "GET", f"{V}/agent/workbench", token=agent.access_token))["active"]]
    bench = await ok(api, srv, "GET", f"{V}/agent/workbench", token=agent.access_token)
    assert s["session_id"] in [x["session_id"] for x in bench["left_messages"]]
    taken = await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/accept", token=agent.access_token)
    assert taken["state"] == "active" and taken["agent_id"] == agent.user_id
    await wv.wait_for(cs_event("assigned", s["session_id"]), 20)
    texts = [m["body"].get("text") for m in await all_history(wa, s["conv"]) if m["kind"] == "text"]
    assert texts == ["我想退货，请回电 138xxxx"]
    status, err = await api.call(srv, "POST", f"{V}/sessions/{s['session_id']}/accept", token=agent.access_token)
    assert status == 409, err
    await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/close", token=v.access_token)

    # a site's signed-in buyer is a normal user, but only a plain member of the session's chat
    buyer = await api.account(srv, "buyer")
    sb = await start(api, srv, buyer.access_token, queue_id=q)
    assert sb["visitor"]["signed_in"] is True and sb["state"] == "active"
    gid = sb["conv"][2:]
    for method, path, body in (("POST", f"/api/v1/groups/{gid}/members", {"user_ids": [v.user_id]}),
                               ("PATCH", f"/api/v1/groups/{gid}", {"name": "mine"}),
                               ("POST", f"/api/v1/groups/{gid}/leave", None),
                               ("DELETE", f"/api/v1/groups/{gid}/members/{agent.user_id}", None)):
        status, err = await api.call(srv, method, path, body, token=buyer.access_token)
        assert status == 403, (method, path, err)
    await ok(api, srv, "POST", f"{V}/sessions/{sb['session_id']}/close", token=agent.access_token)

    # a chosen agent who is busy gets a left message addressed to them
    await ok(api, srv, "PUT", f"{V}/agent/state", {"state": "busy"}, token=agent.access_token)
    v2, _ = await visitor(api, srv)
    s2 = await start(api, srv, v2.access_token, agent_id=agent.user_id)
    assert s2["state"] == "left_message" and s2["agent_id"] == agent.user_id
    await ok(api, srv, "POST", f"{V}/sessions/{s2['session_id']}/close", token=v2.access_token)

    # outside the opening hours: a left message even with the agent online, and the widget says closed
    before = await ok(api, srv, "GET", f"{A}/settings", token=boss)
    await ok(api, srv, "PUT", f"{V}/agent/state", {"state": "online"}, token=agent.access_token)
    closed_hours = {**before, "hours": [{"day": 1, "from": "00:00", "to": "00:01"}], "timezone": "Pacific/Kiritimati"}
    await ok(api, srv, "PUT", f"{A}/settings", closed_hours, token=boss)
    widget = await ok(api, srv, "GET", f"{V}/widget", token=None)
    assert widget["open_now"] is False
    v3, _ = await visitor(api, srv)
    s3 = await start(api, srv, v3.access_token, queue_id=q)
    assert s3["state"] == "left_message"
    await ok(api, srv, "PUT", f"{A}/settings", before, token=boss)
    widget = await ok(api, srv, "GET", f"{V}/widget", token=None)
    mine = next(x for x in widget["queues"] if x["queue_id"] == q)
    assert [(x["user_id"], x["state"]) for x in mine["agents"]] == [(agent.user_id, "online")]
    await ok(api, srv, "POST", f"{V}/sessions/{s3['session_id']}/close", token=agent.access_token)
    await wa.close()

    async def offline() -> bool:
        w = await ok(api, srv, "GET", f"{V}/widget", token=None)
        return [a["state"] for a in next(x for x in w["queues"] if x["queue_id"] == q)["agents"]] == ["offline"]
    await eventually(offline, 20, "a disconnected agent shows offline")


async def test_a_waiting_visitor_goes_to_an_agent_who_connects(srv: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin_token(api, srv)
    q = await new_queue(api, srv, boss)
    busy, later = await new_agent(api, srv, boss, [q]), await new_agent(api, srv, boss, [q])
    await online(api, srv, clients, busy)
    gone = await online(api, srv, clients, later)  # chose online, then closed the browser: counts as offline
    await gone.close()

    async def disconnected() -> bool:
        me = await ok(api, srv, "GET", f"{V}/agent/workbench", token=later.access_token)
        return me["me"]["connected"] is False
    await eventually(disconnected, 20, "the agent seen offline")
    first, _ = await visitor(api, srv)
    assert (await start(api, srv, first.access_token, queue_id=q))["agent_id"] == busy.user_id
    second, _ = await visitor(api, srv)
    waiting = await start(api, srv, second.access_token, queue_id=q)
    assert waiting["state"] == "waiting"
    back = await clients.connect(srv, later)  # connecting is enough: the node's sweep gives it the visitor
    got = await back.wait_for(cs_event("assigned", waiting["session_id"]), 30)
    assert got["session"]["agent_id"] == later.user_id


async def test_one_open_session_per_visitor_and_a_message_after_the_close_reopens_it(
        srv: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin_token(api, srv)
    q = await new_queue(api, srv, boss)
    agent = await new_agent(api, srv, boss, [q], max_concurrent=5)
    wa = await online(api, srv, clients, agent)
    v, _ = await visitor(api, srv)
    wv = await clients.connect(srv, v)

    # the widget asking twice at once (two tabs, a double click) makes one session
    got = await asyncio.gather(*(start(api, srv, v.access_token, queue_id=q) for _ in range(5)))
    assert len({g["session_id"] for g in got}) == 1, got
    assert any(g["state"] == "active" for g in got)  # the one that made it routed it (the others may be earlier)
    mine = (await ok(api, srv, "GET", f"{V}/sessions/mine", token=v.access_token))["sessions"]
    assert len(mine) == 1 and mine[0]["state"] == "active" and mine[0]["agent_id"] == agent.user_id
    s = mine[0]

    # closed and rated; the visitor writes again: back to the same agent, the close cleared
    await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/close", token=agent.access_token)
    await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/rating", {"score": 2}, token=v.access_token)
    await wv.send_text(s["conv"], "还有一个问题：能开发票吗？")
    back = await wa.wait_for(cs_event("assigned", s["session_id"]), 20)
    assert back["session"]["agent_id"] == agent.user_id and back["session"]["closed_at"] is None
    assert back["session"]["rating"] is None
    await wa.wait_for(lambda f: f.get("t") == "msg" and f.get("conv") == s["conv"]
                      and f["body"].get("text") == "还有一个问题：能开发票吗？", 20)
    bench = await ok(api, srv, "GET", f"{V}/agent/workbench", token=agent.access_token)
    assert [x["session_id"] for x in bench["active"]] == [s["session_id"]]

    # closed again with the agent away: the message reopens it as a left message of the queue
    await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/close", token=v.access_token)
    await ok(api, srv, "PUT", f"{V}/agent/state", {"state": "busy"}, token=agent.access_token)
    await wv.send_text(s["conv"], "在吗？")
    waits = await wv.wait_for(cs_event("waiting", s["session_id"]), 20)
    assert waits["session"]["state"] == "left_message" and waits["session"]["agent_id"] is None
    bench = await ok(api, srv, "GET", f"{V}/agent/workbench", token=agent.access_token)
    assert s["session_id"] in [x["session_id"] for x in bench["left_messages"]]
    taken = await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/accept", token=agent.access_token)
    texts = [m["body"].get("text") for m in await all_history(wa, s["conv"]) if m["kind"] == "text"]
    assert taken["state"] == "active" and texts[-1] == "在吗？"

    # with another session open, the old chat is closed for good: the visitor continues there
    await ok(api, srv, "POST", f"{V}/sessions/{s['session_id']}/close", token=agent.access_token)
    other = await start(api, srv, v.access_token, queue_id=q)
    assert other["session_id"] != s["session_id"] and other["state"] == "left_message"
    assert await wv.error("send", to=s["conv"], cid="late-1", kind="text", body={"text": "hi"}) == "conflict"
    old = await ok(api, srv, "GET", f"{V}/visitors/{v.user_id}/sessions", token=agent.access_token)
    assert {x["session_id"]: x["state"] for x in old["sessions"]} == {s["session_id"]: "closed",
                                                                       other["session_id"]: "left_message"}
    await ok(api, srv, "POST", f"{V}/sessions/{other['session_id']}/close", token=v.access_token)
