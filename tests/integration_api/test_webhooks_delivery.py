"""Webhook deliveries from outside (PROTOCOL.md §4, docs/integration.md), on SQLite and
PostgreSQL, to a real receiver on loopback: registration, signature, every event, retries
with the same id, the dead letter and its replay, no redirects, the answer size limit,
order per conversation."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.files.test_file_messages import upload
from tests.integration.harness import Api, Clients, ServerProcess, direct_conv
from tests.integration_api.webhook_fixtures import Hooks, admin_token, hooks, receiver, srv  # noqa: F401
from tests.integration_api.webhook_receiver import Hit, Receiver


def _event(event: str, **data: Any) -> Any:
    def match(h: Hit) -> bool:
        doc = h.doc
        return bool(doc["event"] == event and all(doc["data"].get(k) == v for k, v in data.items()))
    return match


async def test_register_list_delete_and_audit(srv: ServerProcess, api: Api, receiver: Receiver) -> None:
    token = await admin_token(api, srv)
    status, body = await api.call(srv, "POST", "/api/admin/v1/webhooks",
                                  {"url": receiver.base + "/ok", "events": ["message.sent"]}, token=token)
    assert status == 201, body
    assert set(body) == {"webhook_id", "secret"} and len(body["secret"]) >= 32
    hook_id = body["webhook_id"]
    status, page = await api.call(srv, "GET", "/api/admin/v1/webhooks", token=token)
    assert status == 200
    [mine] = [h for h in page["webhooks"] if h["webhook_id"] == hook_id]
    assert mine["on_timeout"] == "allow" and mine["timeout_ms"] == 2000 and mine["events"] == ["message.sent"]
    assert "secret" not in mine and "message.before_send" in page["events"]
    for bad in ({"url": "ftp://x/y", "events": ["message.sent"]}, {"url": receiver.base, "events": ["nope"]},
                {"url": receiver.base, "events": []}, {"url": receiver.base, "events": ["user.online"], "timeout_ms": 0},
                {"url": receiver.base, "events": ["user.online"], "on_timeout": "maybe"}):
        status, err = await api.call(srv, "POST", "/api/admin/v1/webhooks", bad, token=token)
        assert status == 400 and err["error"]["code"] == "bad_request", (bad, err)
    status, body = await api.call(srv, "DELETE", f"/api/admin/v1/webhooks/{hook_id}", token=token)
    assert (status, body) == (200, {})
    status, body = await api.call(srv, "DELETE", f"/api/admin/v1/webhooks/{hook_id}", token=token)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, log = await api.call(srv, "GET", "/api/admin/v1/audit-log?limit=50", token=token)
    actions = {(e["action"], e["target"]) for e in log["entries"]}
    assert {("webhook.create", hook_id), ("webhook.delete", hook_id)} <= actions
    # a plain user may not
    user = await api.account(srv, "plain")
    status, _ = await api.call(srv, "GET", "/api/admin/v1/webhooks", token=user.access_token)
    assert status in (401, 403)


async def test_message_sent_is_signed_and_logged(
    srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks
) -> None:
    hook_id, secret = await hooks.add(receiver.base + "/ok", ["message.sent"])
    a, b = await api.accounts(srv, 2, "sig")
    wa = await clients.connect(srv, a)
    sent = await wa.send_text(b.user_id, "你好 webhook")
    conv = direct_conv(a.user_id, b.user_id)
    [hit] = await receiver.wait(_event("message.sent", conv=conv))
    assert hit.signed_by(secret) and not hit.signed_by("another secret")
    doc = hit.doc
    assert set(doc) == {"id", "event", "ts", "data"}
    assert doc["data"]["seq"] == sent["seq"] and doc["data"]["from"] == a.user_id
    assert doc["data"]["body"] == {"text": "你好 webhook"} and doc["data"]["kind"] == "text"
    assert hit.headers["Content-Type"] == "application/json"
    await asyncio.sleep(0.2)
    [d] = [d for d in await hooks.deliveries(hook_id) if d["id"] == doc["id"]]
    assert d["status"] == "delivered" and d["tries"] == 1 and d["last_status"] == 200 and d["key"] == conv


async def test_every_event(srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks) -> None:
    events = ["user.login", "user.logout", "user.online", "user.offline", "message.sent", "message.recalled",
              "message.read", "file.uploaded", "group.created", "group.member_joined", "group.member_left",
              "group.dismissed", "friend.added"]
    await hooks.add(receiver.base + "/ok", events)
    a, b, c = await api.accounts(srv, 3, "every")
    # user.login (the accounts were logged in before the hook: log in again)
    status, login = await api.login(srv, a.user_id)
    assert status == 200
    await receiver.wait(_event("user.login", user_id=a.user_id))
    # online / offline
    wa = await clients.connect(srv, a)
    await receiver.wait(_event("user.online", user_id=a.user_id))
    wb = await clients.connect(srv, b)
    # message.sent, message.read, message.recalled
    sent = await wa.send_text(b.user_id, "hello")
    conv = direct_conv(a.user_id, b.user_id)
    await receiver.wait(_event("message.sent", conv=conv, seq=sent["seq"]))
    await wb.call("read", conv=conv, seq=sent["seq"])
    await receiver.wait(_event("message.read", conv=conv, seq=sent["seq"], user_id=b.user_id))
    await wa.call("recall", conv=conv, seq=sent["seq"])
    await receiver.wait(_event("message.recalled", conv=conv, seq=sent["seq"], by=a.user_id))
    # groups
    gconv = await api.group(srv, a, [b], name="hooks")
    gid = gconv[2:]
    await receiver.wait(_event("group.created", group_id=gid, name="hooks", by=a.user_id))
    status, body = await api.call(srv, "POST", f"/api/v1/groups/{gid}/members", {"user_ids": [c.user_id]},
                                  token=a.access_token)
    assert status == 200, body
    await receiver.wait(_event("group.member_joined", group_id=gid, user_id=c.user_id))
    status, body = await api.call(srv, "DELETE", f"/api/v1/groups/{gid}/members/{c.user_id}", token=c.access_token)
    assert status == 200, body
    await receiver.wait(_event("group.member_left", group_id=gid, user_id=c.user_id, reason="left"))
    status, body = await api.call(srv, "DELETE", f"/api/v1/groups/{gid}", token=a.access_token)
    assert status == 200, body
    await receiver.wait(_event("group.dismissed", group_id=gid))
    # friends
    status, req = await api.call(srv, "POST", "/api/v1/friends/requests", {"user_id": c.user_id}, token=a.access_token)
    assert status in (200, 201), req
    if req["status"] != "friends":
        status, body = await api.call(srv, "POST", f"/api/v1/friends/requests/{req['request_id']}",
                                      {"action": "accept"}, token=c.access_token)
        assert status == 200, body
    [f] = await receiver.wait(_event("friend.added", users=sorted([a.user_id, c.user_id])))
    # files (a tus upload)
    file_id = await upload(srv, a, b"hello webhook file", "w.txt")
    [up] = await receiver.wait(_event("file.uploaded", user_id=a.user_id, file_id=file_id))
    assert up.doc["data"]["name"] == "w.txt" and up.doc["data"]["size"] == 18
    # logout, offline
    status, body = await api.call(srv, "POST", "/api/v1/auth/logout", {}, token=login["access_token"])
    assert status == 200, body
    await receiver.wait(_event("user.logout", user_id=a.user_id))
    await wa.close()
    await wb.close()
    await receiver.wait(_event("user.offline", user_id=a.user_id), timeout=15)  # its login ended: socket closed
    # one friend.added per friendship
    await asyncio.sleep(0.2)
    assert len([h for h in receiver.hits if _event("friend.added")(h) and a.user_id in h.doc["data"]["users"]]) == 1
    assert f.doc["id"].startswith("wd_")


async def test_retried_with_the_same_id_then_delivered(
    srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks
) -> None:
    hook_id, secret = await hooks.add(receiver.base + "/fail/2", ["message.sent"])
    a, b = await api.accounts(srv, 2, "retry")
    wa = await clients.connect(srv, a)
    await wa.send_text(b.user_id, "try me")
    conv = direct_conv(a.user_id, b.user_id)
    hits = await receiver.wait(_event("message.sent", conv=conv), n=3)
    assert len({h.doc["id"] for h in hits}) == 1 and len({h.raw for h in hits}) == 1
    assert all(h.signed_by(secret) for h in hits)
    assert hits[1].at - hits[0].at < 10  # the first retry within 10 s
    await asyncio.sleep(0.3)
    [d] = await hooks.deliveries(hook_id)
    assert d["status"] == "delivered" and d["tries"] == 3


async def test_dead_letter_then_replay(
    srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks
) -> None:
    hook_id, _ = await hooks.add(receiver.base + "/always500", ["message.sent"])
    a, b = await api.accounts(srv, 2, "dead")
    wa = await clients.connect(srv, a)
    await wa.send_text(b.user_id, "never")
    conv = direct_conv(a.user_id, b.user_id)
    hits = await receiver.wait(_event("message.sent", conv=conv), n=5)
    for _ in range(50):
        [d] = await hooks.deliveries(hook_id)
        if d["status"] == "dead":
            break
        await asyncio.sleep(0.1)
    assert d["status"] == "dead" and d["tries"] == 5 and d["last_status"] == 500 and "500" in d["last_error"]
    gaps = [hits[i + 1].at - hits[i].at for i in range(4)]
    assert gaps[-1] > gaps[0] and gaps[-1] >= 0.7, gaps  # growing backoff: 0.1, 0.2, 0.4, 0.8 s (+ polling)
    assert len(await hooks.deliveries(hook_id, status="dead")) == 1
    await asyncio.sleep(0.3)
    assert len(receiver.at("/always500")) == 5  # no sixth try
    status, body = await api.call(srv, "POST", f"/api/admin/v1/webhook-deliveries/{d['id']}/replay",
                                  token=hooks.token)
    assert status == 200 and body["status"] == "pending" and body["tries"] == 0, body
    again = await receiver.wait(_event("message.sent", conv=conv), n=6)
    assert again[-1].doc["id"] == d["id"] and again[-1].raw == hits[0].raw
    status, body = await api.call(srv, "POST", "/api/admin/v1/webhook-deliveries/wd_nope/replay", token=hooks.token)
    assert status == 404


async def test_redirects_are_not_followed_and_big_answers_fail(
    srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks
) -> None:
    redirect_id, _ = await hooks.add(receiver.base + "/redirect", ["message.sent"])
    big_id, _ = await hooks.add(receiver.base + "/big", ["message.sent"])
    a, b = await api.accounts(srv, 2, "redir")
    wa = await clients.connect(srv, a)
    await wa.send_text(b.user_id, "where to?")
    await receiver.wait(lambda h: h.path == "/redirect", n=2)
    await receiver.wait(lambda h: h.path == "/big", n=2)
    assert not receiver.at("/ok")  # the redirect was not followed
    [d] = await hooks.deliveries(redirect_id)
    assert d["last_status"] == 302 and "redirects are not followed" in d["last_error"]
    [d] = await hooks.deliveries(big_id)
    assert d["status"] == "pending" and "too large" in d["last_error"]


async def test_in_order_per_conversation(
    srv: ServerProcess, api: Api, clients: Clients, receiver: Receiver, hooks: Hooks
) -> None:
    await hooks.add(receiver.base + "/fail/1", ["message.sent"])  # every first try fails: order must hold anyway
    a, b, c = await api.accounts(srv, 3, "order")
    wa = await clients.connect(srv, a)
    conv_b, conv_c = direct_conv(a.user_id, b.user_id), direct_conv(a.user_id, c.user_id)
    for i in range(6):
        await wa.send_text(b.user_id, f"b{i}")
        await wa.send_text(c.user_id, f"c{i}")
    for conv in (conv_b, conv_c):
        ok = await receiver.wait(_event("message.sent", conv=conv), n=12, timeout=15)
        seqs = [h.doc["data"]["seq"] for h in ok]
        firsts = list(dict.fromkeys(seqs))  # the order in which each delivery was first tried
        assert firsts == sorted(firsts), seqs
        # each delivery's successful (second) try came before the next one's first
        for i in range(len(firsts) - 1):
            assert seqs.index(firsts[i + 1]) > len(seqs) - 1 - seqs[::-1].index(firsts[i]), seqs
