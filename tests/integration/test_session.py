"""The WebSocket session (PROTOCOL.md §2.2): auth handshake, close codes, ping, devices, heartbeats."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from tests.integration.harness import Api, Clients, RawWS, ServerProcess, assert_chat_works, direct_conv, unique


async def test_auth_reply_carries_session_data(server: ServerProcess, api: Api, clients: Clients) -> None:
    a = await api.account(server)
    ws = await clients.raw(server)
    before = int(time.time() * 1000)
    reply = await ws.request("auth", rid="a-1", token=a.access_token, device={"id": "web-1", "platform": "web"})
    after = int(time.time() * 1000)
    assert reply["t"] == "res" and reply["rid"] == "a-1" and reply["ok"] is True
    data = reply["data"]
    assert data["user_id"] == a.user_id
    assert isinstance(data["session_id"], str) and data["session_id"]
    assert before - 1000 <= data["server_time"] <= after + 1000
    assert data["heartbeat_s"] == 25  # the default
    cfg = data["config"]
    assert isinstance(cfg, dict)
    assert cfg["max_frame_bytes"] == 65536 and cfg["recall_window_s"] == 120
    # Two sessions never share an id.
    ws2 = await clients.connect(server, a)
    assert ws2.session_id != data["session_id"]


async def test_ping_request(server: ServerProcess, api: Api, clients: Clients) -> None:
    a = await api.account(server)
    ws = await clients.connect(server, a)
    before = int(time.time() * 1000)
    reply = await ws.request("ping", rid=77)
    assert reply == {"t": "res", "rid": 77, "ok": True, "data": {"server_time": reply["data"]["server_time"]}}
    assert abs(reply["data"]["server_time"] - before) < 5000


async def test_bad_token_gets_unauthorized_then_4401(server: ServerProcess, api: Api, clients: Clients) -> None:
    ws = await clients.raw(server)
    reply = await ws.request("auth", rid=1, token="not-a-token", device={"id": "d1", "platform": "web"})
    assert reply["ok"] is False and reply["rid"] == 1
    assert reply["error"]["code"] == "unauthorized"
    assert await ws.wait_closed() == 4401


async def test_token_signed_with_another_key_is_rejected(server: ServerProcess, clients: Clients) -> None:
    import jwt

    forged = jwt.encode({"sub": "someone", "exp": int(time.time()) + 600}, "x" * 48, algorithm="HS256")
    ws = await clients.raw(server)
    reply = await ws.request("auth", rid=1, token=forged, device={"id": "d1", "platform": "web"})
    assert reply["error"]["code"] == "unauthorized"
    assert await ws.wait_closed() == 4401


async def test_non_auth_first_frame_closes_4401(server: ServerProcess, clients: Clients) -> None:
    ws = await clients.raw(server)
    await ws.send_json({"t": "ping", "rid": 1})
    assert await ws.wait_closed() == 4401
    assert not any(f.get("ok") for f in ws.received), "nothing may be served before auth"


async def test_send_before_auth_closes_4401(server: ServerProcess, api: Api, clients: Clients) -> None:
    b = await api.account(server)
    ws = await clients.raw(server)
    await ws.send_json({"t": "send", "rid": 1, "cid": "c", "to": b.user_id, "kind": "text", "body": {"text": "x"}})
    assert await ws.wait_closed() == 4401
    # and nothing was stored for b
    wb = await clients.connect(server, b)
    assert await wb.call("sync", convs={}) == {"convs": []}


async def test_garbage_first_frame_closes_4401(server: ServerProcess, clients: Clients) -> None:
    ws = await clients.raw(server)
    await ws.send_raw("{this is not json")
    assert await ws.wait_closed() == 4401


async def test_invalid_device_in_auth_is_bad_request_and_4401(server: ServerProcess, api: Api, clients: Clients) -> None:
    a = await api.account(server)
    for device in ({"id": "bad id!", "platform": "web"}, {"id": "d1", "platform": "toaster"}, {"id": 5, "platform": "web"}):
        ws = await clients.raw(server)
        reply = await ws.request("auth", rid=9, token=a.access_token, device=device)
        assert reply["ok"] is False and reply["rid"] == 9 and reply["error"]["code"] == "bad_request", reply
        assert await ws.wait_closed() == 4401


async def test_auth_timeout_closes_4408(tuned_server: ServerProcess, clients: Clients) -> None:
    """SEMOT_AUTH_TIMEOUT_S=0.5 on this server."""
    ws = await clients.raw(tuned_server)
    started = time.monotonic()
    assert await ws.wait_closed(timeout=5) == 4408
    assert 0.3 <= time.monotonic() - started < 3


async def test_websocket_ping_before_auth_is_answered(server: ServerProcess, api: Api) -> None:
    """A control-frame ping is not a protocol frame: it gets a pong, and auth still works."""
    a = await api.account(server)
    raw = await RawWS.connect(server)
    try:
        await raw.send_text(b"are you there", opcode=0x9)
        assert await asyncio.wait_for(raw.read_frame(), 5) == (0xA, b"are you there")
        data = await raw.auth(a)
        assert data["user_id"] == a.user_id
    finally:
        raw.close()


async def test_pings_do_not_extend_the_auth_deadline(tuned_server: ServerProcess) -> None:
    """SEMOT_AUTH_TIMEOUT_S=0.5: pinging without authenticating still ends in 4408."""
    raw = await RawWS.connect(tuned_server)
    started = time.monotonic()
    code = None
    try:
        while time.monotonic() - started < 5 and code is None:
            await raw.send_text(b"", opcode=0x9)
            while True:
                frame = await asyncio.wait_for(raw.read_frame(), 5)
                assert frame is not None, "dropped without a close frame"
                if frame[0] == 0x8:
                    code = int.from_bytes(frame[1][:2], "big")
                if frame[0] in (0x8, 0xA):
                    break
            await asyncio.sleep(0.1)
    except (ConnectionError, OSError):
        pass
    finally:
        raw.close()
    assert code == 4408
    assert time.monotonic() - started < 3


async def test_direct_chat_both_ways(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    conv = direct_conv(a.user_id, b.user_id)
    ack = await wa.call("send", cid="c-1", to=b.user_id, kind="text", body={"text": "hello bob"})
    assert ack["conv"] == conv and ack["seq"] == 1
    assert ack["mid"].startswith("m_") and isinstance(ack["ts"], int)
    m = await wb.wait_for(lambda f: f.get("t") == "msg")
    assert m == {
        "t": "msg",
        "conv": conv,
        "seq": 1,
        "mid": ack["mid"],
        "cid": "c-1",
        "from": a.user_id,
        "kind": "text",
        "body": {"text": "hello bob"},
        "ts": ack["ts"],
        "opts": {},
    }
    # Reply addressed by conv id rather than user id.
    ack2 = await wb.call("send", cid="c-2", to=conv, kind="text", body={"text": "hi alice"})
    assert ack2["conv"] == conv and ack2["seq"] == 2
    m2 = await wa.wait_for(lambda f: f.get("t") == "msg")
    assert m2["seq"] == 2 and m2["from"] == b.user_id and m2["body"] == {"text": "hi alice"}
    # The sending device gets only the ack, never its own push.
    assert wa.pushes(lambda f: f.get("t") == "msg") == [] and wb.pushes(lambda f: f.get("t") == "msg") == []


async def test_other_kinds_round_trip(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    bodies = {
        "text": {"text": "@b look", "mentions": [b.user_id]},
        "location": {"lat": 52.52, "lng": 13.405, "title": "Berlin"},
        "card": {"user_id": a.user_id},
        "custom": {"type": "order", "data": {"id": 7, "items": [1, 2]}},
    }
    for kind, body in bodies.items():
        ack = await wa.call("send", cid=unique("c"), to=b.user_id, kind=kind, body=body)
        m = await wb.wait_for(lambda f, s=ack["seq"]: f.get("t") == "msg" and f["seq"] == s)
        assert m["kind"] == kind and m["body"] == body


async def test_multi_device_pushes(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    a1 = await clients.connect(server, a, "phone", "ios")
    a2 = await clients.connect(server, a, "laptop", "desktop")
    b1 = await clients.connect(server, b, "web", "web")
    b2 = await clients.connect(server, b, "tablet", "android")
    conv = direct_conv(a.user_id, b.user_id)

    ack = await a1.send_text(b.user_id, "from a's phone")
    for dev in (b1, b2, a2):  # both of b's devices and a's OTHER device
        m = await dev.wait_for(lambda f: f.get("t") == "msg" and f["conv"] == conv)
        assert m["seq"] == ack["seq"] and m["mid"] == ack["mid"] and m["from"] == a.user_id
    # The sending device got the ack only: a push would have arrived before it.
    assert a1.pushes(lambda f: f.get("t") == "msg") == []

    ack2 = await b2.send_text(a.user_id, "from b's tablet")
    for dev in (a1, a2, b1):
        m = await dev.wait_for(lambda f: f.get("t") == "msg" and f["conv"] == conv)
        assert m["seq"] == ack2["seq"] == ack["seq"] + 1 and m["from"] == b.user_id
    assert b2.pushes(lambda f: f.get("t") == "msg") == []


async def test_same_device_again_replaces_with_4409(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    old = await clients.connect(server, a, "phone")
    other = await clients.connect(server, a, "laptop")
    new = await clients.connect(server, a, "phone")
    assert await old.wait_closed() == 4409
    # The new connection and the other device are live and get pushes.
    assert "server_time" in await new.call("ping")
    wb = await clients.connect(server, b)
    ack = await wb.send_text(a.user_id, "who is there")
    for dev in (new, other):
        m = await dev.wait_for(lambda f: f.get("t") == "msg")
        assert m["seq"] == ack["seq"]
    assert not other.closed.is_set()


async def test_heartbeat_drops_silent_peer_keeps_live_one(
    spawn_server: Callable[..., ServerProcess], api: Api, clients: Clients
) -> None:
    """SEMOT_HEARTBEAT_S=2: a peer that never answers pings is dropped after ~4-6 s (two
    silent intervals). Not the tuned server's 1 s: the live client below answers from this
    test's own event loop, which a CI machine at load 15 starved for two seconds once."""
    server = await asyncio.to_thread(spawn_server, {"SEMOT_HEARTBEAT_S": "2"})
    a, b = await api.accounts(server, 2)
    live = await clients.connect(server, b)  # its reader answers every ping
    assert live.auth_data is not None and live.auth_data["heartbeat_s"] == 2
    dead = await RawWS.connect(server)
    try:
        await dead.auth(a)
        authed = time.monotonic()
        pings = 0
        while True:
            frame = await asyncio.wait_for(dead.read_frame(), 12)
            if frame is None:
                break
            if frame[0] == 0x9:
                pings += 1  # seen, never answered
        dropped_after = time.monotonic() - authed
    finally:
        dead.close()
    assert pings >= 1, "the server must ping"
    assert 3 <= dropped_after <= 9, dropped_after
    # The live client has been through the same pings and is still served.
    assert not live.closed.is_set()
    assert "server_time" in await live.call("ping")
    await asyncio.sleep(3)  # more heartbeat rounds
    assert not live.closed.is_set()
    ack = await live.send_text(a.user_id, "you there?")
    assert ack["seq"] == 1


async def test_silent_after_auth_then_no_pong_via_aiohttp(tuned_server: ServerProcess, api: Api, clients: Clients) -> None:
    """An aiohttp client with autoping=False that never sends pongs is dropped too."""
    a = await api.account(tuned_server)
    import aiohttp

    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(tuned_server.ws_url, autoping=False)
        await ws.send_str(json.dumps({"t": "auth", "rid": 1, "token": a.access_token, "device": {"id": "x", "platform": "sdk"}}))
        reply = json.loads((await ws.receive(timeout=5)).data)
        assert reply["ok"]
        started = time.monotonic()
        seen_ping = False
        while True:
            msg = await ws.receive(timeout=6)
            if msg.type is aiohttp.WSMsgType.PING:
                seen_ping = True  # autoping=False: not answered
                continue
            break
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        assert seen_ping
        assert 1.0 <= time.monotonic() - started <= 4.5
    # The server is fine.
    await assert_chat_works(clients, api, tuned_server)

