"""The web client's tombstones say who recalled a message (docs/protocol.md, recall by
group managers and administrators): the sender, a group owner or admin (naming whose
message it was), or an administrator from the console; live and after a reload, in
zh-CN and English. A group owner finds "recall" in the menu of a member's message."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

from tests.browser.conftest import PASSWORD, http_json, new_user
from tests.browser.test_media_messages import as_user
from tests.support.server import ServerProcess


def token(server: ServerProcess, user: str, password: str = PASSWORD) -> str:
    return str(http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": password})["access_token"])


def make_admin(server: ServerProcess) -> str:
    name = f"adm{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", name, "--password", PASSWORD, "--data-dir", str(server.data_dir)],
        env=server.env, check=True, capture_output=True, timeout=60,
    )
    return token(server, name)


def tomb(tab: Any, seq: int) -> str:
    sel = f"[data-testid=tombstone][data-seq='{seq}']"
    tab.page.wait_for_selector(sel)
    return str(tab.page.locator(sel).inner_text()).strip()


def test_tombstones_name_who_recalled(server: ServerProcess, open_tab: Any) -> None:
    owner, manager, member = new_user(server, "own"), new_user(server, "mgr"), new_user(server, "mem")
    t_owner = token(server, owner)
    g = http_json("POST", server.base + "/api/v1/groups", {"name": "recalls", "members": [manager, member]}, t_owner)
    conv, gid = g["conv"], g["group_id"]
    http_json("PUT", f"{server.base}/api/v1/groups/{gid}/members/{manager}/role", {"role": "admin"}, t_owner)
    sent = as_user(server, member, lambda c: _send_all(c, conv, ["one", "two", "three", "four"]))
    s1, s2, s3, s4 = (s["seq"] for s in sent)

    o = open_tab(owner)
    m = open_tab(member, locale="en")
    for tab in (o, m):
        tab.open_conv(conv)
        tab.wait_texts(["one", "two", "three", "four"])

    # a group admin recalls a member's message
    as_user(server, manager, lambda c: c.recall(conv, s1))
    assert tomb(o, s1) == f"群主/管理员 {manager} 撤回了{member}的一条消息"
    assert tomb(m, s1) == f"Group owner/admin {manager} recalled a message from you"
    # the owner, from the message's menu
    row = o.page.locator(f"[data-testid=message][data-seq='{s2}']")
    row.hover()
    row.locator("[data-testid=msg-menu]").click()
    o.page.locator("[data-testid=recall]:visible").click()
    assert tomb(o, s2) == f"你撤回了{member}的一条消息"
    assert tomb(m, s2) == f"Group owner/admin {owner} recalled a message from you"
    # an administrator from the console
    admin = make_admin(server)
    http_json("POST", f"{server.base}/api/admin/v1/conversations/{conv}/messages/{s3}/recall", None, admin)
    assert tomb(o, s3) == "管理员撤回了一条消息"
    assert tomb(m, s3) == "An administrator recalled a message"
    # the sender's own
    as_user(server, member, lambda c: c.recall(conv, s4))
    assert tomb(m, s4) == "You recalled a message"
    assert tomb(o, s4) == f"{member} 撤回了一条消息"

    # the same after a reload (from history: recalled_by / recalled_role)
    m.page.reload()
    m.wait_open()
    m.open_conv(conv)
    assert tomb(m, s1) == f"Group owner/admin {manager} recalled a message from you"
    assert tomb(m, s3) == "An administrator recalled a message"
    assert tomb(m, s4) == "You recalled a message"
    o.assert_no_console_errors()
    m.assert_no_console_errors()


async def _send_all(c: Any, conv: str, texts: list[str]) -> list[dict[str, Any]]:
    return [await c.send_text(conv, t) for t in texts]
