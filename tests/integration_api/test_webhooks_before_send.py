"""The synchronous message.before_send hook over a real WebSocket send (PROTOCOL.md §4),
on SQLite and PostgreSQL: allow, block with a reason, replace the body (validated like a
client's), a timeout under on_timeout allow and block, and its metrics."""

from __future__ import annotations

import time

from tests.integration.harness import Api, Clients, ServerProcess, all_history, direct_conv, metric
from tests.integration_api.webhook_fixtures import Hooks, hooks, receiver, srv  # noqa: F401
from tests.integration_api.webhook_receiver import Receiver


async def test_allow_block_replace(
    srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks
) -> None:
    _, secret = await hooks.add(receiver.base + "/before", ["message.before_send"], timeout_ms=1000)
    a, b = await api.accounts(srv, 2, "bsend")
    wa = await clients.connect(srv, a)
    wb = await clients.connect(srv, b)
    conv = direct_conv(a.user_id, b.user_id)

    receiver.answer = {"action": "allow"}
    sent = await wa.send_text(b.user_id, "plain words")
    [hit] = receiver.at("/before")
    assert hit.signed_by(secret)
    doc = hit.doc
    assert doc["event"] == "message.before_send"
    assert {k: doc["data"][k] for k in ("from", "conv", "kind", "body")} == {
        "from": a.user_id, "conv": conv, "kind": "text", "body": {"text": "plain words"}}
    got = await wb.wait_for(lambda f: f.get("t") == "msg" and f.get("seq") == sent["seq"])
    assert got["body"] == {"text": "plain words"}

    receiver.answer = {"action": "block", "reason": "外部系统拒绝"}
    reply = await wa.request("send", cid="c-block", to=b.user_id, kind="text", body={"text": "forbidden"})
    assert reply["ok"] is False and reply["error"]["code"] == "blocked", reply
    assert "外部系统拒绝" in reply["error"]["message"]

    receiver.answer = {"action": "replace", "body": {"text": "rewritten by the integrator"}}
    sent = await wa.send_text(b.user_id, "original")
    got = await wb.wait_for(lambda f: f.get("t") == "msg" and f.get("seq") == sent["seq"])
    assert got["body"] == {"text": "rewritten by the integrator"}
    stored = await all_history(wb, conv)
    assert [m["body"]["text"] for m in stored] == ["plain words", "rewritten by the integrator"]

    # a replaced body that a client could not send: the hook failed, on_timeout (allow) applies
    receiver.answer = {"action": "replace", "body": {"text": ""}}
    sent = await wa.send_text(b.user_id, "kept as sent")
    got = await wb.wait_for(lambda f: f.get("t") == "msg" and f.get("seq") == sent["seq"])
    assert got["body"] == {"text": "kept as sent"}
    assert await metric(api, srv, 'semot_webhook_before_send_total{outcome="replace"}') >= 1
    assert await metric(api, srv, "semot_webhook_before_send_seconds_count") >= 4


async def test_timeout_allow(srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks) -> None:
    await hooks.add(receiver.base + "/before", ["message.before_send"], timeout_ms=200, on_timeout="allow")
    receiver.answer, receiver.delay = {"action": "block", "reason": "too late"}, 1.0
    a, b = await api.accounts(srv, 2, "bslow")
    wa = await clients.connect(srv, a)
    started = time.monotonic()
    sent = await wa.send_text(b.user_id, "slow hook")
    assert time.monotonic() - started < 0.9  # the send did not wait for the hook's answer
    assert sent["seq"] >= 1


async def test_timeout_block(srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks) -> None:
    await hooks.add(receiver.base + "/before", ["message.before_send"], timeout_ms=200, on_timeout="block")
    receiver.answer, receiver.delay = {"action": "allow"}, 1.0
    a, b = await api.accounts(srv, 2, "bslowb")
    wa = await clients.connect(srv, a)
    reply = await wa.request("send", cid="c-slow", to=b.user_id, kind="text", body={"text": "slow hook"})
    assert reply["ok"] is False and reply["error"]["code"] == "blocked", reply
    assert await all_history(wa, direct_conv(a.user_id, b.user_id)) == []
    assert await metric(api, srv, 'semot_webhook_before_send_total{outcome="failed_block"}') >= 1
