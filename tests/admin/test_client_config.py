"""The client configuration (终端配置) against a real server over HTTP and WebSocket: the
public GET before anyone signs in, the administrator's PUT and its validation, `evt
config` reaching every connected device at once, the server refusing what a switched-off
feature would do, default friend groups, the uploaded logo, and the pages' CSP.

One server for the module (its configuration is global): each test starts from the
defaults (`reset`)."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from PIL import Image

from semot.domain.contacts import MAX_TAG_NAME
from semot.protocol import client_config as cc
from tests.integration.harness import Account, Api, Clients, ServerProcess, direct_conv, unique

A = "/api/admin/v1/client-config"
P = "/api/v1/client-config"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("cfg") / "data")
    srv.start()
    srv.create_admin("cfgroot")
    yield srv
    if srv.running:
        assert srv.stop() == 0, srv.log_tail()


@pytest.fixture
async def admin(server: ServerProcess, api: Api) -> AsyncIterator[str]:
    status, body = await api.login(server, "cfgroot")
    assert status == 200, body
    token = body["access_token"]
    yield token
    await reset(api, server, token)


async def reset(api: Api, server: ServerProcess, token: str) -> None:
    base = cc.defaults(self_registration=True, direct_message_policy="anyone")
    status, body = await api.call(server, "PUT", A, base, token=token)
    assert status == 200, body


async def put(api: Api, server: ServerProcess, token: str, body: dict[str, Any]) -> dict[str, Any]:
    status, reply = await api.call(server, "PUT", A, body, token=token)
    assert status == 200, reply
    return reply  # type: ignore[no-any-return]


async def refused(api: Api, server: ServerProcess, token: str, body: dict[str, Any]) -> str:
    status, reply = await api.call(server, "PUT", A, body, token=token)
    assert status == 400, reply
    assert reply["error"]["code"] == "bad_request"
    return str(reply["error"]["message"])


def png(color: str = "red", size: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, "PNG")
    return out.getvalue()


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


async def upload(server: ServerProcess, token: str, data: bytes, name: str, mime: str) -> tuple[int, str]:
    """A tus creation-with-upload: (status, file id or the error body)."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(len(data)),
        "Upload-Metadata": f"filename {_b64(name)},filetype {_b64(mime)}",
        "Content-Type": "application/offset+octet-stream",
    }
    async with (
        aiohttp.ClientSession() as s,
        s.post(server.base_url + "/api/v1/files/", data=data, headers=headers) as r,
    ):
        if r.status != 201:
            return r.status, await r.text()
        return r.status, r.headers["Location"].rsplit("/", 1)[1]


# --------------------------------------------------------------------------- reading


async def test_public_config_needs_no_sign_in(server: ServerProcess, api: Api, admin: str) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(server.base_url + P) as r:
            assert r.status == 200
            body = await r.json()
            etag = r.headers["ETag"]
        assert body["product_name"] == "Semot" and body["self_registration"] is True
        assert body["features"] == cc.FEATURES and body["logo_url"] is None
        assert body["max_upload_bytes"] > 0 and "logo_file_id" not in body
        async with s.get(server.base_url + P, headers={"If-None-Match": etag}) as r:
            assert r.status == 304
        async with s.get(server.base_url + P + "/logo") as r:
            assert r.status == 404  # no uploaded logo yet
    # the console's view needs config.write: nobody else reads it
    assert (await api.call(server, "GET", A))[0] == 401
    user = await api.account(server, "plain")
    assert (await api.call(server, "GET", A, token=user.access_token))[0] == 403
    assert (await api.call(server, "PUT", A, {"product_name": "x"}, token=user.access_token))[0] == 403
    status, view = await api.call(server, "GET", A, token=admin)
    assert status == 200 and view["config"]["logo_file_id"] is None and view["limits"]["file_max_bytes"] > 0


# --------------------------------------------------------------------------- changing it


async def test_a_change_reaches_every_device_of_every_user_at_once(
    server: ServerProcess, api: Api, clients: Clients, admin: str
) -> None:
    alice, bob = await api.accounts(server, 2, "cfg")
    devices = [
        await clients.connect(server, alice),
        await clients.connect(server, alice),
        await clients.connect(server, bob),
    ]
    before = devices[0].auth_data
    assert before is not None and before["config"]["client"]["product_name"] == "Semot"
    assert "max_text_chars" in before["config"]  # the server's limits stay beside it
    reply = await put(
        api,
        server,
        admin,
        {
            "product_name": "实验中学 · 校园通",
            "quick_phrases": ["收到", "好的，马上处理"],
            "pages": [{"title": "课表", "url": "https://school.example/timetable", "icon": "📅"}],
            "features": {"recall": False},
        },
    )
    version = reply["version"]
    assert reply["public"]["product_name"] == "实验中学 · 校园通"
    for ws in devices:
        evt = await ws.wait_for(lambda f: f.get("evt") == "config" and f.get("version") == version)
        assert evt["config"]["product_name"] == "实验中学 · 校园通"
        assert evt["config"]["features"]["recall"] is False and evt["config"]["features"]["groups"] is True
        assert evt["config"]["quick_phrases"] == ["收到", "好的，马上处理"]
        assert evt["config"]["pages"] == [
            {"title": "课表", "url": "https://school.example/timetable", "icon": "📅", "open": "tab"}
        ]
    # the public GET and the next connection's auth reply say the same
    status, body = await api.call(server, "GET", P)
    assert status == 200 and body == reply["public"]
    late = await clients.connect(server, bob)
    assert late.auth_data is not None and late.auth_data["config"]["client"] == reply["public"]
    # fields left out keep their value; features change only the named switches
    reply = await put(api, server, admin, {"features": {"burn": False}})
    assert reply["public"]["product_name"] == "实验中学 · 校园通"
    assert reply["public"]["features"]["recall"] is False and reply["public"]["features"]["burn"] is False
    assert reply["version"] == version + 1 and reply["updated_by"] == "cfgroot"


async def test_changes_are_audited_with_before_and_after(server: ServerProcess, api: Api, admin: str) -> None:
    await put(api, server, admin, {"product_name": "审计测试", "watermark": True})
    status, log = await api.call(server, "GET", "/api/admin/v1/audit-log?action=client_config.update", token=admin)
    assert status == 200, log
    last = log["entries"][0]
    assert last["admin"] == "cfgroot" and last["target"] == "client-config"
    assert last["after"] == {"product_name": "审计测试", "watermark": True}
    assert last["before"]["watermark"] is False and "quick_phrases" not in last["after"]  # only what changed


async def test_an_editor_working_on_an_old_version_is_refused(server: ServerProcess, api: Api, admin: str) -> None:
    status, view = await api.call(server, "GET", A, token=admin)
    v = view["version"]
    await put(api, server, admin, {"product_name": "第一位", "version": v})
    status, body = await api.call(server, "PUT", A, {"product_name": "第二位", "version": v}, token=admin)
    assert status == 409 and body["error"]["code"] == "conflict", body
    assert body["error"]["details"]["version"] == v + 1
    assert (await api.call(server, "GET", P))[1]["product_name"] == "第一位"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"product_name": ""}, "product_name"),
        ({"product_name": "a\u0007b"}, "control"),
        ({"product_name": "x" * 65}, "product_name"),
        ({"features": {"teleport": False}}, "unknown feature 'teleport'"),
        ({"features": {"recall": "no"}}, "features.recall"),
        ({"pages": [{"title": "x", "url": "javascript:alert(1)"}]}, "pages.0.url"),
        ({"pages": [{"title": "x", "url": "data:text/html,hi"}]}, "pages.0.url"),
        ({"pages": [{"title": "x", "url": "/relative/page"}]}, "pages.0.url"),
        ({"pages": [{"title": "x", "url": "https://user:pw@example.com/"}]}, "pages.0.url"),
        ({"pages": [{"title": "x", "url": "https://a;b.example/"}]}, "pages.0.url"),
        ({"pages": [{"title": "x", "url": "https://例子.中国/"}]}, "pages.0.url"),
        ({"pages": [{"title": "", "url": "https://example.com/"}]}, "pages.0.title"),
        ({"pages": [{"title": "x", "url": "https://under_score.example/"}]}, "pages.0.url"),
        ({"pages": [{"title": "x", "url": "https://example.com:65536/"}]}, "pages.0.url"),
        ({"pages": [{"title": "x", "url": "https://example.com/a b"}]}, "spaces"),
        ({"pages": [{"title": "a\tb", "url": "https://example.com/"}]}, "pages.0.title"),
        ({"login_notice": "bell\u0007"}, "control"),
        ({"pages": [{"title": f"p{i}", "url": "https://a.example/"} for i in range(cc.MAX_PAGES + 1)]}, "pages"),
        ({"logo_url": "ftp://example.com/logo.png"}, "logo_url"),
        ({"quick_phrases": ["x" * (cc.MAX_PHRASE_CHARS + 1)]}, "quick_phrases.0"),
        ({"quick_phrases": ["ok"] * (cc.MAX_PHRASES + 1)}, "quick_phrases"),
        ({"quick_phrases": ["  "]}, "quick_phrases.0"),
        ({"default_friend_groups": ["x" * (MAX_TAG_NAME + 1)]}, "default_friend_groups.0"),
        ({"direct_message_policy": "nobody"}, "direct_message_policy"),
        ({"max_upload_bytes": -1}, "max_upload_bytes"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_validation_says_what_is_wrong(
    server: ServerProcess, api: Api, admin: str, body: dict[str, Any], says: str
) -> None:
    _, view = await api.call(server, "GET", A, token=admin)
    message = await refused(api, server, admin, body)
    assert says in message, message
    assert (await api.call(server, "GET", A, token=admin))[1]["version"] == view["version"]  # nothing stored


async def test_texts_are_trimmed_and_duplicates_dropped(server: ServerProcess, api: Api, admin: str) -> None:
    reply = await put(
        api,
        server,
        admin,
        {
            "product_name": "  校园通  ",
            "quick_phrases": ["收到", " 收到 ", "多行\n短语"],
            "default_friend_groups": ["同事", "同事", "家人"],
            "pages": [
                {"title": "门户", "url": "HTTP://intranet.local:8080/portal?a=1#x", "open": "window"},
                {"title": "门户", "url": "https://10.0.0.7/other"},  # a second "门户": dropped
            ],
            "login_notice": "  第一行\n第二行  ",
        },
    )
    pub = reply["public"]
    assert pub["product_name"] == "校园通" and pub["quick_phrases"] == ["收到", "多行\n短语"]
    assert pub["default_friend_groups"] == ["同事", "家人"] and pub["login_notice"] == "第一行\n第二行"
    assert [p["title"] for p in pub["pages"]] == ["门户"]
    assert pub["pages"][0]["open"] == "window" and pub["pages"][0]["icon"] == ""


async def test_schema_valid_edits_that_cannot_apply(server: ServerProcess, api: Api, admin: str) -> None:
    """What the document cannot rule out is never a 400: an upload that does not exist is
    404, a limit above the server's is the server's, both logos at once: the upload wins."""
    status, body = await api.call(server, "PUT", A, {"logo_file_id": "fdoesnotexist"}, token=admin)
    assert status == 404 and "logo_file_id" in body["error"]["message"], body
    reply = await put(api, server, admin, {"max_upload_bytes": 2**49})
    assert reply["config"]["max_upload_bytes"] == 2**49
    assert reply["public"]["max_upload_bytes"] == reply["limits"]["file_max_bytes"]
    status, file_id = await upload(server, admin, png(), "l.png", "image/png")
    reply = await put(api, server, admin, {"logo_url": "https://a.example/l.png", "logo_file_id": file_id})
    assert reply["config"]["logo_url"] is None and reply["public"]["logo_url"].endswith(file_id)


# --------------------------------------------------------------------------- enforcement


async def test_self_registration_switch(server: ServerProcess, api: Api, admin: str) -> None:
    await put(api, server, admin, {"self_registration": False})
    status, body = await api.register(server, unique("closed"))
    assert status == 403 and body["error"]["code"] == "forbidden", body
    assert (await api.call(server, "GET", P))[1]["self_registration"] is False
    await put(api, server, admin, {"self_registration": True})
    assert (await api.register(server, unique("open")))[0] == 201


async def test_switched_off_features_are_refused_by_the_server(
    server: ServerProcess, api: Api, clients: Clients, admin: str
) -> None:
    alice, bob, carol = await api.accounts(server, 3, "feat")
    conv = await api.group(server, alice, [bob], "before")
    wa = await clients.connect(server, alice)
    ack = await wa.send_text(bob.user_id, "to recall")
    await put(
        api,
        server,
        admin,
        {
            "features": {
                "friends": False,
                "groups": False,
                "recall": False,
                "burn": False,
                "location": False,
                "cards": False,
                "edit": False,
                "reactions": False,
            }
        },
    )
    await wa.wait_for(lambda f: f.get("evt") == "config")

    def feature_of(reply: dict[str, Any]) -> str:
        assert reply["ok"] is False and reply["error"]["code"] == "forbidden", reply
        return str(reply["error"]["details"]["feature"])

    dm = direct_conv(alice.user_id, bob.user_id)
    assert feature_of(await wa.request("recall", conv=dm, seq=ack["seq"])) == "recall"
    assert (
        feature_of(
            await wa.request(
                "send", cid=uuid.uuid4().hex, to=bob.user_id, kind="text", body={"text": "burn"}, opts={"burn_s": 5}
            )
        )
        == "burn"
    )
    assert (
        feature_of(
            await wa.request(
                "send", cid=uuid.uuid4().hex, to=bob.user_id, kind="location", body={"lat": 1.0, "lng": 2.0}
            )
        )
        == "location"
    )
    assert (
        feature_of(
            await wa.request("send", cid=uuid.uuid4().hex, to=bob.user_id, kind="card", body={"user_id": carol.user_id})
        )
        == "cards"
    )
    assert feature_of(await wa.request("edit", conv=dm, seq=ack["seq"], text="edited")) == "edit"
    assert feature_of(await wa.request("react", conv=dm, seq=ack["seq"], emoji="👍", on=True)) == "reactions"
    # text still goes, in existing groups too
    await wa.send_text(bob.user_id, "plain text is fine")
    await wa.send_text(conv, "the old group still works")
    status, body = await api.call(
        server, "POST", "/api/v1/groups", {"name": "new", "members": []}, token=alice.access_token
    )
    assert status == 403 and body["error"]["details"]["feature"] == "groups", body
    status, body = await api.call(server, "POST", f"/api/v1/groups/{conv[2:]}/join", {}, token=carol.access_token)
    assert status == 403 and body["error"]["details"]["feature"] == "groups", body
    status, body = await api.call(
        server, "POST", "/api/v1/friends/requests", {"user_id": bob.user_id}, token=alice.access_token
    )
    assert status == 403 and body["error"]["details"]["feature"] == "friends", body
    # switched on again: allowed at once
    await put(api, server, admin, {"features": {"recall": True, "groups": True}})
    assert (await wa.request("recall", conv=dm, seq=ack["seq"]))["ok"] is True
    status, body = await api.call(
        server, "POST", "/api/v1/groups", {"name": "new", "members": []}, token=alice.access_token
    )
    assert status == 201, body


async def test_uploads_follow_the_files_switch_and_the_size_limit(server: ServerProcess, api: Api, admin: str) -> None:
    user = await api.account(server, "up")
    await put(api, server, admin, {"features": {"files": False}})
    status, body = await upload(server, user.access_token, b"%PDF-1.4 hello", "a.pdf", "application/pdf")
    assert status == 403 and '"feature":"files"' in body.replace(" ", ""), body
    # pictures, sound and video keep their own switches
    assert (await upload(server, user.access_token, png(), "p.png", "image/png"))[0] == 201
    await put(api, server, admin, {"features": {"images": False}})
    status, body = await upload(server, user.access_token, png(), "p.png", "image/png")
    assert status == 403, body
    await put(api, server, admin, {"features": {"files": True, "images": True}, "max_upload_bytes": 1000})
    status, body = await upload(server, user.access_token, b"x" * 1001, "big.bin", "application/octet-stream")
    assert status == 413 and "too_large" in body, body
    assert (await upload(server, user.access_token, b"x" * 1000, "ok.bin", "application/octet-stream"))[0] == 201
    assert (await api.call(server, "GET", P))[1]["max_upload_bytes"] == 1000


async def test_direct_message_policy(server: ServerProcess, api: Api, clients: Clients, admin: str) -> None:
    alice, bob = await api.accounts(server, 2, "dmp")
    wa = await clients.connect(server, alice)
    await put(api, server, admin, {"direct_message_policy": "friends"})
    reply = await wa.request("send", cid=uuid.uuid4().hex, to=bob.user_id, kind="text", body={"text": "hi"})
    assert reply["ok"] is False and reply["error"]["code"] == "forbidden", reply
    await put(api, server, admin, {"direct_message_policy": "anyone"})
    await wa.send_text(bob.user_id, "hi again")


async def test_new_accounts_get_the_default_friend_groups(server: ServerProcess, api: Api, admin: str) -> None:
    await put(api, server, admin, {"default_friend_groups": ["同事", "家人", "Friends"]})
    fresh: Account = await api.account(server, "fg")
    status, contacts = await api.call(server, "GET", "/api/v1/contacts", token=fresh.access_token)
    assert status == 200, contacts
    assert sorted(t["name"] for t in contacts["tags"]) == sorted(["同事", "家人", "Friends"])
    await put(api, server, admin, {"default_friend_groups": []})
    later = await api.account(server, "fg")
    assert (await api.call(server, "GET", "/api/v1/contacts", token=later.access_token))[1]["tags"] == []


# --------------------------------------------------------------------------- logo and CSP


async def test_uploaded_logo_is_served_to_anyone(server: ServerProcess, api: Api, admin: str) -> None:
    status, file_id = await upload(server, admin, png("blue"), "logo.png", "image/png")
    assert status == 201, file_id
    reply = await put(api, server, admin, {"logo_file_id": file_id, "product_name": "有徽标"})
    logo_url = reply["public"]["logo_url"]
    assert logo_url == f"/api/v1/client-config/logo?v={file_id}" and reply["config"]["logo_url"] is None
    async with aiohttp.ClientSession() as s:  # no token: the login page shows it
        async with s.get(server.base_url + logo_url) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "image/png"
            assert "immutable" in r.headers["Cache-Control"]
            assert Image.open(io.BytesIO(await r.read())).size == (32, 32)
            etag = r.headers["ETag"]
        async with s.get(server.base_url + logo_url, headers={"If-None-Match": etag}) as r:
            assert r.status == 304
    # a file that is no picture, or someone else's upload, is refused
    status, text_id = await upload(server, admin, b"just text", "a.txt", "text/plain")
    assert "logo_file_id" in await refused(api, server, admin, {"logo_file_id": text_id})
    other = await api.account(server, "logo")
    status, theirs = await upload(server, other.access_token, png(), "x.png", "image/png")
    status, body = await api.call(server, "PUT", A, {"logo_file_id": theirs}, token=admin)
    assert status == 404 and "logo_file_id" in body["error"]["message"], body  # as if it did not exist
    # an outside URL replaces the upload
    reply = await put(api, server, admin, {"logo_url": "https://cdn.example.com/logo.png"})
    assert reply["public"]["logo_url"] == "https://cdn.example.com/logo.png" and reply["config"]["logo_file_id"] is None
    async with aiohttp.ClientSession() as s, s.get(server.base_url + P + "/logo") as r:
        assert r.status == 404


async def test_framed_pages_and_an_outside_logo_are_allowed_by_the_csp(
    server: ServerProcess, api: Api, admin: str
) -> None:
    async def csp() -> str:
        async with aiohttp.ClientSession() as s, s.get(server.base_url + "/") as r:
            return r.headers["Content-Security-Policy"]

    assert "frame-src" not in await csp()
    await put(
        api,
        server,
        admin,
        {
            "pages": [
                {"title": "课表", "url": "https://School.example:8443/t"},
                {"title": "外链", "url": "https://elsewhere.example/", "open": "window"},
            ],
            "logo_url": "https://cdn.example.com/logo.png",
        },
    )
    policy = await csp()
    frame = next(d for d in policy.split("; ") if d.startswith("frame-src"))
    assert frame == "frame-src 'self' https://school.example:8443"  # pages opened in a window need nothing
    img = next(d for d in policy.split("; ") if d.startswith("img-src"))
    assert "https://cdn.example.com" in img and "'self'" in img
    await put(api, server, admin, {"pages": [], "logo_url": None})
    assert "frame-src" not in await csp()


def test_tag_name_limit_matches_contacts() -> None:
    assert cc.MAX_TAG_NAME == MAX_TAG_NAME
