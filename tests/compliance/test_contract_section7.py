"""Acceptance test of PROTOCOL.md §7's compliance rows, exactly as an external client uses
them (real server, real HTTP and WebSocket, SQLite and PostgreSQL), plus the user-facing
bullets of issue 13 that sit next to them (user search rules, retention off by default,
owners' and admins' recall, the permissions that guard each admin API).

Rows: audit search (`GET /api/admin/v1/messages`), admin recall, sensitive words
(`GET`/`POST`/`DELETE`, the three levels on a real send, 400 `blocked` for display
names and group names), `sensitive-hits`, `PATCH /api/admin/v1/groups/{id}` `review`,
the moderation queue and decisions (`pending_review` with `mid`, approve keeps the mid
and takes the next seq, a resend of the cid returns that seq, reject pushes
`evt moderation`). Sensitive words are global to a server: every word here is unique.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from tests.compliance.support import admin
from tests.integration.harness import WS, Account, Api, Clients, ServerProcess, all_history, direct_conv, unique

A = "/api/admin/v1"


async def role_holder(server: ServerProcess, api: Api, boss: Account, perms: list[str]) -> Account:
    """A fresh user granted a custom role holding exactly `perms`."""
    status, role = await api.call(server, "POST", f"{A}/roles", {"name": unique("r"), "perms": perms},
                                  token=boss.access_token)
    assert status == 201, role
    who = await api.account(server, "rh")
    status, body = await api.call(server, "PUT", f"{A}/admins/{who.user_id}", {"roles": [role["role_id"]]},
                                  token=boss.access_token)
    assert status == 200, body
    return who


def word() -> str:
    """A unique word (ASCII letters only: no digit run could touch other tests' text)."""
    return "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


def is_msg(conv: str, **match: Any) -> Any:
    return lambda f: f.get("t") == "msg" and f.get("conv") == conv and all(f.get(k) == v for k, v in match.items())


def is_evt(name: str, **match: Any) -> Any:
    return lambda f: f.get("t") == "evt" and f.get("evt") == name and all(f.get(k) == v for k, v in match.items())


async def get(api: Api, server: ServerProcess, who: Account, path: str, **query: Any) -> tuple[int, Any]:
    qs = urlencode({k: v for k, v in query.items() if v is not None})
    return await api.call(server, "GET", path + (f"?{qs}" if qs else ""), token=who.access_token)


# --------------------------------------------------------------------------- audit search


async def test_audit_search_finds_chinese_inside_text_with_ip_and_total(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    boss = await admin(server, api)
    alice, bob = await api.accounts(server, 2, "as")
    wa = await clients.connect(server, alice)
    conv = direct_conv(alice.user_id, bob.user_id)
    t0 = int(time.time() * 1000)
    ack = await wa.send_text(bob.user_id, "请把合同发给我")
    other = await wa.send_text(bob.user_id, "hello world 2024")
    t1 = int(time.time() * 1000)

    status, body = await get(api, server, boss, f"{A}/messages", q="合同", user_id=alice.user_id)
    assert status == 200, body
    assert isinstance(body["total"], int) and body["total"] == 1, body
    [m] = body["messages"]
    assert {k: m[k] for k in ("conv", "seq", "mid", "from", "kind", "body")} == {
        "conv": conv, "seq": ack["seq"], "mid": ack["mid"], "from": alice.user_id, "kind": "text",
        "body": {"text": "请把合同发给我"}}
    assert m["ip"] == "127.0.0.1" and isinstance(m["ts"], int)
    # q alone (every conversation), and each filter of the row: conv, from/to, ip
    status, body = await get(api, server, boss, f"{A}/messages", q="合同")
    assert status == 200 and ack["mid"] in [x["mid"] for x in body["messages"]] and body["total"] >= 1
    for query in ({"conv": conv}, {"from": t0, "to": t1}, {"ip": "127.0.0.1"}):
        status, body = await get(api, server, boss, f"{A}/messages", q="合同", user_id=alice.user_id, **query)
        assert status == 200 and [x["mid"] for x in body["messages"]] == [ack["mid"]], (query, body)
    status, body = await get(api, server, boss, f"{A}/messages", user_id=alice.user_id)
    assert [x["seq"] for x in body["messages"]] == [other["seq"], ack["seq"]] and body["total"] == 2
    status, body = await get(api, server, boss, f"{A}/messages", q="合同", user_id=alice.user_id, ip="10.9.8.7")
    assert (status, body["messages"], body["total"]) == (200, [], 0)
    status, body = await get(api, server, boss, f"{A}/messages", q="合同", user_id=alice.user_id, to=t0 - 1)
    assert body["messages"] == [] and body["total"] == 0
    # the ip is for auditors only: never on a client's copy
    page = await wa.call("history", conv=conv, after=0, limit=10)
    assert all("ip" not in x for x in page["messages"])
    # only administrators holding messages.audit
    assert (await get(api, server, alice, f"{A}/messages", q="合同"))[0] == 403
    other_admin = await role_holder(server, api, boss, ["sensitive.view"])
    status, body = await get(api, server, other_admin, f"{A}/messages", q="合同")
    assert status == 403 and body["error"]["code"] == "forbidden"
    auditor = await role_holder(server, api, boss, ["messages.audit"])
    status, body = await get(api, server, auditor, f"{A}/messages", q="合同", user_id=alice.user_id)
    assert status == 200 and body["total"] == 1


# --------------------------------------------------------------------------- admin recall


async def test_admin_recall_pushes_evt_recall_by_the_admin(server: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin(server, api)
    recaller = await role_holder(server, api, boss, ["messages.recall"])
    alice, bob = await api.accounts(server, 2, "ar")
    wa, wb = await clients.connect(server, alice), await clients.connect(server, bob)
    ack = await wa.send_text(bob.user_id, "请把合同发给我 recall-me")
    await wb.wait_for(is_msg(ack["conv"], seq=ack["seq"]))
    assert (await api.call(server, "POST", f"{A}/conversations/{ack['conv']}/messages/{ack['seq']}/recall",
                           token=alice.access_token))[0] == 403
    status, body = await api.call(server, "POST", f"{A}/conversations/{ack['conv']}/messages/{ack['seq']}/recall",
                                  token=recaller.access_token)
    assert (status, body) == (200, {})
    same = f"d:{alice.user_id}:{alice.user_id}"  # well-formed, impossible: no such conversation
    status, body = await api.call(server, "POST", f"{A}/conversations/{same}/messages/1/recall", token=recaller.access_token)
    assert status == 404 and body["error"]["code"] == "not_found", body
    for ws in (wa, wb):
        evt = await ws.wait_for(is_evt("recall", seq=ack["seq"]))
        assert (evt["conv"], evt["seq"], evt["by"]) == (ack["conv"], ack["seq"], recaller.user_id)
    [t] = [m for m in await all_history(wb, ack["conv"]) if m["seq"] == ack["seq"]]
    assert (t["kind"], t["body"], t["seq"], t["from"]) == ("recalled", {}, ack["seq"], alice.user_id)
    # recalled messages are not found any more, by the user or the auditors
    assert (await wb.call("search", q="recall"))["hits"] == []
    status, body = await get(api, server, boss, f"{A}/messages", q="合同", user_id=alice.user_id)
    assert status == 200 and body["messages"] == [] and body["total"] == 0


# --------------------------------------------------------------------------- sensitive words


async def add_word(api: Api, server: ServerProcess, who: Account, w: str, level: str) -> str:
    status, body = await api.call(server, "POST", f"{A}/sensitive-words", {"word": w, "level": level},
                                  token=who.access_token)
    assert status == 201, body
    assert isinstance(body["word_id"], str | int) and body["word_id"] != "", body
    return str(body["word_id"])


async def test_sensitive_words_crud_and_the_three_levels_on_a_send(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    boss = await admin(server, api)
    editor = await role_holder(server, api, boss, ["sensitive.view", "sensitive.write"])
    warn_w, repl_w, block_w = word(), word(), word()
    ids = {w: await add_word(api, server, editor, w, lvl) for w, lvl in
           ((warn_w, "warn"), (repl_w, "replace"), (block_w, "block"))}
    status, listing = await get(api, server, editor, f"{A}/sensitive-words", limit=200)
    assert status == 200
    listed = {str(x["word_id"]): x for x in listing["words"]}
    for w, lvl in ((warn_w, "warn"), (repl_w, "replace"), (block_w, "block")):
        assert (listed[ids[w]]["word"], listed[ids[w]]["level"]) == (w, lvl)
    assert listing["total"] >= 3
    status, body = await api.call(server, "POST", f"{A}/sensitive-words", {"word": word(), "level": "nuke"},
                                  token=editor.access_token)
    assert status == 400 and body["error"]["code"] == "bad_request"
    viewer = await role_holder(server, api, boss, ["sensitive.view"])
    status, body = await api.call(server, "POST", f"{A}/sensitive-words", {"word": word(), "level": "warn"},
                                  token=viewer.access_token)
    assert status == 403 and body["error"]["code"] == "forbidden"

    alice, bob = await api.accounts(server, 2, "sw")
    wa, wb = await clients.connect(server, alice), await clients.connect(server, bob)
    conv = direct_conv(alice.user_id, bob.user_id)
    t0 = int(time.time() * 1000)
    # warn: delivered unchanged
    ack = await wa.send_text(bob.user_id, f"say {warn_w} now")
    m = await wb.wait_for(is_msg(conv, seq=ack["seq"]))
    assert m["body"] == {"text": f"say {warn_w} now"}
    # replace: stored and delivered with every character of the word as "*"; folding
    # (case, full-width) and separators inside the word are matched
    shouty = repl_w[:3].upper() + " " + "".join(chr(ord(c) + 0xFEE0) for c in repl_w[3:])
    ack2 = await wa.send_text(bob.user_id, f"a {shouty} b")
    m2 = await wb.wait_for(is_msg(conv, seq=ack2["seq"]))
    stars = "*" * len(shouty)
    assert m2["body"] == {"text": f"a {stars} b"}, m2
    [stored] = [x for x in await all_history(wa, conv) if x["seq"] == ack2["seq"]]
    assert stored["body"] == {"text": f"a {stars} b"}
    # block: refused with `blocked`, nothing stored
    before = len(await all_history(wa, conv))
    reply = await wa.request("send", cid=uuid.uuid4().hex, to=bob.user_id, kind="text", body={"text": f"x{block_w}y"})
    assert reply["ok"] is False and reply["error"]["code"] == "blocked", reply
    assert len(await all_history(wa, conv)) == before
    await asyncio.sleep(0.3)
    assert not wb.pushes(lambda f: f.get("t") == "msg" and block_w in str(f.get("body")))

    # every hit recorded: {"hits":[{"user_id","conv","ts","ip","word","level"}],"total"}
    async def hits() -> dict[str, Any]:
        status, body = await get(api, server, viewer, f"{A}/sensitive-hits", user_id=alice.user_id, **{"from": t0})
        assert status == 200, body
        return dict(body)

    deadline = time.monotonic() + 10
    while (body := await hits())["total"] < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
    assert body["total"] == 3 and len(body["hits"]) == 3, body
    by_level = {h["level"]: h for h in body["hits"]}
    assert set(by_level) == {"warn", "replace", "block"}
    for lvl, w in (("warn", warn_w), ("replace", repl_w), ("block", block_w)):
        h = by_level[lvl]
        assert (h["user_id"], h["conv"], h["ip"], h["word"]) == (alice.user_id, conv, "127.0.0.1", w), h
        assert isinstance(h["ts"], int) and h["ts"] >= t0
    status, body = await get(api, server, viewer, f"{A}/sensitive-hits", user_id=alice.user_id, to=t0 - 1)
    assert (status, body["hits"], body["total"]) == (200, [], 0)
    assert (await get(api, server, alice, f"{A}/sensitive-hits"))[0] == 403

    # DELETE: 204, then the word no longer applies; an unknown id is 404
    for w in (warn_w, repl_w, block_w):
        status, body = await api.call(server, "DELETE", f"{A}/sensitive-words/{ids[w]}", token=editor.access_token)
        assert (status, body) == (204, None)
    status, body = await api.call(server, "DELETE", f"{A}/sensitive-words/{ids[block_w]}", token=editor.access_token)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, listing = await get(api, server, editor, f"{A}/sensitive-words", limit=200)
    assert not {str(x["word_id"]) for x in listing["words"]} & set(ids.values())
    ack3 = await wa.send_text(bob.user_id, f"x{block_w}y")
    assert (await wb.wait_for(is_msg(conv, seq=ack3["seq"])))["body"] == {"text": f"x{block_w}y"}


async def test_block_words_in_display_names_and_group_names_are_400_blocked(
    server: ServerProcess, api: Api
) -> None:
    boss = await admin(server, api)
    block_w = word()
    word_id = await add_word(api, server, boss, block_w, "block")
    alice, bob = await api.accounts(server, 2, "dn")
    try:
        status, body = await api.call(server, "PATCH", "/api/v1/me", {"display_name": f"I am {block_w.upper()}"},
                                      token=alice.access_token)
        assert status == 400 and body["error"]["code"] == "blocked", body
        status, me = await api.call(server, "GET", "/api/v1/me", token=alice.access_token)
        assert block_w not in me["display_name"].lower()
        status, body = await api.call(server, "POST", "/api/v1/groups",
                                      {"name": f"{block_w} club", "members": [bob.user_id]}, token=alice.access_token)
        assert status == 400 and body["error"]["code"] == "blocked", body
        conv = await api.group(server, alice, [bob], name="fine name")
        status, body = await api.call(server, "PATCH", f"/api/v1/groups/{conv[2:]}", {"name": f"{block_w}!"},
                                      token=alice.access_token)
        assert status == 400 and body["error"]["code"] == "blocked", body
        status, body = await api.call(server, "PATCH", f"/api/v1/groups/{conv[2:]}",
                                      {"announcement": f"read {block_w}"}, token=alice.access_token)
        assert status == 400 and body["error"]["code"] == "blocked", body
        # an administrator setting a user's display name: the same rule
        status, body = await api.call(server, "PATCH", f"{A}/users/{alice.user_id}",
                                      {"display_name": f"{block_w}"}, token=boss.access_token)
        assert status == 400 and body["error"]["code"] == "blocked", body
    finally:
        await api.call(server, "DELETE", f"{A}/sensitive-words/{word_id}", token=boss.access_token)


# --------------------------------------------------------------------------- pre-moderation


async def review_group(server: ServerProcess, api: Api, boss: Account, owner: Account,
                       members: list[Account]) -> str:
    conv = await api.group(server, owner, members, name="审核组")
    status, group = await api.call(server, "PATCH", f"{A}/groups/{conv[2:]}", {"review": True},
                                   token=boss.access_token)
    assert status == 200, group
    assert group["group_id"] == conv[2:], group
    flat = {**group, **(group.get("settings") or {})}
    assert flat.get("review") is True, group
    return conv


async def held(ws: WS, conv: str, text: str, cid: str) -> str:
    reply = await ws.request("send", cid=cid, to=conv, kind="text", body={"text": text})
    assert reply["ok"] is False and reply["error"]["code"] == "pending_review", reply
    assert isinstance(reply["error"]["message"], str)
    mid = reply["error"]["mid"]
    assert isinstance(mid, str) and mid
    return mid


async def test_review_group_holds_members_and_approval_keeps_the_mid(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    boss = await admin(server, api)
    reviewer = await role_holder(server, api, boss, ["moderation.review"])
    owner, gadmin, bob, carol = await api.accounts(server, 4, "pm")
    conv = await review_group(server, api, boss, owner, [gadmin, bob, carol])
    status, body = await api.call(server, "PUT", f"/api/v1/groups/{conv[2:]}/members/{gadmin.user_id}/role",
                                  {"role": "admin"}, token=owner.access_token)
    assert status == 200, body
    wo, wg, wb, wc = [await clients.connect(server, a) for a in (owner, gadmin, bob, carol)]
    # the owner and group admins are never held
    o = await wo.send_text(conv, "owner speaks")
    g = await wg.send_text(conv, "admin speaks")
    assert g["seq"] == o["seq"] + 1
    await wc.wait_for(is_msg(conv, seq=g["seq"]))

    cid = uuid.uuid4().hex
    mid = await held(wb, conv, "请审核", cid)
    # nothing stored or delivered meanwhile
    await wo.send_text(conv, "owner again")
    assert [m["seq"] for m in await all_history(wc, conv)][-1] == g["seq"] + 1
    assert not wc.pushes(lambda f: f.get("mid") == mid)

    status, page = await get(api, server, reviewer, f"{A}/moderation", status="pending")
    assert status == 200, page
    assert isinstance(page["total"], int) and page["total"] >= 1
    [item] = [i for i in page["items"] if i["mid"] == mid]
    assert {k: item[k] for k in ("mid", "conv", "from", "kind", "body")} == {
        "mid": mid, "conv": conv, "from": bob.user_id, "kind": "text", "body": {"text": "请审核"}}
    assert isinstance(item["ts"], int)
    assert (await get(api, server, bob, f"{A}/moderation", status="pending"))[0] == 403

    status, body = await api.call(server, "POST", f"{A}/moderation/{mid}", {"action": "approve"},
                                  token=reviewer.access_token)
    assert (status, body) == (200, {})
    expected = g["seq"] + 2
    for ws in (wo, wb, wc):
        m = await ws.wait_for(is_msg(conv, mid=mid), 10)
        assert (m["seq"], m["from"], m["body"], m["cid"]) == (expected, bob.user_id, {"text": "请审核"}, cid)
    # a resend of the cid returns that seq (and the same mid); nothing new is stored
    data = await wb.call("send", cid=cid, to=conv, kind="text", body={"text": "请审核"})
    assert (data["conv"], data["seq"], data["mid"]) == (conv, expected, mid)
    assert [m["seq"] for m in await all_history(wo, conv)][-1] == expected
    status, page = await get(api, server, reviewer, f"{A}/moderation", status="pending", conv=conv)
    assert page["items"] == [] and page["total"] == 0
    # an approved message cannot be edited into something nobody reviewed (an edit
    # would bypass the queue); the owner and group admins edit as usual
    reply = await wb.request("edit", conv=conv, seq=expected, text="unreviewed words")
    assert reply["ok"] is False and reply["error"]["code"] == "forbidden", reply
    assert [m["body"] for m in await all_history(wc, conv) if m["seq"] == expected] == [{"text": "请审核"}]
    await wg.call("edit", conv=conv, seq=g["seq"], text="admin speaks (fixed)")


async def test_rejection_pushes_evt_moderation_to_the_sender(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    boss = await admin(server, api)
    owner, bob, carol = await api.accounts(server, 3, "rj")
    conv = await review_group(server, api, boss, owner, [bob, carol])
    wb, wb2, wc = await clients.connect(server, bob), await clients.connect(server, bob), await clients.connect(server, carol)
    mid = await held(wb, conv, "不该发的话", uuid.uuid4().hex)
    status, body = await api.call(server, "POST", f"{A}/moderation/{mid}", {"action": "reject", "reason": "违规内容"},
                                  token=boss.access_token)
    assert (status, body) == (200, {})
    for ws in (wb, wb2):
        evt = await ws.wait_for(is_evt("moderation", mid=mid), 10)
        assert (evt["mid"], evt["action"], evt["reason"]) == (mid, "rejected", "违规内容"), evt
    await asyncio.sleep(0.3)
    assert not wc.pushes(lambda f: f.get("mid") == mid)
    assert all(m.get("mid") != mid for m in await all_history(wc, conv))
    status, body = await api.call(server, "POST", f"{A}/moderation/{mid}", {"action": "approve"},
                                  token=boss.access_token)
    assert status == 409 and body["error"]["code"] == "conflict"
    status, body = await api.call(server, "POST", f"{A}/moderation/{'m_' + uuid.uuid4().hex}",
                                  {"action": "approve"}, token=boss.access_token)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await api.call(server, "POST", f"{A}/moderation/{mid}", {"action": "maybe"},
                                  token=boss.access_token)
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, page = await get(api, server, boss, f"{A}/moderation", status="rejected", conv=conv)
    assert status == 200 and [i["mid"] for i in page["items"]] == [mid] and page["total"] == 1


# --------------------------------------------------------------------------- user search


async def test_user_search_filters_membership_left_recalled_and_burned(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    alice, bob, carol = await api.accounts(server, 3, "us")
    wa, wb, wc = [await clients.connect(server, a) for a in (alice, bob, carol)]
    tag = word()
    conv_ab = direct_conv(alice.user_id, bob.user_id)
    group = await api.group(server, alice, [bob, carol], name="search grp")
    t0 = int(time.time() * 1000)
    a1 = await wa.send_text(bob.user_id, f"请把合同发给我 {tag}")
    b1 = await wb.send_text(alice.user_id, f"合同 received {tag}")
    g1 = await wa.send_text(group, f"群里的合同 {tag}")
    await asyncio.sleep(0.05)
    t1 = int(time.time() * 1000)
    await asyncio.sleep(0.05)
    g2 = await wc.send_text(group, f"later 合同 {tag}")
    loc = await wa.call("send", cid=uuid.uuid4().hex, to=bob.user_id, kind="location",
                        body={"lat": 1.0, "lng": 2.0, "title": f"office {tag}"})

    async def mids(ws: WS, **kw: Any) -> list[str]:
        return [h["mid"] for h in (await ws.call("search", **kw))["hits"]]

    assert await mids(wa, q=f"合同 {tag}") == [g2["mid"], g1["mid"], b1["mid"], a1["mid"]]  # newest first
    assert await mids(wa, q=tag, conv=conv_ab) == [loc["mid"], b1["mid"], a1["mid"]]
    assert await mids(wa, q=tag, sender=bob.user_id) == [b1["mid"]]
    assert await mids(wa, q=tag, kind="location") == [loc["mid"]]
    assert await mids(wa, q=tag, since=t0, until=t1) == [g1["mid"], b1["mid"], a1["mid"]]
    assert await mids(wa, q=tag, limit=2) == [loc["mid"], g2["mid"]]
    # carol is in the group only
    assert await mids(wc, q=tag) == [g2["mid"], g1["mid"]]
    assert await mids(wc, q=tag, conv=conv_ab) == []
    # HTTP: the same reply
    status, body = await api.call(server, "GET", f"/api/v1/messages/search?q={quote(tag)}&conv={quote(group)}",
                                  token=carol.access_token)
    assert status == 200 and [h["mid"] for h in body["hits"]] == [g2["mid"], g1["mid"]] and body["next"] is None
    assert all("ip" not in h for h in body["hits"])
    status, body = await api.call(server, "GET", "/api/v1/messages/search?q=", token=carol.access_token)
    assert status == 400 and body["error"]["code"] == "bad_request"
    # carol leaves (removed by the owner): the group is no longer searched for her
    status, body = await api.call(server, "DELETE", f"/api/v1/groups/{group[2:]}/members/{carol.user_id}",
                                  token=alice.access_token)
    assert status == 200, body
    assert await mids(wc, q=tag) == []
    # recalled and burned: found by nobody
    await wa.call("recall", conv=conv_ab, seq=a1["seq"])
    burn = await wb.send_text(alice.user_id, f"burn {tag}", opts={"burn_s": 1})
    assert burn["mid"] in await mids(wa, q=f"burn {tag}")
    await wa.call("read", conv=conv_ab, seq=burn["seq"])
    await wa.wait_for(is_evt("burned", seq=burn["seq"]), 10)
    for ws in (wa, wb):
        found = await mids(ws, q=tag)
        assert a1["mid"] not in found and burn["mid"] not in found, found


# --------------------------------------------------------------------------- retention


async def test_retention_is_off_by_default(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    status, body = await get(api, server, boss, f"{A}/retention")
    assert status == 200, body
    assert body["enabled"] is False and not body["direct_days"] and not body["group_days"], body
    status, body = await get(api, server, boss, f"{A}/legal-holds")
    assert status == 200 and isinstance(body["holds"], list) and isinstance(body["total"], int)
    # a list: offset and limit (<= 200), with the total
    users = await api.accounts(server, 2, "lh")
    for u in users:
        status, hold = await api.call(server, "POST", f"{A}/legal-holds", {"kind": "user", "target": u.user_id},
                                      token=boss.access_token)
        assert status in (200, 201), hold
    status, body = await get(api, server, boss, f"{A}/legal-holds", offset=1, limit=1)
    assert status == 200 and len(body["holds"]) == 1 and body["total"] >= 2, body
    assert (await get(api, server, boss, f"{A}/legal-holds", limit=500))[0] == 400
    viewer = await role_holder(server, api, boss, ["retention.view"])
    assert (await get(api, server, viewer, f"{A}/retention"))[0] == 200
    status, body = await api.call(server, "PUT", f"{A}/retention", {"direct_days": 1, "group_days": None},
                                  token=viewer.access_token)
    assert status == 403 and body["error"]["code"] == "forbidden"
