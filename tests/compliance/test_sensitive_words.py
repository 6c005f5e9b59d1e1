"""Sensitive words (PROTOCOL.md §7; docs/sensitive-words.md) over real HTTP and WebSocket,
on SQLite and PostgreSQL: the three levels on sends and edits, folding (case, full-width,
traditional characters, separators), names and announcements refused with 400 `blocked`,
every hit recorded with the sender's IP, the admin API (list, add, delete, import,
hits, CSV, live feed) and its permissions.

The words are global to the server the module shares, so each test adds words of its
own (a random Latin suffix; the Chinese words are used by one test only).
"""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
import uuid
from typing import Any

from tests.compliance.support import admin
from tests.integration.harness import Account, Api, Clients, ServerProcess, all_history, direct_conv, eventually, unique

A = "/api/admin/v1"


def word(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def add(api: Api, server: ServerProcess, adm: Account, w: str, level: str, category: str | None = None) -> str:
    body: dict[str, Any] = {"word": w, "level": level}
    if category is not None:
        body["category"] = category
    status, reply = await api.call(server, "POST", f"{A}/sensitive-words", body, token=adm.access_token)
    assert status == 201, reply
    return str(reply["word_id"])


async def hits_of(api: Api, server: ServerProcess, adm: Account, user_id: str, n: int) -> list[dict[str, Any]]:
    """The user's hits once `n` are written (they are written in batches, within ~1 s)."""
    found: list[dict[str, Any]] = []

    async def written() -> bool:
        nonlocal found
        status, body = await api.call(server, "GET", f"{A}/sensitive-hits?user_id={user_id}", token=adm.access_token)
        assert status == 200, body
        found = body["hits"]
        return body["total"] >= n

    await eventually(written, 30, "hits written")
    return found


async def test_three_levels_on_sends(server: ServerProcess, api: Api, clients: Clients) -> None:
    adm = await admin(server, api)
    alice, bob = await api.accounts(server, 2)
    blk, rep, wrn = word("blk"), word("rep"), word("wrn")
    await add(api, server, adm, blk, "block")
    await add(api, server, adm, rep, "replace", "ads")
    await add(api, server, adm, wrn, "warn")
    a = await clients.connect(server, alice)
    b = await clients.connect(server, bob)
    conv = direct_conv(alice.user_id, bob.user_id)

    assert (await a.send_text(bob.user_id, "hello"))["seq"] == 1
    reply = await a.request("send", to=bob.user_id, kind="text", body={"text": f"buy {blk} now"}, cid=uuid.uuid4().hex)
    assert reply["ok"] is False and reply["error"]["code"] == "blocked", reply
    assert blk not in reply["error"]["message"]  # the word is not named to the sender
    ack = await a.send_text(bob.user_id, f"see {rep}!")
    assert ack["seq"] == 2  # nothing was stored for the blocked one
    ack3 = await a.send_text(bob.user_id, f"mind the {wrn}")
    assert ack3["seq"] == 3
    got = await b.wait_msgs(conv, 3)
    assert [m["body"]["text"] for m in got] == ["hello", "see " + "*" * len(rep) + "!", f"mind the {wrn}"]
    history = await all_history(b, conv)
    assert [m["body"]["text"] for m in history][1] == "see " + "*" * len(rep) + "!"

    hits = await hits_of(api, server, adm, alice.user_id, 3)
    by_level = {h["level"]: h for h in hits}
    assert set(by_level) == {"block", "replace", "warn"}
    for h in hits:
        assert h["user_id"] == alice.user_id and h["conv"] == conv and h["ip"] == "127.0.0.1" and h["target"] == "message"
        assert set(h) >= {"user_id", "conv", "ts", "ip", "word", "level"}
    assert by_level["block"]["word"] == blk and by_level["block"]["action"] == "blocked"
    assert by_level["replace"]["action"] == "replaced" and by_level["replace"]["category"] == "ads"
    assert by_level["warn"]["action"] == "warned" and by_level["warn"]["excerpt"] == f"mind the {wrn}"

    # filters: level, word, time
    status, body = await api.call(server, "GET", f"{A}/sensitive-hits?user_id={alice.user_id}&level=warn", token=adm.access_token)
    assert status == 200 and [h["word"] for h in body["hits"]] == [wrn]
    status, body = await api.call(server, "GET", f"{A}/sensitive-hits?word={blk[:6].upper()}&user_id={alice.user_id}", token=adm.access_token)
    assert status == 200 and [h["word"] for h in body["hits"]] == [blk]
    status, body = await api.call(server, "GET", f"{A}/sensitive-hits?user_id={alice.user_id}&to=1", token=adm.access_token)
    assert status == 200 and body == {"hits": [], "total": 0, "offset": 0}


async def test_folding_case_full_width_traditional_separators(server: ServerProcess, api: Api, clients: Clients) -> None:
    adm = await admin(server, api)
    alice, bob = await api.accounts(server, 2)
    latin = word("Fold")
    await add(api, server, adm, latin, "replace")
    await add(api, server, adm, "说谎精", "replace")  # simplified; matched in traditional text
    a = await clients.connect(server, alice)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in latin.upper())  # ＦＯＬＤ...
    spaced = " . ".join(latin)  # f . o . l . d ...
    cases = [
        (f"x {latin.upper()} y", "x " + "*" * len(latin) + " y"),
        (f"x {full_width} y", "x " + "*" * len(latin) + " y"),
        (f"<{spaced}>", "<" + "*" * len(spaced) + ">"),  # the separators inside are starred too
        ("他是個說謊精！", "他是个".replace("个", "個") + "***！"),
        ("說 謊-精", "*****"),
    ]
    conv = direct_conv(alice.user_id, bob.user_id)
    for text, _ in cases:
        await a.send_text(bob.user_id, text)
    history = await all_history(a, conv)
    assert [m["body"]["text"] for m in history] == [want for _, want in cases]


async def test_edits_screened(server: ServerProcess, api: Api, clients: Clients) -> None:
    adm = await admin(server, api)
    alice, bob = await api.accounts(server, 2)
    blk, rep = word("eblk"), word("erep")
    await add(api, server, adm, blk, "block")
    await add(api, server, adm, rep, "replace")
    a = await clients.connect(server, alice)
    ack = await a.send_text(bob.user_id, "first")
    conv = direct_conv(alice.user_id, bob.user_id)
    assert await a.error("edit", conv=conv, seq=ack["seq"], text=f"now {blk}") == "blocked"
    await a.call("edit", conv=conv, seq=ack["seq"], text=f"now {rep}")
    history = await all_history(a, conv)
    assert history[0]["body"]["text"] == "now " + "*" * len(rep)
    hits = await hits_of(api, server, adm, alice.user_id, 2)
    assert {h["target"] for h in hits} == {"edit"} and all(h["ip"] == "127.0.0.1" for h in hits)


async def test_names_and_announcements(server: ServerProcess, api: Api) -> None:
    adm = await admin(server, api)
    alice, bob = await api.accounts(server, 2)
    blk, rep = word("nblk"), word("nrep")
    await add(api, server, adm, blk, "block")
    await add(api, server, adm, rep, "replace")
    tok = alice.access_token
    status, body = await api.call(server, "PATCH", "/api/v1/me", {"display_name": f"I am {blk.upper()}"}, token=tok)
    assert status == 400 and body["error"]["code"] == "blocked", body
    status, body = await api.call(server, "PATCH", "/api/v1/me", {"display_name": f"my {rep}"}, token=tok)
    assert status == 200 and body["display_name"] == "my " + "*" * len(rep), body
    # an administrator setting a name: the same rule
    status, body = await api.call(server, "PATCH", f"{A}/users/{bob.user_id}", {"display_name": f"{blk}"}, token=adm.access_token)
    assert status == 400 and body["error"]["code"] == "blocked", body
    status, body = await api.call(server, "POST", f"{A}/users", {"username": unique("nu"), "password": "password123",
                                                                "display_name": f"x{blk}"}, token=adm.access_token)
    assert status == 400 and body["error"]["code"] == "blocked", body
    # groups: create, rename, announcement
    status, body = await api.call(server, "POST", "/api/v1/groups", {"name": f"club {blk}", "members": [bob.user_id]}, token=tok)
    assert status == 400 and body["error"]["code"] == "blocked", body
    conv = await api.group(server, alice, [bob], name="fine club")
    gid = conv[2:]
    status, body = await api.call(server, "PATCH", f"/api/v1/groups/{gid}", {"name": f"{blk} club"}, token=tok)
    assert status == 400 and body["error"]["code"] == "blocked", body
    status, body = await api.call(server, "PATCH", f"/api/v1/groups/{gid}", {"announcement": f"read {blk}"}, token=tok)
    assert status == 400 and body["error"]["code"] == "blocked", body
    status, body = await api.call(server, "PATCH", f"/api/v1/groups/{gid}", {"announcement": f"read {rep}"}, token=tok)
    assert status == 200 and body["announcement"] == "read " + "*" * len(rep), body
    hits = await hits_of(api, server, adm, alice.user_id, 6)
    targets = sorted(h["target"] for h in hits)
    assert targets == ["announcement", "announcement", "display_name", "display_name", "group_name", "group_name"]
    assert {h["conv"] for h in hits if h["target"] == "announcement"} == {conv}
    assert all(h["ip"] == "127.0.0.1" for h in hits), hits  # the HTTP client's address


async def test_admin_api(server: ServerProcess, api: Api) -> None:
    adm = await admin(server, api)
    user = await api.account(server)
    cat = word("cat")
    w = word("adm")
    wid = await add(api, server, adm, w, "warn", cat)
    # the same word folded: 409
    status, body = await api.call(server, "POST", f"{A}/sensitive-words", {"word": " " + w.upper(), "level": "block"},
                                  token=adm.access_token)
    assert status == 409 and body["error"]["code"] == "conflict", body
    for bad in ({"word": "  ", "level": "warn"}, {"word": "!!", "level": "warn"}, {"word": "x", "level": "loud"},
                {"word": "x" * 65, "level": "warn"}, {"word": "x", "level": "warn", "category": "c" * 33}):
        status, body = await api.call(server, "POST", f"{A}/sensitive-words", bad, token=adm.access_token)
        assert status == 400 and body["error"]["code"] == "bad_request", (bad, body)
    status, body = await api.call(server, "GET", f"{A}/sensitive-words?category={cat}", token=adm.access_token)
    assert status == 200 and body["total"] == 1 and body["words"][0]["word_id"] == wid, body
    assert body["words"][0]["created_by"] == adm.user_id and cat in body["categories"]
    # import: words, CSV lines, duplicates, errors
    words = [word("imp") for _ in range(2000)]
    lines = ["word,level,category", *words, f"{words[0].upper()}", f"{word('csv')},block,{cat}", f"{word('x')},loud",
             "", "# comment", "a,b,c,d", w]
    async with api.session.post(server.base_url + f"{A}/sensitive-words/import?category={cat}",
                                data="\n".join(lines).encode(), headers={"Authorization": f"Bearer {adm.access_token}",
                                                                           "Content-Type": "text/plain"}) as resp:
        assert resp.status == 200, await resp.text()
        report = await resp.json()
    assert report["added"] == 2001 and report["duplicates"] == 2, report
    assert [e["line"] for e in report["errors"]] == [2004, 2007], report
    status, body = await api.call(server, "GET", f"{A}/sensitive-words?category={cat}&level=block", token=adm.access_token)
    assert status == 200 and body["total"] == 1
    status, body = await api.call(server, "GET", f"{A}/sensitive-words?category={cat}&limit=5&offset=5&q=IMP", token=adm.access_token)
    assert status == 200 and body["total"] == 2000 and len(body["words"]) == 5
    # delete
    status, _ = await api.call(server, "DELETE", f"{A}/sensitive-words/{wid}", token=adm.access_token)
    assert status == 204
    status, body = await api.call(server, "DELETE", f"{A}/sensitive-words/{wid}", token=adm.access_token)
    assert status == 404 and body["error"]["code"] == "not_found"
    # audited
    status, body = await api.call(server, "GET", f"{A}/audit-log?admin={adm.user_id}", token=adm.access_token)
    assert status == 200
    actions = {e["action"] for e in body["entries"]}
    assert {"sensitive_word.add", "sensitive_word.import", "sensitive_word.delete"} <= actions, actions
    # not an administrator: 403
    for method, path in (("GET", "/sensitive-words"), ("GET", "/sensitive-hits"), ("GET", "/sensitive-hits/live"),
                         ("DELETE", f"/sensitive-words/{wid}")):
        status, body = await api.call(server, method, A + path, token=user.access_token)
        assert status == 403, (path, body)


async def test_csv_export_and_live_feed(server: ServerProcess, api: Api, clients: Clients) -> None:
    adm = await admin(server, api)
    alice, bob = await api.accounts(server, 2)
    wrn = word("live")
    await add(api, server, adm, wrn, "warn")
    status, body = await api.call(server, "GET", f"{A}/sensitive-hits/live", token=adm.access_token)
    assert status == 200
    since = body["now"]
    a = await clients.connect(server, alice)
    await a.send_text(bob.user_id, f"=cmd {wrn}")

    async def live() -> bool:
        status, body = await api.call(server, "GET", f"{A}/sensitive-hits/live?after={since}", token=adm.access_token)
        return status == 200 and any(h["word"] == wrn and h["user_id"] == alice.user_id for h in body["hits"])

    await eventually(live, 5, "the live feed shows the hit")
    await hits_of(api, server, adm, alice.user_id, 1)
    async with api.session.get(server.base_url + f"{A}/sensitive-hits.csv?user_id={alice.user_id}&tz=480",
                               headers={"Authorization": f"Bearer {adm.access_token}"}) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
        raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw[3:].decode())))
    assert rows[0][0] == "time (UTC+08:00)" and rows[0][1:] == ["user_id", "target", "conv", "ip", "word", "level",
                                                                "category", "action", "excerpt"]
    assert rows[1][1] == alice.user_id and rows[1][5] == wrn and rows[1][9] == f"'=cmd {wrn}"  # no formula


async def test_registration_import_and_admin_group_edits(server: ServerProcess, api: Api) -> None:
    """The rest of §7's names: a registration's display name, the bulk user import (a row
    with a block word is an error row, the others import), an administrator's group
    rename and announcement; every hit made over HTTP carries the client's IP."""
    adm = await admin(server, api)
    blk, rep = word("rblk"), word("rrep")
    await add(api, server, adm, blk, "block")
    await add(api, server, adm, rep, "replace")
    # self-registration: 400 blocked (no account made), replace starred
    refused = unique("reg")
    status, body = await api.call(server, "POST", "/api/v1/auth/register",
                                  {"username": refused, "password": "password123", "display_name": f"I {blk}"})
    assert status == 400 and body["error"]["code"] == "blocked", body
    assert (await api.login(server, refused))[0] == 401
    starred = unique("reg")
    status, body = await api.call(server, "POST", "/api/v1/auth/register",
                                  {"username": starred, "password": "password123", "display_name": f"Mr {rep}"})
    assert status in (200, 201), body
    status, body = await api.call(server, "GET", f"{A}/users/{starred}", token=adm.access_token)
    assert status == 200 and body["display_name"] == "Mr " + "*" * len(rep), body

    # the bulk import: the blocked row is an error, the rest import (replace starred)
    good, bad, other = unique("imp"), unique("imp"), unique("imp")
    csv_text = (f"username,password,display_name\n{good},password123,ok {rep}\n{bad},password123,{blk.upper()} x\n"
                f"{other},password123,Plain Name\n")
    headers = {"Authorization": f"Bearer {adm.access_token}", "Content-Type": "text/csv"}
    async with api.session.post(server.base_url + f"{A}/users/import?dry_run=true", data=csv_text.encode(),
                                headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        report = await resp.json()
    assert [e["line"] for e in report["errors"]] == [3] and "blocked word" in report["errors"][0]["message"], report
    async with api.session.post(server.base_url + f"{A}/users/import", data=csv_text.encode(), headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        report = await resp.json()
    assert report["created"] == 2 and [e["line"] for e in report["errors"]] == [3], report
    status, body = await api.call(server, "GET", f"{A}/users/{good}", token=adm.access_token)
    assert status == 200 and body["display_name"] == "ok " + "*" * len(rep)
    assert (await api.call(server, "GET", f"{A}/users/{bad}", token=adm.access_token))[0] == 404
    # an update row renaming an existing user: the same rule
    rename = f"username,display_name\n{other},{blk} again\n{good},fine now\n"
    async with api.session.post(server.base_url + f"{A}/users/import", data=rename.encode(), headers=headers) as resp:
        report = await resp.json()
    assert report["updated"] == 1 and [e["line"] for e in report["errors"]] == [2], report
    status, body = await api.call(server, "GET", f"{A}/users/{other}", token=adm.access_token)
    assert body["display_name"] == "Plain Name"

    # an administrator's group edits
    alice, bob = await api.accounts(server, 2)
    conv = await api.group(server, alice, [bob], name="admin club")
    gid = conv[2:]
    tok = adm.access_token
    status, body = await api.call(server, "PATCH", f"{A}/groups/{gid}", {"name": f"{blk} club"}, token=tok)
    assert status == 400 and body["error"]["code"] == "blocked", body
    status, body = await api.call(server, "PATCH", f"{A}/groups/{gid}", {"announcement": f"read {blk}"}, token=tok)
    assert status == 400 and body["error"]["code"] == "blocked", body
    status, body = await api.call(server, "PATCH", f"{A}/groups/{gid}", {"name": f"{rep} club", "announcement": f"a {rep}"},
                                  token=tok)
    assert status == 200 and body["name"] == "*" * len(rep) + " club", body
    assert body["announcement"] == "a " + "*" * len(rep), body

    # the hits: registration x2, import (the blocked row once, the starred row once, the
    # blocked rename once; the dry run records nothing), the admin's group edits x4
    for user_id, n, targets in ((refused, 1, {"display_name"}), (starred, 1, {"display_name"}),
                                (bad, 1, {"display_name"}), (good, 1, {"display_name"}), (other, 1, {"display_name"}),
                                (adm.user_id, 4, {"group_name", "announcement"})):
        hits = await hits_of(api, server, adm, user_id, n)
        assert len(hits) == n and {h["target"] for h in hits} == targets, (user_id, hits)
        assert all(h["ip"] == "127.0.0.1" for h in hits), hits
    hits = await hits_of(api, server, adm, adm.user_id, 4)
    assert {h["conv"] for h in hits} == {conv}


async def test_cli_import_screens_display_names(server: ServerProcess, api: Api, tmp_path: Any) -> None:
    """`semot users import` loads the list before it imports and writes its hits after."""
    adm = await admin(server, api)
    blk = word("cblk")
    await add(api, server, adm, blk, "block")
    good, bad = unique("cli"), unique("cli")
    src = tmp_path / "users.csv"
    src.write_text(f"username,password,display_name\n{good},password123,Fine\n{bad},password123,x {blk}\n")
    env = {**server._environ(), "SEMOT_DATA_DIR": str(server.data_dir)}
    cmd = [sys.executable, "-m", "semot", "users", "import", str(src), "--data-dir", str(server.data_dir)]
    out = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1 and "1 created" in out.stdout and "line 3" in out.stderr, out.stdout + out.stderr
    assert "blocked word" in out.stderr
    hits = await hits_of(api, server, adm, bad, 1)
    assert hits[0]["target"] == "display_name" and hits[0]["action"] == "blocked" and hits[0]["ip"] == ""
