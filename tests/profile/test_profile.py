"""PATCH /api/v1/me (name, avatar), avatar URLs other users load, `evt profile`, group avatars.

Everything against a real server: uploads through tuspy, avatars fetched by a second
user through the `avatar_url` it was given (no token), pushes read from real sockets.
"""

from __future__ import annotations

import io

import aiohttp
import requests
from PIL import Image

from tests.integration.harness import Api, Clients, ServerProcess
from tests.profile.conftest import SVG, befriend, image, ok, upload


def _picture(r: requests.Response) -> tuple[int, int, int]:
    """The served avatar (the original or its thumbnail) as an image: its centre colour."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] in ("image/png", "image/jpeg", "image/webp", "image/gif")
    with Image.open(io.BytesIO(r.content)) as im:
        assert max(im.size) <= 320
        rgb = im.convert("RGB")
        px = rgb.getpixel((im.width // 2, im.height // 2))
    assert isinstance(px, tuple)
    return px[0], px[1], px[2]


def _close(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= 12 for x, y in zip(a, b, strict=True))


def _get(server: ServerProcess, url: str, **headers: str) -> requests.Response:
    return requests.get(server.base_url + url, headers=headers, timeout=10)


async def test_name_and_avatar_seen_by_others(server: ServerProcess, api: Api) -> None:
    a, b = await api.accounts(server, 2, "pf")
    me = await ok(api, server, a, "GET", "/api/v1/me")
    assert me["avatar_url"] is None
    fid = await upload(server, a, image("PNG"))
    me = await ok(api, server, a, "PATCH", "/api/v1/me", {"display_name": "  小明 Ming ", "avatar_file_id": fid})
    assert me["display_name"] == "小明 Ming" and me["avatar_url"]
    url = me["avatar_url"]
    assert url.startswith(f"/api/v1/users/{a.user_id}/avatar?v={fid}&")

    # b sees both through every door: a profile, the batch of profiles, GET /me of a itself
    prof = await ok(api, server, b, "GET", f"/api/v1/users/{a.user_id}")
    assert prof == {"user_id": a.user_id, "username": a.user_id, "display_name": "小明 Ming", "avatar_url": url}
    batch = await ok(api, server, b, "GET", f"/api/v1/users?ids={a.user_id},{b.user_id}")
    assert [u["avatar_url"] for u in batch["users"]] == [url, None]

    # the image loads without any token (an <img src>), with the right type and caching
    r = _get(server, url)
    assert _close(_picture(r), (255, 0, 0))
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in r.headers["Cache-Control"]
    assert _get(server, url, **{"If-None-Match": r.headers["ETag"]}).status_code == 304
    # a forged or altered link opens nothing
    assert _get(server, url.replace("sig=", "sig=x")).status_code in (400, 404)
    assert _get(server, url.replace(f"/users/{a.user_id}/", f"/users/{b.user_id}/")).status_code == 404

    # a new avatar is a new URL; the old one stops serving; the file is referenced (not collected)
    fid2 = await upload(server, a, image("JPEG", (400, 300), "blue"), "b.jpg")
    me2 = await ok(api, server, a, "PATCH", "/api/v1/me", {"avatar_file_id": fid2})
    assert me2["display_name"] == "小明 Ming" and me2["avatar_url"] != url
    assert _get(server, url).status_code == 404
    assert _close(_picture(_get(server, me2["avatar_url"])), (0, 0, 255))

    # null removes it; the name alone changes nothing else
    me3 = await ok(api, server, a, "PATCH", "/api/v1/me", {"avatar_file_id": None})
    assert me3["avatar_url"] is None
    assert _get(server, me2["avatar_url"]).status_code == 404
    me4 = await ok(api, server, a, "PATCH", "/api/v1/me", {"display_name": "Ming"})
    assert me4["display_name"] == "Ming" and me4["avatar_url"] is None


async def test_avatar_refusals(server: ServerProcess, api: Api) -> None:
    a, b = await api.accounts(server, 2, "pr")

    async def refused(body: dict[str, object], want: int = 400) -> str:
        status, reply = await api.call(server, "PATCH", "/api/v1/me", body, token=a.access_token)
        assert status == want, (body, status, reply)
        return str(reply["error"]["message"])

    assert "JPEG, PNG" in await refused({"avatar_file_id": await upload(server, a, SVG, "x.svg")})  # never SVG
    assert "not" in await refused({"avatar_file_id": await upload(server, a, b"just some text\n" * 10, "t.txt")})
    theirs = await upload(server, b, image("PNG"))
    await refused({"avatar_file_id": theirs}, 404)  # b's file, never shared with a: as if there were none
    await refused({"avatar_file_id": "fnosuchfile"}, 404)
    # an upload that is not finished yet
    async with aiohttp.ClientSession() as s:
        headers = {"Authorization": f"Bearer {a.access_token}", "Tus-Resumable": "1.0.0", "Upload-Length": "1000",
                   "Content-Type": "application/offset+octet-stream"}
        async with s.post(server.base_url + "/api/v1/files/", data=image("PNG")[:20], headers=headers) as r:
            assert r.status == 201
            partial = r.headers["Location"].rsplit("/", 1)[1]
    await refused({"avatar_file_id": partial}, 404)
    await refused({"display_name": "   "})
    await refused({"display_name": "x" * 129})
    status, _ = await api.call(server, "PATCH", "/api/v1/me", {"avatar": "x"}, token=a.access_token)
    assert status == 400  # unknown field
    me = await ok(api, server, a, "GET", "/api/v1/me")
    assert me["avatar_url"] is None and me["display_name"] == a.user_id  # nothing changed


async def test_profile_event_reaches_friends_and_co_members(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    a, friend, member, stranger = await api.accounts(server, 4, "pe")
    await befriend(api, server, a, friend)
    await api.group(server, member, [a], "pals")
    wa2 = await clients.connect(server, a)  # a's other device
    wf = await clients.connect(server, friend)
    wm = await clients.connect(server, member)
    ws = await clients.connect(server, stranger)
    fid = await upload(server, a, image("GIF"), "a.gif")
    me = await ok(api, server, a, "PATCH", "/api/v1/me", {"display_name": "Alice", "avatar_file_id": fid})

    def is_profile(f: dict[str, object]) -> bool:
        return f.get("evt") == "profile" and f.get("user") == a.user_id

    for w in (wa2, wf, wm):
        evt = await w.wait_for(is_profile)
        assert evt == {"t": "evt", "evt": "profile", "user": a.user_id, "display_name": "Alice",
                       "avatar_url": me["avatar_url"]}
    # the friend's contacts snapshot and the member list carry it too
    snap = await ok(api, server, friend, "GET", "/api/v1/contacts")
    assert [f["avatar_url"] for f in snap["friends"] if f["user_id"] == a.user_id] == [me["avatar_url"]]
    assert ws.pushes(is_profile) == []  # a stranger hears nothing
    # nothing changed: nothing pushed
    await ok(api, server, a, "PATCH", "/api/v1/me", {"display_name": "Alice"})
    await ok(api, server, a, "PATCH", "/api/v1/me", {"display_name": "Alice 2"})
    await wf.wait_for(lambda f: is_profile(f) and f.get("display_name") == "Alice 2")
    assert wf.pushes(is_profile) == []  # (wait_for takes what it found): no push for the no-op


async def test_group_avatar(server: ServerProcess, api: Api, clients: Clients) -> None:
    owner, admin, member, outsider = await api.accounts(server, 4, "pg")
    conv = await api.group(server, owner, [admin, member], "painted")
    gid = conv[2:]
    await ok(api, server, owner, "PUT", f"/api/v1/groups/{gid}/members/{admin.user_id}/role", {"role": "admin"})
    wm = await clients.connect(server, member)
    fid = await upload(server, admin, image("WEBP"), "g.webp")
    g = await ok(api, server, admin, "PATCH", f"/api/v1/groups/{gid}", {"avatar_file_id": fid})
    url = g["avatar_url"]
    assert url and url.startswith(f"/api/v1/groups/{gid}/avatar?v={fid}&")
    evt = await wm.wait_for(lambda f: f.get("evt") == "group" and f["change"]["type"] == "avatar")
    assert evt["change"] == {"type": "avatar", "by": admin.user_id, "avatar_url": url}
    # members see it in the group and in their list; the image loads without a token
    assert (await ok(api, server, member, "GET", f"/api/v1/groups/{gid}"))["avatar_url"] == url
    mine = await ok(api, server, member, "GET", "/api/v1/groups")
    assert [x["avatar_url"] for x in mine["groups"] if x["group_id"] == gid] == [url]
    assert _close(_picture(_get(server, url)), (255, 0, 0))
    # members may not; nor may anyone set a file that is not an image
    fid2 = await upload(server, member, image("PNG"))
    status, _ = await api.call(server, "PATCH", f"/api/v1/groups/{gid}", {"avatar_file_id": fid2},
                               token=member.access_token)
    assert status == 403
    svg = await upload(server, owner, SVG, "x.svg")
    status, _ = await api.call(server, "PATCH", f"/api/v1/groups/{gid}", {"avatar_file_id": svg},
                               token=owner.access_token)
    assert status == 400
    # members' avatars come with the member list
    page = await ok(api, server, member, "GET", f"/api/v1/groups/{gid}/members")
    assert {m["user_id"]: m["avatar_url"] for m in page["members"]}[owner.user_id] is None
    # the owner removes it
    g = await ok(api, server, owner, "PATCH", f"/api/v1/groups/{gid}", {"avatar_file_id": None})
    assert g["avatar_url"] is None
    assert _get(server, url).status_code == 404
    status, _ = await api.call(server, "GET", f"/api/v1/groups/{gid}", token=outsider.access_token)
    assert status == 200
