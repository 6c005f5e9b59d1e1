"""Message search over real WebSocket and HTTP (docs/search.md), on SQLite and PostgreSQL:
a user's own search (Chinese inside longer text, English, numbers, mixed; membership;
recalled, burned and edited messages) and the auditors' search (filters incl. IP, CSV,
the conversation around a hit)."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from tests.compliance.support import admin
from tests.integration.harness import WS, Api, Clients, ServerProcess, direct_conv, eventually, unique

A = "/api/admin/v1"


async def texts(ws: WS, q: str, **kw: Any) -> list[str]:
    data = await ws.call("search", q=q, **kw)
    return [h["body"].get("text") for h in data["hits"]]


async def test_user_search_chinese_english_numbers_and_membership(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    alice, bob, carol = await api.accounts(server, 3, "sr")
    wa, wb = await clients.connect(server, alice), await clients.connect(server, bob)
    wc = await clients.connect(server, carol)
    tag = unique("k")  # keeps this test's words apart from other tests on the same server
    await wa.send_text(bob.user_id, f"请把合同发给我 {tag}")
    await wb.send_text(alice.user_id, f"Invoice 20240315 is ready {tag}")
    await wc.send_text(alice.user_id, f"合同 mixed中文English {tag}")
    assert await texts(wa, f"合同 {tag}") == [f"合同 mixed中文English {tag}", f"请把合同发给我 {tag}"]
    assert await texts(wa, f"合 {tag}") == [f"合同 mixed中文English {tag}", f"请把合同发给我 {tag}"]
    assert await texts(wb, f"合同 {tag}") == [f"请把合同发给我 {tag}"]  # carol's chat is not bob's
    assert await texts(wc, f"请把 {tag}") == []
    assert await texts(wa, f"INVOICE {tag}") == [f"Invoice 20240315 is ready {tag}"]
    assert await texts(wa, f"20240315 {tag}") == [f"Invoice 20240315 is ready {tag}"]
    assert await texts(wa, f"中文 english {tag}") == [f"合同 mixed中文English {tag}"]
    assert await texts(wa, tag, sender=carol.user_id) == [f"合同 mixed中文English {tag}"]
    assert await texts(wa, tag, conv=direct_conv(alice.user_id, bob.user_id), limit=1) == [f"Invoice 20240315 is ready {tag}"]
    # paging: newest first, the cursor goes on
    page = await wa.call("search", q=tag, limit=2)
    assert len(page["hits"]) == 2 and page["next"]
    rest = await wa.call("search", q=tag, limit=2, cursor=page["next"])
    assert [h["body"]["text"] for h in rest["hits"]] == [f"请把合同发给我 {tag}"] and rest["next"] is None
    assert "ip" not in page["hits"][0]  # the IP is for auditors only
    # the same over HTTP
    status, body = await api.call(
        server, "GET", "/api/v1/messages/search?" + urlencode({"q": f"合同 {tag}"}), token=bob.access_token
    )
    assert status == 200, body
    assert [h["body"]["text"] for h in body["hits"]] == [f"请把合同发给我 {tag}"] and body["next"] is None
    assert await wa.error("search", q="") == "bad_request"
    status, body = await api.call(server, "GET", "/api/v1/messages/search?cursor=abc", token=bob.access_token)
    assert status == 400 and body["error"]["code"] == "bad_request"


async def test_left_group_recalled_burned_and_edited(server: ServerProcess, api: Api, clients: Clients) -> None:
    alice, bob = await api.accounts(server, 2, "sr")
    wa, wb = await clients.connect(server, alice), await clients.connect(server, bob)
    conv = await api.group(server, alice, [bob])
    tag = unique("k")
    await wa.call("send", cid=unique("c"), to=conv, kind="text", body={"text": f"团队周报 {tag}"})
    assert await texts(wb, f"周报 {tag}") == [f"团队周报 {tag}"]
    status, _ = await api.call(server, "POST", f"/api/v1/groups/{conv[2:]}/leave", token=bob.access_token)
    assert status == 200
    assert await texts(wb, f"周报 {tag}") == []  # left: not found any more
    assert await texts(wa, f"周报 {tag}") == [f"团队周报 {tag}"]

    recalled = await wa.send_text(bob.user_id, f"撤回的合同 {tag}")
    edited = await wa.send_text(bob.user_id, f"draft wording {tag}")
    await wa.call("recall", conv=recalled["conv"], seq=recalled["seq"])
    assert await texts(wb, f"撤回 {tag}") == []
    await wa.call("edit", conv=edited["conv"], seq=edited["seq"], text=f"final wording {tag}")
    assert await texts(wb, f"draft {tag}") == []
    assert await texts(wb, f"final {tag}") == [f"final wording {tag}"]

    burn = await wa.call(
        "send", cid=unique("c"), to=bob.user_id, kind="text", body={"text": f"阅后即焚 {tag}"}, opts={"burn_s": 1}
    )
    assert await texts(wb, f"阅后即焚 {tag}") == [f"阅后即焚 {tag}"]
    await wb.call("read", conv=burn["conv"], seq=burn["seq"])

    async def gone() -> bool:
        return await texts(wb, f"阅后即焚 {tag}") == []

    await eventually(gone, timeout=10, what="the burned message leaves the search")


async def test_audit_search_filters_ip_csv_and_context(server: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin(server, api)
    alice, bob = await api.accounts(server, 2, "au")
    wa, wb = await clients.connect(server, alice), await clients.connect(server, bob)
    tag = unique("k")
    first = await wa.send_text(bob.user_id, f"报销合同 {tag}")
    await wb.send_text(alice.user_id, f"=cmd|合同 reply {tag}")
    await wa.send_text(bob.user_id, f"other words {tag}")
    tok = boss.access_token

    async def audit(**params: Any) -> dict[str, Any]:
        status, body = await api.call(server, "GET", f"{A}/messages?" + urlencode(params), token=tok)
        assert status == 200, body
        return body  # type: ignore[no-any-return]

    body = await audit(q=f"合同 {tag}")
    assert body["total"] == 2 and body["total_capped"] is False
    assert [m["body"]["text"] for m in body["messages"]] == [f"=cmd|合同 reply {tag}", f"报销合同 {tag}"]
    assert body["messages"][0]["ip"] == "127.0.0.1" and body["messages"][0]["from"] == bob.user_id
    assert (await audit(q=tag, user_id=alice.user_id))["total"] == 2
    assert [m["from"] for m in (await audit(q=tag, receiver=alice.user_id))["messages"]] == [bob.user_id]
    assert (await audit(q=tag, ip="127.0."))["total"] == 3
    assert (await audit(q=tag, ip="10.9."))["total"] == 0
    assert (await audit(q=tag, kind="image"))["total"] == 0
    assert (await audit(q=tag, conv=first["conv"], limit=1, offset=1))["messages"][0]["body"]["text"] == f"=cmd|合同 reply {tag}"
    ts = body["messages"][1]["ts"]
    assert (await audit(q=tag, **{"from": ts, "to": ts}))["total"] == 1

    # the conversation around a hit
    status, ctx = await api.call(
        server, "GET", f"{A}/conversations/{first['conv']}/messages?around={first['seq']}&limit=2", token=tok
    )
    assert status == 200, ctx
    assert [m["seq"] for m in ctx["messages"]] == [first["seq"], first["seq"] + 1]
    assert ctx["more_before"] is False and ctx["more_after"] is True and ctx["messages"][0]["ip"] == "127.0.0.1"

    # CSV: BOM, formula-safe, audited
    async with api.session.get(
        server.base_url + f"{A}/messages.csv?" + urlencode({"q": f"合同 {tag}"}), headers={"Authorization": f"Bearer {tok}"}
    ) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
        raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))
    assert rows[0][1:] == ["conv", "seq", "from", "username", "kind", "text", "ip", "mid"]
    assert [r[6] for r in rows[1:]] == [f"'=cmd|合同 reply {tag}", f"报销合同 {tag}"]
    status, log = await api.call(server, "GET", f"{A}/audit-log?action=messages.export", token=tok)
    assert status == 200 and any(e["action"] == "messages.export" for e in log["entries"]), log

    # a plain user is refused
    status, _ = await api.call(server, "GET", f"{A}/messages?q=x", token=alice.access_token)
    assert status == 403
    status, err = await api.call(server, "GET", f"{A}/messages?limit=500", token=tok)
    assert status == 400 and err["error"]["code"] == "bad_request"
