"""File messages end to end (PROTOCOL.md sections 2.3 and 6): a real server on SQLite
and on PostgreSQL, real tus uploads (tuspy), real WebSocket clients.

What a client claims about a file is overwritten from the stored file; the sniffed
type must fit the kind; bodies that go out carry signed URLs that work without a
token; who may read a file follows the messages that reference it (forwarding grants,
recall and burn take away, former members keep what they saw).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest
from PIL import Image
from tusclient import client as tus

from semot.config import Settings
from semot.services.files import UrlSigner
from tests.hardening.ws_support import BACKENDS, PG_URL, assert_clean_log, run_backend
from tests.integration.harness import WS, Account, Api, Clients, ServerProcess, direct_conv

FILES = "/api/v1/files/"


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    for srv in run_backend(request.param, tmp_path_factory.mktemp("filemsg") / "data"):
        yield srv
        assert_clean_log(srv)




def _ffmpeg(tmp: Path, name: str, *args: str) -> bytes:
    out = tmp / name
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True, timeout=60)
    return out.read_bytes()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A real picture, sound, voice recording (webm/opus, as a browser records it) and video."""
    tmp = tmp_path_factory.mktemp("media")
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(png, "PNG")
    return {
        "png": png.getvalue(),
        "wav": _ffmpeg(tmp, "a.wav", "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5"),
        "webm": _ffmpeg(tmp, "v.webm", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libopus", "-vn"),
        "mp4": _ffmpeg(
            tmp, "v.mp4", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v", "mpeg4",
            "-pix_fmt", "yuv420p",
        ),
        "txt": b"plain notes\n" * 10,
    }


def _tus_upload(base: str, token: str, data: bytes, name: str) -> str:
    c = tus.TusClient(base + FILES, headers={"Authorization": f"Bearer {token}"})
    up = c.uploader(file_stream=io.BytesIO(data), chunk_size=1 << 20, metadata={"filename": name, "filetype": "x/y"})
    up.upload()
    assert up.url is not None
    return str(up.url).rsplit("/", 1)[1]


async def upload(server: ServerProcess, who: Account, data: bytes, name: str = "f.bin") -> str:
    return await asyncio.to_thread(_tus_upload, server.base_url, who.access_token, data, name)


async def get(server: ServerProcess, path: str, token: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    """A GET with a token or none at all (a signed URL): status, bytes, headers."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(server.base_url + path, headers=headers) as r:
        return r.status, await r.read(), dict(r.headers)


async def stored_body(server: ServerProcess, conv: str, seq: int) -> dict[str, Any]:
    """The body as the database holds it (not as it goes out)."""
    sql = "SELECT body FROM messages WHERE conv = {} AND seq = {}"
    schema = server.env.get("SEMOT_DATABASE_SCHEMA")
    if schema is None:
        with sqlite3.connect(server.data_dir / "semot.db") as con:
            raw = con.execute(sql.format("?", "?"), (conv, seq)).fetchone()[0]
    else:
        pg = await asyncpg.connect(PG_URL, server_settings={"search_path": schema})
        try:
            raw = await pg.fetchval(sql.format("$1", "$2"), conv, seq)
        finally:
            await pg.close()
    return dict(orjson.loads(raw))


async def info(api: Api, server: ServerProcess, who: Account, file_id: str) -> dict[str, Any]:
    status, body = await api.call(server, "GET", f"{FILES}{file_id}/info", token=who.access_token)
    assert status == 200, body
    return dict(body)


async def send(ws: WS, to: str, kind: str, body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return await ws.request("send", cid=uuid.uuid4().hex, to=to, kind=kind, body=body, **fields)


async def sent_ok(ws: WS, to: str, kind: str, body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    reply = await send(ws, to, kind, body, **fields)
    assert reply["ok"], reply
    return dict(reply["data"])


async def refused(ws: WS, to: str, kind: str, body: dict[str, Any], phrase: str) -> str:
    reply = await send(ws, to, kind, body)
    assert not reply["ok"] and reply["error"]["code"] == "bad_request", reply
    assert phrase in reply["error"]["message"], reply
    return str(reply["error"]["message"])


async def pushed(ws: WS, conv: str, seq: int) -> dict[str, Any]:
    return await ws.wait_for(lambda f: f.get("t") == "msg" and f.get("conv") == conv and f.get("seq") == seq)


async def can_download(server: ServerProcess, who: Account, file_id: str) -> bool:
    status, _, _ = await get(server, f"{FILES}{file_id}/content", who.access_token)
    assert status in (200, 403, 404), status
    return status == 200


async def pair(api: Api, clients: Clients, server: ServerProcess) -> tuple[Account, Account, WS, WS]:
    a, b = await api.accounts(server, 2, "fm")
    return a, b, await clients.connect(server, a), await clients.connect(server, b)


async def test_each_kind_is_filled_from_the_stored_file(
    server: ServerProcess, api: Api, clients: Clients, media: dict[str, bytes]
) -> None:
    alice, bob, wa, wb = await pair(api, clients, server)
    conv = direct_conv(alice.user_id, bob.user_id)
    lies = {"size": 1, "name": "evil.exe", "mime": "text/html", "w": 9999, "h": "x", "url": "http://evil/"}
    cases = [
        ("image", media["png"], "pic.png", {}),
        ("voice", media["wav"], "hello.wav", {"duration_ms": 1500}),
        ("voice", media["webm"], "rec.webm", {"duration_ms": 1000}),  # MediaRecorder's container
        ("video", media["mp4"], "clip.mp4", {"duration_ms": 1000}),
        ("file", media["txt"], "notes.txt", {}),
        ("file", media["png"], "as-a-file.png", {}),  # anything goes as a file
    ]
    for kind, data, name, extra in cases:
        fid = await upload(server, alice, data, name)
        stored = await info(api, server, alice, fid)
        ack = await sent_ok(wa, bob.user_id, kind, {"file_id": fid, **lies, **extra})
        msg = await pushed(wb, conv, ack["seq"])
        body = msg["body"]
        assert msg["kind"] == kind
        assert (body["file_id"], body["size"], body["name"], body["mime"]) == (fid, stored["size"], name, stored["mime"])
        assert body["mime"] != "text/html" and body["name"] == stored["name"]
        if kind in ("image", "video"):
            assert (body.get("w"), body.get("h")) == (stored.get("w"), stored.get("h"))
        else:
            assert "w" not in body and "h" not in body
        if kind in ("voice", "video"):  # the measured duration when there is one, else the client's
            assert body["duration_ms"] == stored.get("duration_ms", extra["duration_ms"])
        else:
            assert "duration_ms" not in body
        assert body["url"].startswith(f"{FILES}{fid}/content?exp=") and "&sig=" in body["url"]
        if kind in ("image", "video"):
            assert body["thumb_url"].startswith(f"{FILES}{fid}/thumb?exp=")
        else:
            assert "thumb_url" not in body
        status, got, headers = await get(server, body["url"])  # no Authorization at all
        assert status == 200 and hashlib.sha256(got).hexdigest() == stored["sha256"], (kind, status)
        assert headers["X-Content-Type-Options"] == "nosniff"
    png = await info(api, server, alice, await upload(server, alice, media["png"]))
    assert (png["w"], png["h"]) == (64, 48)


async def test_a_file_that_does_not_fit_is_refused(
    server: ServerProcess, api: Api, clients: Clients, media: dict[str, bytes]
) -> None:
    alice, bob, wa, _ = await pair(api, clients, server)
    carol = await api.account(server, "fm")
    png = await upload(server, alice, media["png"])
    txt = await upload(server, alice, media["txt"])
    mp4 = await upload(server, alice, media["mp4"])
    wav = await upload(server, alice, media["wav"])
    await refused(wa, bob.user_id, "voice", {"file_id": png, "duration_ms": 100}, "does not fit a voice message")
    await refused(wa, bob.user_id, "image", {"file_id": txt}, "text/plain")
    await refused(wa, bob.user_id, "video", {"file_id": wav, "duration_ms": 100}, "does not fit a video message")
    await refused(wa, bob.user_id, "image", {"file_id": mp4}, "needs image/*")
    await refused(wa, bob.user_id, "image", {"file_id": png, "bogus": 1}, "body.bogus")
    await refused(wa, bob.user_id, "image", {}, "body.file_id")
    if "duration_ms" not in await info(api, server, alice, wav):  # nothing measured it: the client's is bounded
        await refused(wa, bob.user_id, "voice", {"file_id": wav}, "body.duration_ms")
        await refused(wa, bob.user_id, "voice", {"file_id": wav, "duration_ms": 0}, "body.duration_ms")
        await refused(wa, bob.user_id, "voice", {"file_id": wav, "duration_ms": 600_001}, "10 minutes")
    if "duration_ms" not in await info(api, server, alice, mp4):
        await refused(wa, bob.user_id, "video", {"file_id": mp4, "duration_ms": 0}, "body.duration_ms")
    # an unfinished upload of one's own says so; anyone else's file and no file look the same
    async with aiohttp.ClientSession() as s:
        headers = {"Authorization": f"Bearer {alice.access_token}", "Tus-Resumable": "1.0.0", "Upload-Length": "100"}
        async with s.post(server.base_url + FILES, headers=headers) as r:
            assert r.status == 201
            partial = r.headers["Location"].rsplit("/", 1)[1]
    await refused(wa, bob.user_id, "file", {"file_id": partial}, "not complete")
    foreign = await upload(server, carol, media["txt"])
    m1 = await refused(wa, bob.user_id, "file", {"file_id": foreign}, "that you can read")
    m2 = await refused(wa, bob.user_id, "file", {"file_id": "f" + "0" * 32}, "that you can read")
    assert m1.replace(foreign, "X") == m2.replace("f" + "0" * 32, "X")
    wc = await clients.connect(server, carol)
    await refused(wc, bob.user_id, "file", {"file_id": partial}, "that you can read")  # alice's unfinished upload
    assert not await can_download(server, bob, foreign)


async def test_signed_urls_expire_and_cannot_be_forged(
    server: ServerProcess, api: Api, clients: Clients, media: dict[str, bytes]
) -> None:
    alice, bob, wa, wb = await pair(api, clients, server)
    fid = await upload(server, alice, media["png"], "p.png")
    other = await upload(server, alice, media["txt"])
    ack = await sent_ok(wa, bob.user_id, "image", {"file_id": fid})
    url = (await pushed(wb, direct_conv(alice.user_id, bob.user_id), ack["seq"]))["body"]["url"]
    assert (await get(server, url))[0] == 200
    query = url.split("?", 1)[1]
    assert (await get(server, f"{FILES}{other}/content?{query}"))[0] == 404  # bound to its file
    assert (await get(server, url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")))[0] == 404  # forged
    exp = int(query.split("exp=")[1].split("&")[0])
    assert (await get(server, url.replace(f"exp={exp}", f"exp={exp + 60_000}")))[0] == 404  # stretched
    # signed with the server's own key, but long expired
    signer = UrlSigner(Settings(data_dir=server.data_dir).resolved_secret(), 60)
    stale = signer.query(fid, "content", now=1_000_000)
    assert (await get(server, f"{FILES}{fid}/content?{stale}"))[0] == 404
    assert (await get(server, f"{FILES}{fid}/content?{signer.query(fid, 'content')}"))[0] == 200


async def test_members_forwarding_recall_and_burn(
    server: ServerProcess, api: Api, clients: Clients, media: dict[str, bytes]
) -> None:
    alice, bob, wa, wb = await pair(api, clients, server)
    carol, dave = await api.accounts(server, 2, "fm")
    ab = direct_conv(alice.user_id, bob.user_id)
    fid = await upload(server, alice, media["png"])
    assert not await can_download(server, bob, fid)
    ack = await sent_ok(wa, bob.user_id, "image", {"file_id": fid})
    await pushed(wb, ab, ack["seq"])
    assert await can_download(server, bob, fid)
    assert not await can_download(server, carol, fid) and not await can_download(server, dave, fid)
    # bob forwards it into a group with carol: no new upload, and carol may read it
    group = await api.group(server, bob, [carol])
    fwd = await sent_ok(wb, group, "image", {"file_id": fid, "size": 3, "url": "/stale"})
    assert await can_download(server, carol, fid) and not await can_download(server, dave, fid)
    # alice recalls hers: bob still reads it through the forward, carol too
    await wa.call("recall", conv=ab, seq=ack["seq"])
    assert await can_download(server, bob, fid) and await can_download(server, carol, fid)
    await wb.call("recall", conv=group, seq=fwd["seq"])
    assert not await can_download(server, bob, fid) and not await can_download(server, carol, fid)
    assert await can_download(server, alice, fid)  # the uploader, always
    # burn after reading: the burn takes the access away
    burn = await upload(server, alice, media["txt"])
    ack2 = await sent_ok(wa, bob.user_id, "file", {"file_id": burn}, opts={"burn_s": 1})
    await pushed(wb, ab, ack2["seq"])
    assert await can_download(server, bob, burn)
    await wb.call("read", conv=ab, seq=ack2["seq"])
    await wb.wait_for(lambda f: f.get("evt") == "burned" and f.get("seq") == ack2["seq"], timeout=10)
    assert not await can_download(server, bob, burn)


async def test_former_members_keep_what_they_saw(
    server: ServerProcess, api: Api, clients: Clients, media: dict[str, bytes]
) -> None:
    alice, bob, wa, _ = await pair(api, clients, server)
    carol = await api.account(server, "fm")
    group = await api.group(server, alice, [bob, carol])
    before = await upload(server, alice, media["png"])
    await sent_ok(wa, group, "image", {"file_id": before})
    status, body = await api.call(server, "POST", f"/api/v1/groups/{group[2:]}/leave", token=bob.access_token)
    assert status == 200, body
    after = await upload(server, alice, media["txt"])
    await sent_ok(wa, group, "file", {"file_id": after})
    assert await can_download(server, bob, before)
    assert not await can_download(server, bob, after)
    assert await can_download(server, carol, after)
    # kicked: the same
    status, body = await api.call(
        server, "DELETE", f"/api/v1/groups/{group[2:]}/members/{carol.user_id}", token=alice.access_token
    )
    assert status == 200, body
    late = await upload(server, alice, media["wav"])
    await sent_ok(wa, group, "voice", {"file_id": late, "duration_ms": 1500})
    assert await can_download(server, carol, before) and await can_download(server, carol, after)
    assert not await can_download(server, carol, late)


async def test_history_and_sync_carry_urls(
    server: ServerProcess, api: Api, clients: Clients, media: dict[str, bytes]
) -> None:
    alice, bob, wa, wb = await pair(api, clients, server)
    conv = direct_conv(alice.user_id, bob.user_id)
    fid = await upload(server, alice, media["mp4"], "clip.mp4")
    ack = await sent_ok(wa, bob.user_id, "video", {"file_id": fid, "duration_ms": 1000})
    await sent_ok(wa, bob.user_id, "text", {"text": "look"})

    def check(msg: dict[str, Any]) -> None:
        assert msg["kind"] == "video" and msg["body"]["file_id"] == fid
        assert msg["body"]["url"].startswith(f"{FILES}{fid}/content?") and "thumb_url" in msg["body"]

    stored = await stored_body(server, conv, ack["seq"])
    assert stored["file_id"] == fid and "url" not in stored and "thumb_url" not in stored  # URLs expire: never stored
    page = await wb.call("history", conv=conv, after=0, limit=10)
    check(page["messages"][ack["seq"] - 1])
    assert "url" not in page["messages"][-1]["body"]  # text stays as it is
    status, http = await api.call(server, "GET", f"/api/v1/conversations/{conv}/messages?after=0", token=bob.access_token)
    assert status == 200, http
    check(http["messages"][ack["seq"] - 1])
    assert (await get(server, http["messages"][ack["seq"] - 1]["body"]["url"]))[0] == 200
    await sent_ok(wa, bob.user_id, "image", {"file_id": await upload(server, alice, media["png"])})
    state = next(c for c in (await wb.call("sync", convs={}))["convs"] if c["conv"] == conv)
    assert state["last"]["kind"] == "image" and state["last"]["body"]["url"].startswith(FILES)
    assert "thumb_url" in state["last"]["body"]
