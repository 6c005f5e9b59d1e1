"""Replies (`reply_to`, docs/protocol.md "Replies and quotes"): validated against the
conversation, the excerpt filled by the server from the stored original (never from
the client), and a recalled original recalled in its quotes too; over real sockets,
and through the Python SDK's `reply_to` parameter."""

from __future__ import annotations

import uuid
from typing import Any

from semot.client import SemotClient
from tests.integration.harness import Api, Clients, ServerProcess, all_history, direct_conv


def is_msg(conv: str, seq: int) -> Any:
    return lambda f: f.get("t") == "msg" and f.get("conv") == conv and f.get("seq") == seq


def is_evt(name: str) -> Any:
    return lambda f: f.get("t") == "evt" and f.get("evt") == name


async def send(ws: Any, to: str, kind: str, body: dict[str, Any]) -> Any:
    return await ws.request("send", cid=uuid.uuid4().hex, to=to, kind=kind, body=body)


async def test_reply_to_is_validated(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(server, 3)
    wa = await clients.connect(server, a)
    conv = direct_conv(a.user_id, b.user_id)
    # Nothing to reply to yet: the seq does not exist in this conversation.
    r = await send(wa, b.user_id, "text", {"text": "hi", "reply_to": {"seq": 1}})
    assert r["error"]["code"] == "not_found"
    first = await wa.send_text(b.user_id, "first")
    # Beyond the current max, zero, negative, wrong types, missing seq: refused.
    for bad, code in (
        ({"seq": first["seq"] + 1}, "not_found"),
        ({"seq": 0}, "bad_request"),
        ({"seq": -3}, "bad_request"),
        ({"seq": "1"}, "bad_request"),
        ({"seq": True}, "bad_request"),
        ({}, "bad_request"),
        (5, "bad_request"),
    ):
        r = await send(wa, b.user_id, "text", {"text": "x", "reply_to": bad})
        assert not r["ok"] and r["error"]["code"] == code, (bad, r)
        assert "reply_to" in r["error"]["message"]
    # A seq of another conversation is not a seq of this one.
    group = await api.group(server, a, [c])
    gmsg = await wa.send_text(group, "in the group")
    other = await send(wa, b.user_id, "text", {"text": "x", "reply_to": {"seq": gmsg["seq"]}})
    assert gmsg["seq"] > first["seq"] and other["error"]["code"] == "not_found"
    # A system notice (the group's "created") cannot be quoted.
    r = await send(wa, group, "text", {"text": "x", "reply_to": {"seq": 1}})
    assert r["error"]["code"] == "bad_request"
    # Nothing of these refusals was stored.
    assert [m["seq"] for m in await all_history(wa, conv)] == [first["seq"]]


async def test_excerpt_is_filled_by_the_server(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    wa, wb = await clients.connect(server, a), await clients.connect(server, b)
    conv = direct_conv(a.user_id, b.user_id)
    long_text = "长" * 300
    orig = await wa.send_text(b.user_id, long_text)
    loc = await wa.call("send", cid="loc1", to=b.user_id, kind="location", body={"lat": 1.5, "lng": 2.5, "title": "Office"})
    # The client claims another author and text: the server overwrites both.
    forged = {"seq": orig["seq"], "from": b.user_id, "kind": "text", "text": "I never said this"}
    r = await send(wb, a.user_id, "text", {"text": "agreed", "reply_to": forged})
    assert r["ok"], r
    ack = r["data"]
    expected = {"seq": orig["seq"], "from": a.user_id, "kind": "text", "text": long_text[:199] + "…"}
    assert ack["reply_to"] == expected  # extension: the ack carries the stored quote
    push = await wa.wait_for(is_msg(conv, ack["seq"]))
    assert push["body"] == {"text": "agreed", "reply_to": expected}
    # Other kinds reply too, and a location is quoted by its title.
    r = await send(wb, a.user_id, "card", {"user_id": a.user_id, "reply_to": {"seq": loc["seq"]}})
    assert r["ok"], r
    assert r["data"]["reply_to"] == {"seq": loc["seq"], "from": a.user_id, "kind": "location", "text": "Office"}
    # History and sync show the same stored excerpt, long after the original scrolled away.
    by_seq = {m["seq"]: m for m in await all_history(wb, conv)}
    assert by_seq[ack["seq"]]["body"]["reply_to"] == expected
    (st,) = [s for s in (await wb.call("sync", convs={}))["convs"] if s["conv"] == conv]
    assert st["last"]["body"]["reply_to"]["kind"] == "location"
    # A burn-after-reading original is quoted without its content.
    burn = await wa.call("send", cid="b1", to=b.user_id, kind="text", body={"text": "secret"}, opts={"burn_s": 30})
    r = await send(wb, a.user_id, "text", {"text": "ok", "reply_to": {"seq": burn["seq"]}})
    assert r["data"]["reply_to"] == {"seq": burn["seq"], "from": a.user_id, "kind": "text"}
    # Resending the same cid returns the same stored quote.
    cid = uuid.uuid4().hex
    once = await wb.call("send", cid=cid, to=a.user_id, kind="text", body={"text": "again", "reply_to": {"seq": orig["seq"]}})
    twice = await wb.call("send", cid=cid, to=a.user_id, kind="text", body={"text": "again", "reply_to": {"seq": orig["seq"]}})
    assert once == twice and once["reply_to"]["text"] == expected["text"]


async def test_recalled_original_shows_as_recalled(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(server, 3)
    group = await api.group(server, a, [b, c])
    wa, wb, wc = [await clients.connect(server, u) for u in (a, b, c)]
    orig = await wb.send_text(group, "a typo I regret")
    other = await wb.send_text(group, "unrelated")
    r1 = await send(wa, group, "text", {"text": "what?", "reply_to": {"seq": orig["seq"]}})
    r2 = await send(wc, group, "text", {"text": "fine", "reply_to": {"seq": other["seq"]}})
    assert r1["data"]["reply_to"]["text"] == "a typo I regret" and r2["ok"]
    assert await wb.call("recall", conv=group, seq=orig["seq"]) == {}
    await wc.wait_for(is_evt("recall"))
    # The reply stays, its quote no longer carries the recalled text; the other reply is untouched.
    by_seq = {m["seq"]: m for m in await all_history(wc, group)}
    assert by_seq[r1["data"]["seq"]]["body"] == {
        "text": "what?",
        "reply_to": {"seq": orig["seq"], "from": b.user_id, "kind": "recalled"},
    }
    assert by_seq[r2["data"]["seq"]]["body"]["reply_to"]["text"] == "unrelated"
    assert all("a typo I regret" not in str(m["body"]) for m in by_seq.values())
    # A reply written after the recall quotes "recalled" from the start.
    late = await send(wc, group, "text", {"text": "gone?", "reply_to": {"seq": orig["seq"]}})
    assert late["data"]["reply_to"] == {"seq": orig["seq"], "from": b.user_id, "kind": "recalled"}


async def test_python_sdk_reply_to(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    wb = await clients.connect(server, b)
    conv = direct_conv(a.user_id, b.user_id)
    orig = await wb.send_text(a.user_id, "question")
    got: list[dict[str, Any]] = []
    cl = SemotClient(server.base_url, device_id="sdk-a")
    cl.on_message(got.append)
    try:
        await cl.login(a.user_id, a.password)
        await cl.connect()
        ack = await cl.send_text(b.user_id, "answer", reply_to=orig["seq"])
        assert ack["reply_to"] == {"seq": orig["seq"], "from": b.user_id, "kind": "text", "text": "question"}
    finally:
        await cl.close()
    push = await wb.wait_for(is_msg(conv, ack["seq"]))
    assert push["body"]["reply_to"]["text"] == "question"
    # The SDK's own copy of the message carries the server's quote, not just the seq.
    mine = [m for m in got if m["seq"] == ack["seq"]]
    assert mine and mine[0]["body"]["reply_to"]["text"] == "question"
