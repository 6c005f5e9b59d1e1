"""Bad input (issue 2, "Bad input"): every malformed or forbidden request gets a clear error
reply or close code, and the server and every other connection carry on unaffected."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.harness import (
    WS,
    Account,
    Api,
    Clients,
    RawWS,
    ServerProcess,
    all_history,
    assert_chat_works,
    direct_conv,
    unique,
)


@dataclass
class Bystanders:
    """A pair already chatting before the bad input, checked again after it."""

    a: Account
    b: Account
    wa: WS
    wb: WS
    conv: str
    seq: int = 0

    async def still_chatting(self) -> None:
        ack = await self.wa.send_text(self.b.user_id, "still here")
        assert ack["seq"] == self.seq + 1, "a bystander's message was lost or numbered twice"
        m = await self.wb.wait_for(lambda f: f.get("t") == "msg" and f.get("seq") == ack["seq"])
        assert m["body"] == {"text": "still here"}
        self.seq = ack["seq"]
        assert not self.wa.closed.is_set() and not self.wb.closed.is_set()


@pytest.fixture
async def bystanders(server: ServerProcess, api: Api, clients: Clients) -> AsyncIterator[Bystanders]:
    a, b = await api.accounts(server, 2, "by")
    by = Bystanders(a, b, await clients.connect(server, a), await clients.connect(server, b), direct_conv(a.user_id, b.user_id))
    await by.still_chatting()
    yield by
    await by.still_chatting()
    status, _ = await api.call(server, "GET", "/healthz")
    assert status == 200


async def expect_null_rid_error(ws: WS, raw: str | bytes) -> dict[str, Any]:
    await ws.send_raw(raw)
    reply = await ws.wait_for(lambda f: f.get("t") == "res" and f.get("rid") is None)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request", reply
    assert reply["error"]["message"]
    return reply


async def test_malformed_json(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    ws = await clients.connect(server, await api.account(server))
    for raw in ("{not json", '{"t":"ping","rid":1', "", "\x00", '{"t":"ping","rid":1}{"t":"ping","rid":2}'):
        await expect_null_rid_error(ws, raw)
    assert "server_time" in await ws.call("ping")  # the session goes on


async def test_non_object_frames(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    ws = await clients.connect(server, await api.account(server))
    for raw in ('[{"t":"ping","rid":1}]', "[]", "42", '"ping"', "null", "true"):
        await expect_null_rid_error(ws, raw)
    assert "server_time" in await ws.call("ping")


async def test_missing_or_invalid_rid(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    ws = await clients.connect(server, await api.account(server))
    for frame in (
        {"t": "ping"},
        {"t": "ping", "rid": None},
        {"t": "ping", "rid": True},
        {"t": "ping", "rid": 1.5},
        {"t": "ping", "rid": {"a": 1}},
        {"t": "ping", "rid": [1]},
        {"t": "ping", "rid": "r" * 65},
    ):
        reply = await expect_null_rid_error(ws, json.dumps(frame))
        assert "rid" in reply["error"]["message"]
    # a string rid up to 64 chars is fine and echoed as is
    reply = await ws.request("ping", rid="r" * 64)
    assert reply["ok"] and reply["rid"] == "r" * 64


async def test_unknown_or_missing_type(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    ws = await clients.connect(server, await api.account(server))
    for rid, frame in ((11, {"t": "explode"}), (12, {}), (13, {"t": 7}), (14, {"t": "res"}), (15, {"t": "msg"})):
        await ws.send_json({**frame, "rid": rid})
        reply = await ws.wait_for(lambda f, r=rid: f.get("t") == "res" and f.get("rid") == r)
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", reply
    # auth again on an authenticated session
    assert await ws.error("auth", token="x", device={"id": "d", "platform": "web"}) == "bad_request"
    assert "server_time" in await ws.call("ping")


async def test_wrong_field_types(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    a, b = await api.accounts(server, 2)
    ws = await clients.connect(server, a)
    conv = direct_conv(a.user_id, b.user_id)
    await ws.send_text(b.user_id, "one")  # so that the conversation exists
    send: dict[str, Any] = {"cid": "c", "to": b.user_id, "kind": "text", "body": {"text": "x"}}
    bad: list[tuple[str, dict[str, Any]]] = [
        ("history", {"conv": conv, "after": "0"}),
        ("history", {"conv": conv, "before": 1.5}),
        ("history", {"conv": conv, "after": -1}),
        ("history", {"conv": conv, "after": 0, "limit": 201}),
        ("history", {"conv": conv, "after": 0, "limit": 0}),
        ("history", {"conv": conv, "after": 0, "limit": "10"}),
        ("history", {"conv": conv, "after": 0, "before": 5}),
        ("history", {"conv": 5}),
        ("history", {}),
        ("read", {"conv": conv, "seq": "1"}),
        ("read", {"conv": conv, "seq": True}),
        ("read", {"conv": conv}),
        ("recall", {"conv": conv, "seq": "1"}),
        ("recall", {"conv": conv, "seq": 0}),
        ("typing", {"conv": ["x"]}),
        ("sync", {"convs": [conv]}),
        ("sync", {"convs": {conv: "3"}}),
        ("sync", {}),
        ("send", {**send, "body": "hi"}),
        ("send", {**send, "body": ["hi"]}),
        ("send", {**send, "to": 5}),
        ("send", {**send, "cid": 5}),
        ("send", {**send, "cid": ""}),
        ("send", {**send, "kind": None}),
        ("send", {**send, "opts": "burn"}),
        ("send", {**send, "opts": {"burn_s": "5"}}),
        ("send", {**send, "opts": {"burn_s": 0}}),
        ("send", {**send, "opts": {"burn_s": 10**9}}),
        ("send", {**send, "opts": {"explode": True}}),
        ("send", {**send, "body": {}}),
        ("send", {**send, "body": {"text": ""}}),
        ("send", {**send, "body": {"text": 5}}),
        ("send", {**send, "body": {"text": "x" * 5001}}),
        ("send", {**send, "body": {"text": "x", "extra": 1}}),
        ("send", {**send, "body": {"text": "x", "mentions": ["bad id!"]}}),
        ("send", {**send, "body": {"text": "x", "mention_all": "yes"}}),
        ("send", {**send, "kind": "location", "body": {"lat": 91, "lng": 0}}),
        ("send", {**send, "kind": "location", "body": {"lat": "1", "lng": 0}}),
        ("send", {**send, "kind": "location", "body": {"lng": 0}}),
        ("send", {**send, "kind": "card", "body": {"user_id": "bad id!"}}),
        ("send", {**send, "kind": "custom", "body": {"data": 1}}),
        ("send", {k: v for k, v in send.items() if k != "body"}),
    ]
    for t, fields in bad:
        reply = await ws.request(t, **fields)
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", (t, fields, reply)
    # Nothing of that was stored.
    assert [m["body"] for m in await all_history(ws, conv)] == [{"text": "one"}]


async def test_unknown_and_media_kinds(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    a, b = await api.accounts(server, 2)
    ws = await clients.connect(server, a)
    for kind, body in (
        ("sticker", {"id": 1}),
        ("system", {"type": "group_created"}),  # server-authored only
        ("recalled", {}),
        ("TEXT", {"text": "x"}),
        ("image", {"file_id": "f1", "w": 10, "h": 10, "size": 100}),
        ("voice", {"file_id": "f1", "duration_ms": 1000, "size": 100}),
        ("video", {"file_id": "f1", "duration_ms": 1000, "w": 1, "h": 1, "size": 100}),
        ("file", {"file_id": "f1", "name": "a.txt", "size": 1, "mime": "text/plain"}),
    ):
        reply = await ws.request("send", cid=unique("c"), to=b.user_id, kind=kind, body=body)
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", (kind, reply)
    assert (await ws.call("sync", convs={}))["convs"] == []


async def test_malformed_ids(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    a, b = await api.accounts(server, 2)
    ws = await clients.connect(server, a)
    for to in ("bad id!", "x" * 65, "é", "a/b", "d:", "g:", "g:bad id", "d:a:b:c", f"d:{a.user_id}", "d:zz:aa", "x:y"):
        reply = await ws.request("send", cid=unique("c"), to=to, kind="text", body={"text": "x"})
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", (to, reply)
    # a well-formed direct conv this user is not a party of
    assert await ws.error("send", cid="c", to="d:aaa:zzz", kind="text", body={"text": "x"}) == "forbidden"
    # to oneself
    assert await ws.error("send", cid="c", to=a.user_id, kind="text", body={"text": "x"}) == "bad_request"
    lo, hi = sorted((a.user_id, b.user_id))
    for conv in ("", "nonsense", f"d:{hi}:{lo}", f"d:{lo}:{lo}", "d:a", "g:", "g:bad id", "g:" + "x" * 65, "d:a:b:c"):
        for t, extra in (("history", {"after": 0}), ("read", {"seq": 1}), ("recall", {"seq": 1}), ("typing", {})):
            reply = await ws.request(t, conv=conv, **extra)
            assert reply["ok"] is False and reply["error"]["code"] == "bad_request", (t, conv, reply)
    reply = await ws.request("sync", convs={"nonsense": 0, "d:b:a": 1})  # unknown keys are harmless
    assert reply["ok"] and reply["data"]["convs"] == []


async def test_unknown_targets_and_non_members(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    a, b, outsider = await api.accounts(server, 3)
    wa = await clients.connect(server, a)
    wo = await clients.connect(server, outsider)
    ghost = unique("ghost")
    assert await wa.error("send", cid="c1", to=ghost, kind="text", body={"text": "x"}) == "not_found"
    assert await wa.error("send", cid="c2", to="g:no-such-group", kind="text", body={"text": "x"}) == "not_found"
    assert await wa.error("send", cid="c3", to=b.user_id, kind="card", body={"user_id": ghost}) == "not_found"
    group = await api.group(server, a, [b])
    ack = await wa.send_text(group, "members only")
    direct = (await wa.send_text(b.user_id, "private"))["conv"]
    for conv in (group, direct):
        assert await wo.error("history", conv=conv, after=0) == "forbidden"
        assert await wo.error("read", conv=conv, seq=1) == "forbidden"
        assert await wo.error("recall", conv=conv, seq=1) == "forbidden"
    assert await wo.error("send", cid="c4", to=group, kind="text", body={"text": "let me in"}) == "forbidden"
    assert await wo.error("send", cid="c5", to=direct, kind="text", body={"text": "let me in"}) == "forbidden"
    assert (await wo.call("sync", convs={}))["convs"] == []
    # nothing leaked into the group
    assert [m["seq"] for m in await all_history(wa, group)] == [1, ack["seq"]]
    await wo.call("ping")
    assert wo.pushes(lambda f: f.get("t") == "msg") == []


async def test_bad_frames_interleaved_with_good_sends_lose_nothing(
    server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders
) -> None:
    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    futs = []
    for i in range(30):
        futs.append(wa.start_request("send", cid=f"good{i}", to=b.user_id, kind="text", body={"text": f"{i}"}))
        await wa.send_raw("{broken")
        futs.append(wa.start_request("send", cid=f"bad{i}", to=b.user_id, kind="image", body={}))
        futs.append(wa.start_request("history", conv="junk"))
    replies = await asyncio.gather(*futs)
    good = [r for r in replies[0::3]]
    assert all(r["ok"] for r in good)
    assert [r["data"]["seq"] for r in good] == list(range(1, 31))
    assert all(r["ok"] is False for r in replies[1::3] + replies[2::3])
    pushed = await wb.wait_msgs(good[0]["data"]["conv"], 30)
    assert [m["body"]["text"] for m in pushed] == [str(i) for i in range(30)]


async def test_oversize_frame_closes_1009(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    """The default SEMOT_MAX_FRAME_BYTES is 65536."""
    a, b = await api.accounts(server, 2)
    ws = await clients.connect(server, a)
    # just under the limit is served (padded by an ignored field: custom data itself is capped at 16 KiB)
    big = {"type": "blob", "data": "y" * 16000}
    ack = await ws.call("send", cid="big", to=b.user_id, kind="custom", body=big, pad="p" * 48000)
    # over it: closed with 1009, the message is not stored
    await ws.send_json({"t": "send", "rid": 99, "cid": "huge", "to": b.user_id, "kind": "custom", "body": {"type": "blob", "data": "z" * 70000}})
    assert await ws.wait_closed() == 1009
    wb = await clients.connect(server, b)
    history = await all_history(wb, ack["conv"])
    assert [m["cid"] for m in history] == ["big"] and history[0]["body"] == big
    # before auth too
    raw = await clients.raw(server)
    await raw.send_raw("x" * 70000)
    assert await raw.wait_closed() == 1009


async def test_smaller_frame_limit_is_configurable(spawn_server: Any, api: Api, clients: Clients) -> None:
    srv = spawn_server({"SEMOT_MAX_FRAME_BYTES": "2048"})
    a, b = await api.accounts(srv, 2)
    ws = await clients.connect(srv, a)
    assert ws.auth_data is not None and ws.auth_data["config"]["max_frame_bytes"] == 2048
    await ws.send_text(b.user_id, "x" * 1500)
    await ws.send_json({"t": "send", "rid": 5, "cid": "c", "to": b.user_id, "kind": "text", "body": {"text": "x" * 3000}})
    assert await ws.wait_closed() == 1009
    await assert_chat_works(clients, api, srv)


async def test_binary_frames(server: ServerProcess, api: Api, clients: Clients, bystanders: Bystanders) -> None:
    """Binary frames are read as JSON like text frames; garbage gets bad_request, not a crash."""
    a, b = await api.accounts(server, 2)
    ws = await clients.connect(server, a)
    await ws.send_raw(json.dumps({"t": "ping", "rid": 21}).encode())
    reply = await ws.wait_for(lambda f: f.get("t") == "res" and f.get("rid") == 21)
    assert reply["ok"] is True and "server_time" in reply["data"]
    for raw in (b"\xff\xfe\x00\x01", b"\x00" * 100, b"", b"[1,2]"):
        await expect_null_rid_error(ws, raw)
    # invalid UTF-8 inside a text frame (sent by hand: aiohttp would not)
    rw = await RawWS.connect(server)
    try:
        await rw.auth(a)
        await rw.send_text(b'{"t":"ping","rid":"\xff"}')
        op, payload = await asyncio.wait_for(rw.read_frame(), 5)  # type: ignore[misc]
        reply = json.loads(payload)
        assert op == 0x1 and reply["ok"] is False and reply["error"]["code"] == "bad_request"
    finally:
        rw.close()
    assert "server_time" in await ws.call("ping")
    await ws.send_text(b.user_id, "after binary noise")


async def test_flood_is_rate_limited_then_closed_4429(spawn_server: Any, api: Api, clients: Clients) -> None:
    srv = spawn_server({"SEMOT_RATE_BURST": "10", "SEMOT_RATE_PER_S": "1", "SEMOT_RATE_CLOSE_AFTER": "5"})
    a, b, c = await api.accounts(srv, 3)
    wb = await clients.connect(srv, b)
    wc = await clients.connect(srv, c)
    flooder = await clients.connect(srv, a)
    for rid in range(100, 130):  # 30 frames at once
        await flooder.send_json({"t": "ping", "rid": rid})
    assert await flooder.wait_closed() == 4429
    replies = [f for f in flooder.received if f.get("t") == "res" and isinstance(f.get("rid"), int) and f["rid"] >= 100]
    ok = [r for r in replies if r["ok"]]
    limited = [r for r in replies if not r["ok"]]
    assert len(ok) >= 10, "the burst is served"
    assert len(limited) >= 4 and all(r["error"]["code"] == "rate_limited" for r in limited)
    assert all(r["rid"] > max(o["rid"] for o in ok) for r in limited[-4:]), "rate_limited replies carry the rid"
    assert len(replies) < 30, "closed before serving the whole flood"
    # Others on the same server are not affected, and the flooder may come back.
    ack = await wb.send_text(c.user_id, "fine here")
    assert (await wc.wait_for(lambda f: f.get("t") == "msg"))["seq"] == ack["seq"]
    again = await clients.connect(srv, a)
    assert "server_time" in await again.call("ping")


async def test_sustained_rate_within_limit_is_served(spawn_server: Any, api: Api, clients: Clients) -> None:
    srv = spawn_server({"SEMOT_RATE_BURST": "5", "SEMOT_RATE_PER_S": "20", "SEMOT_RATE_CLOSE_AFTER": "3"})
    a = await api.account(srv)
    ws = await clients.connect(srv, a)
    for _ in range(20):  # ~10/s, under the sustained rate
        assert "server_time" in await ws.call("ping")
        await asyncio.sleep(0.1)
    assert not ws.closed.is_set()
