"""The profile dialog in a real browser: A picks a picture and a new name; B, in another
browser context, sees the picture load and the name change without reloading."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from tests.browser.conftest import PASSWORD, direct, http_json, new_user
from tests.support.server import ServerProcess


def _token(server: ServerProcess, user: str) -> str:
    return str(http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})[
        "access_token"])


def test_avatar_and_name_change_seen_live(server: ServerProcess, open_tab: Any, tmp_path: Path) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    ta, tb = _token(server, alice), _token(server, bob)
    req = http_json("POST", server.base + "/api/v1/friends/requests", {"user_id": bob}, token=ta)
    if req["status"] != "friends":
        http_json("POST", f"{server.base}/api/v1/friends/requests/{req['request_id']}", {"action": "accept"}, token=tb)
    a, b = open_tab(alice), open_tab(bob)
    conv = direct(alice, bob)
    a.open_direct(bob)
    a.send("hello bob")
    item = f"[data-testid=conv-item][data-conv='{conv}']"
    b.page.wait_for_selector(item)
    assert b.page.locator(f"{item} img.avatar-img").count() == 0  # initials until there is a picture

    picture = tmp_path / "me.png"
    buf = io.BytesIO()
    Image.new("RGB", (900, 600), (20, 160, 90)).save(buf, "PNG")  # large: the client scales it down
    picture.write_bytes(buf.getvalue())

    a.page.click("[data-testid=user-menu]")
    a.page.locator("[data-testid=menu-profile]:visible").click()
    a.page.wait_for_selector("[data-testid=profile-dialog]")
    a.page.set_input_files("[data-testid=profile-avatar-input]", str(picture))
    a.page.wait_for_selector("[data-testid=profile-avatar] img.avatar-img")
    a.page.fill("[data-testid=profile-name]", "Alice 爱丽丝")
    a.page.click("[data-testid=profile-name-save]")
    a.page.wait_for_function("() => window.__semot.state.me && window.__semot.state.me.display_name === 'Alice 爱丽丝'")

    # B: the conversation list shows the picture (loaded, not broken) and the new name, live
    b.page.wait_for_function(
        """sel => {
            const img = document.querySelector(sel + ' img.avatar-img');
            return img && img.complete && img.naturalWidth > 0 && img.src.includes('/avatar?v=');
        }""",
        arg=item,
    )
    b.page.wait_for_function(
        "sel => document.querySelector(sel).textContent.includes('Alice 爱丽丝')", arg=item
    )
    src = b.page.locator(f"{item} img.avatar-img").get_attribute("src")
    assert src and f"/api/v1/users/{alice}/avatar?v=" in src
    # the open chat's messages show it too
    b.open_conv(conv)
    b.page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=chat] .msg-avatar img.avatar-img')].some(i => i.naturalWidth > 0)"
    )
    # the picture was scaled down before the upload (at most 512 px)
    w = b.page.evaluate("sel => document.querySelector(sel + ' img.avatar-img').naturalWidth", item)
    assert 0 < w <= 512
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_group_avatar_from_the_panel(server: ServerProcess, open_tab: Any, tmp_path: Path) -> None:
    owner, mem = new_user(server, "gowner"), new_user(server, "gmem")
    g = http_json("POST", server.base + "/api/v1/groups", {"name": "Pictured", "members": [mem]},
                  token=_token(server, owner))
    conv = g["conv"]
    o, m = open_tab(owner), open_tab(mem)
    item = f"[data-testid=conv-item][data-conv='{conv}']"
    m.page.wait_for_selector(item)
    o.page.wait_for_selector(item)
    o.open_conv(conv)
    o.page.click("[data-testid=group-info]")
    o.page.wait_for_selector("[data-testid=gp-avatar-pick]")
    picture = tmp_path / "group.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 40, 40)).save(buf, "JPEG")
    picture.write_bytes(buf.getvalue())
    o.page.set_input_files("[data-testid=gp-avatar-input]", str(picture))
    o.page.wait_for_selector("[data-testid=gp-avatar] img.avatar-img")
    # the member's list shows the group's picture, live (evt group, change avatar)
    m.page.wait_for_function(
        """sel => {
            const img = document.querySelector(sel + ' img.avatar-img');
            return img && img.complete && img.naturalWidth > 0 && img.src.includes('/api/v1/groups/');
        }""",
        arg=item,
    )
    # the member has no button to change it
    m.open_conv(conv)
    m.page.click("[data-testid=group-info]")
    m.page.wait_for_selector("[data-testid=gp-avatar] img.avatar-img")
    assert m.page.locator("[data-testid=gp-avatar-pick]").count() == 0
    o.assert_no_console_errors()
    m.assert_no_console_errors()
