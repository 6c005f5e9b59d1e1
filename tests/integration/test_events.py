"""Every push a real server emits fits its model (src/semot/protocol/events.py).

A server started with SEMOT_VALIDATE_EVENTS checks each push before sending it (and
logs "event failed its schema" when one does not fit); here, real WebSocket clients
drive it through every group, contacts, presence and message action, and every frame
they receive without a `rid` is parsed strictly, by discriminator, with extra fields
forbidden. The test also checks that it saw every kind of push the contract defines
(but `notify`, which this version does not send), so a new event type
without a model, or a model no action exercises, is noticed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from semot.protocol import events as ev
from tests.integration.harness import WS, Account, Api, Clients, ServerProcess, eventually, unique

NOT_SENT_YET: set[str] = set()
CLUSTER_ONLY = {"resync"}  # after a Redis outage: tests/cluster/test_redis_outage.py parses it


async def ok(api: Api, server: ServerProcess, who: Account, method: str, path: str, body: Any = None) -> Any:
    status, reply = await api.call(server, method, path, body, token=who.access_token)
    assert status in (200, 201), (method, path, status, reply)
    return reply


def pushes(sockets: list[WS]) -> list[dict[str, Any]]:
    return [f for ws in sockets for f in ws.received if f.get("t") != "res"]


def seen(sockets: list[WS]) -> tuple[set[str], set[str], set[str]]:
    """(push kinds, group change types, contacts change types) received so far."""
    kinds: set[str] = set()
    group: set[str] = set()
    contacts: set[str] = set()
    for f in pushes(sockets):
        kinds.add(f["evt"] if f["t"] == "evt" else f["t"])
        if f.get("evt") == "group":
            group.add(f["change"]["type"])
        elif f.get("evt") == "contacts":
            contacts.add(f["change"]["type"])
    return kinds, group, contacts


def is_evt(name: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("t") == "evt" and f.get("evt") == name and all(f.get(k) == v for k, v in fields.items())


async def test_every_push_fits_its_model(
    spawn_server: Callable[..., ServerProcess], api: Api, clients: Clients
) -> None:
    server = spawn_server()
    a, b, c, d, e, f = await api.accounts(server, 6, "ev")
    wa, wb, wc, wd, we, wf = [await clients.connect(server, x) for x in (a, b, c, d, e, f)]
    wa2 = await clients.connect(server, a)  # a second device: sees its user's own actions
    sockets = [wa, wa2, wb, wc, wd, we, wf]

    # --- contacts: request, accept, remark, tags, settings, block, unblock
    req = await ok(api, server, a, "POST", "/api/v1/friends/requests", {"user_id": b.user_id, "message": "hi"})
    await ok(api, server, b, "POST", f"/api/v1/friends/requests/{req['request_id']}", {"action": "accept"})
    await ok(api, server, a, "PATCH", f"/api/v1/friends/{b.user_id}", {"remark": "Bee"})
    tag = await ok(api, server, a, "POST", "/api/v1/contacts/tags", {"name": "work", "members": [b.user_id]})
    await ok(api, server, a, "PATCH", f"/api/v1/contacts/tags/{tag['tag_id']}", {"name": "team"})
    await ok(api, server, a, "DELETE", f"/api/v1/contacts/tags/{tag['tag_id']}")
    await ok(api, server, c, "PATCH", "/api/v1/me/settings", {"friend_approval": False})
    await ok(api, server, a, "PUT", f"/api/v1/blacklist/{d.user_id}")
    await ok(api, server, a, "DELETE", f"/api/v1/blacklist/{d.user_id}")

    # --- presence: a friend's chosen status reaches a (and b's other devices)
    await wb.call("presence", status="busy", text="in a meeting")
    await wa.wait_for(is_evt("presence", user=b.user_id, status="busy"))

    # --- direct messages of every kind a client may send, typing, read, recall, burn
    conv = f"d:{min(a.user_id, b.user_id)}:{max(a.user_id, b.user_id)}"
    await wa.send_text(b.user_id, "héllo 👋")
    await wa.call(
        "send", cid=unique("c"), to=b.user_id, kind="location", body={"lat": 48.8566, "lng": 2.3522, "title": "Paris"}
    )
    await wa.call("send", cid=unique("c"), to=b.user_id, kind="card", body={"user_id": c.user_id})
    custom = {"type": "order", "data": {"id": 7, "items": [1.5, None, True, {"x": "y"}]}}
    await wa.call("send", cid=unique("c"), to=b.user_id, kind="custom", body=custom)
    await wa.call("typing", conv=conv)
    to_recall = await wa.send_text(b.user_id, "oops")
    await wa.call("recall", conv=conv, seq=to_recall["seq"])
    edited = await wa.send_text(b.user_id, "typo")  # edits and reactions (extension)
    await wa.call("edit", conv=conv, seq=edited["seq"], text="fixed")
    await wb.call("react", conv=conv, seq=edited["seq"], emoji="👍")
    burn = await wa.call(
        "send", cid=unique("c"), to=b.user_id, kind="text", body={"text": "secret"}, opts={"burn_s": 1}
    )
    await wb.wait_for(lambda fr: fr.get("t") == "msg" and fr.get("seq") == burn["seq"])
    await wb.call("read", conv=conv, seq=burn["seq"])
    await wa.call("conv_set", conv=conv, pinned=True, dnd=True)  # evt conv_settings to wa2

    # --- groups: every change type
    g = await ok(
        api,
        server,
        a,
        "POST",
        "/api/v1/groups",
        {"name": "crew", "members": [b.user_id, c.user_id], "type": "temporary"},
    )
    gid, gconv = g["group_id"], g["conv"]
    base = f"/api/v1/groups/{gid}"
    await ok(api, server, a, "POST", base + "/members", {"user_ids": [d.user_id]})
    await ok(api, server, e, "POST", base + "/join", {})  # temporary groups are open
    await ok(api, server, a, "PATCH", base, {"settings": {"join": "approval"}})
    asked = await ok(api, server, f, "POST", base + "/join", {"message": "let me in"})
    assert asked["joined"] is False
    await ok(api, server, a, "POST", f"{base}/requests/{asked['request_id']}", {"action": "accept"})
    await ok(api, server, a, "PUT", f"{base}/members/{b.user_id}/role", {"role": "admin"})
    until = int(time.time() * 1000) + 60_000
    await ok(api, server, a, "PUT", f"{base}/members/{c.user_id}/mute", {"until": until})
    await ok(api, server, a, "PUT", f"{base}/members/{c.user_id}/mute", {"until": None})
    await ok(api, server, a, "PATCH", base, {"name": "crew 2", "announcement": "standup at 10"})
    # a name (evt profile, to friends and co-members) and a group avatar (a 1x1 PNG, one tus request)
    await ok(api, server, c, "PATCH", "/api/v1/me", {"display_name": "Cee"})
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
    )
    tus_png = {"Authorization": f"Bearer {a.access_token}", "Tus-Resumable": "1.0.0", "Upload-Length": str(len(png)),
               "Content-Type": "application/offset+octet-stream"}
    async with api.session.post(server.base_url + "/api/v1/files/", data=png, headers=tus_png) as resp:
        assert resp.status == 201, await resp.text()
        avatar = resp.headers["Location"].rsplit("/", 1)[1]
    await ok(api, server, a, "PATCH", base, {"avatar_file_id": avatar})
    sent = await wb.send_text(gconv, "group hello")
    await wc.call("read", conv=gconv, seq=sent["seq"])
    await ok(api, server, a, "DELETE", f"{base}/members/{d.user_id}")
    await ok(api, server, e, "POST", base + "/leave")
    await ok(api, server, a, "POST", base + "/transfer", {"user_id": b.user_id})
    await ok(api, server, b, "DELETE", base)

    # --- a finished upload (creation-with-upload: one request) tells the uploader's devices
    tus = {"Authorization": f"Bearer {a.access_token}", "Tus-Resumable": "1.0.0", "Upload-Length": "5",
           "Content-Type": "application/offset+octet-stream"}
    async with api.session.post(server.base_url + "/api/v1/files/", data=b"hello", headers=tus) as resp:
        assert resp.status == 201, await resp.text()

    # --- the client configuration changed by an administrator: evt config to every device
    server.create_admin("evroot")
    _, login = await api.login(server, "evroot")
    root = Account("evroot", "", login["access_token"], login["refresh_token"])
    await ok(api, server, root, "PUT", "/api/admin/v1/client-config", {"quick_phrases": ["收到"]})

    # --- pre-moderation: a held group send, rejected by a reviewer (evt moderation to the sender)
    rg = await ok(api, server, a, "POST", "/api/v1/groups", {"name": "reviewed", "members": [c.user_id]})
    await ok(api, server, a, "PATCH", f"/api/v1/groups/{rg['group_id']}", {"settings": {"review": True}})
    held = await wc.request("send", cid=unique("c"), to=rg["conv"], kind="text", body={"text": "please check"})
    assert held["error"]["code"] == "pending_review", held
    await ok(api, server, root, "POST", f"/api/admin/v1/moderation/{held['error']['mid']}", {"action": "reject"})

    # --- an integrator's notification through the server API (evt notify)
    key = (await ok(api, server, root, "POST", "/api/admin/v1/api-keys", {"name": "events"}))["key"]
    async with api.session.post(
        server.base_url + "/api/server/v1/notifications",
        json={"users": [a.user_id], "data": {"kind": "approval", "id": 7}},
        headers={"Authorization": f"Bearer {key}"},
    ) as resp:
        assert resp.status == 200, await resp.text()

    # --- customer service: an agent's chosen state (evt cs to the agent's devices)
    queue = await ok(api, server, root, "POST", "/api/admin/v1/cs/queues", {"name": "售后问题"})
    await ok(api, server, root, "PUT", f"/api/admin/v1/cs/agents/{a.user_id}", {"queues": [queue["queue_id"]]})
    await ok(api, server, a, "PUT", "/api/v1/cs/agent/state", {"state": "online"})

    # --- last, a removal (its pushes end the contacts part)
    await ok(api, server, b, "DELETE", f"/api/v1/friends/{a.user_id}")

    want_kinds = (set(ev.EVENT_TYPES) - NOT_SENT_YET - CLUSTER_ONLY) | {"msg"}

    async def everything_seen() -> bool:
        kinds, group, contacts = seen(sockets)
        return kinds >= want_kinds and group >= set(ev.GROUP_CHANGES) and contacts >= set(ev.CONTACTS_CHANGES)

    try:
        await eventually(everything_seen, timeout=10, what="every kind of push")
    except AssertionError:
        kinds, group, contacts = seen(sockets)
        missing = (want_kinds - kinds, set(ev.GROUP_CHANGES) - group, set(ev.CONTACTS_CHANGES) - contacts)
        raise AssertionError(f"never received: {missing}") from None
    kinds, group, contacts = seen(sockets)
    assert group == set(ev.GROUP_CHANGES) and contacts == set(ev.CONTACTS_CHANGES), (group, contacts)
    assert kinds == want_kinds, kinds  # nothing outside the contract was pushed

    # --- every frame fits its model, strictly
    frames = pushes(sockets)
    assert len(frames) > 60
    for frame in frames:
        model = ev.parse_push(json.dumps(frame))
        assert json.loads(model.to_json()) == frame, frame  # and the model says exactly the same
    # the server checked them too, before sending: nothing was refused
    assert "failed its schema" not in server.log_path.read_text(errors="replace")


async def test_a_push_reaches_a_device_as_one_text_frame_per_event(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    """The hub frames each event itself: a client sees the same JSON it always did."""
    a, b = await api.accounts(server, 2, "fr")
    wa, wb = await clients.connect(server, a), await clients.connect(server, b)
    text = f"x{uuid.uuid4().hex}" * 100  # over 125 bytes: the 16-bit length form
    ack = await wa.send_text(b.user_id, text)
    m = await wb.wait_for(lambda fr: fr.get("t") == "msg" and fr.get("seq") == ack["seq"])
    assert m == {
        "t": "msg",
        "conv": ack["conv"],
        "seq": ack["seq"],
        "mid": ack["mid"],
        "cid": m["cid"],
        "from": a.user_id,
        "kind": "text",
        "body": {"text": text},
        "ts": ack["ts"],
        "opts": {},
    }
    await wa.call("typing", conv=ack["conv"])
    assert await wb.wait_for(is_evt("typing")) == {"t": "evt", "evt": "typing", "conv": ack["conv"], "user": a.user_id}
