"""People in a real browser (issue 11, W6): group read receipts ("2人未读" -> "1人未读"
-> "全部已读" live, and who has not read), the profile card from a chat avatar (with
departments and titles from the org directory), "add friend" by display name / pinyin
with a clear "未找到", and inviting to a group with the people picker (plus the member
list's search box)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, Tab, http_json
from tests.support.server import ServerProcess

ADMIN, ADMIN_PW = "boss", "boss-password-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own (with an administrator for the org directory)."""
    data = tmp_path_factory.mktemp("people") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
    made = subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", ADMIN, "--password", ADMIN_PW, "--data-dir", str(data)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert made.returncode == 0, made.stderr
    srv = ServerProcess(data).start()
    yield srv
    srv.kill()


def user(server: ServerProcess, prefix: str, display_name: str) -> str:
    name = f"{prefix}{uuid.uuid4().hex[:6]}"
    http_json("POST", server.base + "/api/v1/auth/register", {"username": name, "password": PASSWORD, "display_name": display_name})
    return name


def token(server: ServerProcess, name: str, password: str = PASSWORD) -> str:
    tok: str = http_json("POST", server.base + "/api/v1/auth/login", {"username": name, "password": password})["access_token"]
    return tok


def in_department(server: ServerProcess, members: dict[str, str], dept_name: str) -> str:
    """A new department with these members (user -> title)."""
    admin = token(server, ADMIN, ADMIN_PW)
    dept: str = http_json("POST", server.base + "/api/admin/v1/departments", {"name": dept_name}, admin)["department_id"]
    for u, title in members.items():
        http_json("PUT", f"{server.base}/api/admin/v1/departments/{dept}/members/{u}", {"title": title}, admin)
    return dept


def make_group(server: ServerProcess, owner: str, members: list[str], name: str) -> tuple[str, str]:
    g = http_json("POST", server.base + "/api/v1/groups", {"name": name, "members": members}, token(server, owner))
    return g["group_id"], g["conv"]


def receipt(tab: Tab, seq: int) -> Any:
    return tab.page.locator(f"[data-testid=message][data-seq='{seq}'] [data-testid=read-receipt]")


def wait_receipt(tab: Tab, seq: int, text: str) -> None:
    tab.page.wait_for_function(
        """([seq, text]) => {
            const el = document.querySelector(`[data-testid=message][data-seq='${seq}'] [data-testid=read-receipt]`);
            return el && el.textContent.trim() === text;
        }""",
        arg=[seq, text],
    )


def test_group_read_receipts_count_down_live_and_list_who_has_not_read(server: ServerProcess, open_tab: Any) -> None:
    a_id, b_id, c_id = user(server, "ra", "Ann Reader"), user(server, "rb", "Ben Reader"), user(server, "rc", "Cat Reader")
    _, conv = make_group(server, a_id, [b_id, c_id], "Receipts")
    a = open_tab(a_id)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    a.open_conv(conv)
    a.send("who reads this")
    a.wait_texts(["who reads this"])
    a.page.wait_for_selector("[data-testid=message][data-seq]:has([data-testid=read-receipt])")
    seq = int(a.page.locator("[data-testid=message]:has([data-testid=read-receipt])").last.get_attribute("data-seq"))
    wait_receipt(a, seq, "2人未读")

    b = open_tab(b_id)  # B opens the chat: it is read
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    wait_receipt(a, seq, "1人未读")  # live, through evt read

    # who has not read: Cat; who has: Ben
    receipt(a, seq).click()
    lst = a.page.locator("[data-testid=read-receipt-list]:visible")
    lst.locator(f"[data-testid=rr-unread] [data-testid=rr-user][data-user='{c_id}']").wait_for()
    assert lst.locator("[data-testid=rr-unread] [data-testid=rr-user]").count() == 1
    assert lst.locator(f"[data-testid=rr-read] [data-testid=rr-user][data-user='{b_id}']").count() == 1
    assert "Cat Reader" in lst.locator("[data-testid=rr-unread]").inner_text()

    c = open_tab(c_id)
    c.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    c.open_conv(conv)
    wait_receipt(a, seq, "全部已读")
    # a member's own view of someone else's message shows no receipt
    assert b.page.locator("[data-testid=read-receipt]").count() == 0
    for tab in (a, b, c):
        tab.assert_no_console_errors()


def test_profile_card_from_a_chat_avatar_shows_department_and_title(server: ServerProcess, open_tab: Any) -> None:
    tag = uuid.uuid4().hex[:4]
    a_id, z_id = user(server, "pa", "Pat Asker"), user(server, "pz", "<i>赵敏</i>")
    in_department(server, {z_id: "首席<b>架构师</b>", a_id: "PM"}, f"平台部{tag}")  # colleagues: presence is visible
    _, conv = make_group(server, a_id, [z_id], "Cards")
    http_json("POST", server.base + "/api/v1/auth/login", {"username": z_id, "password": PASSWORD})
    z = open_tab(z_id)
    z.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    z.open_conv(conv)
    z.send("hello from zhao")
    a = open_tab(a_id)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    a.open_conv(conv)
    a.wait_texts(["hello from zhao"])
    a.page.locator(f"[data-testid=message] [data-testid=profile-trigger][data-user='{z_id}']").first.click()
    card = a.page.locator(f"[data-testid=profile-card][data-user='{z_id}']:visible")
    card.locator("[data-testid=pc-dept]").first.wait_for()
    text = card.inner_text()
    assert f"平台部{tag}" in text and "首席<b>架构师</b>" in text  # markup shown as text
    assert "<i>赵敏</i>" in card.locator("[data-testid=pc-name]").inner_text()
    assert card.locator("b, i").count() == 0
    card.locator("[data-testid=pc-presence][data-status=online]").wait_for()
    assert card.locator("[data-testid=pc-add]").is_visible()  # not friends yet
    assert card.locator("[data-testid=pc-call]").is_disabled()  # calls come later
    card.locator("[data-testid=pc-add]").click()
    a.page.wait_for_function(
        "u => window.__semot.state.contacts.requests.outgoing.some((r) => r.to === u)", arg=z_id
    )
    # "message" opens the direct chat
    card.locator("[data-testid=pc-message]").click()
    lo, hi = sorted([a_id, z_id])
    a.page.wait_for_selector(f"[data-testid=chat][data-conv='d:{lo}:{hi}']")
    a.assert_no_console_errors(lambda m: "403" in m or "Forbidden" in m)


def test_add_friend_finds_people_by_pinyin_and_says_when_no_one_is_found(server: ServerProcess, open_tab: Any) -> None:
    tag = uuid.uuid4().hex[:4]
    a_id, l_id = user(server, "fa", "Fay Adder"), user(server, "fl", "李娜")
    in_department(server, {l_id: "设计师"}, f"设计部{tag}")
    a = open_tab(a_id)
    a.page.click("[data-testid=nav-contacts]")
    a.page.click("[data-testid=add-friend]")
    a.page.fill("[data-testid=add-friend-user]", "zzqqxx")
    a.page.locator("[data-testid=pp-none]:visible").wait_for()
    assert a.page.locator("[data-testid=pp-none]:visible").inner_text() == "未找到"
    a.page.fill("[data-testid=add-friend-user]", "lina")
    row = a.page.locator(f"[data-testid=add-friend-people] [data-testid=pp-result][data-user='{l_id}']")
    row.wait_for()
    assert "李娜" in row.inner_text() and "设计师" in row.inner_text()
    row.click()
    a.page.wait_for_selector(f"[data-testid=add-friend-picked][data-user='{l_id}']")
    a.page.click("[data-testid=add-friend-send]")
    a.page.wait_for_selector(f"[data-testid=req-out][data-user='{l_id}']")
    # initials work too
    a.page.click("[data-testid=add-friend]")
    a.page.fill("[data-testid=add-friend-user]", "ln")
    a.page.locator(f"[data-testid=add-friend-people] [data-testid=pp-result][data-user='{l_id}']").wait_for()
    a.assert_no_console_errors()


def test_invite_with_the_picker_and_search_the_member_list(server: ServerProcess, open_tab: Any) -> None:
    tag = uuid.uuid4().hex[:4]
    o_id, m_id = user(server, "io", "Olga Owner"), user(server, "im", "Mike Member")
    w_id = user(server, "iw", "王芳")
    in_department(server, {w_id: "产品经理"}, f"产品部{tag}")
    _, conv = make_group(server, o_id, [m_id], "Invites")
    o = open_tab(o_id)
    o.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    o.open_conv(conv)
    o.page.click("[data-testid=group-info]")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{m_id}']")
    # members are not offered again
    o.page.fill("[data-testid=invite-people] [data-testid=pp-search]", m_id)
    o.page.locator("[data-testid=invite-people] [data-testid=pp-none]").wait_for()
    o.page.fill("[data-testid=invite-people] [data-testid=pp-search]", "wangfang")
    row = o.page.locator(f"[data-testid=invite-people] [data-testid=pp-result][data-user='{w_id}']")
    row.click()
    o.page.wait_for_selector(f"[data-testid=invite-people] [data-testid=pp-chip][data-user='{w_id}']")
    o.page.click("[data-testid=invite-picked]")
    o.page.wait_for_selector(f"[data-testid=gp-member][data-user='{w_id}']")
    # the member list's search box
    o.page.fill("[data-testid=gp-member-search]", "王芳")
    o.page.wait_for_function("() => document.querySelectorAll('[data-testid=gp-member]').length === 1")
    assert o.page.locator(f"[data-testid=gp-member][data-user='{w_id}']").count() == 1
    o.page.fill("[data-testid=gp-member-search]", "nobody-here")
    o.page.wait_for_selector("[data-testid=gp-member-none]")
    # a member's card from the list
    o.page.fill("[data-testid=gp-member-search]", "")
    o.page.click(f"[data-testid=gp-member][data-user='{w_id}'] [data-testid=profile-trigger]")
    o.page.locator(f"[data-testid=profile-card][data-user='{w_id}']:visible [data-testid=pc-dept]").wait_for()
    o.assert_no_console_errors()


def test_new_group_and_contact_card_with_the_picker(server: ServerProcess, open_tab: Any) -> None:
    tag = uuid.uuid4().hex[:4]
    a_id, g_id, h_id = user(server, "na", "Nora Adder"), user(server, "ng", "郭靖"), user(server, "nh", "黄蓉")
    in_department(server, {g_id: "侠客", h_id: "军师"}, f"桃花岛{tag}")
    a = open_tab(a_id)
    a.page.click("[data-testid=new-menu]")
    a.page.click("[data-testid=new-group]")
    a.page.fill("[data-testid=new-group-name]", "Picked")
    for q, uid in (("guojing", g_id), ("hr", h_id)):
        a.page.fill("[data-testid=new-group-people] [data-testid=pp-search]", q)
        a.page.locator(f"[data-testid=new-group-people] [data-testid=pp-result][data-user='{uid}']").click()
    a.page.click("[data-testid=new-group-create]")
    a.page.wait_for_selector("[data-testid=chat][data-conv^='g:']")
    conv = a.page.locator("[data-testid=chat]").get_attribute("data-conv")
    gid = conv[2:]
    members = http_json("GET", f"{server.base}/api/v1/groups/{gid}/members?limit=10", token=token(server, a_id))["members"]
    assert {m["user_id"] for m in members} == {a_id, g_id, h_id}
    # a contact card, picked by pinyin
    a.page.click("[data-testid=card-btn]")
    a.page.fill("[data-testid=card-user]", "huangrong")
    a.page.locator(f"[data-testid=card-people] [data-testid=pp-result][data-user='{h_id}']").click()
    a.page.click("[data-testid=card-send]")
    a.page.wait_for_selector("[data-testid=card]")
    assert "黄蓉" in a.page.locator("[data-testid=card]").inner_text()
    a.assert_no_console_errors()
